import type { EmbeddedApi } from '../api-types.js';
import { startGarbageCollector } from './garbage-collector.js';
import { startJobController, type RunningJobProcess } from './job-controller.js';
import type { ControllerLogger } from './logger.js';
import { startNamespaceController } from './namespace-controller.js';
import { DEFAULT_NODE_NAME, startNodeController } from './node-controller.js';
import { startStatefulSetClaimsController } from './statefulset-claims-controller.js';
import { startVolumeController } from './volume-controller.js';

export interface ControllersOptions {
  api: EmbeddedApi;
  /** Holds `volumes/` (provisioned PersistentVolumes) and `jobs/` (job logs, scratch volumes). */
  dataDir: string;
  logger: ControllerLogger;
  /** The one Node's name. Default `autostash-node`. */
  nodeName?: string;
  now?: () => Date;
  /** What the program `autostash` in a Job's command runs, e.g. `[process.execPath, '/app/dist/cli.js']`. */
  cliCommand?: readonly string[];
  /** Shorthand for `cliCommand: [process.execPath, cliPath]`. */
  cliPath?: string;
  /** Variables every Job process gets (e.g. KUBECONFIG pointing at the embedded plane). */
  jobEnv?: Readonly<Record<string, string>>;
  /** Jobs running at once. Default 2. */
  maxParallelJobs?: number;
  /** Job retry backoff: base × 2^(n-1), capped. Defaults 500 ms and 10 s. */
  jobBackoffBaseMs?: number;
  jobBackoffMaxMs?: number;
  /** SIGTERM to SIGKILL grace for stopped Job processes. Default 2 s. */
  jobKillGraceMs?: number;
  /** Node status and Lease heartbeat interval. Default 40 s. */
  nodeHeartbeatMs?: number;
  /** Full resync period of each controller. Default 30 s. */
  resyncMs?: number;
}

export interface Controllers {
  /** Settles when the system namespaces and the Node exist. */
  ready: Promise<void>;
  /** Job attempts running as local processes now, with their pids: a hook for fault tests (kill -9 a Job), not served by the API. */
  runningJobProcesses(): RunningJobProcess[];
  /** Stops every controller, kills running Job processes and waits for them. */
  stop(): Promise<void>;
}

/**
 * Starts the controllers the embedded control plane emulates, all through `api`: namespace
 * lifecycle, garbage collection, the Node and its Lease, PersistentVolume provisioning and
 * binding, StatefulSet claims, and Jobs as local processes. CronJobs are not run.
 */
export function startControllers(options: ControllersOptions): Controllers {
  const { api, logger, dataDir } = options;
  const now = options.now ?? (() => new Date());
  const nodeName = options.nodeName ?? DEFAULT_NODE_NAME;
  const resyncMs = options.resyncMs;
  const cliCommand = options.cliCommand ?? (options.cliPath ? [process.execPath, options.cliPath] : undefined);

  const namespaces = startNamespaceController({ api, logger, resyncMs });
  const garbageCollector = startGarbageCollector({ api, logger });
  const node = startNodeController({ api, logger, nodeName, now, heartbeatMs: options.nodeHeartbeatMs });
  const volumes = startVolumeController({ api, dataDir, logger, resyncMs });
  const statefulSetClaims = startStatefulSetClaimsController({ api, logger, resyncMs });
  const jobs = startJobController({
    api,
    dataDir,
    logger,
    nodeName,
    now,
    cliCommand,
    extraEnv: options.jobEnv,
    maxParallelJobs: options.maxParallelJobs,
    backoffBaseMs: options.jobBackoffBaseMs,
    backoffMaxMs: options.jobBackoffMaxMs,
    killGraceMs: options.jobKillGraceMs,
    resyncMs,
  });
  const all = [jobs, statefulSetClaims, volumes, node, garbageCollector, namespaces];
  return {
    ready: Promise.all([namespaces.ready, node.ready]).then(() => undefined),
    runningJobProcesses: () => jobs.runningProcesses(),
    async stop() {
      await Promise.all(all.map((controller) => controller.stop()));
    },
  };
}

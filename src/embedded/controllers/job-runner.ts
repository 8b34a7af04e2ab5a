import { randomBytes } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { VOLUME_MAP_ENV } from '../../domain/execution/labels.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { errorMessage } from './api-errors.js';
import { BoundedLog } from './bounded-log.js';
import { containerCommandLine, expandVariables, rewriteMountedPath } from './container-command.js';
import { containerEnvironment, type PodIdentity } from './container-env.js';
import type { Container, JobSpec } from './job-status.js';
import { startLocalProcess, type LocalProcess } from './local-process.js';
import { preparePodVolumes, VolumeNotReadyError, type PodVolumes, type VolumeSources } from './pod-volumes.js';

/** The attempt's `{mountPath: hostDir}` JSON map travels in this variable (shared with the executor). */
export { VOLUME_MAP_ENV };

/** Variables a local process inherits from this process (a container gets its image's; we have none). */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL'];

export interface JobAttemptOptions {
  job: KubeObject;
  /** 1-based attempt number; names the log file. */
  attempt: number;
  dataDir: string;
  nodeName: string;
  sources: Omit<VolumeSources, 'scratchRoot'>;
  /** What the program `autostash` runs, e.g. `[process.execPath, '/path/to/dist/cli.js']`. */
  cliCommand?: readonly string[];
  /** Variables every job process gets (e.g. KUBECONFIG for the embedded plane); the container's env wins. */
  extraEnv?: Readonly<Record<string, string>>;
  killGraceMs?: number;
  maxLogBytes?: number;
  /** How often the log file is rewritten while the job runs. Default 1 s. */
  logFlushMs?: number;
}

export type AttemptOutcome =
  | { result: 'Succeeded' }
  | { result: 'Failed'; message: string }
  /** The pod could not start yet (a claim not bound); nothing ran, try again later. */
  | { result: 'NotReady'; message: string }
  /** `terminate()` was called; what the process did no longer matters. */
  | { result: 'Terminated'; message: string };

export interface JobAttempt {
  podName: string;
  logPath: string;
  done: Promise<AttemptOutcome>;
  /** The process id of the container process running now (its process group id too), if one runs. For fault tests. */
  readonly pid: number | undefined;
  /** Stops the attempt: the running process gets SIGTERM, then SIGKILL; no further container starts. */
  terminate(): void;
}

/** Where the logs of a job's attempts go: `<dataDir>/jobs/<namespace>/<job>/`. */
export function jobLogDirectory(dataDir: string, namespace: string, name: string): string {
  return join(dataDir, 'jobs', namespace, name);
}

function baseEnvironment(extraEnv: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extraEnv };
}

function lastLines(log: BoundedLog): string {
  return log.tail(10);
}

/**
 * Runs one attempt of a Job as local processes: each init container in order, then the first
 * container, each with its command line, environment and volume map (see
 * docs/embedded-job-volumes.md). Output goes to `<dataDir>/jobs/<ns>/<job>/<attempt>.log` (last
 * `maxLogBytes`, default 1 MiB). Temporary volumes are removed when the attempt ends.
 */
export function startJobAttempt(options: JobAttemptOptions): JobAttempt {
  const namespace = options.job.metadata?.namespace ?? 'default';
  const jobName = options.job.metadata?.name ?? '';
  const spec = (options.job.spec ?? {}) as JobSpec;
  const podSpec = spec.template?.spec ?? {};
  const podName = `${jobName}-${randomBytes(4).toString('hex').slice(0, 5)}`;
  const logDirectory = jobLogDirectory(options.dataDir, namespace, jobName);
  const log = new BoundedLog(join(logDirectory, `${options.attempt}.log`), options.maxLogBytes);
  let current: LocalProcess | undefined;
  let terminated = false;

  const pod: PodIdentity = {
    name: podName,
    namespace,
    uid: options.job.metadata?.uid ?? '',
    nodeName: options.nodeName,
    labels: { ...spec.template?.metadata?.labels },
    annotations: { ...spec.template?.metadata?.annotations },
  };
  const mainContainer = podSpec.containers?.[0];
  const containers: Container[] = [...(podSpec.initContainers ?? []), ...(mainContainer ? [mainContainer] : [])];

  const runContainer = async (container: Container, volumeMap: Record<string, string>): Promise<AttemptOutcome | undefined> => {
    const containerEnv = await containerEnvironment(container, pod, options.sources.read);
    const env = { ...baseEnvironment(options.extraEnv), HOSTNAME: podName, ...containerEnv, [VOLUME_MAP_ENV]: JSON.stringify(volumeMap) };
    const commandLine = containerCommandLine(container, containerEnv, volumeMap, options.cliCommand);
    let cwd = logDirectory;
    if (container.workingDir) {
      cwd = rewriteMountedPath(expandVariables(container.workingDir, (name) => containerEnv[name]), volumeMap);
      const info = await stat(cwd).catch(() => undefined);
      if (!info?.isDirectory()) throw new Error(`workingDir ${container.workingDir} is not a directory on this machine (${cwd})`);
    }
    if (containers.length > 1) log.write(`--- container ${container.name ?? ''} ---\n`);
    if (terminated) return { result: 'Terminated', message: 'terminated before start' };
    current = startLocalProcess({ executable: commandLine.executable, args: commandLine.args, env, cwd, log, killGraceMs: options.killGraceMs });
    const outcome = await current.done;
    current = undefined;
    if (terminated) return { result: 'Terminated', message: lastLines(log) };
    if (outcome.exitCode === 0) return undefined;
    const why = outcome.startError ?? (outcome.signal ? `killed by ${outcome.signal}` : `exit code ${String(outcome.exitCode)}`);
    return { result: 'Failed', message: `container ${container.name ?? ''} failed (${why})${log.tail(10) ? `:\n${lastLines(log)}` : ''}` };
  };

  const run = async (): Promise<AttemptOutcome> => {
    if (!mainContainer) return { result: 'Failed', message: 'the pod template has no containers' };
    await mkdir(logDirectory, { recursive: true });
    let volumes: PodVolumes | undefined;
    const flusher = setInterval(() => void log.flush().catch(() => undefined), options.logFlushMs ?? 1000);
    flusher.unref();
    try {
      volumes = await preparePodVolumes(podSpec as never, containers as never, namespace, {
        ...options.sources,
        scratchRoot: join(options.dataDir, 'jobs', '.scratch'),
      });
      for (const [index, container] of containers.entries()) {
        const outcome = await runContainer(container, volumes.maps[index] ?? {});
        if (outcome) return outcome;
      }
      return { result: 'Succeeded' };
    } catch (error) {
      if (error instanceof VolumeNotReadyError) return { result: 'NotReady', message: error.message };
      log.write(`${errorMessage(error)}\n`);
      return { result: 'Failed', message: errorMessage(error) };
    } finally {
      clearInterval(flusher);
      await volumes?.cleanup().catch(() => undefined);
      await log.flush().catch(() => undefined);
    }
  };

  return {
    podName,
    logPath: log.path,
    done: run(),
    get pid() {
      return current?.pid;
    },
    terminate() {
      terminated = true;
      current?.terminate();
    },
  };
}

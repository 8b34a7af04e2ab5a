/**
 * The BackupSession controller on an embedded control plane, in-process, with the objects a
 * session needs (namespace, encryption Secret, local BackupStorage and Repository made Ready by
 * hand, a RetentionPolicy, a Deployment) and helpers to build configurations and sessions.
 */
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import { createSharedInformers } from '../../src/controllers/informer.js';
import { createEventRecorder } from '../../src/controllers/event-recorder.js';
import { startBackupSessionController, type BackupSessionControllerOptions } from '../../src/controllers/session/backup-session-controller.js';
import { createBackupSessionMetrics } from '../../src/controllers/session/metrics.js';
import { planBackup } from '../../src/controllers/session/execution-planner.js';
import type { ExecutionPlanner } from '../../src/controllers/session/plan.js';
import { planRetention } from '../../src/controllers/session/retention-plan.js';
import type { BackupConfiguration, BackupSession, Snapshot } from '../../src/api/index.js';
import { autostashAddons } from '../../src/domain/execution/addons-catalog.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { eventually, silentLogger, startTestControlPlane } from './control-plane.js';

export const NS = 'demo';
export const BC_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
export const BS_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
export const SNAPSHOT = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Snapshot' };
export const JOB = { apiVersion: 'batch/v1', kind: 'Job' };
export const REPOSITORY = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' };
export const STORAGE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage' };

export interface Harness {
  client: KubeClient;
  registry: Registry;
  dataDir: string;
  /** Starts the controller (after the fixture objects exist, or before: it is level-triggered). */
  start(overrides: Partial<BackupSessionControllerOptions> & { planner: BackupSessionControllerOptions['planner'] }): Promise<void>;
  session(name: string): Promise<BackupSession | undefined>;
  snapshot(name: string): Promise<Snapshot | undefined>;
  job(name: string): Promise<KubeObject | undefined>;
  jobsOf(session: string): Promise<KubeObject[]>;
  snapshotsOf(session: string): Promise<Snapshot[]>;
  sessions(): Promise<BackupSession[]>;
  events(name: string): Promise<Array<{ reason: string; message: string; type: string; kind: string }>>;
  /** Waits for the session's phase. */
  phase(name: string, phase: string, timeoutMs?: number): Promise<BackupSession>;
  setStatus(type: { apiVersion: string; kind: string }, name: string, status: Record<string, unknown>): Promise<void>;
}

export function configuration(options: {
  name?: string;
  paused?: boolean;
  concurrencyPolicy?: string;
  retry?: { maxRetry: number; delay?: string };
  backupTimeout?: string;
  sessionHistoryLimit?: number;
  addon?: string;
  task?: string;
  retention?: boolean;
  repositories?: string[];
  target?: { kind: string; name: string; apiGroup?: string };
} = {}): BackupConfiguration {
  const target = options.target ?? { kind: 'Deployment', name: 'web', apiGroup: 'apps' };
  const addon = options.addon ?? (target.kind === 'PersistentVolumeClaim' ? 'pvc-addon' : 'workload-addon');
  return {
    ...BC_TYPE,
    metadata: { name: options.name ?? 'web-backup', namespace: NS },
    spec: {
      ...(options.paused ? { paused: true } : {}),
      target: { apiGroup: target.apiGroup ?? '', kind: target.kind, name: target.name, namespace: NS },
      backends: [{ name: 'local', storageRef: { name: 'local', namespace: NS }, ...(options.retention === false ? {} : { retentionPolicy: { name: 'keep', namespace: NS } }) }],
      sessions: [
        {
          name: 'nightly',
          scheduler: { schedule: '0 1 * * *', jobTemplate: { backoffLimit: 0 }, ...(options.concurrencyPolicy ? { concurrencyPolicy: options.concurrencyPolicy } : {}) },
          sessionHistoryLimit: options.sessionHistoryLimit ?? 1,
          ...(options.retry ? { retryConfig: options.retry } : {}),
          ...(options.backupTimeout ? { backupTimeout: options.backupTimeout } : {}),
          repositories: (options.repositories ?? ['web-repo']).map((name) => ({ name, backend: 'local', directory: `/demo/${name}`, encryptionSecret: { name: 'encrypt', namespace: NS } })),
          addon: { name: addon, tasks: [{ name: options.task ?? 'logical-backup', params: { paths: '/data' } }] },
        },
      ],
    },
  } as BackupConfiguration;
}

export function backupSession(name: string, options: { configuration?: string; session?: string; retryLeft?: number; kind?: string; backupTimeout?: string } = {}): BackupSession {
  return {
    ...BS_TYPE,
    metadata: { name, namespace: NS },
    spec: {
      invoker: { apiGroup: 'core.kubestash.com', kind: options.kind ?? 'BackupConfiguration', name: options.configuration ?? 'web-backup' },
      session: options.session ?? 'nightly',
      ...(options.retryLeft !== undefined ? { retryLeft: options.retryLeft } : {}),
      ...(options.backupTimeout !== undefined ? { backupTimeout: options.backupTimeout } : {}),
    },
  };
}

export function repository(name: string, target = { apiGroup: 'apps', kind: 'Deployment', name: 'web' }): KubeObject {
  return {
    ...REPOSITORY,
    metadata: { name, namespace: NS },
    spec: { appRef: { ...target, namespace: NS }, storageRef: { name: 'local', namespace: NS }, path: `/demo/${name}`, encryptionSecret: { name: 'encrypt', namespace: NS } },
  };
}

export async function startHarness(t: Test, options: { readyRepositories?: string[]; backendDir?: string } = {}): Promise<Harness> {
  const { kubeConfig, dataDir } = await startTestControlPlane(t, { jobBackoffBaseMs: 50 });
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const logger = silentLogger();
  const registry = new Registry();
  const metrics = createBackupSessionMetrics(registry);

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, stringData: { RESTIC_PASSWORD: 'not-a-real-password' } });
  await client.create({
    ...STORAGE,
    metadata: { name: 'local', namespace: NS },
    spec: { storage: { provider: 'local', local: { mountPath: '/safe', hostPath: { path: options.backendDir ?? `${dataDir}/backend`, type: 'DirectoryOrCreate' } } }, usagePolicy: { allowedNamespaces: { from: 'All' } }, deletionPolicy: 'Delete' },
  });
  await client.create({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'keep', namespace: NS }, spec: { successfulSnapshots: { last: 3 }, usagePolicy: { allowedNamespaces: { from: 'All' } } } });
  await client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'web-data' } }] } },
    },
  });

  const setStatus = async (type: { apiVersion: string; kind: string }, name: string, status: Record<string, unknown>) => {
    for (;;) {
      const current = await client.get({ ...type, namespace: NS, name });
      try {
        await client.updateStatus({ ...current, status: { ...(current.status as object | undefined), ...status } });
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
  };
  await setStatus(STORAGE, 'local', { phase: 'Ready' });
  for (const name of options.readyRepositories ?? ['web-repo']) {
    await client.create(repository(name));
    await setStatus(REPOSITORY, name, { phase: 'Ready' });
  }

  let started = false;
  const harness: Harness = {
    client,
    registry,
    dataDir,
    async start(overrides) {
      if (started) throw new Error('started twice');
      started = true;
      const informers = createSharedInformers(client, { logger, initialBackoffMs: 50 });
      const recorder = createEventRecorder({ client, logger });
      const controller = startBackupSessionController({ client, informers, recorder, metrics, logger, image: 'autostash:test', pollMs: 100, ...overrides });
      informers.start();
      t.teardown(async () => {
        await controller.stop();
        await recorder.flush();
        await informers.stop();
      });
    },
    session: (name) => client.find<BackupSession>({ ...BS_TYPE, namespace: NS, name }),
    snapshot: (name) => client.find<Snapshot>({ ...SNAPSHOT, namespace: NS, name }),
    job: (name) => client.find({ ...JOB, namespace: NS, name }),
    jobsOf: async (session) => (await client.list(JOB, { namespace: NS, labelSelector: `autostash.dev/backup-session=${session}` })).items,
    snapshotsOf: async (session) => (await client.list<Snapshot>(SNAPSHOT, { namespace: NS, labelSelector: `autostash.dev/backup-session=${session}` })).items,
    sessions: async () => (await client.list<BackupSession>(BS_TYPE, { namespace: NS })).items,
    events: async (name) =>
      (await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: NS })).items
        .filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === name)
        .map((e) => {
          const event = e as unknown as { reason: string; message: string; type: string; involvedObject: { kind: string } };
          return { reason: event.reason, message: event.message, type: event.type, kind: event.involvedObject.kind };
        }),
    phase: (name, phase, timeoutMs = 20_000) =>
      eventually(`BackupSession ${name} to be ${phase}`, async () => {
        const bs = await harness.session(name);
        return bs?.status?.phase === phase ? bs : undefined;
      }, timeoutMs),
    setStatus,
  };
  return harness;
}

export const conditionOf = (object: { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }> } } | undefined, type: string) =>
  object?.status?.conditions?.find((c) => c.type === type);

/** Installs autostash's Addons and Functions, with each backup Function running `script` (component name in $1). */
export async function installAddons(h: Harness, script: string): Promise<void> {
  for (const object of autostashAddons('autostash:test')) {
    const isBackupFunction = object.kind === 'Function' && /-backup$/.test(object.metadata?.name ?? '');
    await h.client.create(isBackupFunction ? { ...object, spec: { ...(object.spec as object), command: ['sh', '-c', script, 'sh'], args: ['${COMPONENT_NAME:=}'] } } : object);
  }
}

/** The real planner; the retention Job runs `retentionScript` instead of the executor. */
export const realPlanner = (retentionScript = 'exit 0'): ExecutionPlanner => ({
  planBackup,
  planRetention: (objects) => {
    const plan = planRetention(objects);
    if (!plan.ok) return plan;
    const spec = plan.job.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } };
    spec.template.spec.containers[0] = { ...spec.template.spec.containers[0], command: ['sh', '-c', retentionScript], args: [] };
    return plan;
  },
});

/** Writes Snapshot.status.components[component] as the executor would (retrying on 409). */
export async function writeComponent(h: Harness, snapshot: string, component: string, value: Record<string, unknown>): Promise<void> {
  for (;;) {
    const current = await h.client.get<Snapshot>({ ...SNAPSHOT, namespace: NS, name: snapshot });
    try {
      await h.client.updateStatus({ ...current, status: { ...current.status, components: { ...current.status?.components, [component]: value } } });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
}

/** A component as the executor reports a successful backup of it. */
export const succeededComponent = (component: string, size: string) => ({
  path: `repository/v1/nightly/${component}`,
  phase: 'Succeeded',
  driver: 'Restic',
  size,
  integrity: true,
  duration: '1.2s',
  resticStats: [{ summary: { id: 'abc', hostPath: '/data', size, uploaded: '1 KiB', startTime: '2026-01-01T10:00:00Z', endTime: '2026-01-01T10:00:01Z' } }],
});

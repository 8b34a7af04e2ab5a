/**
 * The RestoreSession controller on an embedded control plane, in-process, with what a restore
 * needs: a namespace, an encryption Secret, a local BackupStorage, a Repository, autostash's Addons
 * and Functions, and helpers to create Snapshots (status written by hand, as the backup executor
 * would), targets and RestoreSessions.
 *
 * The restore Functions run a shell command chosen by the test instead of `autostash exec restore`
 * (same args), so a Job waits or fails on cue: the tests drive components by writing
 * RestoreSession.status.components themselves, as the executor will.
 */
import type { Test } from 'tap';
import { Registry } from 'prom-client';
import type { BackupConfiguration, RestoreSession, Snapshot } from '../../../src/api/index.js';
import { autostashAddons } from '../../../src/domain/execution/addons-catalog.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createEventRecorder } from '../../../src/controllers/event-recorder.js';
import { createSharedInformers } from '../../../src/controllers/informer.js';
import { createRestoreSessionMetrics } from '../../../src/controllers/restore/metrics.js';
import { startRestoreSessionController, type RestoreSessionControllerOptions } from '../../../src/controllers/restore/restore-session-controller.js';
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { eventually, silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';

export const NS = 'demo';
export const RS_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'RestoreSession' };
export const BC_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
export const BS_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
export const SNAPSHOT_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Snapshot' };
export const REPOSITORY_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' };
export const STORAGE_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage' };
export const JOB_TYPE = { apiVersion: 'batch/v1', kind: 'Job' };
export const IMAGE = 'autostash:test';

/** What a restore Job does on the embedded plane: wait (the test writes the outcome) or fail with output. */
export type JobBehaviour = { wait: true } | { failWith: string } | { succeedSilently: true };

export interface Harness {
  client: KubeClient;
  registry: Registry;
  dataDir: string;
  start(overrides?: Partial<RestoreSessionControllerOptions>): Promise<void>;
  restore(name: string, namespace?: string): Promise<RestoreSession | undefined>;
  /** Waits for the RestoreSession's phase. */
  phase(name: string, phase: string, timeoutMs?: number): Promise<RestoreSession>;
  jobsOf(restore: string, namespace?: string): Promise<KubeObject[]>;
  events(name: string, namespace?: string): Promise<Array<{ reason: string; message: string; type: string }>>;
  setStatus(type: { apiVersion: string; kind: string }, name: string, status: Record<string, unknown>, namespace?: string): Promise<void>;
  /** Writes status.components[component] as the executor does (read-modify-write, retried on conflict). */
  reportComponent(restore: string, component: string, value: Record<string, unknown>, namespace?: string): Promise<void>;
  configuration(name: string, namespace?: string): Promise<BackupConfiguration>;
}

/** A Snapshot of `repository` as a finished backup leaves it. */
export function snapshot(
  name: string,
  options: { repository?: string; phase?: string; components?: string[]; time?: string; appRef?: Record<string, string> } = {},
): { object: Snapshot; status: Record<string, unknown> } {
  const repository = options.repository ?? 'web-repo';
  const components = options.components ?? ['dump'];
  return {
    object: {
      ...SNAPSHOT_TYPE,
      metadata: { name, namespace: NS, labels: { 'kubestash.com/repo-name': repository } },
      spec: {
        repository,
        session: 'nightly',
        backupSession: `${name}-bs`,
        version: 'v1',
        snapshotID: '01HZZZZZZZZZZZZZZZZZZZZZZZ',
        appRef: options.appRef ?? { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'web-data', namespace: NS },
      },
    } as unknown as Snapshot,
    status: {
      phase: options.phase ?? 'Succeeded',
      snapshotTime: options.time ?? '2026-01-01T00:00:00Z',
      totalComponents: components.length,
      components: Object.fromEntries(
        components.map((component) => [component, { path: `repository/v1/nightly/${component}`, phase: options.phase ?? 'Succeeded', driver: 'Restic' }]),
      ),
    },
  };
}

export function restoreSession(
  name: string,
  options: {
    namespace?: string;
    repository?: string;
    snapshot?: string;
    components?: string[];
    target?: Record<string, string> | null;
    addon?: string;
    task?: string;
    tasks?: Array<{ name: string }>;
    timeout?: string;
    encryptionSecret?: { name: string; namespace?: string };
  } = {},
): RestoreSession {
  const target = options.target === undefined ? { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'restored-data', namespace: NS } : options.target;
  return {
    ...RS_TYPE,
    metadata: { name, namespace: options.namespace ?? NS },
    spec: {
      ...(target === null ? {} : { target }),
      dataSource: {
        namespace: NS,
        repository: options.repository ?? 'web-repo',
        snapshot: options.snapshot ?? 'latest',
        ...(options.components ? { components: options.components } : {}),
        ...(options.encryptionSecret ? { encryptionSecret: options.encryptionSecret } : {}),
      },
      addon: { name: options.addon ?? 'pvc-addon', tasks: options.tasks ?? [{ name: options.task ?? 'logical-backup-restore' }] },
      ...(options.timeout ? { restoreTimeout: options.timeout } : {}),
    },
  } as RestoreSession;
}

export function configuration(name: string, target: Record<string, string>, options: { paused?: boolean; namespace?: string } = {}): BackupConfiguration {
  return {
    ...BC_TYPE,
    metadata: { name, namespace: options.namespace ?? NS },
    spec: {
      ...(options.paused ? { paused: true } : {}),
      target,
      backends: [{ name: 'local', storageRef: { name: 'local', namespace: NS } }],
      sessions: [
        {
          name: 'nightly',
          scheduler: { schedule: '0 1 * * *', jobTemplate: { backoffLimit: 0 } },
          repositories: [{ name: 'web-repo', backend: 'local', directory: '/demo/web', encryptionSecret: { name: 'encrypt', namespace: NS } }],
          addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] },
        },
      ],
    },
  } as BackupConfiguration;
}

export const claim = (name: string, namespace = NS): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});

export async function startHarness(t: Test, options: { job?: JobBehaviour } = {}): Promise<Harness> {
  const { kubeConfig, dataDir } = await startTestControlPlane(t, { jobBackoffBaseMs: 50 });
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const logger = silentLogger();
  const registry = new Registry();
  const metrics = createRestoreSessionMetrics(registry);

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, stringData: { RESTIC_PASSWORD: 'not-a-real-password' } });
  await client.create({
    ...STORAGE_TYPE,
    metadata: { name: 'local', namespace: NS },
    spec: { storage: { provider: 'local', local: { mountPath: '/safe', hostPath: { path: `${dataDir}/backend`, type: 'DirectoryOrCreate' } } }, usagePolicy: { allowedNamespaces: { from: 'All' } }, deletionPolicy: 'Delete' },
  });
  await client.create({
    ...REPOSITORY_TYPE,
    metadata: { name: 'web-repo', namespace: NS },
    spec: { appRef: { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'web-data', namespace: NS }, storageRef: { name: 'local', namespace: NS }, path: '/demo/web', encryptionSecret: { name: 'encrypt', namespace: NS } },
  });
  await client.create(claim('web-data'));
  await client.create(claim('restored-data'));

  // autostash's catalog, with the restore Functions running a shell command chosen by the test (same args).
  const behaviour = options.job ?? { wait: true };
  const script = 'wait' in behaviour ? 'sleep 120' : 'failWith' in behaviour ? `echo "${behaviour.failWith}" >&2; exit 3` : 'exit 0';
  for (const object of autostashAddons(IMAGE)) {
    if (object.kind === 'Function' && String(object.metadata?.name).endsWith('-restore')) {
      await client.create({ ...object, spec: { ...(object.spec as object), command: ['sh', '-c', script, 'sh'] } });
    } else {
      await client.create(object);
    }
  }

  const setStatus: Harness['setStatus'] = async (type, name, status, namespace = NS) => {
    for (;;) {
      const current = await client.get({ ...type, namespace, name });
      try {
        await client.updateStatus({ ...current, status: { ...(current.status as object | undefined), ...status } });
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    }
  };

  let started = false;
  const harness: Harness = {
    client,
    registry,
    dataDir,
    async start(overrides = {}) {
      if (started) throw new Error('started twice');
      started = true;
      const informers = createSharedInformers(client, { logger, initialBackoffMs: 50 });
      const recorder = createEventRecorder({ client, logger });
      const controller = startRestoreSessionController({ client, informers, recorder, metrics, logger, image: IMAGE, pollMs: 100, ...overrides });
      informers.start();
      t.teardown(async () => {
        await controller.stop();
        await recorder.flush();
        await informers.stop();
      });
    },
    restore: (name, namespace = NS) => client.find<RestoreSession>({ ...RS_TYPE, namespace, name }),
    phase: (name, phase, timeoutMs = 20_000) =>
      eventually(`RestoreSession ${name} to be ${phase}`, async () => {
        const rs = await harness.restore(name);
        return rs?.status?.phase === phase ? rs : undefined;
      }, timeoutMs),
    jobsOf: async (restore, namespace = NS) => (await client.list(JOB_TYPE, { namespace, labelSelector: `autostash.dev/restore-session=${restore}` })).items,
    events: async (name, namespace = NS) =>
      (await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace })).items
        .filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === name)
        .map((e) => {
          const event = e as unknown as { reason: string; message: string; type: string };
          return { reason: event.reason, message: event.message, type: event.type };
        }),
    setStatus,
    async reportComponent(restore, component, value, namespace = NS) {
      for (;;) {
        const current = await client.get<RestoreSession>({ ...RS_TYPE, namespace, name: restore });
        const status = current.status ?? {};
        try {
          await client.updateStatus({ ...current, status: { ...status, components: { ...status.components, [component]: value } } });
          return;
        } catch (error) {
          if ((error as { code?: number }).code !== 409) throw error;
        }
      }
    },
    configuration: (name, namespace = NS) => client.get<BackupConfiguration>({ ...BC_TYPE, namespace, name }),
  };
  return harness;
}

/** Creates the Snapshot and writes its status. */
export async function createSnapshot(h: Harness, built: ReturnType<typeof snapshot>): Promise<void> {
  await h.client.create(built.object);
  await h.setStatus(SNAPSHOT_TYPE, built.object.metadata?.name as string, built.status);
}

export const conditionOf = (object: { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } } | undefined, type: string) =>
  object?.status?.conditions?.find((c) => c.type === type);

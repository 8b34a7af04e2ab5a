/**
 * A running `autostash serve` on the embedded control plane (webhook, controllers, Jobs running the
 * built CLI) plus the objects and waits the backup and restore stories share.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Test } from 'tap';
import { startServer, type RunningServer } from '../../src/commands/serve.js';
import { loadConfig } from '../../src/config.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { loadKubeConfigWithSource } from '../../src/kube/kubeconfig.js';
import { builtCliPath } from './control-plane.js';
import { eventually } from './eventually.js';

export const resticMissing = (() => {
  try {
    return promisify(execFile)('restic', ['version']).then(
      () => false as const,
      () => 'restic is not installed',
    );
  } catch {
    return Promise.resolve('restic is not installed');
  }
})();

export const quietLogger = () => pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
export const LONG = 120_000;

export interface Harness {
  server: RunningServer;
  client: KubeClient;
  kubeconfig: string;
  backendDir: string;
  apply(objects: KubeObject[]): Promise<void>;
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  get<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T | undefined>;
  claimDir(namespace: string, claim: string): Promise<string>;
}

export async function startHarness(t: Test): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-story-'));
  const backendDir = join(dir, 'backend');
  await mkdir(backendDir);
  const config = loadConfig(
    { host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), dataDir: join(dir, 'data'), embeddedPort: '0', initialBackup: false },
    { HOME: dir },
  );
  const server = await startServer(config, quietLogger(), { cliPath: builtCliPath });
  t.teardown(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const plane = server.controlPlane;
  if (plane === undefined) throw new Error('serve did not start the embedded control plane');
  const loaded = loadKubeConfigWithSource({ kubeconfigPath: plane.kubeconfigPath, env: {} });
  if (loaded === undefined) throw new Error('no kubeconfig');
  const client = createKubeClient(loaded.kubeConfig);
  t.teardown(() => client.close());
  await eventually('the webhook and controllers are ready', async () => (await server.app.inject('/readyz')).statusCode === 200, LONG);
  return {
    server,
    client,
    kubeconfig: plane.kubeconfigPath,
    backendDir,
    async apply(objects) {
      for (const object of objects) await client.create(object);
    },
    cli: (args) =>
      new Promise((resolve) => {
        execFile(process.execPath, [builtCliPath, ...args], { env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: plane.kubeconfigPath }, timeout: 60_000 }, (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
      }),
    get: (apiVersion, kind, namespace, name) => client.find({ apiVersion, kind, namespace, name }),
    async claimDir(namespace, claim) {
      let path = '';
      await eventually(`claim ${namespace}/${claim} bound`, async () => {
        const pvc = await client.find({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claim });
        const volumeName = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName;
        if (!volumeName) return false;
        const pv = await client.find({ apiVersion: 'v1', kind: 'PersistentVolume', name: volumeName });
        path = (pv?.spec as { hostPath?: { path?: string } } | undefined)?.hostPath?.path ?? '';
        return path !== '';
      }, LONG);
      return path;
    },
  };
}

export const namespaceObject = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

export function commonObjects(namespace: string, backendDir: string): KubeObject[] {
  return [
    namespaceObject(namespace),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'encrypt-secret', namespace },
      stringData: { RESTIC_PASSWORD: 'correct horse battery staple' },
    },
    {
      apiVersion: 'storage.kubestash.com/v1alpha1',
      kind: 'BackupStorage',
      metadata: { name: 'local-storage', namespace },
      spec: {
        storage: { provider: 'local', local: { mountPath: '/safe/data', hostPath: { path: backendDir } } },
        usagePolicy: { allowedNamespaces: { from: 'All' } },
        default: true,
        deletionPolicy: 'WipeOut',
      },
    },
    {
      apiVersion: 'storage.kubestash.com/v1alpha1',
      kind: 'RetentionPolicy',
      metadata: { name: 'keep-three', namespace },
      spec: { successfulSnapshots: { last: 3 }, failedSnapshots: { last: 1 }, usagePolicy: { allowedNamespaces: { from: 'All' } } },
    },
  ];
}

export function blueprint(namespace: string, name: string, addon: { name: string; task: string; params?: Record<string, string> }): KubeObject {
  return {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupBlueprint',
    metadata: { name, namespace },
    spec: {
      usagePolicy: { allowedNamespaces: { from: 'All' } },
      backupConfigurationTemplate: {
        deletionPolicy: 'OnDelete',
        backends: [{ name: 'local-backend', storageRef: { name: 'local-storage', namespace }, retentionPolicy: { name: 'keep-three', namespace } }],
        sessions: [
          {
            name: 'nightly',
            scheduler: { schedule: '0 2 * * *', jobTemplate: { backoffLimit: 0 } },
            repositories: [{ name: '${targetName}-repo', backend: 'local-backend', directory: '/${namespace}/${targetName}', encryptionSecret: { name: 'encrypt-secret', namespace } }],
            addon: { name: addon.name, tasks: [{ name: addon.task, ...(addon.params ? { params: addon.params } : {}) }] },
          },
        ],
      },
    },
  };
}

export const annotationsFor = (blueprintName: string, namespace: string, target: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'blueprint.kubestash.com/name': blueprintName,
  'blueprint.kubestash.com/namespace': namespace,
  'variables.kubestash.com/targetName': target,
  'variables.kubestash.com/namespace': namespace,
  ...extra,
});

export function claim(namespace: string, name: string, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  };
}

export function deployment(namespace: string, name: string, claimName: string, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
        },
      },
    },
  };
}

export type Phased = KubeObject & { status?: { phase?: string; conditions?: Array<{ type: string; status: string; message?: string }> } };

export async function waitPhase(h: Harness, apiVersion: string, kind: string, namespace: string, name: string, phases: string[]): Promise<Phased> {
  let last: Phased | undefined;
  try {
    await eventually(`${kind} ${namespace}/${name} in ${phases.join('|')}`, async () => {
      last = await h.get<Phased>(apiVersion, kind, namespace, name);
      return phases.includes(last?.status?.phase ?? '');
    }, LONG);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
  return last!;
}

export async function triggerAndWait(t: Test, h: Harness, namespace: string, configuration: string): Promise<{ session: Phased; snapshots: Phased[] }> {
  const triggered = await h.cli(['trigger', configuration, '-n', namespace]);
  t.equal(triggered.code, 0, `trigger: ${triggered.stderr}`);
  const sessionName = /backupsession\/(\S+)/.exec(triggered.stdout)?.[1] ?? '';
  const session = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'BackupSession', namespace, sessionName, ['Succeeded', 'Failed', 'Skipped']);
  const snapshotNames = ((session.status as { snapshots?: Array<{ name: string }> }).snapshots ?? []).map((s) => s.name);
  const snapshots: Phased[] = [];
  for (const name of snapshotNames) {
    const snapshot = await h.get<Phased>('storage.kubestash.com/v1alpha1', 'Snapshot', namespace, name);
    if (snapshot) snapshots.push(snapshot);
  }
  return { session, snapshots };
}

export function statefulSet(namespace: string, name: string, replicas: number, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'db', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/var/lib/db' }] }] },
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

export function restoreSession(namespace: string, name: string, repository: string, target: { apiGroup: string; kind: string; name: string }, addon: string): KubeObject {
  return {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'RestoreSession',
    metadata: { name, namespace },
    spec: {
      target: { ...target, namespace },
      dataSource: { repository, snapshot: 'latest', encryptionSecret: { name: 'encrypt-secret', namespace } },
      addon: { name: addon, tasks: [{ name: 'logical-backup-restore' }] },
    },
  };
}

export async function onlyConfigurationFor(h: Harness, namespace: string, kind: string, target: string): Promise<string> {
  return eventually(`the BackupConfiguration generated for ${kind} ${target}`, async () => {
    const list = await h.client.list<KubeObject & { spec?: { target?: { kind?: string; name?: string } } }>({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' }, { namespace });
    return list.items.find((bc) => bc.spec?.target?.kind === kind && bc.spec.target.name === target)?.metadata?.name;
  }, LONG);
}


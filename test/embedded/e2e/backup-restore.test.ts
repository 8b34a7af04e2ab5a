/**
 * The whole story on the embedded control plane with the real executor and real restic: storage,
 * retention, encryption secret, blueprint, annotated workloads with data -> trigger -> Snapshot
 * Succeeded -> restore into new volumes -> byte-identical (sha256, modes, symlinks).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { startServer, type RunningServer } from '../../../src/commands/serve.js';
import { loadConfig } from '../../../src/config.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { loadKubeConfigWithSource } from '../../../src/kube/kubeconfig.js';
import { builtCliMissing, builtCliPath } from '../../helpers/control-plane.js';
import { eventually } from '../../helpers/eventually.js';
import { describeTree, writeSampleTree } from '../../helpers/file-tree.js';

const resticMissing = (() => {
  try {
    return promisify(execFile)('restic', ['version']).then(
      () => false as const,
      () => 'restic is not installed',
    );
  } catch {
    return Promise.resolve('restic is not installed');
  }
})();

const quietLogger = () => pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
const LONG = 120_000;

interface Harness {
  server: RunningServer;
  client: KubeClient;
  kubeconfig: string;
  backendDir: string;
  apply(objects: KubeObject[]): Promise<void>;
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  get<T extends KubeObject = KubeObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T | undefined>;
  claimDir(namespace: string, claim: string): Promise<string>;
}

async function startHarness(t: Test): Promise<Harness> {
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

const namespaceObject = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

function commonObjects(namespace: string, backendDir: string): KubeObject[] {
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

function blueprint(namespace: string, name: string, addon: { name: string; task: string; params?: Record<string, string> }): KubeObject {
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

const annotationsFor = (blueprintName: string, namespace: string, target: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'blueprint.kubestash.com/name': blueprintName,
  'blueprint.kubestash.com/namespace': namespace,
  'variables.kubestash.com/targetName': target,
  'variables.kubestash.com/namespace': namespace,
  ...extra,
});

function claim(namespace: string, name: string, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  };
}

function deployment(namespace: string, name: string, claimName: string, annotations?: Record<string, string>): KubeObject {
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

type Phased = KubeObject & { status?: { phase?: string; conditions?: Array<{ type: string; status: string; message?: string }> } };

async function waitPhase(h: Harness, apiVersion: string, kind: string, namespace: string, name: string, phases: string[]): Promise<Phased> {
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

async function triggerAndWait(t: Test, h: Harness, namespace: string, configuration: string): Promise<{ session: Phased; snapshots: Phased[] }> {
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

function statefulSet(namespace: string, name: string, replicas: number, annotations?: Record<string, string>): KubeObject {
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

function restoreSession(namespace: string, name: string, repository: string, target: { apiGroup: string; kind: string; name: string }, addon: string): KubeObject {
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

async function onlyConfigurationFor(h: Harness, namespace: string, kind: string, target: string): Promise<string> {
  return eventually(`the BackupConfiguration generated for ${kind} ${target}`, async () => {
    const list = await h.client.list<KubeObject & { spec?: { target?: { kind?: string; name?: string } } }>({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' }, { namespace });
    return list.items.find((bc) => bc.spec?.target?.kind === kind && bc.spec.target.name === target)?.metadata?.name;
  }, LONG);
}

t.test('the whole story on the embedded control plane with restic', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) {
    t.comment(missing);
    return;
  }
  const h = await startHarness(t);
  const ns = 'story';
  await h.apply(commonObjects(ns, h.backendDir));
  await h.apply([
    blueprint(ns, 'workload-backup', { name: 'workload-addon', task: 'logical-backup', params: { paths: '${paths}' } }),
    blueprint(ns, 'pvc-backup', { name: 'pvc-addon', task: 'logical-backup' }),
  ]);
  await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'BackupStorage', ns, 'local-storage', ['Ready']);

  t.test('Deployment with a PVC -> restore into a new PVC, byte-identical', async (t) => {
    await h.apply([claim(ns, 'web-data'), deployment(ns, 'web', 'web-data', annotationsFor('workload-backup', ns, 'web', { 'variables.kubestash.com/paths': '/data' }))]);
    const source = await h.claimDir(ns, 'web-data');
    await writeSampleTree(source);
    const expected = await describeTree(source);
    await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'web-repo', ['Ready']);
    const configuration = await onlyConfigurationFor(h, ns, 'Deployment', 'web');

    const { session, snapshots } = await triggerAndWait(t, h, ns, configuration);
    t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
    t.equal(snapshots.length, 1);
    t.equal(snapshots[0]?.status?.phase, 'Succeeded');
    const component = (snapshots[0]?.status as { components?: Record<string, { phase?: string; resticStats?: Array<{ summary?: { id?: string; hostPath?: string } }> }> }).components?.dump;
    t.equal(component?.phase, 'Succeeded');
    t.ok(component?.resticStats?.[0]?.summary?.id, 'the restic snapshot id is recorded');
    t.equal(component?.resticStats?.[0]?.summary?.hostPath, '/data');
    const repository = await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'web-repo', ['Ready']);
    t.ok(await eventually('the Repository counts the snapshot', async () => ((await h.get<Phased & { status?: { snapshotCount?: number } }>('storage.kubestash.com/v1alpha1', 'Repository', ns, 'web-repo'))?.status?.snapshotCount ?? 0) >= 1, LONG));
    t.ok(repository);

    await h.apply([claim(ns, 'web-restored')]);
    const restoredDir = await h.claimDir(ns, 'web-restored');
    await h.apply([restoreSession(ns, 'restore-web', 'web-repo', { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'web-restored' }, 'pvc-addon')]);
    const restore = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'RestoreSession', ns, 'restore-web', ['Succeeded', 'Failed', 'Invalid']);
    t.equal(restore.status?.phase, 'Succeeded', JSON.stringify(restore.status));
    t.same(await describeTree(restoredDir), expected, 'every file, mode and symlink is back');
  });

  t.test('StatefulSet with 3 replicas -> one component per replica -> restore into a new StatefulSet', async (t) => {
    await h.apply([statefulSet(ns, 'db', 3, annotationsFor('workload-backup', ns, 'db', { 'variables.kubestash.com/paths': '/var/lib/db' }))]);
    const expected: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3; i++) {
      const dir = await h.claimDir(ns, `data-db-${i}`);
      await writeSampleTree(dir, { largeBytes: (i + 1) * 1024 * 1024 });
      await writeFile(join(dir, 'replica.txt'), `replica ${i}\n`);
      expected.push(await describeTree(dir));
    }
    await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'db-repo', ['Ready']);
    const configuration = await onlyConfigurationFor(h, ns, 'StatefulSet', 'db');
    const { session, snapshots } = await triggerAndWait(t, h, ns, configuration);
    t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
    const components = (snapshots[0]?.status as { components?: Record<string, { phase?: string }> } | undefined)?.components ?? {};
    t.same(Object.keys(components).sort(), ['dump-pod-0', 'dump-pod-1', 'dump-pod-2']);
    t.ok(Object.values(components).every((c) => c.phase === 'Succeeded'));

    await h.apply([statefulSet(ns, 'db-copy', 3)]);
    const dirs: string[] = [];
    for (let i = 0; i < 3; i++) dirs.push(await h.claimDir(ns, `data-db-copy-${i}`));
    await h.apply([restoreSession(ns, 'restore-db', 'db-repo', { apiGroup: 'apps', kind: 'StatefulSet', name: 'db-copy' }, 'workload-addon')]);
    const restore = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'RestoreSession', ns, 'restore-db', ['Succeeded', 'Failed', 'Invalid']);
    t.equal(restore.status?.phase, 'Succeeded', JSON.stringify(restore.status));
    for (let i = 0; i < 3; i++) t.same(await describeTree(dirs[i] ?? ''), expected[i], `replica ${i} restored into its own claim`);
  });

  t.test('standalone PVC (pvc-addon) -> restore into a new PVC', async (t) => {
    await h.apply([claim(ns, 'files', annotationsFor('pvc-backup', ns, 'files'))]);
    const source = await h.claimDir(ns, 'files');
    await writeSampleTree(source, { largeBytes: 2 * 1024 * 1024 });
    const expected = await describeTree(source);
    await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'files-repo', ['Ready']);
    const configuration = await onlyConfigurationFor(h, ns, 'PersistentVolumeClaim', 'files');
    const { session } = await triggerAndWait(t, h, ns, configuration);
    t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
    await h.apply([claim(ns, 'files-restored')]);
    const restoredDir = await h.claimDir(ns, 'files-restored');
    await h.apply([restoreSession(ns, 'restore-files', 'files-repo', { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'files-restored' }, 'pvc-addon')]);
    const restore = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'RestoreSession', ns, 'restore-files', ['Succeeded', 'Failed', 'Invalid']);
    t.equal(restore.status?.phase, 'Succeeded', JSON.stringify(restore.status));
    t.same(await describeTree(restoredDir), expected);
  });
});

import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BackupConfiguration, BackupSession, BackupStorage, Repository, Snapshot } from '../../../src/api/index.js';
import { BACKUP_SESSION_LABEL, REPOSITORY_NAME_LABEL } from '../../../src/domain/execution/labels.js';
import { BACKUP_SESSION_TYPE, BACKUP_STORAGE_TYPE, REPOSITORY_TYPE, SNAPSHOT_TYPE, type ExecOptions } from '../../../src/executor/context.js';
import { initStorage } from '../../../src/executor/init.js';
import { runKubedumpBackup } from '../../../src/executor/kubedump/backup.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';
import { createShop, listFiles, SECRET_VALUE, SHOP } from './fixtures.js';

const NS = 'backups';
const PASSWORD = 'kubedump-restic-Pa55-0b7e';
const resticAvailable = spawnSync('restic', ['version']).status === 0;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

t.test('manifest backups into restic', { skip: resticAvailable ? false : 'restic is not installed' }, async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await mkdtemp(join(tmpdir(), 'autostash-kubedump-backup-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const backend = join(root, 'backend');
  const scratch = join(root, 'scratch');
  await Promise.all([mkdir(backend), mkdir(scratch)]);
  const volumeMap = { '/backend': backend, '/kubestash-tmp': scratch };
  const base = (): ExecOptions => ({ client, namespace: NS, volumeMap, logger: silentLogger(), podName: 'manifest-job-x' });

  await createShop(client);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, data: { RESTIC_PASSWORD: b64(PASSWORD) } });
  await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 'local', namespace: NS }, spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backend } } } } });
  t.ok((await initStorage({ ...base(), storage: 'local', operatorVersion: '1' })).ok);
  await client.create<Repository>({ ...REPOSITORY_TYPE, metadata: { name: 'repo', namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, path: 'cluster', encryptionSecret: { name: 'encrypt' } } });

  const configuration = (name: string, target?: { apiGroup?: string; kind: string; name: string; namespace?: string }): Promise<BackupConfiguration> =>
    client.create<BackupConfiguration>({
      apiVersion: 'core.kubestash.com/v1alpha1',
      kind: 'BackupConfiguration',
      metadata: { name, namespace: NS },
      spec: {
        ...(target ? { target } : {}),
        backends: [{ name: 'b', storageRef: { name: 'local', namespace: NS } }],
        sessions: [{ name: 'nightly', scheduler: { schedule: '0 2 * * *', jobTemplate: {} }, repositories: [{ name: 'repo', backend: 'b', directory: 'cluster', encryptionSecret: { name: 'encrypt' } }], addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-backup' }] } }],
      },
    } as BackupConfiguration);
  /** A BackupSession with its Snapshot, as the session controller makes them. */
  const session = async (bs: string, invoker: { kind: string; name: string } | undefined): Promise<string> => {
    await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name: bs, namespace: NS }, spec: { ...(invoker ? { invoker: { apiGroup: 'core.kubestash.com', ...invoker } } : {}), session: 'nightly' } });
    const name = `repo-${bs}`;
    await client.create<Snapshot>({ ...SNAPSHOT_TYPE, metadata: { name, namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: 'repo', [BACKUP_SESSION_LABEL]: bs } }, spec: { repository: 'repo', session: 'nightly', backupSession: bs } });
    return name;
  };
  const manifestComponent = async (snapshot: string) => (await client.get<Snapshot>({ ...SNAPSHOT_TYPE, namespace: NS, name: snapshot })).status?.components?.manifest;
  const resticEnv = { ...process.env, RESTIC_REPOSITORY: join(backend, 'cluster/repository/v1/nightly/manifest'), RESTIC_PASSWORD: PASSWORD };
  /** Restores one restic snapshot with the restic CLI itself and lists the files. */
  const restoreWithRestic = async (resticId: string): Promise<string[]> => {
    const target = await mkdtemp(join(root, 'restored-'));
    await promisify(execFile)('restic', ['restore', resticId, '--target', target], { env: resticEnv });
    return listFiles(target);
  };

  await configuration('whole-cluster');
  await configuration('one-namespace', { kind: 'Namespace', name: SHOP });
  await configuration('missing-app', { apiGroup: 'apps', kind: 'Deployment', name: 'web' });
  await configuration('kindless', { apiGroup: 'apps', name: 'web' } as never);
  await configuration('web-app', { apiGroup: 'apps', kind: 'Deployment', name: 'web', namespace: SHOP });

  t.test('a target-less configuration backs up the filtered cluster as component manifest', async (t) => {
    const snapshot = await session('bs-cluster', { kind: 'BackupConfiguration', name: 'whole-cluster' });
    const result = await runKubedumpBackup({ ...base(), backupSession: 'bs-cluster', component: 'manifest', filterParams: { IncludeNamespaces: SHOP, IncludeResources: 'deployments,secrets,widgets.example.com' } });
    t.ok(result.ok, result.message);
    const component = await manifestComponent(snapshot);
    t.match(component, { phase: 'Succeeded', driver: 'Restic', path: 'repository/v1/nightly/manifest', integrity: true });
    const summary = component?.resticStats?.[0]?.summary;
    t.equal(summary?.hostPath, '/kubestash-tmp/manifest', 'the dump is taken from the scratch volume, as KubeStash does');
    t.same(await restoreWithRestic(summary?.id ?? ''), [
      'deployments.apps/namespaces/shop/web.yaml',
      'secrets/namespaces/shop/unrelated-secret.yaml',
      'secrets/namespaces/shop/web-secret.yaml',
      'widgets.example.com/namespaces/shop/w1.yaml',
    ], 'the snapshot holds exactly the layout, from its root');
    t.notOk(existsSync(join(scratch, 'manifest')), 'the dump (with Secrets in clear) is removed');
    const snapshotText = JSON.stringify(await client.get({ ...SNAPSHOT_TYPE, namespace: NS, name: snapshot }));
    t.notMatch(snapshotText, SECRET_VALUE);
    t.notMatch(snapshotText, b64(SECRET_VALUE));
  });

  t.test('a Namespace target narrows the dump to that namespace', async (t) => {
    const snapshot = await session('bs-ns', { kind: 'BackupConfiguration', name: 'one-namespace' });
    const result = await runKubedumpBackup({ ...base(), backupSession: 'bs-ns', component: 'manifest', filterParams: { IncludeResources: 'namespaces,configmaps' } });
    t.ok(result.ok, result.message);
    const files = await restoreWithRestic((await manifestComponent(snapshot))?.resticStats?.[0]?.summary?.id ?? '');
    t.same(files, ['configmaps/namespaces/shop/unrelated.yaml', 'configmaps/namespaces/shop/web-config.yaml', 'namespaces/cluster/shop.yaml']);
  });

  t.test('a workload target narrows the dump to the application', async (t) => {
    const snapshot = await session('bs-app', { kind: 'BackupConfiguration', name: 'web-app' });
    const result = await runKubedumpBackup({ ...base(), backupSession: 'bs-app', component: 'manifest', filterParams: { ExcludeResources: 'pods' } });
    t.ok(result.ok, result.message);
    const files = await restoreWithRestic((await manifestComponent(snapshot))?.resticStats?.[0]?.summary?.id ?? '');
    t.same(files, [
      'configmaps/namespaces/shop/web-config.yaml',
      'deployments.apps/namespaces/shop/web.yaml',
      'persistentvolumeclaims/namespaces/shop/web-data.yaml',
      'replicasets.apps/namespaces/shop/web-5d9c.yaml',
      'secrets/namespaces/shop/web-secret.yaml',
      'serviceaccounts/namespaces/shop/web-sa.yaml',
      'services/namespaces/shop/web.yaml',
    ]);
  });

  t.test('bad parameters, a missing configuration and a foreign invoker fail the component with the reason', async (t) => {
    const cases: Array<[string, { kind: string; name: string } | undefined, Record<string, string>, RegExp]> = [
      ['bs-no-invoker', undefined, {}, /needs a BackupSession invoked by a BackupConfiguration, not nothing/],
      ['bs-kindless', { kind: 'BackupConfiguration', name: 'kindless' }, {}, /spec.target of BackupConfiguration backups\/kindless has no kind/],
      ['bs-bad-param', { kind: 'BackupConfiguration', name: 'whole-cluster' }, { IncludeClusterResources: 'maybe' }, /invalid kubedump parameters: IncludeClusterResources: "maybe" is not true or false/],
      ['bs-no-config', { kind: 'BackupConfiguration', name: 'gone' }, {}, /BackupConfiguration backups\/gone not found/],
      ['bs-batch', { kind: 'BackupBatch', name: 'b' }, {}, /needs a BackupSession invoked by a BackupConfiguration, not BackupBatch/],
      ['bs-missing-app', { kind: 'BackupConfiguration', name: 'missing-app' }, {}, /the target Deployment backups\/web does not exist/],
    ];
    for (const [bs, invoker, filterParams, reason] of cases) {
      const snapshot = await session(bs, invoker);
      const result = await runKubedumpBackup({ ...base(), backupSession: bs, component: 'manifest', filterParams });
      t.notOk(result.ok, bs);
      t.match(result.message, reason, `${bs}: result`);
      t.match(await manifestComponent(snapshot), { phase: 'Failed', error: reason }, `${bs}: Snapshot`);
      t.notOk(existsSync(join(scratch, 'manifest')), `${bs}: no dump left`);
    }
  });

  t.test('without a scratch volume the dump goes to a private temporary directory', async (t) => {
    const snapshot = await session('bs-no-scratch', { kind: 'BackupConfiguration', name: 'whole-cluster' });
    const result = await runKubedumpBackup({ ...base(), volumeMap: { '/backend': backend }, scratchDir: '/no-such-scratch', backupSession: 'bs-no-scratch', component: 'manifest', filterParams: { IncludeNamespaces: SHOP, IncludeResources: 'services' } });
    t.ok(result.ok, result.message);
    const summary = (await manifestComponent(snapshot))?.resticStats?.[0]?.summary;
    t.match(summary?.hostPath, /autostash-kubedump-/);
    t.notOk(existsSync(summary?.hostPath ?? ''), 'removed afterwards');
    t.same(await restoreWithRestic(summary?.id ?? ''), ['services/namespaces/shop/db.yaml', 'services/namespaces/shop/web.yaml']);
  });

  t.test('in a real pod (no volume map) the dump also goes to a temporary directory', async (t) => {
    const snapshot = await session('bs-pod', { kind: 'BackupConfiguration', name: 'whole-cluster' });
    const { volumeMap: _none, ...withoutMap } = base();
    const result = await runKubedumpBackup({ ...withoutMap, scratchDir: '/no-such-scratch', backupSession: 'bs-pod', component: 'manifest', filterParams: { IncludeNamespaces: SHOP } });
    t.notOk(result.ok, 'the local backend is not mounted here');
    t.match(await manifestComponent(snapshot), { phase: 'Failed', error: /local backend root \/backend does not exist/ });
  });
});

/**
 * The manifest restore executor in-process against the test control plane and a real restic repository: one
 * cluster-wide manifest backup of the fixture objects, then one restore per restore filter (namespaces,
 * resources, restoreNamespace, RestorePVs, StorageClassMappings, OverrideResources), plus labels, owners
 * restored after their dependents, CRDs restored before their custom resources, and bad parameters.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupConfiguration, BackupSession, BackupStorage, Repository, RestoreSession, Snapshot } from '../../../src/api/index.js';
import { BACKUP_SESSION_LABEL, REPOSITORY_NAME_LABEL } from '../../../src/domain/execution/labels.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { BACKUP_SESSION_TYPE, BACKUP_STORAGE_TYPE, REPOSITORY_TYPE, RESTORE_SESSION_TYPE, SNAPSHOT_TYPE, type ExecOptions } from '../../../src/executor/context.js';
import { initStorage } from '../../../src/executor/init.js';
import { runKubedumpBackup } from '../../../src/executor/kubedump/backup.js';
import { runKubedumpRestore } from '../../../src/executor/kubedump/restore.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';
import { createShop, OTHER, SECRET_VALUE, SHOP } from './fixtures.js';

const NS = 'backups';
const PASSWORD = 'kubedump-restore-Pa55-4c1d';
const resticAvailable = spawnSync('restic', ['version']).status === 0;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

type Listed = { kind: string; namespace?: string; name: string; result: string; reason?: string };

t.test('manifest restores from restic', { skip: resticAvailable ? false : 'restic is not installed' }, async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await mkdtemp(join(tmpdir(), 'autostash-kubedump-restore-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const backend = join(root, 'backend');
  const scratch = join(root, 'scratch');
  await Promise.all([mkdir(backend), mkdir(scratch)]);
  const volumeMap = { '/backend': backend, '/kubestash-tmp': scratch };
  const base = (): ExecOptions => ({ client, namespace: NS, volumeMap, logger: silentLogger(), podName: 'manifest-restore-x' });

  await createShop(client);
  // A claim of a storage class that the StorageClassMappings test maps.
  await client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'classy', namespace: SHOP }, spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, data: { RESTIC_PASSWORD: b64(PASSWORD) } });
  await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 'local', namespace: NS }, spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backend } } } } });
  t.ok((await initStorage({ ...base(), storage: 'local', operatorVersion: '1' })).ok);
  await client.create<Repository>({ ...REPOSITORY_TYPE, metadata: { name: 'repo', namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, path: 'cluster', encryptionSecret: { name: 'encrypt' } } });
  await client.create<BackupConfiguration>({
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupConfiguration',
    metadata: { name: 'whole-cluster', namespace: NS },
    spec: {
      backends: [{ name: 'b', storageRef: { name: 'local', namespace: NS } }],
      sessions: [{ name: 'nightly', scheduler: { schedule: '0 2 * * *', jobTemplate: {} }, repositories: [{ name: 'repo', backend: 'b', directory: 'cluster', encryptionSecret: { name: 'encrypt' } }], addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-backup' }] } }],
    },
  } as BackupConfiguration);

  // Persistent volumes of the bound claims are in the dump too.
  for (let attempt = 0; (await client.list({ apiVersion: 'v1', kind: 'PersistentVolume' })).items.length === 0; attempt++) {
    if (attempt > 200) throw new Error('no PersistentVolume was provisioned');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name: 'bs', namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'whole-cluster' }, session: 'nightly' } });
  await client.create<Snapshot>({ ...SNAPSHOT_TYPE, metadata: { name: 'snap', namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: 'repo', [BACKUP_SESSION_LABEL]: 'bs' } }, spec: { repository: 'repo', session: 'nightly', backupSession: 'bs' } });
  const backup = await runKubedumpBackup({ ...base(), backupSession: 'bs', component: 'manifest', filterParams: { IncludeClusterResources: 'true', ExcludeNamespaces: NS } });
  t.ok(backup.ok, backup.message);
  await client.patch({ ...SNAPSHOT_TYPE, namespace: NS, name: 'snap' }, { type: 'merge', patch: { status: { phase: 'Succeeded' } } }, { subresource: 'status' });

  let count = 0;
  /** A RestoreSession for one run, then the run. */
  const restore = async (params: Record<string, string>, restoreNamespace?: string, extra: Partial<Parameters<typeof runKubedumpRestore>[0]> = {}) => {
    const name = `rs-${++count}`;
    await client.create<RestoreSession>({
      ...RESTORE_SESSION_TYPE,
      metadata: { name, namespace: NS },
      spec: {
        dataSource: { repository: 'repo', snapshot: 'snap' },
        addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore' }] },
        ...(restoreNamespace !== undefined ? { manifestOptions: { workload: { restoreNamespace } } } : {}),
      },
    });
    const result = await runKubedumpRestore({ ...base(), restoreSession: name, component: 'manifest', params, ...extra });
    const status = (await client.get<RestoreSession>({ ...RESTORE_SESSION_TYPE, namespace: NS, name })).status;
    return { result, status, listed: (status?.manifestRestore?.resources ?? []) as Listed[] };
  };
  const get = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => client.find<KubeObject & { data?: Record<string, string>; spec?: Record<string, unknown> }>({ apiVersion, kind, namespace, name });
  const names = async (apiVersion: string, kind: string, namespace: string): Promise<string[]> => (await client.list({ apiVersion, kind }, { namespace })).items.map((i) => i.metadata?.name ?? '').sort();

  t.test('IncludeNamespaces: only that namespace is touched; what exists is skipped, what is missing is created', async (t) => {
    await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: OTHER, name: 'elsewhere' });
    const { result, status, listed } = await restore({ IncludeNamespaces: OTHER });
    t.ok(result.ok, result.message);
    t.match(status?.components?.manifest, { phase: 'Succeeded' });
    t.match(status?.manifestRestore, { created: 1, failed: 0, updated: 0 });
    t.ok(await get('v1', 'ConfigMap', OTHER, 'elsewhere'), 'the deleted ConfigMap is back');
    t.ok(listed.every((r) => r.namespace === OTHER || (r.kind === 'Namespace' && r.name === OTHER)), 'nothing outside the namespace');
    t.ok(listed.some((r) => r.kind === 'Namespace' && r.name === OTHER && r.result === 'Skipped' && r.reason === 'exists'), 'the existing Namespace is skipped');
    t.ok((status?.manifestRestore?.excluded ?? 0) > 0, 'everything else is excluded');
  });

  t.test('ExcludeNamespaces: the excluded namespace is left alone', async (t) => {
    await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: OTHER, name: 'elsewhere' });
    const { result, listed } = await restore({ IncludeNamespaces: `${OTHER},${SHOP}`, ExcludeNamespaces: OTHER, IncludeResources: 'configmaps' });
    t.ok(result.ok, result.message);
    t.notOk(await get('v1', 'ConfigMap', OTHER, 'elsewhere'), 'not restored');
    t.same(listed.map((r) => `${r.namespace}/${r.name}`).sort(), [`${SHOP}/unrelated`, `${SHOP}/web-config`], 'only the other namespace\'s ConfigMaps, skipped');
    await restore({ IncludeNamespaces: OTHER });
  });

  t.test('restoreNamespace: every object of the namespace is recreated in another one, owners re-linked there', async (t) => {
    const { result, status } = await restore({ IncludeNamespaces: SHOP, ExcludeResources: 'pods' }, 'shop-copy');
    t.ok(result.ok, result.message);
    t.match(status?.manifestRestore, { failed: 0, skipped: 0, updated: 0 });
    t.ok(await get('v1', 'Namespace', undefined, 'shop-copy'), 'the namespace is created (from the dumped Namespace, renamed)');
    t.same(await names('v1', 'ConfigMap', 'shop-copy'), ['unrelated', 'web-config']);
    t.same(await names('apps/v1', 'Deployment', 'shop-copy'), ['web']);
    t.same(await names('example.com/v1', 'Widget', 'shop-copy'), ['w1']);
    t.equal((await get('v1', 'Secret', 'shop-copy', 'web-secret'))?.data?.token, b64(SECRET_VALUE), 'Secrets come back with their data');
    const deployment = await get('apps/v1', 'Deployment', 'shop-copy', 'web');
    const replicaSet = await get('apps/v1', 'ReplicaSet', 'shop-copy', 'web-5d9c');
    t.match(replicaSet?.metadata?.ownerReferences, [{ kind: 'Deployment', name: 'web', uid: deployment?.metadata?.uid, controller: true }], 'the ReplicaSet is owned by the copy of the Deployment');
    t.not(deployment?.metadata?.uid, (await get('apps/v1', 'Deployment', SHOP, 'web'))?.metadata?.uid, 'not the original');
    t.notMatch(JSON.stringify(status), SECRET_VALUE, 'no Secret value in status');
  });

  t.test('IncludeResources / ExcludeResources: only the named resources', async (t) => {
    const included = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'secrets,deployments.apps' }, 'res-copy');
    t.ok(included.result.ok, included.result.message);
    t.same(await names('v1', 'Secret', 'res-copy'), ['unrelated-secret', 'web-secret']);
    t.same(await names('apps/v1', 'Deployment', 'res-copy'), ['web']);
    t.same(await names('v1', 'ConfigMap', 'res-copy'), [], 'no ConfigMaps');
    const excluded = await restore({ IncludeNamespaces: SHOP, ExcludeResources: 'secrets,deployments,replicasets,pods' }, 'res-copy-2');
    t.ok(excluded.result.ok, excluded.result.message);
    t.same(await names('v1', 'Secret', 'res-copy-2'), [], 'no Secrets');
    t.same(await names('apps/v1', 'Deployment', 'res-copy-2'), [], 'no Deployments (resource name without group)');
    t.same(await names('v1', 'ConfigMap', 'res-copy-2'), ['unrelated', 'web-config']);
  });

  t.test('ANDedLabelSelectors / ORedLabelSelectors: only matching objects', async (t) => {
    const { result } = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'configmaps,services', ANDedLabelSelectors: 'tier:front' }, 'label-copy');
    t.ok(result.ok, result.message);
    t.same(await names('v1', 'ConfigMap', 'label-copy'), ['web-config']);
    t.same(await names('v1', 'Service', 'label-copy'), ['web']);
    const ored = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'configmaps', ORedLabelSelectors: 'tier=back,nothing' }, 'label-copy-2');
    t.ok(ored.result.ok);
    t.same(await names('v1', 'ConfigMap', 'label-copy-2'), ['unrelated']);
  });

  t.test('RestorePVs: PersistentVolumes only when asked', async (t) => {
    const without = await restore({ IncludeClusterResources: 'true', IncludeResources: 'persistentvolumes' });
    t.ok(without.result.ok, without.result.message);
    t.equal(without.status?.manifestRestore?.total, 0, 'no volume is restored without RestorePVs');
    const withVolumes = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'persistentvolumes', RestorePVs: 'true' });
    t.ok(withVolumes.result.ok, withVolumes.result.message);
    t.ok((withVolumes.status?.manifestRestore?.total ?? 0) > 0, 'the volumes of the namespace\'s claims are restored (here: exist)');
    t.ok(withVolumes.listed.every((r) => r.kind === 'PersistentVolume' && r.result === 'Skipped'), JSON.stringify(withVolumes.listed));
    const otherNamespace = await restore({ IncludeNamespaces: 'no-such-namespace', IncludeResources: 'persistentvolumes', RestorePVs: 'true' });
    t.equal(otherNamespace.status?.manifestRestore?.total, 0, 'volumes of claims in namespaces not restored stay out');
  });

  t.test('StorageClassMappings: claims get the new storage class', async (t) => {
    const { result } = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'persistentvolumeclaims', StorageClassMappings: 'standard=fast' }, 'sc-copy');
    t.ok(result.ok, result.message);
    t.equal((await get('v1', 'PersistentVolumeClaim', 'sc-copy', 'classy'))?.spec?.storageClassName, 'fast', 'mapped');
    t.equal((await get('v1', 'PersistentVolumeClaim', SHOP, 'classy'))?.spec?.storageClassName, 'standard', 'the original is untouched');
    const unmapped = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'persistentvolumeclaims', StorageClassMappings: 'gold=fast' }, 'sc-copy-2');
    t.ok(unmapped.result.ok, unmapped.result.message);
    t.equal((await get('v1', 'PersistentVolumeClaim', 'sc-copy-2', 'classy'))?.spec?.storageClassName, 'standard', 'a class not mapped stays');
  });

  t.test('OverrideResources: existing objects are updated instead of skipped', async (t) => {
    await client.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: SHOP, name: 'unrelated' }, { type: 'merge', patch: { data: { a: 'changed' } } });
    const createOnly = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'configmaps' });
    t.match(createOnly.status?.manifestRestore, { skipped: 2, updated: 0, created: 0 });
    t.equal((await get('v1', 'ConfigMap', SHOP, 'unrelated'))?.data?.a, 'changed', 'create-only leaves the change');
    const override = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'configmaps', OverrideResources: 'true' });
    t.ok(override.result.ok, override.result.message);
    t.match(override.status?.manifestRestore, { skipped: 0, updated: 2, created: 0 });
    t.ok(override.listed.every((r) => r.result === 'Updated' && r.reason === 'exists; overridden (OverrideResources)'));
    t.equal((await get('v1', 'ConfigMap', SHOP, 'unrelated'))?.data?.a, 'b', 'the backed-up content is back');
  });

  t.test('an owner restored after its dependent: the dependent waits and is linked to it', async (t) => {
    // ConfigMaps come before Deployments in the restore order.
    const owner = await client.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: SHOP, name: 'web' });
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owned-by-web', namespace: SHOP, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: owner.metadata?.uid }] } });
    // Owned by an object that is not restored (ServiceAccounts are left out below): the reference cannot be linked.
    const sa = await client.get({ apiVersion: 'v1', kind: 'ServiceAccount', namespace: SHOP, name: 'web-sa' });
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owned-by-nobody', namespace: SHOP, ownerReferences: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: 'web-sa', uid: sa.metadata?.uid }] } });
    await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name: 'bs-owners', namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'whole-cluster' }, session: 'nightly' } });
    await client.create<Snapshot>({ ...SNAPSHOT_TYPE, metadata: { name: 'snap-owners', namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: 'repo', [BACKUP_SESSION_LABEL]: 'bs-owners' } }, spec: { repository: 'repo', session: 'nightly', backupSession: 'bs-owners' } });
    const dumped = await runKubedumpBackup({ ...base(), backupSession: 'bs-owners', component: 'manifest', filterParams: { IncludeNamespaces: SHOP, IncludeResources: 'configmaps,deployments' } });
    t.ok(dumped.ok, dumped.message);
    const { result } = await restore({}, 'owners-copy', { snapshot: 'snap-owners' });
    t.ok(result.ok, result.message);
    const copy = await get('apps/v1', 'Deployment', 'owners-copy', 'web');
    t.match((await get('v1', 'ConfigMap', 'owners-copy', 'owned-by-web'))?.metadata?.ownerReferences, [{ name: 'web', uid: copy?.metadata?.uid }], 'linked to the owner restored after it');
    const orphan = await get('v1', 'ConfigMap', 'owners-copy', 'owned-by-nobody');
    t.ok(orphan, 'an object whose owner does not exist is restored');
    t.equal(orphan?.metadata?.ownerReferences, undefined, 'without the dangling reference');
  });

  t.test('a custom resource waits until its restored CRD is served', async (t) => {
    await client.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.example.com' });
    for (let attempt = 0; ; attempt++) {
      try {
        await client.resource({ apiVersion: 'example.com/v1', kind: 'Widget' });
        if (attempt > 200) throw new Error('the CRD was not removed');
        await new Promise((resolve) => setTimeout(resolve, 50));
      } catch {
        break;
      }
    }
    const { result, status } = await restore({ IncludeClusterResources: 'true', IncludeNamespaces: SHOP, IncludeResources: 'customresourcedefinitions,widgets' });
    t.ok(result.ok, result.message);
    t.match(status?.manifestRestore, { created: 2, failed: 0 });
    t.ok(await get('example.com/v1', 'Widget', SHOP, 'w1'), 'the custom resource is back');
  });

  t.test('a kind that never becomes served fails that object only, and the component', async (t) => {
    await client.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'widgets.example.com' });
    // A fresh client, as a restore Job has: no discovery cached from before the CRD went.
    const fresh = createKubeClient(kubeConfig);
    t.teardown(() => fresh.close());
    const { result, status, listed } = await restore({ IncludeNamespaces: SHOP, IncludeResources: 'widgets,services' }, 'unserved', { client: fresh, servedWaitMs: 300, servedPollMs: 50 });
    t.notOk(result.ok);
    t.match(result.message, /1 of \d+ objects failed to restore .*first: Widget unserved\/w1: example.com\/v1 Widget is not served/);
    t.match(status?.components?.manifest, { phase: 'Failed', error: /objects failed to restore/ });
    t.match(listed[0], { kind: 'Widget', result: 'Failed' }, 'failures are listed first');
    t.same(await names('v1', 'Service', 'unserved'), ['db', 'web'], 'the other objects are restored');
  });

  t.test('bad parameters fail the component naming the parameter; nothing is applied and no dump is left', async (t) => {
    const { result, status } = await restore({ OverrideResources: 'perhaps', StorageClassMappings: 'nonsense' });
    t.notOk(result.ok);
    t.match(result.message, /invalid manifest-restore parameters: OverrideResources: "perhaps" is not true or false; StorageClassMappings: "nonsense" is not old=new/);
    t.match(status?.components?.manifest, { phase: 'Failed' });
    t.equal(status?.manifestRestore, undefined, 'no results');
    const badNamespace = await restore({}, 'Not_Valid');
    t.match(badNamespace.result.message, /spec.manifestOptions.workload.restoreNamespace: "Not_Valid" is not a namespace name/);
    t.same((await readdir(scratch)).filter((entry) => entry.startsWith('manifest-restore-')), [], 'the restored dump is removed');
    t.notOk(existsSync(join(scratch, 'manifest')));
  });
});

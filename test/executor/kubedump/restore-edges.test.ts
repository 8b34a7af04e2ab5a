/**
 * The manifest restore executor off the happy path, from a dump written by hand and backed up with the restic
 * CLI: unreadable files, owners in a cycle, owners that exist only live, a namespace being deleted, a
 * namespaced object filed as cluster-scoped, a kind never served, and an empty component.
 */
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { BackupStorage, Repository, RestoreSession, Snapshot } from '../../../src/api/index.js';
import { REPOSITORY_NAME_LABEL } from '../../../src/domain/execution/labels.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { BACKUP_STORAGE_TYPE, REPOSITORY_TYPE, RESTORE_SESSION_TYPE, SNAPSHOT_TYPE, type ExecOptions } from '../../../src/executor/context.js';
import { initStorage } from '../../../src/executor/init.js';
import { runKubedumpRestore } from '../../../src/executor/kubedump/restore.js';
import { createKubeClient, KubeApiError } from '../../../src/kube/client.js';
import { silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';

const NS = 'backups';
const HAND = 'hand';
const PASSWORD = 'kubedump-edges-Pa55-77aa';
const resticAvailable = spawnSync('restic', ['version']).status === 0;
const run = promisify(execFile);

type Listed = { kind: string; namespace?: string; name: string; result: string; reason?: string };

t.test('manifest restore edges', { skip: resticAvailable ? false : 'restic is not installed' }, async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await mkdtemp(join(tmpdir(), 'autostash-kubedump-edges-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const backend = join(root, 'backend');
  const scratch = join(root, 'scratch');
  await Promise.all([mkdir(backend), mkdir(scratch)]);
  const volumeMap = { '/backend': backend, '/kubestash-tmp': scratch };
  const base = (): ExecOptions => ({ client, namespace: NS, volumeMap, logger: silentLogger(), podName: 'manifest-restore-y' });

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, stringData: { RESTIC_PASSWORD: PASSWORD } });
  await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 'local', namespace: NS }, spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backend } } } } });
  t.ok((await initStorage({ ...base(), storage: 'local', operatorVersion: '1' })).ok);
  await client.create<Repository>({ ...REPOSITORY_TYPE, metadata: { name: 'repo', namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, path: 'hand', encryptionSecret: { name: 'encrypt' } } });

  /** Backs `files` up with the restic CLI as component manifest of a Succeeded Snapshot `name`. */
  const snapshotOf = async (name: string, files: Record<string, string>): Promise<void> => {
    const dir = await mkdtemp(join(root, 'dump-'));
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    const env = { ...process.env, RESTIC_REPOSITORY: join(backend, 'hand/repository/v1', name, 'manifest'), RESTIC_PASSWORD: PASSWORD };
    await run('restic', ['init'], { env });
    const { stdout } = await run('restic', ['backup', '.', '--json', '--host', 'manifest'], { env, cwd: dir });
    const id = (JSON.parse(stdout.trim().split('\n').pop() as string) as { snapshot_id: string }).snapshot_id;
    await client.create<Snapshot>({ ...SNAPSHOT_TYPE, metadata: { name, namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: 'repo' } }, spec: { repository: 'repo', session: name } });
    await client.patch(
      { ...SNAPSHOT_TYPE, namespace: NS, name },
      { type: 'merge', patch: { status: { phase: 'Succeeded', components: { manifest: { phase: 'Succeeded', path: `repository/v1/${name}/manifest`, resticStats: [{ summary: { id, hostPath: '/kubestash-tmp/manifest' } }] } } } } },
      { subresource: 'status' },
    );
  };
  let count = 0;
  const restore = async (snapshot: string, params: Record<string, string> = {}, restoreNamespace?: string, extra: Partial<Parameters<typeof runKubedumpRestore>[0]> = {}) => {
    const name = `rs-${++count}`;
    await client.create<RestoreSession>({
      ...RESTORE_SESSION_TYPE,
      metadata: { name, namespace: NS },
      spec: {
        dataSource: { repository: 'repo', snapshot },
        addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore' }] },
        ...(restoreNamespace !== undefined ? { manifestOptions: { workload: { restoreNamespace } } } : {}),
      },
    });
    const result = await runKubedumpRestore({ ...base(), restoreSession: name, component: 'manifest', params, ...extra });
    const status = (await client.get<RestoreSession>({ ...RESTORE_SESSION_TYPE, namespace: NS, name })).status;
    return { result, status, listed: (status?.manifestRestore?.resources ?? []) as Listed[] };
  };
  const get = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => client.find<KubeObject>({ apiVersion, kind, namespace, name });
  const configMap = (name: string, owners: Array<Record<string, unknown>> = []): string =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: HAND, ...(owners.length > 0 ? { ownerReferences: owners } : {}) }, data: { k: name } });

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: HAND } });
  const liveOwner = await client.create<KubeObject>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'live-owner', namespace: HAND }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } } });
  await snapshotOf('edges', {
    'persistentvolumes/cluster/pv-without-kind.yaml': 'apiVersion: v1\nmetadata:\n  name: pv-without-kind\nspec:\n  claimRef:\n    namespace: hand\n    name: x\n',
    'configmaps/namespaces/hand/broken.yaml': 'data: [unclosed\n  : :\n',
    'configmaps/namespaces/hand/a-list.yaml': '- one\n- two\n',
    'configmaps/namespaces/hand/no-api-version.yaml': 'kind: ConfigMap\nmetadata:\n  name: no-api-version\n',
    'configmaps/namespaces/hand/cycle-a.yaml': configMap('cycle-a', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cycle-b', uid: 'old-b' }]),
    'configmaps/namespaces/hand/cycle-b.yaml': configMap('cycle-b', [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cycle-a', uid: 'old-a' }]),
    'configmaps/namespaces/hand/owned-by-live.yaml': configMap('owned-by-live', [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'live-owner', uid: 'old-live' }]),
    'configmaps/namespaces/hand/owned-by-unserved.yaml': configMap('owned-by-unserved', [{ apiVersion: 'nope.example.com/v1', kind: 'Thing', name: 'x', uid: 'old-x' }]),
    'services/cluster/filed-as-cluster.yaml': JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'filed-as-cluster' }, spec: { ports: [{ port: 80 }] } }),
    'things.nope.example.com/namespaces/hand/t1.yaml': JSON.stringify({ apiVersion: 'nope.example.com/v1', kind: 'Thing', metadata: { name: 't1', namespace: HAND } }),
    'things.nope.example.com/namespaces/hand/t2.yaml': JSON.stringify({ apiVersion: 'nope.example.com/v1', kind: 'Thing', metadata: { name: 't2', namespace: HAND } }),
    'README.md': 'not part of the layout',
  });

  t.test('unreadable files, cycles, live owners, misfiled and unserved objects: each object on its own', async (t) => {
    const { result, status, listed } = await restore('edges', { IncludeClusterResources: 'true', RestorePVs: 'true' }, undefined, { servedWaitMs: 200, servedPollMs: 20 });
    t.notOk(result.ok);
    t.match(result.message, /^7 of 11 objects failed to restore .*; first: persistentvolumes pv-without-kind: the dumped file is not a YAML object with apiVersion and kind$/, 'the first failure, a cluster-scoped one, by name alone');
    t.match(status?.manifestRestore, { total: 11, created: 4, failed: 7, excluded: 1 });
    const failed = Object.fromEntries(listed.filter((r) => r.result === 'Failed').map((r) => [r.name, r.reason]));
    t.match(failed, {
      'pv-without-kind': /not a YAML object with apiVersion and kind/,
      broken: /not a YAML object/,
      'a-list': /not a YAML object/,
      'no-api-version': /not a YAML object/,
      'filed-as-cluster': /Service is namespaced: set metadata.namespace/,
      t1: /nope.example.com\/v1 Thing is not served/,
      t2: /nope.example.com\/v1 Thing is not served/,
    });
    const a = await get('v1', 'ConfigMap', HAND, 'cycle-a');
    const b = await get('v1', 'ConfigMap', HAND, 'cycle-b');
    t.ok(a && b, 'both objects of an ownership cycle are restored');
    const refs = [a?.metadata?.ownerReferences, b?.metadata?.ownerReferences];
    t.equal(refs.filter((r) => r === undefined).length, 1, 'the one restored first loses its reference to the other (not there yet)');
    t.ok(refs.some((r) => (r as Array<{ uid?: string }> | undefined)?.[0]?.uid === (refs[0] === undefined ? a : b)?.metadata?.uid), 'the other points at it');
    t.match((await get('v1', 'ConfigMap', HAND, 'owned-by-live'))?.metadata?.ownerReferences, [{ name: 'live-owner', uid: liveOwner.metadata?.uid }], 'an owner outside the dump that exists is linked');
    t.equal((await get('v1', 'ConfigMap', HAND, 'owned-by-unserved'))?.metadata?.ownerReferences, undefined, 'an owner of a kind not served is dropped');
  });

  t.test('a namespace being deleted fails its objects with the reason', async (t) => {
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'leaving', finalizers: ['example.com/hold'] } });
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'leaving' });
    const { result, status, listed } = await restore('edges', { IncludeResources: 'configmaps' }, 'leaving');
    t.notOk(result.ok);
    t.equal(status?.manifestRestore?.created, 0);
    t.ok(listed.filter((r) => r.namespace === 'leaving' && r.result === 'Failed').some((r) => r.reason === 'namespace leaving is being deleted; restore once it is gone'), JSON.stringify(listed));
  });

  t.test('an account that may not create namespaces restores into one that exists', async (t) => {
    // As a real API server answers a Role-only account: authorization first, so 403 even when the namespace exists.
    const scoped = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'create') return Reflect.get(target, property, receiver) as unknown;
        return async (object: KubeObject, ...rest: unknown[]) => {
          if (object.kind === 'Namespace') throw new KubeApiError(403, 'Forbidden', `namespaces is forbidden: User "system:serviceaccount:${NS}:restorer" cannot create resource "namespaces" in API group "" at the cluster scope`);
          return (target.create as (...args: unknown[]) => Promise<unknown>)(object, ...rest);
        };
      },
    });
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scoped' } });
    const into = await restore('edges', { IncludeResources: 'configmaps' }, 'scoped', { client: scoped });
    t.match(into.status?.manifestRestore, { created: 4, failed: 3 }, 'the readable ConfigMaps are created, only the unreadable files fail');
    t.ok(await get('v1', 'ConfigMap', 'scoped', 'cycle-a'));
    const missing = await restore('edges', { IncludeResources: 'configmaps' }, 'not-there', { client: scoped });
    t.match(missing.status?.manifestRestore, { created: 0, failed: 7 });
    t.ok(missing.listed.some((r) => r.name === 'cycle-a' && /cannot create resource "namespaces"/.test(r.reason ?? '')), 'a namespace that does not exist: the refusal is the reason');
  });

  t.test('memory holds one dumped object at a time, not the whole dump', async (t) => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const count = 20;
    const payload = 1024 * 1024;
    const files: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      // A kind never served: each object fails at once and never reaches the API server's store, so the heap
      // measured below is the restore's own.
      files[`blobs.nope.example.com/namespaces/${HAND}/b${i}.yaml`] = JSON.stringify({ apiVersion: 'nope.example.com/v1', kind: 'Blob', metadata: { name: `b${i}`, namespace: HAND }, data: `${i}`.padEnd(payload, 'x') });
    }
    await snapshotOf('big', files);
    let peak = 0;
    const measured = new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'resource') return Reflect.get(target, property, receiver) as unknown;
        return (...args: unknown[]) => {
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed);
          return (target.resource as (...a: unknown[]) => Promise<unknown>)(...args);
        };
      },
    });
    gc();
    const before = process.memoryUsage().heapUsed;
    const { status } = await restore('big', {}, undefined, { client: measured, servedWaitMs: 0 });
    t.match(status?.manifestRestore, { failed: count });
    const grown = peak - before;
    t.ok(grown < (count * payload) / 2, `heap grew by ${Math.round(grown / 1048576)} MiB while applying ${count} objects of ${payload / 1048576} MiB`);
  });

  t.test('a component without restic data restores nothing and succeeds', async (t) => {
    await client.create<Snapshot>({ ...SNAPSHOT_TYPE, metadata: { name: 'empty', namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: 'repo' } }, spec: { repository: 'repo', session: 'empty' } });
    await client.patch(
      { ...SNAPSHOT_TYPE, namespace: NS, name: 'empty' },
      { type: 'merge', patch: { status: { phase: 'Succeeded', components: { manifest: { phase: 'Succeeded', path: 'repository/v1/edges/manifest', resticStats: [{ summary: { hostPath: '/kubestash-tmp/manifest' } }] } } } } },
      { subresource: 'status' },
    );
    const { result, status } = await restore('empty');
    t.ok(result.ok, result.message);
    t.match(status?.manifestRestore, { total: 0, created: 0, excluded: 0 });
    t.match(result.summary, { total: 0 });
  });
});

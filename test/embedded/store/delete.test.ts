import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import type { WatchEvent } from '../../../src/embedded/api-types.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const namespaces = { group: '', version: 'v1', resource: 'namespaces' };
const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };
const replicasets = { group: 'apps', version: 'v1', resource: 'replicasets' };

const settle = () => new Promise((resolve) => setImmediate(resolve));

t.test('finalizers keep a deleted object until an update empties them', async (t) => {
  const api = createEmbeddedApi({ now: () => new Date('2024-05-01T00:00:00Z') });
  t.teardown(() => api.close());
  const events: WatchEvent[] = [];
  api.watch(configmaps, { namespace: 'default' }, (event) => events.push(event));
  await api.create(configmaps, 'default', { metadata: { name: 'held', finalizers: ['example.com/cleanup'] } });
  const deleting = await api.delete(configmaps, 'default', 'held');
  t.equal(deleting.metadata?.deletionTimestamp, '2024-05-01T00:00:00Z');
  t.equal(deleting.metadata?.deletionGracePeriodSeconds, 0);
  t.ok(await api.get(configmaps, 'default', 'held'), 'still there');
  const again = await api.delete(configmaps, 'default', 'held');
  t.equal(again.metadata?.resourceVersion, deleting.metadata?.resourceVersion, 'a second delete changes nothing');
  await t.rejects(
    api.update(configmaps, 'default', { ...deleting, metadata: { ...deleting.metadata, finalizers: ['example.com/cleanup', 'new'] } }),
    { code: 422, reason: 'Invalid', message: /no new finalizers can be added if the object is being deleted/ },
  );
  const gone = await api.update(configmaps, 'default', { ...deleting, metadata: { ...deleting.metadata, finalizers: [] } });
  t.equal(gone.metadata?.deletionTimestamp, '2024-05-01T00:00:00Z');
  await t.rejects(api.get(configmaps, 'default', 'held'), { code: 404 });
  await settle();
  t.same(events.map((event) => event.type), ['ADDED', 'MODIFIED', 'DELETED']);
});

t.test('preconditions: uid and resourceVersion must match', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(configmaps, 'default', { metadata: { name: 'x' } });
  await t.rejects(api.delete(configmaps, 'default', 'x', { preconditions: { uid: 'other' } }), { code: 409, reason: 'Conflict', message: /Precondition failed: UID/ });
  await t.rejects(api.delete(configmaps, 'default', 'x', { preconditions: { resourceVersion: '1' } }), { code: 409, reason: 'Conflict', message: /Precondition failed: ResourceVersion/ });
  const deleted = await api.delete(configmaps, 'default', 'x', { preconditions: { uid: created.metadata?.uid ?? '', resourceVersion: created.metadata?.resourceVersion ?? '' } });
  t.equal(deleted.metadata?.uid, created.metadata?.uid);
});

t.test('propagation: Orphan strips ownerReferences; Foreground adds foregroundDeletion; Background just removes', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const owner = async (name: string) => api.create(deployments, 'default', { metadata: { name }, spec: { template: {} } });
  const dependent = async (name: string, owners: KubeObject[]) =>
    api.create(replicasets, 'default', {
      metadata: { name, ownerReferences: owners.map((item) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: item.metadata?.name, uid: item.metadata?.uid })) },
      spec: { template: {} },
    });
  const orphaned = await owner('orphaned');
  const keeper = await owner('keeper');
  await dependent('only-child', [orphaned]);
  await dependent('shared-child', [orphaned, keeper]);
  await api.delete(deployments, 'default', 'orphaned', { propagationPolicy: 'Orphan' });
  t.equal((await api.get(replicasets, 'default', 'only-child')).metadata?.ownerReferences, undefined);
  t.same((await api.get(replicasets, 'default', 'shared-child')).metadata?.ownerReferences?.map((reference) => reference.name), ['keeper']);

  const foreground = await owner('foreground');
  await dependent('fg-child', [foreground]);
  const deleting = await api.delete(deployments, 'default', 'foreground', { propagationPolicy: 'Foreground' });
  t.same(deleting.metadata?.finalizers, ['foregroundDeletion']);
  t.ok(deleting.metadata?.deletionTimestamp);
  t.equal(deleting.metadata?.generation, 2, 'setting deletionTimestamp bumps generation');
  t.ok(await api.get(replicasets, 'default', 'fg-child'), 'dependents are left for the GC controller');

  await api.delete(deployments, 'default', 'keeper', { propagationPolicy: 'Background' });
  await t.rejects(api.get(deployments, 'default', 'keeper'), { code: 404 });
  t.ok(await api.get(replicasets, 'default', 'shared-child'), 'Background leaves dependents to the GC controller');
});

t.test('deleting a namespace makes it Terminating until spec.finalizers are emptied', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(namespaces, undefined, { metadata: { name: 'team' } });
  t.same(created.spec, { finalizers: ['kubernetes'] });
  t.equal(created.metadata?.labels?.['kubernetes.io/metadata.name'], 'team');
  await api.create(configmaps, 'team', { metadata: { name: 'inside' } });
  const terminating = await api.delete(namespaces, undefined, 'team');
  t.match(terminating, { status: { phase: 'Terminating' }, spec: { finalizers: ['kubernetes'] } });
  t.ok(terminating.metadata?.deletionTimestamp);
  await t.rejects(api.create(configmaps, 'team', { metadata: { name: 'new' } }), { code: 403, reason: 'Forbidden' });
  const contentsDeleted = await api.deleteCollection(configmaps, { namespace: 'team' });
  t.same(contentsDeleted.items.map((item) => item.metadata?.name), ['inside']);
  await api.update(namespaces, undefined, { ...terminating, spec: { finalizers: [] } });
  await t.rejects(api.get(namespaces, undefined, 'team'), { code: 404 });
});

t.test('deleteCollection honours selectors and is not served for namespaces', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  for (const [name, app] of [['a', 'x'], ['b', 'x'], ['c', 'y']] as const) await api.create(configmaps, 'default', { metadata: { name, labels: { app } } });
  const deleted = await api.deleteCollection(configmaps, { namespace: 'default', labelSelector: 'app=x' });
  t.same(deleted.items.map((item) => item.metadata?.name), ['a', 'b']);
  t.same((await api.list(configmaps, { namespace: 'default' })).items.map((item) => item.metadata?.name), ['c']);
  await t.rejects(api.deleteCollection(namespaces), { code: 405, reason: 'MethodNotAllowed' });
});

t.test('dryRun writes run everything and store nothing', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const events: WatchEvent[] = [];
  api.watch(configmaps, {}, (event) => events.push(event));
  const before = api.currentResourceVersion();
  const dry = await api.create(configmaps, 'default', { metadata: { generateName: 'dry-' } }, { dryRun: true });
  t.match(dry.metadata?.name, /^dry-/);
  await t.rejects(api.get(configmaps, 'default', dry.metadata?.name ?? ''), { code: 404 });
  await t.rejects(api.create(configmaps, 'default', { metadata: { name: 'Bad' } }, { dryRun: true }), { code: 422 }, 'dry runs validate');
  await api.create(configmaps, 'default', { metadata: { name: 'real', finalizers: ['f'] }, data: { a: '1' } });
  const afterCreate = api.currentResourceVersion();
  const dryUpdate = await api.patch(configmaps, 'default', 'real', 'merge', { data: { a: '2' } }, { dryRun: true });
  t.same(dryUpdate.data, { a: '2' });
  const dryDelete = await api.delete(configmaps, 'default', 'real', { dryRun: true });
  t.ok(dryDelete.metadata?.deletionTimestamp);
  const stored = await api.get(configmaps, 'default', 'real');
  t.same(stored.data, { a: '1' });
  t.equal(stored.metadata?.deletionTimestamp, undefined);
  await api.patch(configmaps, 'default', 'real', 'merge', { metadata: { finalizers: null } });
  await api.delete(configmaps, 'default', 'real', { dryRun: true });
  t.ok(await api.get(configmaps, 'default', 'real'), 'a dry-run delete without finalizers keeps the object');
  t.ok(Number(afterCreate) > Number(before));
  await settle();
  t.same(events.map((event) => `${event.type} ${event.object.metadata?.name}`), ['ADDED real', 'MODIFIED real']);
});

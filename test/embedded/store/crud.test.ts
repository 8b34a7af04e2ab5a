import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { ApiError } from '../../../src/embedded/api-types.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const namespaces = { group: '', version: 'v1', resource: 'namespaces' };
const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

t.test('create fills the server-owned metadata and get returns it', async (t) => {
  const api = createEmbeddedApi({ now: () => new Date('2024-05-01T10:00:00.123Z') });
  t.teardown(() => api.close());
  const created = await api.create(configmaps, 'default', { metadata: { name: 'settings' }, data: { a: '1' } });
  t.equal(created.apiVersion, 'v1');
  t.equal(created.kind, 'ConfigMap');
  t.match(created.metadata?.uid, /^[0-9a-f-]{36}$/);
  t.equal(created.metadata?.creationTimestamp, '2024-05-01T10:00:00Z');
  t.equal(created.metadata?.generation, 1);
  t.equal(created.metadata?.namespace, 'default');
  t.ok(Number(created.metadata?.resourceVersion) > 0);
  t.same(await api.get(configmaps, 'default', 'settings'), created);
});

t.test('the namespaces kube-apiserver always has exist, Active', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const list = await api.list(namespaces);
  t.same(list.items.map((item) => item.metadata?.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  t.same(list.items.map((item) => (item.status as { phase: string }).phase), ['Active', 'Active', 'Active', 'Active']);
});

t.test('generateName gets a five-character suffix', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(configmaps, 'default', { metadata: { generateName: 'job-' } });
  t.match(created.metadata?.name, /^job-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});

t.test('resourceVersions increase across kinds; list carries the current one', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const first = await api.create(configmaps, 'default', { metadata: { name: 'a' } });
  const second = await api.create(deployments, 'default', { metadata: { name: 'web' }, spec: { template: {} } });
  t.ok(Number(second.metadata?.resourceVersion) > Number(first.metadata?.resourceVersion));
  const list = await api.list(configmaps, { namespace: 'default' });
  t.equal(list.resourceVersion, second.metadata?.resourceVersion);
  t.equal(api.currentResourceVersion(), second.metadata?.resourceVersion);
});

t.test('errors carry the reason and code kube-apiserver uses', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  await api.create(configmaps, 'default', { metadata: { name: 'taken' } });
  await api.create(namespaces, undefined, { metadata: { name: 'going' } });
  await api.delete(namespaces, undefined, 'going');
  const rows: Array<{ name: string; call: () => Promise<unknown>; code: number; reason: string; message: RegExp }> = [
    { name: 'get of a missing object', call: () => api.get(configmaps, 'default', 'missing'), code: 404, reason: 'NotFound', message: /^configmaps "missing" not found$/ },
    { name: 'group-qualified not found', call: () => api.get(deployments, 'default', 'missing'), code: 404, reason: 'NotFound', message: /^deployments\.apps "missing" not found$/ },
    { name: 'unknown resource', call: () => api.list({ group: 'x.io', version: 'v1', resource: 'things' }), code: 404, reason: 'NotFound', message: /could not find the requested resource/ },
    { name: 'create of an existing name', call: () => api.create(configmaps, 'default', { metadata: { name: 'taken' } }), code: 409, reason: 'AlreadyExists', message: /configmaps "taken" already exists/ },
    { name: 'create in a missing namespace', call: () => api.create(configmaps, 'nowhere', { metadata: { name: 'a' } }), code: 404, reason: 'NotFound', message: /^namespaces "nowhere" not found$/ },
    { name: 'create in a terminating namespace', call: () => api.create(configmaps, 'going', { metadata: { name: 'a' } }), code: 403, reason: 'Forbidden', message: /because it is being terminated/ },
    { name: 'invalid name', call: () => api.create(configmaps, 'default', { metadata: { name: 'Bad_Name' } }), code: 422, reason: 'Invalid', message: /ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value/ },
    { name: 'no name nor generateName', call: () => api.create(configmaps, 'default', { metadata: {} }), code: 422, reason: 'Invalid', message: /name or generateName is required/ },
    { name: 'namespace label name too long', call: () => api.create(namespaces, undefined, { metadata: { name: 'a.b' } }), code: 422, reason: 'Invalid', message: /RFC 1123 label/ },
    { name: 'body namespace differs from the URL', call: () => api.create(configmaps, 'default', { metadata: { name: 'a', namespace: 'other' } }), code: 400, reason: 'BadRequest', message: /does not match the namespace sent on the request/ },
    { name: 'body kind differs from the resource', call: () => api.create(configmaps, 'default', { kind: 'Secret', metadata: { name: 'a' } }), code: 400, reason: 'BadRequest', message: /does not match the expected kind ConfigMap/ },
    { name: 'update of a missing object', call: () => api.update(configmaps, 'default', { metadata: { name: 'missing' } }), code: 404, reason: 'NotFound', message: /not found/ },
    { name: 'delete of a missing object', call: () => api.delete(configmaps, 'default', 'missing'), code: 404, reason: 'NotFound', message: /not found/ },
  ];
  for (const row of rows) {
    const error = await failure(row.call());
    t.equal(error.code, row.code, `${row.name}: code`);
    t.equal(error.reason, row.reason, `${row.name}: reason`);
    t.match(error.message, row.message, `${row.name}: message`);
    t.equal(error.toStatus().code, row.code, `${row.name}: Status body`);
  }
});

t.test('update: optimistic concurrency, unconditional without resourceVersion, generation on spec change only', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(deployments, 'default', { metadata: { name: 'web' }, spec: { replicas: 1, template: {} } });
  const labelled = await api.update(deployments, 'default', { ...created, metadata: { ...created.metadata, labels: { a: 'b' } } });
  t.equal(labelled.metadata?.generation, 1, 'metadata change keeps generation');
  const scaled = await api.update(deployments, 'default', { ...labelled, spec: { replicas: 3, template: {} } });
  t.equal(scaled.metadata?.generation, 2, 'spec change bumps generation');
  const stale = await failure(api.update(deployments, 'default', { ...created, spec: { replicas: 5 } }));
  t.equal(stale.code, 409);
  t.equal(stale.reason, 'Conflict');
  t.match(stale.message, /the object has been modified; please apply your changes to the latest version and try again/);
  const { resourceVersion: _rv, ...metaWithoutVersion } = scaled.metadata ?? {};
  const unconditional = await api.update(deployments, 'default', { ...scaled, metadata: metaWithoutVersion, spec: { replicas: 4, template: {} } });
  t.equal((unconditional.spec as { replicas: number }).replicas, 4);
  t.equal(unconditional.metadata?.uid, created.metadata?.uid);
  t.equal(unconditional.metadata?.creationTimestamp, created.metadata?.creationTimestamp);
  const noop = await api.update(deployments, 'default', unconditional);
  t.equal(noop.metadata?.resourceVersion, unconditional.metadata?.resourceVersion, 'a no-op update keeps the resourceVersion');
  const wrongUid = await failure(api.update(deployments, 'default', { ...unconditional, metadata: { ...unconditional.metadata, uid: 'other' } }));
  t.equal(wrongUid.code, 409);
  t.match(wrongUid.message, /Precondition failed: UID in precondition/);
});

t.test('the status subresource: update ignores status, updateStatus keeps only status', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(deployments, 'default', { metadata: { name: 'web' }, spec: { replicas: 1, template: {} }, status: { replicas: 9 } });
  t.equal(created.status, undefined, 'status sent on create is dropped');
  const withStatus = await api.updateStatus(deployments, 'default', { ...created, spec: { replicas: 7, template: {} }, metadata: { ...created.metadata, labels: { x: 'y' } }, status: { replicas: 1 } });
  t.same(withStatus.status, { replicas: 1 });
  t.equal((withStatus.spec as { replicas: number }).replicas, 1, 'spec change through /status is ignored');
  t.equal(withStatus.metadata?.labels, undefined, 'label change through /status is ignored');
  t.equal(withStatus.metadata?.generation, 1, 'status writes do not bump generation');
  const specUpdate = await api.update(deployments, 'default', { ...withStatus, spec: { replicas: 2, template: {} }, status: { replicas: 100 } });
  t.same(specUpdate.status, { replicas: 1 }, 'status change through update is ignored');
  const noStatus = await failure(api.updateStatus(configmaps, 'default', { metadata: { name: 'x' } }));
  t.equal(noStatus.code, 404, 'kinds without the subresource have no /status');
});

t.test('kinds without a status subresource keep status from the body', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created: KubeObject = await api.create({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases' }, 'default', { metadata: { name: 'l' }, spec: { holderIdentity: 'me' } });
  t.equal((created.spec as { holderIdentity: string }).holderIdentity, 'me');
});

t.test('update preconditions and body checks: uid mismatch conflicts, a missing name is 422, a non-object is 400, a missing object is 404', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(configmaps, 'default', { metadata: { name: 'pre' }, data: { a: '1' } });
  const { resourceVersion: _rv, ...metaWithoutVersion } = created.metadata ?? {};
  const wrongUid = await failure(api.update(configmaps, 'default', { ...created, metadata: { ...metaWithoutVersion, uid: '00000000-0000-0000-0000-000000000000' }, data: { a: '2' } }));
  t.equal(wrongUid.code, 409);
  t.match(wrongUid.message, /Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: /);
  t.same((await api.get(configmaps, 'default', 'pre')).data, { a: '1' }, 'nothing was written');

  const nameless = await failure(api.update(configmaps, 'default', { metadata: {}, data: { a: '3' } }));
  t.equal(nameless.code, 422);
  t.match(nameless.message, /metadata\.name/);

  const notAnObject = await failure(api.update(configmaps, 'default', 'text' as unknown as KubeObject));
  t.equal(notAnObject.code, 400);

  const missing = await failure(api.update(configmaps, 'default', { metadata: { name: 'absent' }, data: {} }));
  t.equal(missing.code, 404);
  const missingPatch = await failure(api.patch(configmaps, 'default', 'absent', 'merge', { data: { a: '1' } }));
  t.equal(missingPatch.code, 404, 'a merge patch does not create');
  const missingStatus = await failure(api.updateStatus(configmaps, 'default', { ...created }));
  t.equal(missingStatus.code, 404, 'configmaps have no status subresource');
});

t.test('namespaced writes need a namespace; apply needs an object body and does not create through status', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  for (const [verb, attempt] of [
    ['patch', () => api.patch(configmaps, undefined, 'x', 'merge', { data: {} })],
    ['delete', () => api.delete(configmaps, undefined, 'x')],
  ] as const) {
    const error = await failure(attempt());
    t.equal(error.code, 400, `${verb} without a namespace`);
    t.match(error.message, /a namespace is required for configmaps/);
  }
  const notAnObject = await failure(api.patch(configmaps, 'default', 'x', 'apply', [1, 2], { fieldManager: 'test' }));
  t.equal(notAnObject.code, 400);
  t.match(notAnObject.message, /the apply body must be an object/);
  const statusApply = await failure(api.patch(deployments, 'default', 'absent', 'apply', { apiVersion: 'apps/v1', kind: 'Deployment', status: { replicas: 1 } }, { fieldManager: 'test', subresource: 'status' }));
  t.equal(statusApply.code, 404, 'applying status to a missing object does not create it');
  await t.rejects(api.get(deployments, 'default', 'absent'), { code: 404 });
});

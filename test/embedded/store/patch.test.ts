import t from 'tap';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../../src/embedded/store/patches.js';

const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };
const configmaps = { group: '', version: 'v1', resource: 'configmaps' };

const pod = {
  metadata: { name: 'p' },
  spec: {
    containers: [
      { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      { name: 'sidecar', image: 'side:1' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    ports: [{ containerPort: 80 }],
    tolerations: [{ key: 'a' }],
  },
};

t.test('merge patch (RFC 7386): objects merge, null deletes, lists replace', async (t) => {
  t.same(applyMergePatch({ spec: { a: 1 } }, { spec: { x: 1 } }), { spec: { a: 1, x: 1 } }, 'adds a field');
  t.same((applyMergePatch(pod, { spec: { volumes: null } }).spec as Record<string, unknown>).volumes, undefined);
  t.same((applyMergePatch(pod, { spec: { containers: [{ name: 'only' }] } }).spec as { containers: unknown[] }).containers, [{ name: 'only' }]);
  t.same(applyMergePatch({ metadata: { annotations: { old: 'x' }, name: 'n' } }, { metadata: { annotations: null, labels: { a: 'b' } } }).metadata, { name: 'n', labels: { a: 'b' } });
  t.same(applyMergePatch({ spec: 'scalar' }, { spec: { a: 1 } }).spec, { a: 1 }, 'an object patch replaces a scalar');
  t.throws(() => applyMergePatch(pod, [1]), { code: 400 });
});

t.test('strategic merge patch: keyed lists merge, directives honoured', async (t) => {
  const spec = (patch: unknown) => applyStrategicMergePatch(pod, patch).spec as typeof pod.spec & Record<string, unknown>;
  const merged = spec({ spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] }] } });
  t.same(merged.containers.map((container) => `${container.name}=${container.image}`), ['app=app:2', 'sidecar=side:1'], 'containers merge by name');
  t.same(merged.containers[0]?.env, [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }], 'env merges by name');
  t.same(spec({ spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } }).containers.map((container) => container.name), ['app'], '$patch: delete removes the element');
  t.same(spec({ spec: { containers: [{ name: 'app', $patch: 'replace', image: 'new' }] } }).containers[0], { name: 'app', image: 'new' }, '$patch: replace replaces the element');
  t.same(spec({ spec: { $patch: 'replace', containers: [] } }), { containers: [] }, '$patch: replace on a map replaces it');
  t.same(spec({ spec: { volumes: [{ name: 'extra', emptyDir: {} }] } }).volumes.map((volume) => volume.name), ['data', 'extra'], 'volumes merge by name');
  t.same(spec({ spec: { containers: [{ name: 'app', volumeMounts: [{ mountPath: '/data', readOnly: true }] }] } }).containers[0]?.volumeMounts, [{ name: 'data', mountPath: '/data', readOnly: true }], 'volumeMounts merge by mountPath');
  t.same(spec({ spec: { ports: [{ containerPort: 80, name: 'http' }] } }).ports, [{ containerPort: 80, name: 'http' }], 'ports merge by containerPort');
  t.same(spec({ spec: { tolerations: [{ key: 'b' }] } }).tolerations, [{ key: 'b' }], 'unkeyed lists replace');
  t.equal(spec({ spec: { volumes: null } }).volumes, undefined, 'null deletes');
  t.same(spec({ spec: { $setElementOrder: 1, '$setElementOrder/containers': [{ name: 'app' }], $retainKeys: ['x'] } }).containers.length, 2, 'ordering directives are ignored');
  t.same(applyStrategicMergePatch({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }).metadata, { finalizers: ['b'] });
  t.same(applyStrategicMergePatch({ spec: {} }, { spec: { containers: [{ name: 'x', $patch: 'delete' }, { name: 'y' }] } }).spec, { containers: [{ name: 'y' }] }, 'directives are stripped from new lists');
  t.same(applyStrategicMergePatch({ spec: { a: { b: 1 } } }, { spec: { a: { $patch: 'delete' } } }).spec, {}, '$patch: delete on a map removes it');
  t.throws(() => applyStrategicMergePatch(pod, 'x'), { code: 400 });
});

t.test('JSON patch (RFC 6902): applies, 422 on a failed operation, 400 when malformed', async (t) => {
  t.same(applyJsonPatch(pod, [{ op: 'replace', path: '/spec/containers/0/image', value: 'x' }]).spec, { ...pod.spec, containers: [{ ...pod.spec.containers[0], image: 'x' }, pod.spec.containers[1]] });
  t.throws(() => applyJsonPatch(pod, [{ op: 'test', path: '/metadata/name', value: 'other' }]), { code: 422, reason: 'Invalid' });
  t.throws(() => applyJsonPatch(pod, [{ op: 'remove', path: '/spec/missing' }]), { code: 422 });
  t.throws(() => applyJsonPatch(pod, [{ op: 'bogus', path: '/x' }]), { code: 400, reason: 'BadRequest' });
  t.throws(() => applyJsonPatch(pod, { op: 'add' }), { code: 400 });
});

t.test('patches go through the update path: generation, conflicts on a stale resourceVersion', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(deployments, 'default', { metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'app', image: 'a:1' }] } } } });
  const strategic = await api.patch(deployments, 'default', 'web', 'strategic-merge', { spec: { template: { spec: { containers: [{ name: 'app', image: 'a:2' }] } } } });
  t.equal(strategic.metadata?.generation, 2);
  const json = await api.patch(deployments, 'default', 'web', 'json', JSON.stringify([{ op: 'add', path: '/metadata/labels', value: { a: 'b' } }]));
  t.same(json.metadata?.labels, { a: 'b' });
  t.equal(json.metadata?.generation, 2, 'metadata patches keep generation');
  await t.rejects(api.patch(deployments, 'default', 'web', 'merge', { metadata: { resourceVersion: created.metadata?.resourceVersion }, spec: { replicas: 2 } }), { code: 409, reason: 'Conflict' });
  const conditional = await api.patch(deployments, 'default', 'web', 'merge', { metadata: { resourceVersion: json.metadata?.resourceVersion }, spec: { replicas: 2 } });
  t.equal((conditional.spec as { replicas: number }).replicas, 2);
  const status = await api.patch(deployments, 'default', 'web', 'merge', { status: { readyReplicas: 2 }, spec: { replicas: 9 } }, { subresource: 'status' });
  t.same(status.status, { readyReplicas: 2 });
  t.equal((status.spec as { replicas: number }).replicas, 2, 'a status patch ignores spec');
  await t.rejects(api.patch(deployments, 'default', 'missing', 'merge', {}), { code: 404 });
  await t.rejects(api.patch(deployments, 'default', 'web', 'merge', '{not json'), { code: 400 });
  await t.rejects(api.patch(deployments, 'default', 'web', 'merge', { metadata: { name: 'renamed' } }), { code: 400 });
  await t.rejects(api.patch(configmaps, 'default', 'x', 'merge', {}, { subresource: 'status' }), { code: 404 });
});

t.test('server-side apply: creates when absent, merges onto the object, records the manager', async (t) => {
  const api = createEmbeddedApi({ now: () => new Date('2024-01-02T03:04:05Z') });
  t.teardown(() => api.close());
  const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n  labels: {a: "1"}\ndata:\n  key: one\n';
  const created = await api.patch(configmaps, 'default', 'applied', 'apply', manifest, { fieldManager: 'kubectl', force: true });
  t.same(created.data, { key: 'one' });
  t.same(created.metadata?.managedFields, [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2024-01-02T03:04:05Z', fieldsType: 'FieldsV1', fieldsV1: {} }]);
  const again = await api.patch(configmaps, 'default', 'applied', 'apply', manifest, { fieldManager: 'kubectl' });
  t.equal(again.metadata?.resourceVersion, created.metadata?.resourceVersion, 'applying the same manifest is a no-op');
  const updated = await api.patch(configmaps, 'default', 'applied', 'apply', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { other: 'two' } }, { fieldManager: 'controller' });
  t.same(updated.data, { key: 'one', other: 'two' }, 'fields of other appliers stay (ownership is not modelled)');
  t.same((updated.metadata?.managedFields as Array<{ manager: string }>).map((entry) => entry.manager), ['kubectl', 'controller']);
  await t.rejects(api.patch(configmaps, 'default', 'applied', 'apply', manifest, {}), { code: 400, message: /fieldManager/ });
  await t.rejects(api.patch(configmaps, 'default', 'applied', 'apply', { metadata: { name: 'applied' } }, { fieldManager: 'x' }), { code: 400, message: /apiVersion and kind/ });
  await t.rejects(api.patch(configmaps, 'default', 'other', 'apply', manifest, { fieldManager: 'x' }), { code: 400, message: /does not match the name/ });
  await t.rejects(api.patch(configmaps, 'default', 'applied', 'apply', 'a: [', { fieldManager: 'x' }), { code: 400 });
  const deployment = await api.patch(deployments, 'default', 'web', 'apply', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: {} } }, { fieldManager: 'kubectl' });
  t.equal(deployment.metadata?.generation, 1);
  t.equal((deployment.spec as { replicas: number }).replicas, 1, 'defaults apply to applied objects');
  const updateManager = await api.patch(configmaps, 'default', 'applied', 'merge', { data: { third: '3' } }, { fieldManager: 'editor' });
  t.match(updateManager.metadata?.managedFields, [{ manager: 'kubectl' }, { manager: 'controller' }, { manager: 'editor', operation: 'Update' }]);
});

import t from 'tap';
import { BUILTIN_RESOURCES } from '../../../src/embedded/store/builtin-resources.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';
import { nameProblems } from '../../../src/embedded/store/object-names.js';

const secrets = { group: '', version: 'v1', resource: 'secrets' };
const configmaps = { group: '', version: 'v1', resource: 'configmaps' };

const b64 = (text: string) => Buffer.from(text).toString('base64');

t.test('secrets: stringData folds into base64 data, type defaults to Opaque, data must be base64', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const created = await api.create(secrets, 'default', { metadata: { name: 's' }, data: { kept: b64('x'), shared: b64('old') }, stringData: { shared: 'new', plain: 'päss' } });
  t.same(created.data, { kept: b64('x'), shared: b64('new'), plain: b64('päss') });
  t.equal(created.stringData, undefined);
  t.equal(created.type, 'Opaque');
  const updated = await api.patch(secrets, 'default', 's', 'merge', { stringData: { later: 'y' } });
  t.equal((updated.data as Record<string, string>).later, b64('y'), 'stringData folds on update too');
  const typed = await api.create(secrets, 'default', { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', stringData: 'ignored' });
  t.equal(typed.type, 'kubernetes.io/tls');
  t.equal(typed.stringData, undefined);
  await t.rejects(api.create(secrets, 'default', { metadata: { name: 'bad' }, data: { k: 'not base64!' } }), { code: 422, reason: 'Invalid', message: /data\[k\]: Invalid value: "<secret contents redacted>": illegal base64 data/ });
  await t.rejects(api.create(secrets, 'default', { metadata: { name: 'bad' }, data: { 'bad key': b64('x') } }), { code: 422, message: /valid config key/ });
  await t.rejects(api.create(configmaps, 'default', { metadata: { name: 'bad' }, data: { 'a/b': 'x' } }), { code: 422, message: /data\[a\/b\]/ });
});

t.test('built-in defaults and initial status', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const job = await api.create({ group: 'batch', version: 'v1', resource: 'jobs' }, 'default', { metadata: { name: 'j' }, spec: { template: {} } });
  t.match(job.spec, { completions: 1, parallelism: 1, backoffLimit: 6 });
  const parallel = await api.create({ group: 'batch', version: 'v1', resource: 'jobs' }, 'default', { metadata: { name: 'k' }, spec: { completions: 3, backoffLimit: 0, template: {} } });
  t.match(parallel.spec, { completions: 3, parallelism: 1, backoffLimit: 0 });
  for (const resource of ['pods', 'persistentvolumeclaims']) {
    const created = await api.create({ group: '', version: 'v1', resource }, 'default', { metadata: { name: 'x' }, spec: {}, status: { phase: 'Bound' } });
    t.same(created.status, { phase: 'Pending' }, `${resource} start Pending`);
  }
  const pv = await api.create({ group: '', version: 'v1', resource: 'persistentvolumes' }, undefined, { metadata: { name: 'pv', namespace: 'ignored' }, spec: {} });
  t.same(pv.status, { phase: 'Pending' });
  t.equal(pv.metadata?.namespace, undefined, 'cluster-scoped objects have no namespace');
  const node = await api.create({ group: '', version: 'v1', resource: 'nodes' }, undefined, { metadata: { name: 'n' }, status: { capacity: {} } });
  t.equal(node.status, undefined, 'status of other kinds with the subresource is dropped on create');
});

t.test('the built-in resource table', async (t) => {
  const rows: Array<[string, string, boolean, string[], boolean]> = [
    ['', 'namespaces', false, ['ns'], true],
    ['', 'configmaps', true, ['cm'], false],
    ['', 'serviceaccounts', true, ['sa'], false],
    ['', 'persistentvolumes', false, ['pv'], true],
    ['', 'persistentvolumeclaims', true, ['pvc'], true],
    ['', 'pods', true, ['po'], true],
    ['', 'nodes', false, ['no'], true],
    ['', 'services', true, ['svc'], true],
    ['', 'events', true, ['ev'], false],
    ['apps', 'deployments', true, ['deploy'], true],
    ['apps', 'statefulsets', true, ['sts'], true],
    ['apps', 'daemonsets', true, ['ds'], true],
    ['apps', 'replicasets', true, ['rs'], true],
    ['batch', 'jobs', true, [], true],
    ['batch', 'cronjobs', true, ['cj'], true],
    ['coordination.k8s.io', 'leases', true, [], false],
    ['apiextensions.k8s.io', 'customresourcedefinitions', false, ['crd', 'crds'], true],
    ['rbac.authorization.k8s.io', 'clusterroles', false, [], false],
    ['admissionregistration.k8s.io', 'validatingwebhookconfigurations', false, [], false],
  ];
  for (const [group, resource, namespaced, shortNames, status] of rows) {
    t.match(BUILTIN_RESOURCES.find((type) => type.group === group && type.resource === resource), { namespaced, shortNames, statusSubresource: status }, resource);
  }
  t.notOk(BUILTIN_RESOURCES.find((type) => type.resource === 'namespaces')?.verbs.includes('deletecollection'));
  t.ok(BUILTIN_RESOURCES.find((type) => type.resource === 'secrets')?.verbs.includes('deletecollection'));
});

t.test('name rules per resource', async (t) => {
  const rows: Array<[string, string, string, boolean]> = [
    ['', 'configmaps', 'a.b-c', true],
    ['', 'configmaps', 'Upper', false],
    ['', 'configmaps', 'x'.repeat(254), false],
    ['', 'namespaces', 'team-a', true],
    ['', 'namespaces', 'a.b', false],
    ['', 'services', 'x'.repeat(64), false],
    ['rbac.authorization.k8s.io', 'clusterroles', 'system:controller:x', true],
    ['rbac.authorization.k8s.io', 'roles', 'a/b', false],
    ['rbac.authorization.k8s.io', 'rolebindings', 'a%b', false],
    ['rbac.authorization.k8s.io', 'clusterrolebindings', '..', false],
  ];
  for (const [group, resource, name, valid] of rows) {
    t.equal(nameProblems(group, resource, name).length === 0, valid, `${resource} ${name.slice(0, 20)}`);
  }
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const long = await api.create(configmaps, 'default', { metadata: { generateName: `${'p'.repeat(70)}-` } });
  t.equal(long.metadata?.name?.length, 63, 'long generateName prefixes are cut');
});

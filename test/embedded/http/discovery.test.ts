import t from 'tap';
import type { ResourceType } from '../../../src/embedded/api-types.js';
import { apiGroup, apiGroupList, apiResourceList, compareKubeVersions, coreApiVersions, versionInfo } from '../../../src/embedded/http/discovery.js';

const type = (over: Partial<ResourceType>): ResourceType => ({
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  listKind: 'PodList',
  singular: 'pod',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ['get', 'list'],
  statusSubresource: false,
  ...over,
});

const types = [
  type({ shortNames: ['po'], categories: ['all'], statusSubresource: true }),
  type({ resource: 'namespaces', kind: 'Namespace', listKind: 'NamespaceList', singular: 'namespace', namespaced: false }),
  type({ group: 'apps', resource: 'deployments', kind: 'Deployment', listKind: 'DeploymentList', singular: 'deployment' }),
  type({ group: 'example.com', version: 'v1alpha1', resource: 'widgets', kind: 'Widget', listKind: 'WidgetList', singular: 'widget' }),
  type({ group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', listKind: 'WidgetList', singular: 'widget' }),
  type({ group: 'example.com', version: 'v1beta2', resource: 'widgets', kind: 'Widget', listKind: 'WidgetList', singular: 'widget' }),
];

t.test('version ordering as Kubernetes prefers', async (t) => {
  const sorted = ['v1alpha1', 'v2beta1', 'foo', 'v1', 'v1beta2', 'v2', 'v1beta1', 'bar', 'v1alpha2'].sort(compareKubeVersions);
  t.same(sorted, ['v2', 'v1', 'v2beta1', 'v1beta2', 'v1beta1', 'v1alpha2', 'v1alpha1', 'bar', 'foo']);
  t.equal(compareKubeVersions('v1', 'v1'), 0);
});

t.test('/version', async (t) => {
  const info = versionInfo();
  t.match(info, { major: '1', minor: '32', gitVersion: 'v1.32.0-autostash', platform: /^[a-z0-9]+\/[a-z0-9]+$/ });
});

t.test('/api lists core versions and the server address', async (t) => {
  t.same(coreApiVersions(types, '127.0.0.1:6443'), {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  });
});

t.test('/apis lists named groups with the preferred version first', async (t) => {
  const list = apiGroupList(types) as { groups: { name: string; versions: unknown[]; preferredVersion: unknown }[] };
  t.same(list.groups.map((g) => g.name), ['apps', 'example.com']);
  const example = list.groups[1];
  t.same(example?.preferredVersion, { groupVersion: 'example.com/v1', version: 'v1' });
  t.same(example?.versions, [
    { groupVersion: 'example.com/v1', version: 'v1' },
    { groupVersion: 'example.com/v1beta2', version: 'v1beta2' },
    { groupVersion: 'example.com/v1alpha1', version: 'v1alpha1' },
  ]);
  t.notOk('kind' in (example ?? {}), 'entries of APIGroupList carry no kind');
  t.match(apiGroup(types, 'apps'), { kind: 'APIGroup', apiVersion: 'v1', name: 'apps' });
  t.equal(apiGroup(types, 'missing.io'), undefined);
});

t.test('resource lists carry verbs, short names, categories and status subresources', async (t) => {
  const core = apiResourceList(types, '', 'v1') as { groupVersion: string; resources: Record<string, unknown>[] };
  t.equal(core.groupVersion, 'v1');
  t.same(core.resources[0], { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'], categories: ['all'] });
  t.same(core.resources[1], { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  t.same(core.resources[2], { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'] });
  t.match(apiResourceList(types, 'apps', 'v1'), { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'deployments' }] });
  t.equal(apiResourceList(types, 'apps', 'v2'), undefined);
});

import t from 'tap';
import {
  andLabelSelectorQuery,
  emptyKubedumpFilter,
  labelsSelected,
  namespaceSelected,
  namespacesToList,
  objectSelected,
  parseKubedumpFilter,
  resourceSelected,
  type KubedumpFilter,
} from '../../../src/domain/kubedump/filter.js';
import type { DumpResourceType } from '../../../src/domain/kubedump/layout.js';

const type = (group: string, resource: string, namespaced = true): DumpResourceType => ({ group, version: 'v1', resource, kind: 'K', namespaced });
const filterOf = (params: Record<string, string>): KubedumpFilter => {
  const parsed = parseKubedumpFilter(params);
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.filter;
};

t.test('parsing: defaults and every parameter', async (t) => {
  t.same(filterOf({}), emptyKubedumpFilter(), 'nothing given is the empty filter');
  t.same(
    filterOf({
      IncludeClusterResources: 'true',
      IncludeNamespaces: 'kubedb, db,',
      ExcludeNamespaces: 'kube-system,*',
      IncludeResources: '*',
      ExcludeResources: 'secrets,statefulsets.apps,*',
      ANDedLabelSelectors: 'app:web,tier=front',
      ORedLabelSelectors: 'app.kubernetes.io/name,env=',
    }),
    {
      includeClusterResources: true,
      includeNamespaces: ['kubedb', 'db'],
      excludeNamespaces: ['kube-system'],
      includeResources: ['*'],
      excludeResources: ['secrets', 'statefulsets.apps'],
      andLabelSelectors: [{ key: 'app', value: 'web' }, { key: 'tier', value: 'front' }],
      orLabelSelectors: [{ key: 'app.kubernetes.io/name' }, { key: 'env', value: '' }],
    },
  );
  const booleans: Array<[string, boolean]> = [['true', true], ['True', true], ['1', true], ['t', true], ['false', false], ['FALSE', false], ['0', false], ['', false], [' true ', true]];
  for (const [text, expected] of booleans) t.equal(filterOf({ IncludeClusterResources: text }).includeClusterResources, expected, `IncludeClusterResources "${text}"`);
});

t.test('parsing: every bad value names its parameter', async (t) => {
  const rows: Array<[string, Record<string, string>, string, RegExp]> = [
    ['boolean', { IncludeClusterResources: 'yes' }, 'IncludeClusterResources', /"yes" is not true or false/],
    ['include namespace', { IncludeNamespaces: 'Demo' }, 'IncludeNamespaces', /"Demo" is not a namespace name/],
    ['exclude namespace', { ExcludeNamespaces: 'a.b' }, 'ExcludeNamespaces', /"a.b" is not a namespace name/],
    ['include resource', { IncludeResources: 'Deployments' }, 'IncludeResources', /"Deployments" is not a resource/],
    ['exclude resource', { ExcludeResources: 'apps/deployments' }, 'ExcludeResources', /"apps\/deployments" is not a resource/],
    ['AND label key', { ANDedLabelSelectors: '-bad:x' }, 'ANDedLabelSelectors', /"-bad:x": label key name "-bad"/],
    ['AND label value', { ANDedLabelSelectors: 'app=a b' }, 'ANDedLabelSelectors', /label value "a b"/],
    ['OR empty key', { ORedLabelSelectors: ':x' }, 'ORedLabelSelectors', /empty name part/],
  ];
  for (const [name, params, path, message] of rows) {
    const parsed = parseKubedumpFilter(params);
    t.ok('errors' in parsed, `${name}: refused`);
    if (!('errors' in parsed)) continue;
    t.equal(parsed.errors.length, 1, `${name}: one error`);
    t.equal(parsed.errors[0]?.code, 'FieldValueInvalid', `${name}: code`);
    t.equal(parsed.errors[0]?.path, path, `${name}: path`);
    t.match(parsed.errors[0]?.message, message, `${name}: message`);
  }
  const many = parseKubedumpFilter({ IncludeClusterResources: 'x', IncludeNamespaces: 'A,B' });
  t.equal('errors' in many ? many.errors.length : 0, 3, 'every problem is reported, not only the first');
});

t.test('resourceSelected: one row per rule', async (t) => {
  const deployments = type('apps', 'deployments');
  const rows: Array<[string, Record<string, string>, DumpResourceType, 'backup' | 'restore', boolean]> = [
    ['empty include selects a namespaced type', {}, deployments, 'backup', true],
    ['cluster-scoped dropped by default', {}, type('rbac.authorization.k8s.io', 'clusterroles', false), 'backup', false],
    ['cluster-scoped kept with IncludeClusterResources', { IncludeClusterResources: 'true' }, type('rbac.authorization.k8s.io', 'clusterroles', false), 'backup', true],
    ['Namespaces follow the namespace filter, not IncludeClusterResources', {}, type('', 'namespaces', false), 'backup', true],
    ['nodes always excluded', { IncludeClusterResources: 'true', IncludeResources: 'nodes' }, type('', 'nodes', false), 'backup', false],
    ['endpointslices always excluded', { IncludeResources: '*' }, type('discovery.k8s.io', 'endpointslices'), 'backup', false],
    ['include by full group-resource', { IncludeResources: 'deployments.apps' }, deployments, 'backup', true],
    ['include by the part before the first dot', { IncludeResources: 'deployments' }, deployments, 'backup', true],
    ['include of another group does not match', { IncludeResources: 'deployments.extensions' }, deployments, 'backup', false],
    ['include of another resource does not match', { IncludeResources: 'statefulsets' }, deployments, 'backup', false],
    ['include of a core resource', { IncludeResources: 'secrets' }, type('', 'secrets'), 'backup', true],
    ['include wildcard', { IncludeResources: 'secrets,*' }, deployments, 'backup', true],
    ['exclude by full group-resource', { ExcludeResources: 'deployments.apps' }, deployments, 'backup', false],
    ['exclude by the part before the first dot', { ExcludeResources: 'deployments' }, deployments, 'backup', false],
    ['exclude wins over include', { IncludeResources: 'deployments.apps', ExcludeResources: 'deployments' }, deployments, 'backup', false],
    ['exclude wins over include wildcard', { IncludeResources: '*', ExcludeResources: 'secrets' }, type('', 'secrets'), 'backup', false],
    ['wildcard in exclude is ignored', { ExcludeResources: '*' }, deployments, 'backup', true],
    ['events dumped at backup', {}, type('', 'events'), 'backup', true],
    ['events not restored', {}, type('', 'events'), 'restore', false],
    ['events.events.k8s.io not restored', {}, type('events.k8s.io', 'events'), 'restore', false],
    ['csinodes not restored', { IncludeClusterResources: 'true' }, type('storage.k8s.io', 'csinodes', false), 'restore', false],
    ['volumeattachments not restored', { IncludeClusterResources: 'true' }, type('storage.k8s.io', 'volumeattachments', false), 'restore', false],
    ['BackupSessions not restored', {}, type('core.kubestash.com', 'backupsessions'), 'restore', false],
    ['BackupVerificationSessions not restored', {}, type('core.kubestash.com', 'backupverificationsessions'), 'restore', false],
    ['BackupVerifiers not restored', {}, type('core.kubestash.com', 'backupverifiers'), 'restore', false],
    ['RestoreSessions not restored', {}, type('core.kubestash.com', 'restoresessions'), 'restore', false],
    ['Repositories not restored', {}, type('storage.kubestash.com', 'repositories'), 'restore', false],
    ['Snapshots not restored', {}, type('storage.kubestash.com', 'snapshots'), 'restore', false],
    ['BackupConfigurations are restored', {}, type('core.kubestash.com', 'backupconfigurations'), 'restore', true],
    ['cluster-scoped at restore needs IncludeClusterResources too', {}, type('storage.k8s.io', 'storageclasses', false), 'restore', false],
  ];
  for (const [name, params, input, phase, expected] of rows) t.equal(resourceSelected(filterOf(params), input, phase), expected, name);
});

t.test('namespaces: include, exclude, wildcard', async (t) => {
  const rows: Array<[string, Record<string, string>, string, boolean]> = [
    ['empty include selects all', {}, 'any', true],
    ['named include selects it', { IncludeNamespaces: 'a,b' }, 'b', true],
    ['named include drops others', { IncludeNamespaces: 'a,b' }, 'c', false],
    ['wildcard include selects all', { IncludeNamespaces: '*' }, 'c', true],
    ['exclude drops it', { ExcludeNamespaces: 'kube-system' }, 'kube-system', false],
    ['exclude wins over include', { IncludeNamespaces: 'a', ExcludeNamespaces: 'a' }, 'a', false],
    ['wildcard in exclude is ignored', { ExcludeNamespaces: '*' }, 'a', true],
  ];
  for (const [name, params, namespace, expected] of rows) t.equal(namespaceSelected(filterOf(params), namespace), expected, name);

  t.equal(namespacesToList(filterOf({})), undefined, 'all namespaces: list cluster-wide');
  t.equal(namespacesToList(filterOf({ IncludeNamespaces: 'a,*' })), undefined, 'wildcard: list cluster-wide');
  t.same(namespacesToList(filterOf({ IncludeNamespaces: 'b,a,b,c', ExcludeNamespaces: 'c' })), ['b', 'a'], 'named: in order, once, without excluded');
});

t.test('labels: AND, OR and term forms', async (t) => {
  const labels = { app: 'web', tier: 'front', 'app.kubernetes.io/name': 'shop' };
  const rows: Array<[string, Record<string, string>, Record<string, string> | undefined, boolean]> = [
    ['no terms select everything', {}, undefined, true],
    ['key:value matches', { ANDedLabelSelectors: 'app:web' }, labels, true],
    ['key=value matches', { ANDedLabelSelectors: 'app=web' }, labels, true],
    ['bare key matches when present', { ANDedLabelSelectors: 'app.kubernetes.io/name' }, labels, true],
    ['bare key fails when absent', { ANDedLabelSelectors: 'zone' }, labels, false],
    ['value differs', { ANDedLabelSelectors: 'app:db' }, labels, false],
    ['AND needs every term', { ANDedLabelSelectors: 'app:web,tier:back' }, labels, false],
    ['AND with every term', { ANDedLabelSelectors: 'app:web,tier:front' }, labels, true],
    ['OR needs one term', { ORedLabelSelectors: 'app:db,tier:front' }, labels, true],
    ['OR with none matching', { ORedLabelSelectors: 'app:db,tier:back' }, labels, false],
    ['AND and OR both apply', { ANDedLabelSelectors: 'app:web', ORedLabelSelectors: 'zone' }, labels, false],
    ['no labels fail a term', { ORedLabelSelectors: 'app' }, undefined, false],
  ];
  for (const [name, params, objectLabels, expected] of rows) t.equal(labelsSelected(filterOf(params), objectLabels), expected, name);
  t.equal(andLabelSelectorQuery(filterOf({ ANDedLabelSelectors: 'app:web,zone,env=' })), 'app=web,zone,env=', 'AND terms as a server-side selector');
  t.equal(andLabelSelectorQuery(filterOf({ ORedLabelSelectors: 'app' })), '', 'OR terms are not sent to the server');
});

t.test('objectSelected: namespace by scope, then labels', async (t) => {
  const filter = filterOf({ IncludeNamespaces: 'demo', ANDedLabelSelectors: 'app' });
  const object = (namespace: string | undefined, name: string, labels?: Record<string, string>) => ({ metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) } });
  const rows: Array<[string, ReturnType<typeof object>, DumpResourceType, boolean]> = [
    ['namespaced object in an included namespace', object('demo', 'a', { app: 'x' }), type('', 'configmaps'), true],
    ['namespaced object elsewhere', object('other', 'a', { app: 'x' }), type('', 'configmaps'), false],
    ['namespaced object without the label', object('demo', 'a'), type('', 'configmaps'), false],
    ['a Namespace judged by its name', object(undefined, 'demo', { app: 'x' }), type('', 'namespaces', false), true],
    ['another Namespace', object(undefined, 'other', { app: 'x' }), type('', 'namespaces', false), false],
    ['other cluster-scoped objects pass the namespace filter', object(undefined, 'cr', { app: 'x' }), type('rbac.authorization.k8s.io', 'clusterroles', false), true],
    ['cluster-scoped objects still need the labels', object(undefined, 'cr'), type('rbac.authorization.k8s.io', 'clusterroles', false), false],
  ];
  for (const [name, input, resourceType, expected] of rows) t.equal(objectSelected(filter, input, resourceType), expected, name);
  t.equal(objectSelected(emptyKubedumpFilter(), {}, type('', 'configmaps')), true, 'an object without metadata passes the empty filter');
});

import t from 'tap';
import { dumpDirectoryName, DumpLayoutError, dumpFilePath, parseDumpFilePath, unsafeSegmentProblem, type DumpResourceType } from '../../../src/domain/kubedump/layout.js';

const type = (group: string, resource: string, namespaced: boolean): DumpResourceType => ({ group, version: 'v1', resource, kind: 'K', namespaced });

t.test('directory names: core plural, otherwise resource.group', async (t) => {
  const rows: Array<[string, DumpResourceType, string]> = [
    ['core group', type('', 'secrets', true), 'secrets'],
    ['named group', type('apps', 'deployments', true), 'deployments.apps'],
    ['dotted group', type('rbac.authorization.k8s.io', 'clusterroles', false), 'clusterroles.rbac.authorization.k8s.io'],
  ];
  for (const [name, input, expected] of rows) t.equal(dumpDirectoryName(input), expected, name);
});

t.test('file paths: one row per scope', async (t) => {
  const rows: Array<[string, DumpResourceType, string | undefined, string, string]> = [
    ['namespaced core', type('', 'secrets', true), 'db', 'a', 'secrets/namespaces/db/a.yaml'],
    ['namespaced group', type('apps', 'deployments', true), 'demo', 'my-deployment', 'deployments.apps/namespaces/demo/my-deployment.yaml'],
    ['cluster-scoped', type('rbac.authorization.k8s.io', 'clusterroles', false), undefined, 'x', 'clusterroles.rbac.authorization.k8s.io/cluster/x.yaml'],
    ['cluster-scoped ignores a namespace', type('', 'namespaces', false), 'ignored', 'demo', 'namespaces/cluster/demo.yaml'],
    ['colons in RBAC names are kept', type('rbac.authorization.k8s.io', 'clusterroles', false), undefined, 'system:controller:x', 'clusterroles.rbac.authorization.k8s.io/cluster/system:controller:x.yaml'],
  ];
  for (const [name, input, namespace, objectName, expected] of rows) t.equal(dumpFilePath(input, namespace, objectName), expected, name);
});

t.test('file paths refuse names that would leave or break the layout', async (t) => {
  const rows: Array<[string, DumpResourceType, string | undefined, string, RegExp]> = [
    ['empty name', type('', 'secrets', true), 'db', '', /object name is empty/],
    ['dot-dot name', type('', 'secrets', true), 'db', '..', /".." is not a name/],
    ['dot name', type('', 'nodes', false), undefined, '.', /"." is not a name/],
    ['slash in name', type('', 'secrets', true), 'db', 'a/b', /path separator/],
    ['backslash in name', type('', 'secrets', true), 'db', 'a\\b', /path separator/],
    ['namespaced without namespace', type('', 'secrets', true), undefined, 'a', /secrets\/a: namespace is empty/],
    ['namespace escaping', type('', 'secrets', true), '..', 'a', /namespace "\.\." is not a name/],
  ];
  for (const [name, input, namespace, objectName, message] of rows) {
    t.throws(() => dumpFilePath(input, namespace, objectName), { name: 'DumpLayoutError', message }, name);
  }
  t.ok(new DumpLayoutError('x') instanceof Error);
  t.match(unsafeSegmentProblem('a\0b'), /NUL/);
  t.equal(unsafeSegmentProblem('ok'), undefined);
});

t.test('parsing paths back', async (t) => {
  const rows: Array<[string, string, ReturnType<typeof parseDumpFilePath>]> = [
    ['namespaced core', 'secrets/namespaces/db/a.yaml', { directory: 'secrets', group: '', resource: 'secrets', namespace: 'db', name: 'a' }],
    ['namespaced group', 'deployments.apps/namespaces/demo/my-deployment.yaml', { directory: 'deployments.apps', group: 'apps', resource: 'deployments', namespace: 'demo', name: 'my-deployment' }],
    ['cluster-scoped dotted group', 'clusterroles.rbac.authorization.k8s.io/cluster/x.yaml', { directory: 'clusterroles.rbac.authorization.k8s.io', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'x' }],
    ['name with dots', 'configmaps/namespaces/a/kube-root-ca.crt.yaml', { directory: 'configmaps', group: '', resource: 'configmaps', namespace: 'a', name: 'kube-root-ca.crt' }],
    ['absolute', '/secrets/namespaces/db/a.yaml', undefined],
    ['parent segment', 'secrets/namespaces/../a.yaml', undefined],
    ['a name of ".." after the suffix', 'secrets/cluster/...yaml', undefined],
    ['dot segment', './secrets/cluster/a.yaml', undefined],
    ['empty segment', 'secrets//cluster/a.yaml', undefined],
    ['backslash', 'secrets\\cluster\\a.yaml', undefined],
    ['NUL', 'secrets/cluster/a\0.yaml', undefined],
    ['uppercase directory', 'Secrets/cluster/a.yaml', undefined],
    ['unknown scope', 'secrets/all/a.yaml', undefined],
    ['cluster too deep', 'secrets/cluster/x/a.yaml', undefined],
    ['namespaces too shallow', 'secrets/namespaces/a.yaml', undefined],
    ['not yaml', 'secrets/cluster/a.json', undefined],
    ['only the suffix', 'secrets/cluster/.yaml', undefined],
    ['directory alone', 'secrets', undefined],
    ['empty', '', undefined],
  ];
  for (const [name, input, expected] of rows) t.same(parseDumpFilePath(input), expected, name);
  for (const [input, ns, objectName] of [[type('apps', 'statefulsets', true), 'x', 'y'], [type('', 'persistentvolumes', false), undefined, 'pv-1']] as const) {
    const path = dumpFilePath(input, ns, objectName);
    const parsed = parseDumpFilePath(path);
    t.equal(parsed?.name, objectName, `round trip ${path}`);
    t.equal(parsed?.group, input.group, `round trip group ${path}`);
    t.equal(parsed?.resource, input.resource, `round trip resource ${path}`);
  }
});

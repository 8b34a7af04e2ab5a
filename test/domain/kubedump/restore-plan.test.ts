import t from 'tap';
import {
  manifestRestoreParamErrors,
  parseKubedumpRestoreOptions,
  planKubedumpRestore,
  RESTORE_PRIORITY_FIRST,
  RESTORE_PRIORITY_LAST,
  restorePriority,
  type KubedumpRestoreOptions,
} from '../../../src/domain/kubedump/restore-plan.js';

const optionsOf = (params: Record<string, string>, restoreNamespace?: string): KubedumpRestoreOptions => {
  const parsed = parseKubedumpRestoreOptions(params, restoreNamespace);
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.options;
};
const errorsOf = (params: Record<string, string>, restoreNamespace?: string): string[] => {
  const parsed = parseKubedumpRestoreOptions(params, restoreNamespace);
  return 'errors' in parsed ? parsed.errors.map((e) => `${e.path}: ${e.message}`) : [];
};
const paths = (params: Record<string, string>, files: string[], restoreNamespace?: string): string[] =>
  planKubedumpRestore(files, optionsOf(params, restoreNamespace)).objects.map((o) => o.path);

t.test('parsing the restore parameters', async (t) => {
  const defaults = optionsOf({});
  t.same(
    { overrideResources: defaults.overrideResources, restorePVs: defaults.restorePVs, storageClassMappings: defaults.storageClassMappings, restoreNamespace: defaults.restoreNamespace },
    { overrideResources: false, restorePVs: false, storageClassMappings: {}, restoreNamespace: undefined },
    'nothing given: create-only, no volumes, no mappings, own namespaces',
  );
  const rows: Array<[string, Record<string, string>, string | undefined, Partial<KubedumpRestoreOptions>]> = [
    ['OverrideResources true', { OverrideResources: 'true' }, undefined, { overrideResources: true }],
    ['OverrideResources in Go spelling', { OverrideResources: 'T' }, undefined, { overrideResources: true }],
    ['RestorePVs 1', { RestorePVs: '1' }, undefined, { restorePVs: true }],
    ['RestorePVs False', { RestorePVs: 'False' }, undefined, { restorePVs: false }],
    ['StorageClassMappings with spaces', { StorageClassMappings: ' standard = fast , gp2=gp3,' }, undefined, { storageClassMappings: { standard: 'fast', gp2: 'gp3' } }],
    ['restoreNamespace', {}, ' restored ', { restoreNamespace: 'restored' }],
    ['empty restoreNamespace', {}, '', {}],
  ];
  for (const [name, params, restoreNamespace, expected] of rows) t.match(optionsOf(params, restoreNamespace), expected, name);
  t.equal(optionsOf({}, '').restoreNamespace, undefined, 'an empty restoreNamespace is none');
  t.same(optionsOf({ IncludeNamespaces: 'a' }).filter.includeNamespaces, ['a'], 'the kubedump filters are read too');
});

t.test('bad restore parameters name the parameter and the reason', async (t) => {
  const rows: Array<[string, Record<string, string>, string | undefined, string]> = [
    ['OverrideResources not a boolean', { OverrideResources: 'yes please' }, undefined, 'OverrideResources: "yes please" is not true or false'],
    ['RestorePVs not a boolean', { RestorePVs: 'maybe' }, undefined, 'RestorePVs: "maybe" is not true or false'],
    ['mapping without =', { StorageClassMappings: 'standard' }, undefined, 'StorageClassMappings: "standard" is not old=new'],
    ['mapping with two =', { StorageClassMappings: 'a=b=c' }, undefined, 'StorageClassMappings: "a=b=c" is not old=new'],
    ['mapping to an empty class', { StorageClassMappings: 'a=' }, undefined, 'StorageClassMappings: "a=" is not old=new'],
    ['mapping a bad name', { StorageClassMappings: 'A_B=c' }, undefined, 'StorageClassMappings: "A_B=c" is not old=new'],
    ['a class mapped twice', { StorageClassMappings: 'a=b,a=c' }, undefined, 'StorageClassMappings: storage class "a" is mapped twice'],
    ['bad restore namespace', {}, 'Not_A_Namespace', 'spec.manifestOptions.workload.restoreNamespace: "Not_A_Namespace" is not a namespace name'],
    ['a bad filter', { IncludeClusterResources: 'sometimes' }, undefined, 'IncludeClusterResources: "sometimes" is not true or false'],
  ];
  for (const [name, params, restoreNamespace, expected] of rows) {
    const errors = errorsOf(params, restoreNamespace);
    t.equal(errors.length, 1, `${name}: one error`);
    t.match(errors[0], expected, name);
  }
  t.equal(errorsOf({ OverrideResources: 'x', IncludeNamespaces: 'Bad!' }).length, 2, 'filter and restore errors are reported together');
  t.match(parseKubedumpRestoreOptions({}, 'Bad', 'spec.x'), { errors: [{ path: 'spec.x' }] }, 'the restoreNamespace field path is the caller\'s');
});

t.test('priority: one row per rule', async (t) => {
  const rows: Array<[string, string, number]> = [
    ['CRDs first', 'customresourcedefinitions.apiextensions.k8s.io', 0],
    ['then namespaces', 'namespaces', 1],
    ['services end the first part', 'services', RESTORE_PRIORITY_FIRST.length - 1],
    ['an unlisted kind goes in the middle', 'deployments.apps', RESTORE_PRIORITY_FIRST.length],
    ['a custom resource too', 'widgets.example.com', RESTORE_PRIORITY_FIRST.length],
    ['cluster-api clusters after the middle', 'clusters.cluster.x-k8s.io', RESTORE_PRIORITY_FIRST.length + 1],
    ['packageinstalls last', 'packageinstalls.packaging.carvel.dev', RESTORE_PRIORITY_FIRST.length + RESTORE_PRIORITY_LAST.length],
  ];
  for (const [name, directory, rank] of rows) t.equal(restorePriority(directory), rank, name);
  const order = [...RESTORE_PRIORITY_FIRST, 'deployments.apps', ...RESTORE_PRIORITY_LAST];
  t.same([...order].sort((a, b) => restorePriority(a) - restorePriority(b)), order, 'the lists are in rank order');
});

t.test('the plan orders by priority, then directory, namespace and name', async (t) => {
  const files = [
    'services/namespaces/demo/web.yaml',
    'widgets.example.com/namespaces/demo/w1.yaml',
    'deployments.apps/namespaces/demo/web.yaml',
    'configmaps/namespaces/demo/b.yaml',
    'configmaps/namespaces/app/z.yaml',
    'configmaps/namespaces/demo/a.yaml',
    'namespaces/cluster/demo.yaml',
    'secrets/namespaces/demo/s.yaml',
    'persistentvolumeclaims/namespaces/demo/data.yaml',
    'serviceaccounts/namespaces/demo/sa.yaml',
  ];
  t.same(paths({}, files), [
    'namespaces/cluster/demo.yaml',
    'persistentvolumeclaims/namespaces/demo/data.yaml',
    'serviceaccounts/namespaces/demo/sa.yaml',
    'secrets/namespaces/demo/s.yaml',
    'configmaps/namespaces/app/z.yaml',
    'configmaps/namespaces/demo/a.yaml',
    'configmaps/namespaces/demo/b.yaml',
    'services/namespaces/demo/web.yaml',
    'deployments.apps/namespaces/demo/web.yaml',
    'widgets.example.com/namespaces/demo/w1.yaml',
  ]);
  const cluster = ['clusterroles.rbac.authorization.k8s.io/cluster/r.yaml', 'customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.example.com.yaml', 'storageclasses.storage.k8s.io/cluster/fast.yaml'];
  t.same(paths({ IncludeClusterResources: 'true' }, cluster), [cluster[1], cluster[2], cluster[0]], 'CRDs before storage classes before the rest');
});

t.test('what the plan leaves out: one row per rule', async (t) => {
  const rows: Array<[string, Record<string, string>, string, string]> = [
    ['a path outside the layout', {}, '../etc/passwd', 'not a file of the kubedump layout'],
    ['a file not ending in .yaml', {}, 'secrets/namespaces/demo/a.json', 'not a file of the kubedump layout'],
    ['an always-excluded kind', { IncludeClusterResources: 'true' }, 'nodes/cluster/n1.yaml', 'resource nodes is not restored'],
    ['a non-restorable kind (events)', {}, 'events/namespaces/demo/e.yaml', 'resource events is not restored'],
    ['a non-restorable kind (snapshots)', {}, 'snapshots.storage.kubestash.com/namespaces/demo/s.yaml', 'resource snapshots.storage.kubestash.com is not restored'],
    ['a non-restorable kind (restoresessions)', {}, 'restoresessions.core.kubestash.com/namespaces/demo/r.yaml', 'is not restored'],
    ['cluster resources without IncludeClusterResources', {}, 'clusterroles.rbac.authorization.k8s.io/cluster/r.yaml', 'is not restored'],
    ['a volume without RestorePVs', { IncludeClusterResources: 'true' }, 'persistentvolumes/cluster/pv1.yaml', 'PersistentVolumes are restored only with RestorePVs=true'],
    ['ExcludeResources', { ExcludeResources: 'secrets' }, 'secrets/namespaces/demo/a.yaml', 'resource secrets is not restored'],
    ['IncludeResources naming others', { IncludeResources: 'configmaps' }, 'secrets/namespaces/demo/a.yaml', 'resource secrets is not restored'],
    ['ExcludeResources by resource without group', { ExcludeResources: 'deployments' }, 'deployments.apps/namespaces/demo/d.yaml', 'is not restored'],
    ['ExcludeNamespaces', { ExcludeNamespaces: 'demo' }, 'secrets/namespaces/demo/a.yaml', 'namespace demo is filtered out'],
    ['IncludeNamespaces naming others', { IncludeNamespaces: 'other' }, 'secrets/namespaces/demo/a.yaml', 'namespace demo is filtered out'],
    ['the Namespace object of an excluded namespace', { ExcludeNamespaces: 'demo' }, 'namespaces/cluster/demo.yaml', 'namespace demo is filtered out'],
  ];
  for (const [name, params, file, reason] of rows) {
    const plan = planKubedumpRestore([file], optionsOf(params));
    t.same(plan.objects, [], `${name}: not planned`);
    t.match(plan.excluded, [{ path: file, reason }], `${name}: reason`);
  }
});

t.test('what the plan keeps: one row per rule', async (t) => {
  const rows: Array<[string, Record<string, string>, string]> = [
    ['a Namespace object without IncludeClusterResources', {}, 'namespaces/cluster/demo.yaml'],
    ['a volume with RestorePVs, even without IncludeClusterResources', { RestorePVs: 'true' }, 'persistentvolumes/cluster/pv1.yaml'],
    ['IncludeResources by resource.group', { IncludeResources: 'deployments.apps' }, 'deployments.apps/namespaces/demo/d.yaml'],
    ['IncludeResources *', { IncludeResources: '*' }, 'widgets.example.com/namespaces/demo/w.yaml'],
    ['IncludeNamespaces naming it', { IncludeNamespaces: 'demo' }, 'configmaps/namespaces/demo/c.yaml'],
    ['cluster resources asked for', { IncludeClusterResources: 'true' }, 'clusterroles.rbac.authorization.k8s.io/cluster/r.yaml'],
  ];
  for (const [name, params, file] of rows) t.same(paths(params, [file]), [file], name);
  t.same(paths({ RestorePVs: 'true', ExcludeResources: 'persistentvolumes' }, ['persistentvolumes/cluster/pv1.yaml']), [], 'ExcludeResources still wins over RestorePVs');
});

t.test('restoreNamespace moves namespaced objects and renames the dumped Namespace', async (t) => {
  const plan = planKubedumpRestore(
    ['namespaces/cluster/demo.yaml', 'configmaps/namespaces/demo/c.yaml', 'clusterroles.rbac.authorization.k8s.io/cluster/r.yaml'],
    optionsOf({ IncludeClusterResources: 'true' }, 'restored'),
  );
  t.same(plan.objects, [
    { path: 'namespaces/cluster/demo.yaml', directory: 'namespaces', type: { group: '', resource: 'namespaces', namespaced: false }, name: 'restored' },
    {
      path: 'configmaps/namespaces/demo/c.yaml',
      directory: 'configmaps',
      type: { group: '', resource: 'configmaps', namespaced: true },
      sourceNamespace: 'demo',
      namespace: 'restored',
      name: 'c',
    },
    { path: 'clusterroles.rbac.authorization.k8s.io/cluster/r.yaml', directory: 'clusterroles.rbac.authorization.k8s.io', type: { group: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespaced: false }, name: 'r' },
  ]);
  const own = planKubedumpRestore(['configmaps/namespaces/demo/c.yaml'], optionsOf({}));
  t.match(own.objects, [{ sourceNamespace: 'demo', namespace: 'demo' }], 'without it, objects stay in their namespace');
  t.same(paths({ IncludeNamespaces: 'demo' }, ['configmaps/namespaces/demo/c.yaml'], 'restored'), ['configmaps/namespaces/demo/c.yaml'], 'the namespace filters apply to the dumped namespace');
});

t.test('admission: the parameters of kubedump manifest-restore tasks, one row per rule', async (t) => {
  const ns = 'spec.manifestOptions.workload.restoreNamespace';
  const rows: Array<[string, unknown, unknown, string[]]> = [
    ['another addon is not checked', { name: 'pvc-addon', tasks: [{ name: 'manifest-restore', params: { OverrideResources: 'x' } }] }, undefined, []],
    ['another task is not checked', { name: 'kubedump-addon', tasks: [{ name: 'manifest-backup', params: { OverrideResources: 'x' } }] }, undefined, []],
    ['no addon', undefined, undefined, []],
    ['good params (a boolean and a list as YAML gives them)', { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore', params: { RestorePVs: true, IncludeNamespaces: ['a', 'b'] } }] }, 'copy', []],
    [
      'each bad param at its path',
      { name: 'kubedump-addon', tasks: [{ name: 'x' }, { name: 'manifest-restore', params: { OverrideResources: 'maybe', StorageClassMappings: 'a' } }] },
      undefined,
      ['spec.addon.tasks[1].params.OverrideResources', 'spec.addon.tasks[1].params.StorageClassMappings'],
    ],
    [
      'a bad restoreNamespace once, at its own path',
      { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore' }, { name: 'manifest-restore' }] },
      'Bad_Namespace',
      [ns],
    ],
  ];
  for (const [name, addon, restoreNamespace, paths] of rows) {
    t.same(manifestRestoreParamErrors(addon, restoreNamespace, 'spec.addon', ns).map((e) => e.path), paths, name);
  }
});

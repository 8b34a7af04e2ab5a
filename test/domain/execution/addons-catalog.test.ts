import t from 'tap';
import { validateAgainstSchema, type Addon, type AddonFunction } from '../../../src/api/index.js';
import { autostashAddons } from '../../../src/domain/execution/addons-catalog.js';
import { substituteFunctionArgs } from '../../../src/domain/execution/function-args.js';

const objects = autostashAddons('example.org/autostash:1.2.3');
const addons = objects.filter((o) => o.kind === 'Addon') as Addon[];
const functions = objects.filter((o) => o.kind === 'Function') as AddonFunction[];
const addon = (name: string): Addon => addons.find((a) => a.metadata?.name === name) as Addon;
const fn = (name: string): AddonFunction => functions.find((f) => f.metadata?.name === name) as AddonFunction;

t.test('every object is a valid cluster-scoped addons.kubestash.com object managed by autostash', async (t) => {
  t.same(addons.map((a) => a.metadata?.name), ['workload-addon', 'pvc-addon', 'kubedump-addon']);
  t.same(functions.map((f) => f.metadata?.name), ['workload-backup', 'workload-restore', 'pvc-backup', 'pvc-restore', 'kubedump-backup', 'kubedump-restore']);
  for (const object of objects) {
    t.equal(object.apiVersion, 'addons.kubestash.com/v1alpha1');
    t.equal(object.metadata?.namespace, undefined, `${object.metadata?.name} is cluster-scoped`);
    t.same(object.metadata?.labels, { 'app.kubernetes.io/managed-by': 'autostash' });
    const check = validateAgainstSchema(object);
    t.same(check?.errors, [], `${object.kind} ${object.metadata?.name} matches the CRD schema`);
    t.same(check?.unknownFields, [], `${object.kind} ${object.metadata?.name} has no field the CRD would prune`);
  }
  t.not(autostashAddons('x')[0], autostashAddons('x')[0], 'fresh objects on every call');
});

interface TaskRow { addon: string; list: 'backupTasks' | 'restoreTasks'; task: string; fn: string; singleton: boolean; params: Record<string, { required?: boolean; default?: string }>; volumes: string[]; mounts: Record<string, string> }
const tmp = { 'kubestash-tmp-volume': '/kubestash-tmp' };
const data = { 'kubestash-data-volume': '/kubestash-data', ...tmp };
const cacheParams = { enableCache: { default: 'true' }, scratchDir: { default: '/kubestash-tmp' } };
const dumpFilters = { ANDedLabelSelectors: { default: '' }, ORedLabelSelectors: { default: '' }, IncludeClusterResources: { default: 'false' }, IncludeNamespaces: { default: '' }, ExcludeNamespaces: { default: '' }, IncludeResources: { default: '' }, ExcludeResources: { default: '' } };
const taskRows: TaskRow[] = [
  { addon: 'workload-addon', list: 'backupTasks', task: 'logical-backup', fn: 'workload-backup', singleton: false, params: { paths: { required: true }, exclude: {}, ...cacheParams }, volumes: ['kubestash-tmp-volume'], mounts: tmp },
  { addon: 'workload-addon', list: 'restoreTasks', task: 'logical-backup-restore', fn: 'workload-restore', singleton: false, params: { exclude: {}, include: {}, ...cacheParams }, volumes: ['kubestash-tmp-volume'], mounts: tmp },
  { addon: 'pvc-addon', list: 'backupTasks', task: 'logical-backup', fn: 'pvc-backup', singleton: true, params: { paths: { default: '/kubestash-data' }, exclude: {}, ...cacheParams }, volumes: ['kubestash-data-volume', 'kubestash-tmp-volume'], mounts: data },
  { addon: 'pvc-addon', list: 'restoreTasks', task: 'logical-backup-restore', fn: 'pvc-restore', singleton: true, params: cacheParams, volumes: ['kubestash-data-volume', 'kubestash-tmp-volume'], mounts: data },
  { addon: 'kubedump-addon', list: 'backupTasks', task: 'manifest-backup', fn: 'kubedump-backup', singleton: true, params: { ...cacheParams, ...dumpFilters }, volumes: ['kubestash-tmp-volume'], mounts: tmp },
  { addon: 'kubedump-addon', list: 'restoreTasks', task: 'manifest-restore', fn: 'kubedump-restore', singleton: true, params: { ...cacheParams, ...dumpFilters, OverrideResources: { default: 'false' }, StorageClassMappings: { default: '' }, RestorePVs: { default: 'false' } }, volumes: ['kubestash-tmp-volume'], mounts: tmp },
];

for (const row of taskRows) {
  t.test(`${row.addon} ${row.task}`, async (t) => {
    const tasks = addon(row.addon).spec?.[row.list] ?? [];
    t.equal(tasks.length, 1, 'one task (volume-snapshot, volume-clone and workload manifest tasks are not offered)');
    const task = tasks[0]!;
    t.match(task, { name: row.task, function: row.fn, driver: 'Restic', executor: 'Job', singleton: row.singleton });
    const params = Object.fromEntries((task.parameters ?? []).map((p) => [p.name, { ...(p.required ? { required: true } : {}), ...(p.default !== undefined ? { default: p.default } : {}) }]));
    t.same(params, row.params);
    for (const p of task.parameters ?? []) t.ok(p.usage, `param ${p.name} says what it is for`);
    t.same(task.volumeTemplate?.map((v) => v.name), row.volumes);
    t.same(Object.fromEntries((task.volumeMounts ?? []).map((m) => [m.name, m.mountPath])), row.mounts);
    t.ok(fn(row.fn), 'its Function exists');
  });
}

t.test('pvc-addon mounts the claim named by ${PVC_NAME}; the scratch volume is an emptyDir', async (t) => {
  const task = addon('pvc-addon').spec?.backupTasks?.[0];
  t.same(task?.volumeTemplate?.[0]?.source, { persistentVolumeClaim: { claimName: '${PVC_NAME}' } });
  t.same(task?.volumeTemplate?.[1]?.source, { emptyDir: {} });
});

const vars = { namespace: 'demo', backupSession: 'bs-1', restoreSession: 'rs-1', snapshot: 'snap', COMPONENT_NAME: 'dump-pod-1', paths: '/a,/b', exclude: '*.tmp', include: 'x', scratchDir: '/kubestash-tmp', enableCache: 'true' };
const fnRows: Array<{ fn: string; args: string[] }> = [
  { fn: 'workload-backup', args: ['exec', 'backup', '--namespace=demo', '--backupsession=bs-1', '--component=dump-pod-1', '--paths=/a,/b', '--exclude=*.tmp', '--scratch-dir=/kubestash-tmp', '--enable-cache=true'] },
  { fn: 'pvc-backup', args: ['exec', 'backup', '--namespace=demo', '--backupsession=bs-1', '--component=dump-pod-1', '--paths=/a,/b', '--exclude=*.tmp', '--scratch-dir=/kubestash-tmp', '--enable-cache=true'] },
  { fn: 'workload-restore', args: ['exec', 'restore', '--namespace=demo', '--restoresession=rs-1', '--component=dump-pod-1', '--snapshot=snap', '--include=x', '--exclude=*.tmp'] },
  { fn: 'pvc-restore', args: ['exec', 'restore', '--namespace=demo', '--restoresession=rs-1', '--component=dump-pod-1', '--snapshot=snap', '--include=x', '--exclude=*.tmp', '--target-path=/kubestash-data'] },
  { fn: 'kubedump-backup', args: ['exec', 'backup', '--namespace=demo', '--backupsession=bs-1', '--component=dump-pod-1', '--scratch-dir=/kubestash-tmp', '--enable-cache=true', '--and-label-selectors=', '--or-label-selectors=', '--include-cluster-resources=', '--include-namespaces=', '--exclude-namespaces=', '--include-resources=', '--exclude-resources='] },
  { fn: 'kubedump-restore', args: ['exec', 'restore', '--namespace=demo', '--restoresession=rs-1', '--component=dump-pod-1', '--snapshot=snap', '--and-label-selectors=', '--or-label-selectors=', '--include-cluster-resources=', '--include-namespaces=', '--exclude-namespaces=', '--include-resources=', '--exclude-resources=', '--override-resources=', '--storage-class-mappings=', '--restore-pvs='] },
];
for (const row of fnRows) {
  t.test(`Function ${row.fn}`, async (t) => {
    const spec = fn(row.fn).spec!;
    t.equal(spec.image, 'example.org/autostash:1.2.3');
    t.same(spec.command, ['autostash']);
    t.same(substituteFunctionArgs(spec.args ?? [], vars), { args: row.args, errors: [] });
    const bare = substituteFunctionArgs(spec.args ?? [], {});
    t.same(bare.errors, [], 'every variable has a default');
    t.ok(bare.args.includes('--namespace=default'), 'namespace defaults to "default"');
    t.ok(bare.args.includes(row.fn.startsWith('kubedump') ? '--component=manifest' : '--component=dump'), 'component defaults as KubeStash names it');
  });
}

import t from 'tap';
import {
  addonPathErrors,
  hasParentSegment,
  isWithin,
  normaliseAbsolutePath,
  paramItems,
  pathParams,
  pathProblem,
  taskParamPathErrors,
  type PathParamShape,
} from '../../../src/domain/rules/safe-paths.js';
import { check, make, validBackupConfiguration, validCluster } from '../../helpers/domain-rules-fixtures.js';

const parent = /must not contain "\.\." segments: it would lead out of the volumes the Job mounts/;
const relative = /must be an absolute path \(starting with \/\)/;

t.test('pathProblem: one row per rule and shape', async (t) => {
  const rows: Array<[value: string, shape: PathParamShape, templated: boolean, expected: RegExp | undefined]> = [
    ['/kubestash-data', 'absolutePath', false, undefined],
    ['/kubestash-data/app/..data', 'absolutePath', false, undefined], // "..data" is a name, not a parent segment
    ['../../etc', 'absolutePath', false, parent],
    ['/kubestash-data/../../etc', 'absolutePath', false, parent],
    ['/kubestash-data/..', 'absolutePathList', false, parent],
    ['..', 'patternList', false, parent],
    ['cache/../../secrets', 'patternList', false, parent],
    ['*.tmp', 'patternList', false, undefined],
    ['/kubestash-data/cache', 'patternList', false, undefined],
    ['etc/passwd', 'absolutePath', false, relative],
    ['etc/passwd', 'absolutePathList', false, relative],
    ['${DATA_DIR}', 'absolutePathList', false, relative],
    ['${DATA_DIR}', 'absolutePathList', true, undefined], // a blueprint's variable is filled in later
    ['${DATA_DIR}/../etc', 'absolutePathList', true, parent],
    ['/data\0/etc', 'absolutePath', false, /NUL character/],
    ['/var/run/secrets/kubernetes.io/serviceaccount', 'absolutePathList', false, /^must not lie in \/var\/run\/secrets: the Job's ServiceAccount token/],
    ['//var/./run/secrets/', 'absolutePathList', false, /^must not lie in \/var\/run\/secrets/], // spelled oddly, same place
    ['/run/secrets/token', 'absolutePath', false, /^must not lie in \/run\/secrets/],
    ['/proc/self/environ', 'absolutePathList', false, /^must not lie in \/proc: it is the kernel's view of the Job's processes/],
    ['/sys/fs/cgroup', 'absolutePath', false, /^must not lie in \/sys/],
    ['/', 'absolutePathList', false, /^must not contain \/var\/run\/secrets/], // the whole container holds the token
    ['/var', 'absolutePathList', false, /^must not contain \/var\/run\/secrets/],
    ['/var/lib/mysql', 'absolutePathList', false, undefined], // a usual data mount beside the reserved place
    ['/processes', 'absolutePath', false, undefined], // a name that starts like /proc is not in it
    ['/proc', 'patternList', false, undefined], // restic patterns are not container paths
  ];
  for (const [value, shape, templated, expected] of rows) {
    const problem = pathProblem(value, shape, templated);
    if (expected === undefined) t.equal(problem, undefined, `${JSON.stringify(value)} as ${shape}${templated ? ' (templated)' : ''} is fine`);
    else t.match(problem, expected, `${JSON.stringify(value)} as ${shape}${templated ? ' (templated)' : ''} is refused`);
  }
});

t.test('the params that hold paths, and how they are read', async (t) => {
  t.same(pathParams, { paths: 'absolutePathList', targetPath: 'absolutePath', scratchDir: 'absolutePath', include: 'patternList', exclude: 'patternList' });
  t.same(paramItems('/a, /b,,', 'absolutePathList'), ['/a', '/b']);
  t.same(paramItems(['/a', '/b'], 'absolutePathList'), ['/a', '/b'], 'an array is the comma list the executor gets');
  t.same(paramItems('/a,b', 'absolutePath'), ['/a,b'], 'a single path is one item');
  t.same(paramItems('', 'absolutePath'), []);
  t.same(paramItems(null, 'patternList'), []);
  t.ok(hasParentSegment('a/../b'));
  t.notOk(hasParentSegment('a/..b/c..'));
});

t.test('isWithin', async (t) => {
  const rows: Array<[root: string, path: string, within: boolean]> = [
    ['/data', '/data', true],
    ['/data', '/data/x', true],
    ['/data/', '/data/x', true],
    ['/data', '/database', false],
    ['/data', '/etc', false],
    ['/', '/etc', true],
  ];
  for (const [root, path, within] of rows) t.equal(isWithin(root, path), within, `${path} within ${root}: ${within}`);
});

t.test('taskParamPathErrors names the param and the value; other params pass', async (t) => {
  const errors = taskParamPathErrors(
    { paths: ['/data', '../../etc'], exclude: 'cache,../x', targetPath: 'restore', scratchDir: '/tmp/../etc', ANDedLabelSelectors: '../..', include: '/ok' },
    'spec.addon.tasks[0].params',
  );
  t.same(errors.map((e) => [e.code, e.path]), [
    ['FieldValueInvalid', 'spec.addon.tasks[0].params.paths'],
    ['FieldValueInvalid', 'spec.addon.tasks[0].params.targetPath'],
    ['FieldValueInvalid', 'spec.addon.tasks[0].params.scratchDir'],
    ['FieldValueInvalid', 'spec.addon.tasks[0].params.exclude'],
  ]);
  t.match(errors[0]?.message, /^paths "\.\.\/\.\.\/etc" must not contain "\.\." segments/);
  t.match(errors[1]?.message, /^targetPath "restore" must be an absolute path/);
  t.same(taskParamPathErrors(undefined, 'p'), []);
  t.same(taskParamPathErrors('paths=../x', 'p'), [], 'params that are not an object are the schema\'s business');
  t.same(taskParamPathErrors(Object.create({ paths: '../inherited' }) as object, 'p'), [], 'only own keys count');
  t.same(addonPathErrors({ name: 'a', tasks: [{ name: 't' }, { name: 'u', params: { paths: '/x/..' } }] }, 'spec.addon').map((e) => e.path), ['spec.addon.tasks[1].params.paths']);
  t.same(addonPathErrors(undefined, 'spec.addon'), []);
});

t.test('admission: BackupConfiguration, BackupBlueprint and RestoreSession with a path leading out of the volumes are denied', async (t) => {
  const configuration = validBackupConfiguration();
  const sessions = (configuration.spec as { sessions: Array<{ addon: { tasks: Array<Record<string, unknown>> } }> }).sessions;
  const task = sessions[0]?.addon.tasks[0] as Record<string, unknown>;
  task.params = { paths: '/kubestash-data/../../etc' };
  const denied = check(configuration, { cluster: validCluster() });
  t.same(
    denied.errors.filter((e) => e.path.endsWith('.params.paths')).map((e) => [e.path, e.message]),
    [['spec.sessions[0].addon.tasks[0].params.paths', 'paths "/kubestash-data/../../etc" must not contain ".." segments: it would lead out of the volumes the Job mounts']],
  );
  task.params = { paths: '/kubestash-data' };
  t.same(check(configuration, { cluster: validCluster() }).errors, [], 'the same configuration with a safe path is admitted');

  const blueprint = (params: Record<string, unknown>) =>
    make('BackupBlueprint', 'demo', 'bp', {
      backupConfigurationTemplate: { backends: [{ name: 'b', storageRef: { name: 'gcs-storage', namespace: 'demo' } }], sessions: [{ name: 's', addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params }] } }] },
    });
  t.same(check(blueprint({ paths: '${DATA_PATH}', exclude: '*.tmp' }), { cluster: validCluster() }).errors, [], 'a blueprint may leave the path to a variable');
  t.same(
    check(blueprint({ exclude: '${CACHE}/../..' }), { cluster: validCluster() }).errors.map((e) => e.path),
    ['spec.backupConfigurationTemplate.sessions[0].addon.tasks[0].params.exclude'],
  );

  const restore = (params: Record<string, unknown>) =>
    make('RestoreSession', 'demo', 'r', { dataSource: { repository: 'repo', snapshot: 'latest' }, addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup-restore', params }] } });
  t.same(check(restore({ targetPath: '/kubestash-data/restored', include: '/kubestash-data/app' })).errors, []);
  t.same(
    check(restore({ targetPath: '../../etc', include: '../secrets' })).errors.map((e) => [e.path, e.message]),
    [
      ['spec.addon.tasks[0].params.targetPath', 'targetPath "../../etc" must not contain ".." segments: it would lead out of the volumes the Job mounts'],
      ['spec.addon.tasks[0].params.include', 'include "../secrets" must not contain ".." segments: it would lead out of the volumes the Job mounts'],
    ],
  );
});

t.test('normaliseAbsolutePath: one row per rule', async (t) => {
  const rows: Array<[input: string, expected: string]> = [
    ['/data', '/data'],
    ['/data/', '/data'], // no trailing slash
    ['//data//x', '/data/x'], // empty segments
    ['/./data/./x', '/data/x'], // "." segments
    ['/data/x/../y', '/data/y'], // ".." applied
    ['/../data', '/data'], // nothing above the root
    ['/', '/'],
    ['/..data', '/..data'], // a name, not a parent segment
  ];
  for (const [input, expected] of rows) t.equal(normaliseAbsolutePath(input), expected, input);
});

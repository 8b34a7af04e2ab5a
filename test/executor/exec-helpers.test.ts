import t from 'tap';
import type { BackupConfiguration, BackupStorage } from '../../src/api/index.js';
import { parseBooleanFlag, parseVolumeMap } from '../../src/commands/exec.js';
import { excludePatterns, timeoutMs } from '../../src/executor/backup.js';
import {
  describeFailure,
  formatDuration,
  isMountedPath,
  requireSafeAbsolutePath,
  splitList,
  storageAsMounted,
  storageSecretName,
  translatePath,
} from '../../src/executor/context.js';
import { repositoryDocument } from '../../src/executor/init.js';
import { restoreTargetOf, snapshotPatterns } from '../../src/executor/restore.js';
import { ResticError } from '../../src/executor/restic.js';
import { retentionPolicyOf } from '../../src/executor/retention.js';
import { jobNameOfPod } from '../../src/executor/stale-locks.js';

t.test('translatePath takes the longest mount path that equals the path or is followed by /', async (t) => {
  const map = { '/data': '/host/a', '/data/sub': '/host/b', '/': '/host/root', '/trail/': '/host/t/' };
  const rows: Array<[string, string]> = [
    ['/data', '/host/a'],
    ['/data/x/y', '/host/a/x/y'],
    ['/data/sub/z', '/host/b/z'],
    ['/database', '/host/root/database'],
    ['/trail/f', '/host/t/f'],
    ['/other', '/host/root/other'],
  ];
  for (const [input, expected] of rows) t.equal(translatePath(map, input), expected, input);
  t.equal(translatePath(undefined, '/data/x'), '/data/x', 'no map: unchanged');
  t.equal(translatePath({ '/data': '/h' }, '/elsewhere'), '/elsewhere', 'no matching mount: unchanged');
  t.equal(translatePath({ '/data': '/' }, '/data'), '/', 'a mount of the host root is the root, not an empty path');
  t.equal(translatePath({ '/data': '/' }, '/data/x'), '/x');
});

t.test('requireSafeAbsolutePath refuses relative paths and ".." segments', async (t) => {
  t.doesNotThrow(() => requireSafeAbsolutePath('/a/b..c/d', 'p'));
  t.throws(() => requireSafeAbsolutePath('a/b', '--paths entry'), { message: '--paths entry "a/b" must be an absolute path' });
  t.throws(() => requireSafeAbsolutePath('/a/../b', 'restore target'), { message: 'restore target "/a/../b" must not contain ".." segments' });
});

t.test('formatDuration prints Go-style durations to a tenth of a second', async (t) => {
  const rows: Array<[number, string]> = [[0, '0s'], [1234, '1.2s'], [12_000, '12s'], [62_500, '1m2.5s'], [3_603_000, '1h0m3s'], [-5, '0s']];
  for (const [ms, text] of rows) t.equal(formatDuration(ms), text, String(ms));
});

t.test('describeFailure names each restic failure without stderr secrets', async (t) => {
  const rows: Array<[ResticError['code'], RegExp]> = [
    ['WrongPassword', /^wrong password/],
    ['RepositoryNotFound', /no restic repository/],
    ['RepositoryLocked', /locked/],
    ['NoSpace', /no space left/],
    ['Unreachable', /unreachable/],
    ['Failed', /^restic failed: Fatal: boom$/],
  ];
  for (const [code, pattern] of rows) t.match(describeFailure(new ResticError(code, 1, 'noise\nFatal: boom\n', 'x')), pattern, code);
  t.equal(describeFailure(new ResticError('Failed', 1, '', 'x')), 'restic failed: no output');
  t.equal(describeFailure(new Error('first line\nsecond')), 'first line');
  t.equal(describeFailure('plain'), 'plain');
});

t.test('patterns: backup excludes become host paths, restore patterns become snapshot paths', async (t) => {
  t.same(excludePatterns(['/data/cache', '*.tmp', 'logs'], { '/data': '/host/d' }), ['/host/d/cache', '*.tmp', 'logs']);
  t.same(snapshotPatterns(['/data/a/b', '/data', '*.log', '/other/x'], '/data/'), ['/a/b', '/', '*.log', '/other/x']);
});

t.test('timeoutMs reads Go durations; invalid or non-positive is undefined', async (t) => {
  const rows: Array<[string | undefined, number | undefined]> = [[undefined, undefined], ['', undefined], ['1h30m', 5_400_000], ['0s', undefined], ['soon', undefined], ['-1m', undefined]];
  for (const [input, expected] of rows) t.equal(timeoutMs(input), expected, String(input));
});

t.test('flags and environment parsing', async (t) => {
  t.equal(parseVolumeMap(undefined), undefined);
  t.equal(parseVolumeMap(' '), undefined);
  t.same(parseVolumeMap('{"/a":"/b"}'), { '/a': '/b' });
  t.throws(() => parseVolumeMap('{'), /not valid JSON/);
  t.throws(() => parseVolumeMap('[1]'), /must be a JSON object/);
  t.throws(() => parseVolumeMap('{"/a":1}'), /must be a JSON object/);
  const rows: Array<[string | undefined, boolean | undefined]> = [[undefined, undefined], ['', undefined], ['true', true], ['1', true], ['YES', true], ['false', false], ['0', false], ['no', false]];
  for (const [input, expected] of rows) t.equal(parseBooleanFlag(input, '--enable-cache'), expected, String(input));
  t.throws(() => parseBooleanFlag('maybe', '--enable-cache'), { message: '--enable-cache must be true or false, not "maybe"' });
  t.same(splitList(' a, ,b,'), ['a', 'b']);
  t.same(splitList(undefined), []);
});

t.test('storage helpers', async (t) => {
  const storage = (backend: NonNullable<NonNullable<BackupStorage['spec']>['storage']>): BackupStorage => ({ spec: { storage: backend } });
  t.equal(storageSecretName(storage({ provider: 's3', s3: { secretName: 's' } })), 's');
  t.equal(storageSecretName(storage({ provider: 'gcs', gcs: { secretName: 'g' } })), 'g');
  t.equal(storageSecretName(storage({ provider: 'azure', azure: { secretName: 'z' } })), 'z');
  t.equal(storageSecretName(storage({ provider: 's3', s3: {} })), '', 'credential-less');
  t.equal(storageSecretName(storage({ provider: 'local', local: { mountPath: '/m' } })), '');
  const withSub = storage({ provider: 'local', local: { mountPath: '/m', subPath: 'sub', hostPath: { path: '/h' } } });
  t.same(storageAsMounted(withSub).spec?.storage?.local, { mountPath: '/m', hostPath: { path: '/h' } }, 'the mount carries subPath');
  t.same(withSub.spec?.storage?.local?.subPath, 'sub', 'input untouched');
  const s3 = storage({ provider: 's3', s3: { bucket: 'b' } });
  t.equal(storageAsMounted(s3), s3);
});

t.test('jobNameOfPod strips the pod suffix', async (t) => {
  t.equal(jobNameOfPod('bs-1-dump-x1y2z'), 'bs-1-dump');
  t.equal(jobNameOfPod('no-suffix-here-toolong'), 'no-suffix-here-toolong');
});

t.test('repositoryDocument drops status and server bookkeeping', async (t) => {
  t.same(
    repositoryDocument({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository', metadata: { name: 'r', namespace: 'n', uid: 'u', resourceVersion: '3', generation: 1, managedFields: [] }, spec: { path: 'p' }, status: { phase: 'Ready' } }),
    { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository', metadata: { name: 'r', namespace: 'n' }, spec: { path: 'p' } },
  );
  t.same(repositoryDocument({ apiVersion: 'a', kind: 'Repository' }), { apiVersion: 'a', kind: 'Repository', metadata: {}, spec: {} });
});

t.test('retentionPolicyOf follows repository → backend → retentionPolicy', async (t) => {
  const bc = (backends: unknown[], repositories: unknown[]): BackupConfiguration =>
    ({ metadata: { name: 'bc', namespace: 'ns' }, spec: { backends, sessions: [{ name: 'other', repositories: [] }, { name: 'nightly', repositories }] } }) as BackupConfiguration;
  t.same(retentionPolicyOf(bc([{ name: 'b', retentionPolicy: { name: 'keep' } }], [{ name: 'r', backend: 'b' }]), 'nightly', 'r'), { name: 'keep', namespace: 'ns' });
  t.same(retentionPolicyOf(bc([{ name: 'b', retentionPolicy: { name: 'keep', namespace: 'policies' } }], [{ name: 'r', backend: 'b' }]), 'weekly', 'r'), { name: 'keep', namespace: 'policies' });
  t.throws(() => retentionPolicyOf(bc([], [{ name: 'r', backend: 'b' }]), 'nightly', 'r'), /has no backend "b" for repository r/);
  t.throws(() => retentionPolicyOf(bc([{ name: 'b' }], [{ name: 'r', backend: 'b' }]), 'nightly', 'r'), /backend "b" of BackupConfiguration ns\/bc has no retentionPolicy/);
  t.throws(() => retentionPolicyOf(bc([], []), 'nightly', 'r'), /lists no repository r/);
  t.throws(() => retentionPolicyOf({} as BackupConfiguration, 'nightly', 'r'), /BackupConfiguration \/ lists no repository r/);
  // Half-written configurations get named errors, not crashes.
  const partial = (spec: unknown): BackupConfiguration => ({ metadata: { name: 'bc', namespace: 'ns' }, spec }) as BackupConfiguration;
  t.throws(() => retentionPolicyOf(partial({ sessions: [{ name: 'nightly' }, { name: 'weekly', repositories: [{ name: 'r', backend: 'b' }] }] }), 'nightly', 'r'), /ns\/bc has no backend "b" for repository r/, 'no backends at all');
  t.throws(() => retentionPolicyOf(partial({ backends: [{ name: 'b' }], sessions: [{ name: 'nightly', repositories: [{ name: 'r' }] }] }), 'nightly', 'r'), /has no backend "" for repository r/, 'a repository without backend');
  t.throws(() => retentionPolicyOf(partial({ backends: [{}], sessions: [{ name: 'nightly', repositories: [{ name: 'r' }] }] }), 'nightly', 'r'), /backend "" of BackupConfiguration ns\/bc has no retentionPolicy/, 'a backend without name matches a repository without backend');
  t.same(retentionPolicyOf({ spec: { backends: [{ name: 'b', retentionPolicy: { name: 'keep' } }], sessions: [{ name: 'nightly', repositories: [{ name: 'r', backend: 'b' }] }] } } as BackupConfiguration, undefined, 'r'), { name: 'keep', namespace: '' }, 'no namespace anywhere: empty');
});

t.test('restore targets: where it was, or the target path given (one path into it, several beneath it)', async (t) => {
  const rows: Array<[string, number, string | undefined, string]> = [
    ['/data', 1, undefined, '/data'],
    ['/data', 1, '', '/data'],
    ['/data', 1, '/kubestash-data', '/kubestash-data'],
    ['/data/db', 2, '/kubestash-data', '/kubestash-data/data/db'],
  ];
  for (const [recorded, count, targetPath, expected] of rows) t.equal(restoreTargetOf(recorded, count, targetPath), expected, `${recorded} x${count} -> ${targetPath ?? '(none)'}`);
});

t.test('isMountedPath: a mount path itself or anything beneath it', async (t) => {
  const map = { '/kubestash-data': '/host/pv', '/kubestash-tmp/': '/host/tmp' };
  t.equal(isMountedPath(map, '/kubestash-data'), true);
  t.equal(isMountedPath(map, '/kubestash-data/sub'), true);
  t.equal(isMountedPath(map, '/kubestash-tmp'), true);
  t.equal(isMountedPath(map, '/kubestash-database'), false, 'a common prefix is not a parent');
  t.equal(isMountedPath(map, '/data'), false);
  t.equal(isMountedPath({ '/': '/host' }, '/anything'), true);
});

import t from 'tap';
import {
  generateBackupSessionName,
  generateSnapshotName,
  validCronJobNameWithPrefix,
  validCronJobNameWithPrefixNSuffix,
  validCronJobNameWithSuffix,
  validNameWithPrefix,
  validNameWithPrefixNSuffix,
  validNameWithSuffix,
} from '../../src/domain/naming.js';

const long = (n: number, c = 'a'): string => c.repeat(n);

t.test('validNameWithPrefixNSuffix', async (t) => {
  t.equal(validNameWithPrefixNSuffix('p', 'n', 's'), 'p-n-s', 'short names are joined');
  t.equal(validNameWithPrefixNSuffix('p', 'n', ''), 'p-n', 'an empty suffix leaves no trailing dash');
  t.equal(validNameWithPrefixNSuffix('', 'n', 's'), 'n-s', 'an empty prefix leaves no leading dash');
  const exact = validNameWithPrefixNSuffix(long(30), long(30), 'x');
  t.equal(exact.length, 63, 'exactly 63 characters are kept whole');
  const out = `${long(40)}-${long(40, 'b')}-${long(10, 'c')}`;
  const shortened = validNameWithPrefixNSuffix(long(40), long(40, 'b'), long(10, 'c'));
  t.equal(shortened, out.slice(0, 32) + out.slice(out.length - 31), 'keeps first 32 and last 31');
  t.equal(shortened.length, 63);
  t.equal(validNameWithPrefixNSuffix(long(31), 'x', long(40, 'b')), long(31) + '-' + long(31, 'b'), 'dash at a cut point is kept inside');
  t.equal(validNameWithPrefixNSuffix(long(31) + '-', 'x', long(40)), (long(31) + '-' + long(31)), 'no leading/trailing dash');
  t.equal(validNameWithPrefixNSuffix(long(20), long(20), long(20), 20), long(10) + long(10), 'custom max: first 10 + last 10');
  t.equal(validNameWithPrefixNSuffix('a', long(30), 'b', 21).length, 21, 'odd max keeps (max+1)/2 + max/2');
});

t.test('validNameWithPrefix and validNameWithSuffix', async (t) => {
  t.equal(validNameWithPrefix('trigger', 'x'), 'trigger-x');
  t.equal(validNameWithPrefix('p', long(70)), 'p-' + long(61), 'cut at 63 from the start');
  t.equal(validNameWithPrefix('p', long(61) + '-b'), 'p-' + long(61), 'trailing dash at the cut is trimmed');
  t.equal(validNameWithSuffix('x', 'suffix'), 'x-suffix');
  t.equal(validNameWithSuffix(long(70), 's'), long(61) + '-s', 'keeps the last 63');
  t.equal(validNameWithSuffix('b-' + long(61), ''), long(61), 'leading dash at the cut is trimmed');
});

t.test('CronJob variants use 52 characters', async (t) => {
  const name = validCronJobNameWithPrefixNSuffix('trigger', long(40), long(20, 'b'));
  t.equal(name.length, 52);
  t.equal(name, `trigger-${long(18)}` + long(26, 'b').replace(/^b{26}$/, `${long(5)}-${long(20, 'b')}`), 'first 26 + last 26');
  t.equal(validCronJobNameWithPrefix('trigger', long(60)).length, 52);
  t.equal(validCronJobNameWithSuffix(long(60), 's').length, 52);
  t.equal(validCronJobNameWithPrefixNSuffix('trigger', 'bc', 'daily'), 'trigger-bc-daily');
});

t.test('generateSnapshotName', async (t) => {
  t.equal(
    generateSnapshotName('pvc-repo', 'persistentvolumeclaim-nfs-pvc-frequent-backup-1704779101'),
    'pvc-repo-persistentvolumeclaim-n-pvc-frequent-backup-1704779101',
    'the example verified against the KubeStash docs',
  );
  t.equal(generateSnapshotName('repo', 'bc-frequent-1704431400'), 'repo-bc-frequent-1704431400', 'short names are not shortened');
  t.equal(generateSnapshotName('repo', 'manual-backup'), 'repo-manual-backup', 'no numeric suffix: whole name, empty suffix');
  t.equal(generateSnapshotName('repo', 'session-12-abc'), 'repo-session-12-abc', 'digits not at the end are not a suffix');
});

t.test('generateBackupSessionName', async (t) => {
  t.equal(generateBackupSessionName('statefulset-sample-sts', 'frequent-backup', 1704431400), 'statefulset-sample-sts-frequent-backup-1704431400');
  t.equal(generateBackupSessionName('bc', 's', 1704431400.9), 'bc-s-1704431400', 'fractional seconds are dropped');
  const name = generateBackupSessionName(long(40), long(30, 'b'), 1704431400);
  t.equal(name.length, 63);
  t.ok(name.endsWith('-1704431400'), 'the timestamp survives shortening');
});

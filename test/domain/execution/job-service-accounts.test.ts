import t from 'tap';
import { jobServiceAccount, jobServiceAccountField } from '../../../src/domain/execution/job-service-accounts.js';

t.test('one row per case: the role account, else the fallback, else the namespace default', async (t) => {
  const rows: Array<[string, Parameters<typeof jobServiceAccount>[0], string | undefined]> = [
    ['nothing configured', {}, undefined],
    ['only the fallback', { serviceAccountName: 'runner' }, 'runner'],
    ['the role has its own', { serviceAccountName: 'runner', serviceAccounts: { backup: 'backer' } }, 'backer'],
    ['another role has its own', { serviceAccountName: 'runner', serviceAccounts: { restore: 'restorer' } }, 'runner'],
    ['the role is explicitly unset', { serviceAccountName: 'runner', serviceAccounts: { backup: undefined } }, 'runner'],
    ['role account without a fallback', { serviceAccounts: { backup: 'backer' } }, 'backer'],
  ];
  for (const [name, settings, expected] of rows) {
    t.equal(jobServiceAccount(settings, 'backup'), expected, name);
    t.same(jobServiceAccountField(settings, 'backup'), expected === undefined ? {} : { serviceAccountName: expected }, `${name} (field)`);
  }
});

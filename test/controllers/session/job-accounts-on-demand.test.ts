// A BackupSession in a namespace the install never listed: with per-role accounts configured (as the
// chart passes them), the controller creates the backup account and its RoleBinding before the Job;
// a foreign account of that name is left alone and reported; a manifest (kubedump) backup whose
// account is missing fails with the fixes named and creates no Job.
import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { eventually } from '../../helpers/control-plane.js';
import { backupSession, conditionOf, configuration, installAddons, NS, realPlanner, startHarness } from '../../helpers/session-harness.js';

const SA = { apiVersion: 'v1', kind: 'ServiceAccount' };
const RB = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' };
const ACCOUNTS = {
  backup: 'autostash-backup-job',
  restore: 'autostash-restore-job',
  kubedumpBackup: 'autostash-kubedump-backup-job',
  kubedumpRestore: 'autostash-kubedump-restore-job',
  maintenance: 'autostash-maintenance-job',
};
const CONTROLLER_OPTIONS = { planner: realPlanner(), serviceAccounts: ACCOUNTS, provisionedJobAccounts: ACCOUNTS };
const SLEEP = 'sleep 60';

const version = (object: KubeObject | undefined): number => Number(object?.metadata?.resourceVersion);
const accountOf = (job: KubeObject | undefined): unknown => (job?.spec as { template: { spec: { serviceAccountName?: string } } } | undefined)?.template.spec.serviceAccountName;

t.test('the backup account and its RoleBinding are created before the first Job; a second session changes nothing', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, SLEEP);
  await h.client.create(configuration({ retention: false }));
  await h.client.create(configuration({ name: 'web-backup-2', retention: false }));
  await h.start(CONTROLLER_OPTIONS);
  await h.client.create(backupSession('first'));
  const [job] = await eventually('the first Job', async () => {
    const jobs = await h.jobsOf('first');
    return jobs.length > 0 ? jobs : undefined;
  });
  t.equal(accountOf(job), 'autostash-backup-job');
  const account = await h.client.get({ ...SA, namespace: NS, name: 'autostash-backup-job' });
  const binding = await h.client.get({ ...RB, namespace: NS, name: 'autostash-backup-job' });
  t.match(account.metadata?.labels, { 'app.kubernetes.io/managed-by': 'autostash', 'app.kubernetes.io/component': 'job-account' });
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'autostash-backup-job' });
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'autostash-backup-job', namespace: NS }]);
  t.ok(version(account) < version(job) && version(binding) < version(job), 'account and binding were written before the Job');

  await h.client.create(backupSession('second', { configuration: 'web-backup-2' }));
  await eventually('the second Job', async () => ((await h.jobsOf('second')).length > 0 ? true : undefined));
  t.equal((await h.client.get({ ...SA, namespace: NS, name: 'autostash-backup-job' })).metadata?.resourceVersion, account.metadata?.resourceVersion, 'account unchanged');
  t.equal((await h.client.get({ ...RB, namespace: NS, name: 'autostash-backup-job' })).metadata?.resourceVersion, binding.metadata?.resourceVersion, 'binding unchanged');
  t.same((await h.client.list(RB, { namespace: NS })).items.map((o) => o.metadata?.name), ['autostash-backup-job'], 'no other binding');
});

t.test('a foreign ServiceAccount of the same name is not touched and is reported on the session', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, SLEEP);
  const foreign = await h.client.create<KubeObject>({ ...SA, metadata: { name: 'autostash-backup-job', namespace: NS, labels: { owner: 'team-a' } } });
  await h.client.create(configuration({ retention: false }));
  await h.start(CONTROLLER_OPTIONS);
  await h.client.create(backupSession('first'));
  await eventually('the Job', async () => ((await h.jobsOf('first')).length > 0 ? true : undefined));
  const warning = await eventually('the warning Event', async () => (await h.events('first')).find((event) => event.reason === 'JobServiceAccountNotManaged'));
  t.match(warning, { type: 'Warning', kind: 'BackupSession', message: /ServiceAccount demo\/autostash-backup-job exists and is not managed by autostash/ });
  const after = await h.client.get({ ...SA, namespace: NS, name: 'autostash-backup-job' });
  t.equal(after.metadata?.resourceVersion, foreign.metadata?.resourceVersion);
  t.same(after.metadata?.labels, { owner: 'team-a' });
  t.same((await h.client.list(RB, { namespace: NS })).items, [], 'the foreign account is not bound');
});

t.test('a manifest backup whose kubedump account is missing fails with the fixes named and creates no Job', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, SLEEP);
  await h.client.create(configuration({ retention: false, addon: 'kubedump-addon', task: 'manifest-backup' }));
  await h.start(CONTROLLER_OPTIONS);
  await h.client.create(backupSession('dump'));
  const failed = await h.phase('dump', 'Failed');
  t.match(conditionOf(failed, 'BackupExecutorEnsured'), {
    status: 'False',
    reason: 'JobServiceAccountMissing',
    message: /ServiceAccount demo\/autostash-kubedump-backup-job .*jobServiceAccounts\.namespaces.*jobTemplate\.spec\.serviceAccountName/,
  });
  t.same(await h.jobsOf('dump'), [], 'no Job');
  t.same(await h.snapshotsOf('dump'), [], 'no Snapshot either: the session failed before anything was made');
  t.notOk(await h.client.find({ ...SA, namespace: NS, name: 'autostash-kubedump-backup-job' }), 'the kubedump account is not created');
});

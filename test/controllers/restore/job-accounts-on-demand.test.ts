// A RestoreSession in a namespace the install never listed: the restore account and its RoleBinding
// are created before the restore Job; a manifest (kubedump) restore whose account is missing fails
// with the fixes named and creates no Job.
import t from 'tap';
import { eventually } from '../../helpers/control-plane.js';
import { createSnapshot, NS, restoreSession, RS_TYPE, snapshot, startHarness } from './harness.js';

const SA = { apiVersion: 'v1', kind: 'ServiceAccount' };
const RB = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' };
const ACCOUNTS = { backup: 'autostash-backup-job', restore: 'autostash-restore-job', kubedumpBackup: 'autostash-kubedump-backup-job', kubedumpRestore: 'autostash-kubedump-restore-job', maintenance: 'autostash-maintenance-job' };

t.test('volume restores get their account on demand; manifest restores without theirs fail before any Job', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-1'));
  await createSnapshot(h, snapshot('web-repo-2', { components: ['manifest'] }));
  await h.start({ serviceAccounts: ACCOUNTS, provisionedJobAccounts: ACCOUNTS });
  await h.client.create(restoreSession('into-pvc', { snapshot: 'web-repo-1' }));
  await h.client.create(restoreSession('manifests', { snapshot: 'web-repo-2', target: null, addon: 'kubedump-addon', task: 'manifest-restore' }));

  const [job] = await eventually('the volume restore Job', async () => {
    const jobs = await h.jobsOf('into-pvc');
    return jobs.length > 0 ? jobs : undefined;
  });
  const account = await h.client.get({ ...SA, namespace: NS, name: 'autostash-restore-job' });
  const binding = await h.client.get({ ...RB, namespace: NS, name: 'autostash-restore-job' });
  t.match(account.metadata?.labels, { 'app.kubernetes.io/component': 'job-account', 'autostash.dev/job-role': 'restore' });
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'autostash-restore-job' });
  t.ok(Number(binding.metadata?.resourceVersion) < Number(job?.metadata?.resourceVersion), 'bound before the Job was created');

  const failed = await eventually('the manifest restore to fail', async () => {
    const rs = await h.client.find({ ...RS_TYPE, namespace: NS, name: 'manifests' });
    const condition = (rs?.status as { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } | undefined)?.conditions?.find((c) => c.type === 'RestoreExecutorEnsured');
    return condition?.status === 'False' ? condition : undefined;
  });
  t.equal(failed.reason, 'JobServiceAccountMissing');
  t.match(failed.message, /ServiceAccount demo\/autostash-kubedump-restore-job .*jobServiceAccounts\.namespaces.*jobTemplate\.spec\.serviceAccountName/);
  t.same(await h.jobsOf('manifests'), [], 'no Job');
  t.notOk(await h.client.find({ ...SA, namespace: NS, name: 'autostash-kubedump-restore-job' }), 'the kubedump account is not created');
});

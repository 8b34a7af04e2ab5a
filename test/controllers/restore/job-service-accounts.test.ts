// Restore Jobs run as the restore role's ServiceAccount, manifest (kubedump) restores as the kubedump
// restore role's; both fall back to the single --job-service-account.
import t from 'tap';
import { eventually } from '../../helpers/control-plane.js';
import { createSnapshot, restoreSession, snapshot, startHarness } from './harness.js';

const accountsOf = (jobs: readonly object[]): unknown[] => jobs.map((job) => ((job as { spec?: unknown }).spec as { template: { spec: { serviceAccountName?: string } } }).template.spec.serviceAccountName);

t.test('volume and manifest restores pick their role accounts', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-1'));
  await createSnapshot(h, snapshot('web-repo-2', { components: ['manifest'] }));
  await h.start({ serviceAccountName: 'fallback', serviceAccounts: { restore: 'restorer', kubedumpRestore: 'undumper', backup: 'unused' } });
  await h.client.create(restoreSession('into-pvc', { snapshot: 'web-repo-1' }));
  await h.client.create(restoreSession('manifests', { snapshot: 'web-repo-2', target: null, addon: 'kubedump-addon', task: 'manifest-restore' }));

  const volumeJobs = await eventually('the volume restore Job', async () => {
    const jobs = await h.jobsOf('into-pvc');
    return jobs.length > 0 ? jobs : undefined;
  });
  t.same(accountsOf(volumeJobs), ['restorer']);
  const manifestJobs = await eventually('the manifest restore Job', async () => {
    const jobs = await h.jobsOf('manifests');
    return jobs.length > 0 ? jobs : undefined;
  });
  t.same(accountsOf(manifestJobs), ['undumper']);
});

t.test('a role without its own account uses the fallback', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.start({ serviceAccountName: 'fallback', serviceAccounts: { kubedumpRestore: 'undumper' } });
  await h.client.create(restoreSession('into-pvc', { snapshot: 'web-repo-1' }));
  const jobs = await eventually('the restore Job', async () => {
    const list = await h.jobsOf('into-pvc');
    return list.length > 0 ? list : undefined;
  });
  t.same(accountsOf(jobs), ['fallback']);
});

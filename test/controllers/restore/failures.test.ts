/**
 * How a restore ends when it does not succeed: a Job that fails before its executor reports, the
 * restoreTimeout passing (running Jobs deleted), and the RestoreSession deleted while it runs
 * (Jobs gone, backups resumed, finalizer released).
 */
import t from 'tap';
import { eventually } from '../../helpers/control-plane.js';
import { BS_TYPE, conditionOf, configuration, createSnapshot, JOB_TYPE, NS, restoreSession, RS_TYPE, snapshot, startHarness } from './harness.js';

const restored = { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'restored-data', namespace: NS };

t.test('a Job that fails without the executor reporting fails its component with the Job\'s message', async (t) => {
  const h = await startHarness(t, { job: { failWith: 'disk on fire' } });
  await h.client.create(configuration('restored-backup', restored));
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.start();
  await h.client.create(restoreSession('broken', { snapshot: 'web-repo-1' }));
  const failed = await h.phase('broken', 'Failed');
  const component = failed.status?.components?.dump;
  t.equal(component?.phase, 'Failed');
  t.match(component?.error, /^Job demo\/restore-broken-dump failed: BackoffLimitExceeded: .*disk on fire/s, `the Job's reason and output (${component?.error})`);
  t.match(conditionOf(failed, 'RestoreExecutorEnsured'), { status: 'True' });
  t.notOk((await h.configuration('restored-backup')).spec?.paused, 'backups resumed');
  const events = await eventually('the RestoreFailed event', async () => {
    const list = await h.events('broken');
    return list.some((e) => e.reason === 'RestoreFailed') ? list : undefined;
  });
  t.match(events.find((e) => e.reason === 'RestoreFailed'), { type: 'Warning', message: /disk on fire/ });
});

t.test('restoreTimeout: the deadline is in the status; when it passes the running Jobs go and the restore fails', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.start();
  await h.client.create(restoreSession('slow', { snapshot: 'web-repo-1', timeout: '4s' }));
  const running = await h.phase('slow', 'Running');
  const deadline = Date.parse(running.status?.restoreDeadline ?? '');
  t.equal(deadline - Date.parse(running.metadata?.creationTimestamp ?? ''), 4000, 'restoreDeadline = creation + restoreTimeout');
  t.equal((await h.jobsOf('slow')).length, 1);
  const failed = await h.phase('slow', 'Failed', 15_000);
  t.match(conditionOf(failed, 'RestoreIncomplete'), { status: 'True', reason: 'DeadlineExceeded', message: /did not finish within restoreTimeout 4s \(unfinished: dump\)/ });
  t.match(failed.status?.components?.dump, { phase: 'Failed', error: 'component dump did not finish within restoreTimeout 4s' });
  await eventually('the running Job to be deleted', async () => (await h.jobsOf('slow')).length === 0);
});

t.test('deleting a running RestoreSession deletes its Jobs and resumes the backups it paused', async (t) => {
  const h = await startHarness(t);
  await h.client.create(configuration('restored-backup', restored));
  await h.client.create(configuration('user-paused', restored, { paused: true }));
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.start();
  await h.client.create(restoreSession('doomed', { snapshot: 'web-repo-1' }));
  await h.phase('doomed', 'Running');
  t.equal((await h.configuration('restored-backup')).spec?.paused, true);
  t.equal((await h.jobsOf('doomed')).length, 1);

  await h.client.delete({ ...RS_TYPE, namespace: NS, name: 'doomed' });
  await eventually('the RestoreSession to be gone', async () => (await h.restore('doomed')) === undefined);
  const resumed = await h.configuration('restored-backup');
  t.notOk(resumed.spec?.paused, 'resumed');
  t.notOk(resumed.metadata?.annotations?.['autostash.dev/paused-by-restore'], 'unmarked');
  t.equal((await h.configuration('user-paused')).spec?.paused, true, 'the user\'s pause stays');
  await eventually('the Job to be gone', async () => (await h.client.find({ ...JOB_TYPE, namespace: NS, name: 'restore-doomed-dump' })) === undefined);
});

t.test('a Job that completes without the executor reporting, or that is deleted, fails its component', async (t) => {
  const h = await startHarness(t, { job: { succeedSilently: true } });
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.start();
  await h.client.create(restoreSession('silent', { snapshot: 'web-repo-1' }));
  const failed = await h.phase('silent', 'Failed');
  t.match(failed.status?.components?.dump, { phase: 'Failed', error: 'Job demo/restore-silent-dump completed without the executor reporting component dump' });
});

t.test('a restore Job deleted before its component finished fails the component', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.start();
  await h.client.create(restoreSession('orphaned', { snapshot: 'web-repo-1' }));
  await h.phase('orphaned', 'Running');
  await h.client.delete({ ...JOB_TYPE, namespace: NS, name: 'restore-orphaned-dump' }, { propagationPolicy: 'Background' });
  const failed = await h.phase('orphaned', 'Failed');
  t.match(failed.status?.components?.dump, { phase: 'Failed', error: 'the restore Job of component dump was deleted before the component finished' });
});

t.test('Jobs that cannot be built fail the restore with RestoreExecutorEnsured False, naming why', async (t) => {
  const h = await startHarness(t);
  await h.client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'stateless', namespace: NS },
    spec: { selector: { matchLabels: { app: 's' } }, template: { metadata: { labels: { app: 's' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  });
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.client.create(configuration('stateless-backup', { apiGroup: 'apps', kind: 'Deployment', name: 'stateless', namespace: NS }));
  await h.start();
  await h.client.create(restoreSession('nowhere', { snapshot: 'web-repo-1', addon: 'workload-addon', target: { apiGroup: 'apps', kind: 'Deployment', name: 'stateless', namespace: NS } }));
  const failed = await h.phase('nowhere', 'Failed');
  t.match(conditionOf(failed, 'RestoreExecutorEnsured'), { status: 'False', reason: 'FailedToEnsureRestoreExecutor', message: /spec.target: Deployment demo\/stateless mounts no volume autostash can restore into/ });
  t.same(await h.jobsOf('nowhere'), []);
  t.notOk((await h.configuration('stateless-backup')).spec?.paused, 'the pause made before is undone');
});

t.test('a running backup of the target holds the restore; restoreTimeout passing before the Jobs exist fails it without Jobs', async (t) => {
  const h = await startHarness(t);
  await h.client.create(configuration('restored-backup', restored));
  await h.client.create({
    ...BS_TYPE,
    metadata: { name: 'restored-backup-nightly-1', namespace: NS },
    spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'restored-backup' }, session: 'nightly' },
  });
  await createSnapshot(h, snapshot('web-repo-1'));
  await h.start();
  await h.client.create(restoreSession('held', { snapshot: 'web-repo-1', timeout: '2s' }));
  await eventually('the backups of the target to be paused', async () => (await h.configuration('restored-backup')).spec?.paused === true);
  const failed = await h.phase('held', 'Failed', 15_000);
  t.match(conditionOf(failed, 'RestoreExecutorEnsured'), { status: 'False', reason: 'DeadlineExceeded', message: 'restoreTimeout 2s passed before the restore Jobs were created' });
  t.match(conditionOf(failed, 'RestoreIncomplete'), { status: 'True', message: 'the restore did not finish within restoreTimeout 2s (unfinished: dump)' });
  t.same(await h.jobsOf('held'), [], 'no Job while the backup ran');
  t.notOk((await h.configuration('restored-backup')).spec?.paused, 'backups resumed');
  const event = await eventually('RestoreFailed', async () => (await h.events('held')).find((e) => e.reason === 'RestoreFailed'));
  t.match(event.message, /RestoreExecutorEnsured: restoreTimeout 2s passed before the restore Jobs were created/);
});

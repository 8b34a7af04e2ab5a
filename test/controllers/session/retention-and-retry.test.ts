/**
 * The end of a session beyond the common paths: a retention Job that cannot be planned, a retry whose
 * name is taken, an unparsable backupTimeout on a session created bare, and the manager-facing
 * factory with its defaults.
 */
import t from 'tap';
import { planBackup } from '../../../src/controllers/session/execution-planner.js';
import { eventually } from '../../helpers/control-plane.js';
import { backupSession, conditionOf, configuration, installAddons, NS, realPlanner, startHarness, succeededComponent, writeComponent } from '../../helpers/session-harness.js';

const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'web-data', namespace: NS }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } };

t.test('a retention Job that cannot be planned marks each repository FailedToApply with the reason and fails the session', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, 'sleep 60');
  await h.client.create(claim);
  await h.client.create(configuration());
  await h.start({
    planner: { planBackup, planRetention: () => ({ ok: false, reason: 'InvalidRetentionJob', message: 'spec.storage.local.mountPath: two local BackupStorages mount at /safe' }) },
  });
  const name = 'web-backup-nightly-1700000300';
  await h.client.create(backupSession(name));
  await h.phase(name, 'Running');
  await writeComponent(h, `web-repo-${name}`, 'dump', succeededComponent('dump', '1 KiB'));
  const failed = await h.phase(name, 'Failed');
  t.same(failed.status?.snapshots?.map((s) => s.phase), ['Succeeded'], 'the backup itself succeeded');
  t.match(conditionOf(failed, 'RetentionPolicyExecutorEnsured'), { status: 'False', reason: 'InvalidRetentionJob', message: /two local BackupStorages/ });
  t.match(failed.status?.retentionPolicy, [{ repository: 'web-repo', ref: { name: 'keep', namespace: NS }, phase: 'FailedToApply', error: /two local BackupStorages/ }]);
  t.notOk((await h.jobsOf(name)).some((job) => job.metadata?.labels?.['autostash.dev/job-component'] === 'retention-policy'), 'no retention Job');
});

t.test('a retry whose name is taken by another session takes the next second', async (t) => {
  const h = await startHarness(t, { readyRepositories: [] });
  // A clock well past the sessions' creation: prerequisites are overdue at once and the retry is due at once.
  const fixed = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
  const seconds = fixed.getTime() / 1000;
  await h.client.create(configuration({ retry: { maxRetry: 1 } }));
  // Someone else's session already has the name the retry would get.
  await h.client.create(backupSession(`web-backup-nightly-${seconds}`, { configuration: 'someone-else' }));
  await h.start({ planner: realPlanner(), now: () => fixed, prerequisitesTimeoutMs: 1000 });
  await h.client.create(backupSession('web-backup-nightly-1700000301', { retryLeft: 1 }));
  const failed = await h.phase('web-backup-nightly-1700000301', 'Failed');
  t.match(conditionOf(failed, 'PrerequisitesReady'), { reason: 'PrerequisitesNotReady', message: /Repository demo\/web-repo does not exist yet/ });
  t.equal(failed.status?.nextRetry, fixed.toISOString().replace('.000Z', 'Z'), 'no delay configured: due at the end');
  const retry = await eventually('the retry', async () => (await h.sessions()).find((bs) => bs.metadata?.annotations?.['autostash.dev/retry-of'] === 'web-backup-nightly-1700000301'));
  t.equal(retry.metadata?.name, `web-backup-nightly-${seconds + 1}`);
  t.equal(retry.spec?.retryLeft, 0);
  const taken = await h.session(`web-backup-nightly-${seconds}`);
  t.equal(taken?.spec?.invoker?.name, 'someone-else', 'the other session is left as it was');
  await eventually('retried to be recorded', async () => (await h.session('web-backup-nightly-1700000301'))?.status?.retried === true);
});

t.test('an unparsable backupTimeout on a bare session sets no deadline and fails at planning, naming the field', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, 'sleep 60');
  await h.client.create(claim);
  await h.client.create(configuration({ retention: false }));
  await h.start({ planner: realPlanner() });
  const name = 'web-backup-nightly-1700000302';
  await h.client.create(backupSession(name, { backupTimeout: 'soon' }));
  const failed = await h.phase(name, 'Failed');
  t.equal(failed.status?.backupDeadline, undefined, 'no deadline from an unparsable duration');
  t.match(conditionOf(failed, 'BackupExecutorEnsured'), { status: 'False', reason: 'InvalidBackupJob', message: /^spec\.sessions\[0\]: .*spec\.backupTimeout.*write a duration such as 30m/ });
  t.same(await h.jobsOf(name), []);
});

t.test('the manager-facing factory with only an image: its own registry, the system clock, the default bounds', async (t) => {
  const h = await startHarness(t);
  const { createSharedInformers } = await import('../../../src/controllers/informer.js');
  const { createEventRecorder } = await import('../../../src/controllers/event-recorder.js');
  const { backupSessionController } = await import('../../../src/controllers/session/controller.js');
  const { silentLogger } = await import('../../helpers/control-plane.js');
  const logger = silentLogger();
  const informers = createSharedInformers(h.client, { logger });
  const recorder = createEventRecorder({ client: h.client, logger });
  const controller = backupSessionController({ image: 'autostash:test' });
  const abort = new AbortController();
  informers.start();
  t.teardown(() => informers.stop());
  const running = controller.start({ client: h.client, informers, recorder, signal: abort.signal, logger });
  await h.client.create(configuration({ paused: true }));
  await h.client.create(backupSession('defaults-1'));
  const skipped = await h.phase('defaults-1', 'Skipped');
  const finishedAt = Date.parse(conditionOf(skipped, 'MetricsPushed')?.lastTransitionTime ?? '');
  t.ok(Math.abs(finishedAt - Date.now()) < 60_000, 'the system clock');
  abort.abort();
  await running;
  await recorder.flush();
});

/**
 * What happens before any Job: invoker checks, labels and owner of bare sessions, skips (paused,
 * concurrent), waiting for and giving up on prerequisites, retries, history, Events and metrics.
 */
import t, { type Test } from 'tap';
import type { ExecutionPlanner } from '../../../src/controllers/session/plan.js';
import { eventually } from '../../helpers/control-plane.js';
import { backupSession, BC_TYPE, BS_TYPE, conditionOf, configuration, NS, startHarness } from '../../helpers/session-harness.js';

/** These scenarios end before Jobs are planned; a plan asked for is a failure of the test. */
const unreachable = (t: Test): ExecutionPlanner => ({
  planBackup: () => {
    t.fail('planBackup was called');
    return { ok: false, reason: 'Unreachable', message: 'planBackup was called' };
  },
  planRetention: () => {
    t.fail('planRetention was called');
    return { ok: false, reason: 'Unreachable', message: 'planRetention was called' };
  },
});

t.test('an unknown invoker or session fails the session, naming what is missing', async (t) => {
  const h = await startHarness(t);
  await h.start({ planner: unreachable(t) });
  await h.client.create(backupSession('orphan-1', { configuration: 'nope' }));
  const orphan = await h.phase('orphan-1', 'Failed');
  t.match(conditionOf(orphan, 'InvokerFound'), { status: 'False', reason: 'InvokerNotFound', message: /BackupConfiguration demo\/nope \(spec.invoker\) not found/ });
  t.equal(conditionOf(orphan, 'MetricsPushed')?.status, 'True');
  t.match(orphan.status?.duration, /^\d/);

  await h.client.create(configuration());
  await h.client.create(backupSession('wrong-session-1', { session: 'weekly' }));
  const wrong = await h.phase('wrong-session-1', 'Failed');
  t.match(conditionOf(wrong, 'InvokerFound'), { status: 'False', reason: 'SessionNotFound', message: /has no session "weekly"/ });

  await h.client.create(backupSession('batch-1', { kind: 'BackupBatch' }));
  const batch = await h.phase('batch-1', 'Failed');
  t.match(conditionOf(batch, 'InvokerFound'), { reason: 'InvokerNotSupported' });

  const events = await eventually('the BackupFailed event', async () => {
    const list = await h.events('orphan-1');
    return list.some((e) => e.reason === 'BackupFailed') ? list : undefined;
  });
  t.match(events.find((e) => e.reason === 'BackupFailed'), { type: 'Warning', message: /failed after .*InvokerFound: BackupConfiguration demo\/nope/ });
  const text = await h.registry.getSingleMetricAsString('autostash_backup_sessions_total');
  t.match(text, /autostash_backup_sessions_total\{phase="Failed"\} 3/);
});

t.test('a paused configuration skips; the history keeps sessionHistoryLimit finished sessions', async (t) => {
  const h = await startHarness(t);
  await h.client.create(configuration({ paused: true, sessionHistoryLimit: 1 }));
  await h.start({ planner: unreachable(t) });
  await h.client.create(backupSession('bare-1'));
  const skipped = await h.phase('bare-1', 'Skipped');
  t.match(conditionOf(skipped, 'BackupSkipped'), { status: 'True', reason: 'PreRequisitesNotSatisfied', message: 'BackupConfiguration demo/web-backup is paused' });
  const bc = await h.client.get({ ...BC_TYPE, namespace: NS, name: 'web-backup' });
  t.match(skipped.metadata?.labels, { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': 'web-backup', 'kubestash.com/session-name': 'nightly' }, 'a bare session gets the labels');
  t.match(skipped.metadata?.ownerReferences, [{ kind: 'BackupConfiguration', name: 'web-backup', uid: bc.metadata?.uid, controller: true }], 'and an owner');

  await h.client.create(backupSession('bare-2'));
  await h.phase('bare-2', 'Skipped');
  await h.client.create(backupSession('bare-3'));
  await h.phase('bare-3', 'Skipped');
  // bare-3 finished last: it keeps the newest other finished one (bare-2) and deletes bare-1.
  await eventually('bare-1 to be deleted', async () => (await h.session('bare-1')) === undefined);
  t.ok(await h.session('bare-2'), 'the newest other finished session is kept');
  const third = await h.session('bare-3');
  t.match(conditionOf(third, 'SessionHistoryCleaned'), { status: 'True', message: /deleted 1/ });
  const events = await eventually('BackupSkipped events on the session and the configuration', async () => {
    const onSession = await h.events('bare-3');
    const onConfiguration = await h.events('web-backup');
    return onSession.some((e) => e.reason === 'BackupSkipped') && onConfiguration.some((e) => e.reason === 'BackupSkipped') ? onSession : undefined;
  });
  t.match(events.find((e) => e.reason === 'BackupSkipped'), { type: 'Normal', message: /was skipped .*paused/ });
  t.match(await h.registry.getSingleMetricAsString('autostash_backup_sessions_total'), /phase="Skipped"\} 3/);
});

t.test('a running session of the same configuration session skips the next one, unless concurrencyPolicy is Allow', async (t) => {
  const h = await startHarness(t, { readyRepositories: [] });
  await h.client.create(configuration());
  await h.start({ planner: unreachable(t), prerequisitesTimeoutMs: 60_000 });
  // The Repository does not exist: the first session waits for it, Pending.
  await h.client.create(backupSession('first-1'));
  const waiting = await eventually('the first session to wait for its repository', async () => {
    const bs = await h.session('first-1');
    return conditionOf(bs, 'PrerequisitesReady')?.reason === 'WaitingForPrerequisites' ? bs : undefined;
  });
  t.match(conditionOf(waiting, 'PrerequisitesReady')?.message, 'Repository demo/web-repo does not exist yet');
  t.equal(waiting.status?.phase, 'Pending');

  await h.client.create(backupSession('second-2'));
  const second = await h.phase('second-2', 'Skipped');
  t.match(conditionOf(second, 'BackupSkipped')?.message, /BackupSession demo\/first-1 of the same session is still pending \(concurrencyPolicy Forbid\)/);

  const bc = await h.client.get({ ...BC_TYPE, namespace: NS, name: 'web-backup' });
  await h.client.update({ ...bc, spec: configuration({ concurrencyPolicy: 'Allow' }).spec });
  await h.client.create(backupSession('third-3'));
  await eventually('the third session to wait as well, not skipped', async () => conditionOf(await h.session('third-3'), 'PrerequisitesReady')?.reason === 'WaitingForPrerequisites');
  t.notOk(conditionOf(await h.session('third-3'), 'BackupSkipped'));
});

t.test('prerequisites that do not come fail the session after the bound; a failed session with retries left is retried after the delay', async (t) => {
  const h = await startHarness(t, { readyRepositories: [] });
  await h.client.create(configuration({ retry: { maxRetry: 2, delay: '1s' } }));
  await h.client.create({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository', metadata: { name: 'web-repo', namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, path: '/demo/web-repo' } });
  await h.setStatus({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' }, 'web-repo', {
    phase: 'NotReady',
    conditions: [{ type: 'RepositoryInitialized', status: 'False', reason: 'RepositoryInitializationFailed', message: 'backend unreachable', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  });
  await h.start({ planner: unreachable(t), prerequisitesTimeoutMs: 500 });
  await h.client.create(backupSession('web-backup-nightly-1700000000', { retryLeft: 2 }));
  const failed = await h.phase('web-backup-nightly-1700000000', 'Failed');
  t.match(conditionOf(failed, 'PrerequisitesReady'), {
    status: 'False',
    reason: 'PrerequisitesNotReady',
    message: /gave up after .*Repository demo\/web-repo is not Ready \(RepositoryInitializationFailed: backend unreachable\)/,
  });
  t.ok(failed.status?.nextRetry, 'the retry time is in the status');
  const delay = Date.parse(failed.status?.nextRetry ?? '') - Date.parse(conditionOf(failed, 'MetricsPushed')?.lastTransitionTime ?? '');
  t.ok(delay >= 1000 && delay <= 2000, `nextRetry is the delay after the end (${delay} ms)`);

  const retry = await eventually('the retry session', async () =>
    (await h.sessions()).find((bs) => bs.metadata?.annotations?.['autostash.dev/retry-of'] === 'web-backup-nightly-1700000000'),
  );
  t.match(retry.metadata?.name, /^web-backup-nightly-\d+$/);
  t.match(retry.metadata?.annotations, { 'autostash.dev/triggered-by': 'retry' });
  t.match(retry.spec, { invoker: { kind: 'BackupConfiguration', name: 'web-backup' }, session: 'nightly', retryLeft: 1 });
  t.ok(Date.now() - Date.parse(failed.status?.nextRetry ?? '') >= -50, 'not created before nextRetry');
  await eventually('retried to be recorded', async () => (await h.session('web-backup-nightly-1700000000'))?.status?.retried === true);
  t.equal((await h.sessions()).filter((bs) => bs.metadata?.annotations?.['autostash.dev/retry-of'] === 'web-backup-nightly-1700000000').length, 1, 'exactly one retry');
  // The retry fails the same way (nothing changed) and is retried once more, then no more.
  const retryFailed = await h.phase(retry.metadata?.name as string, 'Failed');
  t.ok(retryFailed.status?.nextRetry);
  const last = await eventually('the last retry', async () => (await h.sessions()).find((bs) => bs.metadata?.annotations?.['autostash.dev/retry-of'] === retry.metadata?.name));
  t.equal(last.spec?.retryLeft, 0);
  const lastFailed = await h.phase(last.metadata?.name as string, 'Failed');
  t.equal(lastFailed.status?.nextRetry, undefined, 'no retries left: no retry');
  t.ok(BS_TYPE);
});

t.test('the manager-facing factory runs the controller until its term ends', async (t) => {
  const h = await startHarness(t);
  const { createSharedInformers } = await import('../../../src/controllers/informer.js');
  const { createEventRecorder } = await import('../../../src/controllers/event-recorder.js');
  const { backupSessionController } = await import('../../../src/controllers/session/controller.js');
  const { silentLogger } = await import('../../helpers/control-plane.js');
  const { Registry } = await import('prom-client');
  const logger = silentLogger();
  const informers = createSharedInformers(h.client, { logger });
  const recorder = createEventRecorder({ client: h.client, logger });
  const registry = new Registry();
  const controller = backupSessionController({ image: 'autostash:test', serviceAccountName: 'backup', registry, now: () => new Date(), prerequisitesTimeoutMs: 1000 });
  t.equal(controller.name, 'backup-session');
  const abort = new AbortController();
  informers.start();
  const running = controller.start({ client: h.client, informers, recorder, signal: abort.signal, logger });
  t.teardown(() => informers.stop());
  await h.client.create(configuration({ paused: true }));
  await h.client.create(backupSession('via-factory-1'));
  await h.phase('via-factory-1', 'Skipped');
  t.match(await registry.metrics(), /autostash_backup_sessions_total\{phase="Skipped"\} 1/);
  abort.abort();
  await running;
  await recorder.flush();
  t.pass('start() settled after the signal');
});

import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import type { KubeConfig } from '@kubernetes/client-node';
import type { BackupConfiguration, BackupSession } from '../../../src/api/core.js';
import { createEventRecorder } from '../../../src/controllers/event-recorder.js';
import { createSharedInformers } from '../../../src/controllers/informer.js';
import { schedulerController, type SchedulerController, type SchedulerTimer } from '../../../src/controllers/scheduler/scheduler-controller.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { generateBackupSessionName } from '../../../src/domain/naming.js';
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { eventually, silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';

const BC = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
const BS = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
const NS = 'demo';

/** A wall clock the test moves; timers fire when it passes them. */
function fakeClock(start: string) {
  let now = Date.parse(start);
  const timers = new Set<{ due: number; callback: () => void }>();
  return {
    now: () => new Date(now),
    setTimer: (callback: () => void, delayMs: number): SchedulerTimer => {
      const timer = { due: now + delayMs, callback };
      timers.add(timer);
      return { cancel: () => timers.delete(timer) };
    },
    /** Moves to `iso` and fires the timers due by then, earliest first. */
    advance(iso: string) {
      now = Date.parse(iso);
      for (;;) {
        const due = [...timers].filter((timer) => timer.due <= now).sort((a, b) => a.due - b.due)[0];
        if (due === undefined) return;
        timers.delete(due);
        due.callback();
      }
    },
    /** Due times of the pending timers. */
    pending: () => [...timers].map((timer) => new Date(timer.due).toISOString()),
  };
}

type Clock = ReturnType<typeof fakeClock>;

function configuration(name: string, session: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KubeObject {
  const { scheduler, ...rest } = session as { scheduler?: Record<string, unknown> };
  return {
    ...BC,
    metadata: { name, namespace: NS },
    spec: {
      backends: [{ name: 'gcs', storageRef: { name: 'gcs', namespace: NS } }],
      sessions: [
        {
          name: 'nightly',
          scheduler: { schedule: '0 * * * *', jobTemplate: {}, ...scheduler },
          repositories: [{ name: `${name}-repo`, backend: 'gcs', directory: `/demo/${name}`, encryptionSecret: { name: 'e', namespace: NS } }],
          addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup' }] },
          ...rest,
        },
      ],
      ...spec,
    },
  };
}

interface Instance {
  controller: SchedulerController;
  client: KubeClient;
  stop(): Promise<void>;
}

/** Starts a scheduler as the manager would for a term (own client, informers and recorder). */
async function startScheduler(t: Test, kubeConfig: KubeConfig, clock: Clock, options: { registry?: Registry; initialBackup?: boolean; fireConcurrency?: number; connectionWarmUpMs?: number } = {}): Promise<Instance> {
  const client = createKubeClient(kubeConfig);
  const logger = silentLogger();
  const informers = createSharedInformers(client, { logger });
  const recorder = createEventRecorder({ client, logger });
  const abort = new AbortController();
  const controller = schedulerController({
    now: clock.now,
    setTimer: clock.setTimer,
    registry: options.registry ?? new Registry(),
    initialBackup: options.initialBackup ?? false,
    ...(options.fireConcurrency !== undefined ? { fireConcurrency: options.fireConcurrency } : {}),
    // Off unless a test is about it: it adds a timer before every slot.
    connectionWarmUpMs: options.connectionWarmUpMs ?? 0,
  });
  informers.start();
  const running = controller.start({ client, informers, recorder, signal: abort.signal, logger });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    abort.abort();
    await running;
    await recorder.flush();
    await informers.stop();
    client.close();
  };
  t.teardown(stop);
  return { controller, client, stop };
}

async function setup(t: Test, start = '2025-01-01T10:15:00Z') {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const clock = fakeClock(start);
  const getConfiguration = (name: string) => client.get<BackupConfiguration>({ ...BC, namespace: NS, name });
  const sessionsOf = async (name: string) =>
    (await client.list<BackupSession>(BS, { namespace: NS, labelSelector: `kubestash.com/invoker-name=${name}` })).items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const statusOf = async (name: string) => (await getConfiguration(name)).status?.sessions?.[0];
  const events = async (reason: string) =>
    (await client.list(({ apiVersion: 'v1', kind: 'Event' }), { namespace: NS })).items.filter((event) => (event as { reason?: string }).reason === reason) as Array<KubeObject & { message: string; type: string; count?: number }>;
  return { kubeConfig, client, clock, getConfiguration, sessionsOf, statusOf, events };
}

const slotName = (configurationName: string, iso: string) => generateBackupSessionName(configurationName, 'nightly', Date.parse(iso) / 1000);

/** Waits until the scheduler holds `count` slots and has nothing queued. */
async function settled(instance: Instance, count: number) {
  await eventually(`${count} scheduled sessions`, () => instance.controller.scheduledCount() === count);
  await instance.controller.whenIdle();
}

t.test('a schedule fires on time: one BackupSession per slot, status follows, the delay is measured', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, statusOf } = await setup(t);
  const registry = new Registry();
  await client.create(configuration('web', { retryConfig: { maxRetry: 3 }, backupTimeout: '30m', scheduler: { concurrencyPolicy: 'Allow' } }));
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(scheduler, 1);
  const first = await eventually('the next schedule in status', async () => (await statusOf('web'))?.nextSchedule);
  t.equal(first, '2025-01-01T11:00:00Z');
  t.match((await statusOf('web'))?.conditions, [{ type: 'SchedulerEnsured', status: 'True', reason: 'SchedulerEnsured' }]);
  t.same(clock.pending(), ['2025-01-01T11:00:00.000Z'], 'one timer, for the slot');
  t.same(await sessionsOf('web'), [], 'nothing before the slot (initial backup off)');

  clock.advance('2025-01-01T10:59:59.000Z');
  await scheduler.controller.whenIdle();
  t.same(await sessionsOf('web'), [], 'nothing a second early');

  clock.advance('2025-01-01T11:00:00.250Z');
  const [created] = await eventually('the slot session', async () => {
    const sessions = await sessionsOf('web');
    return sessions.length > 0 && sessions;
  });
  t.equal(created?.metadata?.name, slotName('web', '2025-01-01T11:00:00Z'));
  t.same(created?.metadata?.labels, { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': 'web', 'kubestash.com/session-name': 'nightly', 'app.kubernetes.io/managed-by': 'autostash' });
  t.same(created?.metadata?.annotations, { 'autostash.dev/triggered-by': 'scheduler', 'autostash.dev/scheduled-at': '2025-01-01T11:00:00Z' });
  const owner = created?.metadata?.ownerReferences?.[0];
  t.match(owner, { kind: 'BackupConfiguration', name: 'web', controller: true, uid: (await client.get({ ...BC, namespace: NS, name: 'web' })).metadata?.uid });
  t.same(created?.spec, { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'web' }, session: 'nightly', retryLeft: 3, backupTimeout: '30m' });
  await eventually('the following slot in status', async () => (await statusOf('web'))?.nextSchedule === '2025-01-01T12:00:00Z');
  t.same(clock.pending(), ['2025-01-01T12:00:00.000Z']);
  const delay = ((await registry.getSingleMetric('autostash_schedule_delay_seconds')?.get())?.values ?? []) as Array<{ metricName?: string; value: number }>;
  t.equal(delay.find((value) => value.metricName === 'autostash_schedule_delay_seconds_count')?.value, 1, 'one delay observed');
  t.equal(delay.find((value) => value.metricName === 'autostash_schedule_delay_seconds_sum')?.value, 0.25, 'delay = create time - slot');

  clock.advance('2025-01-01T12:00:00Z');
  await eventually('the 12:00 session', async () => (await sessionsOf('web')).length === 2);

  // A change of schedule plans the new one from now; a status-only write plans nothing.
  const stored = await client.get<BackupConfiguration>({ ...BC, namespace: NS, name: 'web' });
  const sessions = stored.spec?.sessions ?? [];
  await client.update({ ...stored, spec: { ...stored.spec, sessions: [{ ...sessions[0], scheduler: { ...sessions[0]?.scheduler, schedule: 'CRON_TZ=Europe/Berlin 30 14 * * *' } }] } });
  await eventually('the new schedule in status', async () => (await statusOf('web'))?.nextSchedule === '2025-01-01T13:30:00Z');
  t.same(clock.pending(), ['2025-01-01T13:30:00.000Z'], 'the timer moved');
  t.equal((await sessionsOf('web')).length, 2, 'no session from changing the schedule');

  await client.delete({ ...BC, namespace: NS, name: 'web' });
  await eventually('the deleted configuration to leave the scheduler', () => scheduler.controller.scheduledCount() === 0);
  t.same(clock.pending(), [], 'no timer without schedules');
});

t.test('pause and suspend stop the schedule; resuming starts at the next slot without misses', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, statusOf, events } = await setup(t);
  const registry = new Registry();
  await client.create(configuration('web'));
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(scheduler, 1);
  await client.patch({ ...BC, namespace: NS, name: 'web' }, { type: 'merge', patch: { spec: { paused: true } } });
  await eventually('the paused status', async () => {
    const status = await statusOf('web');
    return status?.nextSchedule === undefined && status?.conditions?.[0]?.message?.includes('paused');
  });
  t.equal(scheduler.controller.scheduledCount(), 0, 'no slot held while paused');
  clock.advance('2025-01-01T13:20:00Z');
  await scheduler.controller.whenIdle();
  t.same(await sessionsOf('web'), [], 'no BackupSession while paused');

  await client.patch({ ...BC, namespace: NS, name: 'web' }, { type: 'merge', patch: { spec: { paused: false } } });
  await eventually('the resumed schedule', async () => (await statusOf('web'))?.nextSchedule === '2025-01-01T14:00:00Z');
  t.same(await sessionsOf('web'), [], 'resuming runs nothing at once');
  t.equal((await events('MissedSchedule')).length, 0, 'paused slots are not misses');

  const stored = await client.get<BackupConfiguration>({ ...BC, namespace: NS, name: 'web' });
  const session = stored.spec?.sessions?.[0];
  await client.update({ ...stored, spec: { ...stored.spec, sessions: [{ ...session, scheduler: { ...session?.scheduler, suspend: true } }] } });
  await eventually('the suspended status', async () => (await statusOf('web'))?.conditions?.[0]?.message?.includes('suspended'));
  clock.advance('2025-01-01T14:00:05Z');
  await scheduler.controller.whenIdle();
  t.same(await sessionsOf('web'), [], 'no BackupSession while the session scheduler is suspended');
});

t.test('after an outage the latest missed slot runs exactly once and the misses are counted', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, statusOf, events } = await setup(t, '2025-01-01T10:20:00Z');
  const registry = new Registry();
  const created = await client.create(configuration('web'));
  // The last leader planned 07:00 and went away: 07:00, 08:00, 09:00 and 10:00 passed unseen.
  await client.updateStatus({ ...created, status: { sessions: [{ name: 'nightly', nextSchedule: '2025-01-01T07:00:00Z', conditions: [] }] } });
  const first = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(first, 1);
  const sessions = await eventually('the catch-up session', async () => {
    const list = await sessionsOf('web');
    return list.length > 0 && list;
  });
  t.same(sessions.map((s) => s.metadata?.name), [slotName('web', '2025-01-01T10:00:00Z')], 'only the latest slot runs');
  t.equal(sessions[0]?.metadata?.annotations?.['autostash.dev/scheduled-at'], '2025-01-01T10:00:00Z');
  await eventually('the next schedule', async () => (await statusOf('web'))?.nextSchedule === '2025-01-01T11:00:00Z');
  const missed = (await registry.getSingleMetric('autostash_schedule_missed_total')?.get())?.values;
  t.same(missed?.map((value) => ({ labels: value.labels, value: value.value })), [{ labels: { namespace: NS, configuration: 'web', session: 'nightly' }, value: 3 }], 'three slots missed');
  const warning = await eventually('the MissedSchedule event', async () => (await events('MissedSchedule'))[0]);
  t.equal(warning.type, 'Warning');
  t.match(warning.message, /3 scheduled slot\(s\) since 2025-01-01T07:00:00Z were not run; running the latest, 2025-01-01T10:00:00Z, now/);

  // Another leader takes over at once: the stored status already says 11:00; nothing runs twice.
  await first.stop();
  const second = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(second, 1);
  t.equal((await sessionsOf('web')).length, 1, 'the slot ran once across the leader change');
});

t.test('a missed slot later than startingDeadlineSeconds is not run, only counted', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, events } = await setup(t, '2025-01-01T10:20:00Z');
  const registry = new Registry();
  const created = await client.create(configuration('web', { scheduler: { startingDeadlineSeconds: 300 } }));
  await client.updateStatus({ ...created, status: { sessions: [{ name: 'nightly', nextSchedule: '2025-01-01T09:00:00Z', conditions: [] }] } });
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(scheduler, 1);
  const warning = await eventually('the MissedSchedule event', async () => (await events('MissedSchedule'))[0]);
  t.match(warning.message, /2 scheduled slot\(s\) since 2025-01-01T09:00:00Z were not run; the latest is past startingDeadlineSeconds \(300s\)/);
  t.same(await sessionsOf('web'), [], 'nothing runs 20 minutes late with a 5 minute deadline');
  t.equal((await registry.getSingleMetric('autostash_schedule_missed_total')?.get())?.values[0]?.value, 2);
});

async function runningSession(client: KubeClient, configurationName: string, name: string): Promise<void> {
  const owner = await client.get({ ...BC, namespace: NS, name: configurationName });
  const created = await client.create<BackupSession>({
    ...BS,
    metadata: {
      name,
      namespace: NS,
      labels: { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': configurationName, 'kubestash.com/session-name': 'nightly' },
      ownerReferences: [{ apiVersion: BC.apiVersion, kind: BC.kind, name: configurationName, uid: owner.metadata?.uid as string, controller: true }],
    },
    spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: configurationName }, session: 'nightly' },
  } as BackupSession);
  await client.updateStatus({ ...created, status: { phase: 'Running' } });
}

t.test('concurrencyPolicy Forbid (and the default) skips a slot while a session runs; Allow runs alongside', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, events } = await setup(t);
  await client.create(configuration('forbid', { scheduler: { concurrencyPolicy: 'Forbid' } }));
  await client.create(configuration('default'));
  await client.create(configuration('allow', { scheduler: { concurrencyPolicy: 'Allow' } }));
  for (const name of ['forbid', 'default', 'allow']) await runningSession(client, name, `${name}-manual`);
  const scheduler = await startScheduler(t, kubeConfig, clock);
  await settled(scheduler, 3);
  await eventually('the running sessions in the cache', async () => (await sessionsOf('allow')).length === 1);
  clock.advance('2025-01-01T11:00:00Z');
  await eventually('the Allow session', async () => (await sessionsOf('allow')).length === 2);
  await eventually('two ScheduleSkipped events', async () => (await events('ScheduleSkipped')).length === 2);
  await scheduler.controller.whenIdle();
  t.same((await sessionsOf('forbid')).map((s) => s.metadata?.name), ['forbid-manual'], 'Forbid: skipped');
  t.same((await sessionsOf('default')).map((s) => s.metadata?.name), ['default-manual'], 'no policy: skipped (Forbid)');
  const messages = (await events('ScheduleSkipped')).map((event) => event.message).sort();
  t.match(messages[0], /slot 2025-01-01T11:00:00Z skipped because BackupSession default-manual is still running \(concurrencyPolicy Forbid\)/);

  // Once it finished, the next slot runs.
  const finished = await client.get<BackupSession>({ ...BS, namespace: NS, name: 'forbid-manual' });
  await client.updateStatus({ ...finished, status: { phase: 'Succeeded' } });
  await new Promise((resolve) => setTimeout(resolve, 100)); // the watch brings it to the cache
  clock.advance('2025-01-01T12:00:00Z');
  await eventually('the Forbid session after the running one ended', async () => (await sessionsOf('forbid')).some((s) => s.metadata?.name === slotName('forbid', '2025-01-01T12:00:00Z')));
});

t.test('concurrencyPolicy Replace deletes the running session and creates the new one', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, events } = await setup(t);
  await client.create(configuration('web', { scheduler: { concurrencyPolicy: 'Replace' } }));
  await runningSession(client, 'web', 'web-manual');
  const scheduler = await startScheduler(t, kubeConfig, clock);
  await settled(scheduler, 1);
  await new Promise((resolve) => setTimeout(resolve, 100));
  clock.advance('2025-01-01T11:00:00Z');
  await eventually('the replacement', async () => {
    const names = (await sessionsOf('web')).map((s) => s.metadata?.name);
    return names.length === 1 && names[0] === slotName('web', '2025-01-01T11:00:00Z');
  });
  t.match((await events('BackupSessionReplaced'))[0]?.message, /deleted running BackupSession web-manual for slot 2025-01-01T11:00:00Z/);
});

t.test('two schedulers on the same slot create one BackupSession', async (t) => {
  const { kubeConfig, client, clock, sessionsOf } = await setup(t);
  await client.create(configuration('web', { scheduler: { concurrencyPolicy: 'Allow' } }));
  const registry = new Registry();
  const one = await startScheduler(t, kubeConfig, clock, { registry });
  const two = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(one, 1);
  await settled(two, 1);
  t.same(clock.pending(), ['2025-01-01T11:00:00.000Z', '2025-01-01T11:00:00.000Z'], 'each holds the slot');
  clock.advance('2025-01-01T11:00:00Z');
  await one.controller.whenIdle();
  await two.controller.whenIdle();
  await eventually('both to have planned the next slot', () => clock.pending().length === 2 && clock.pending().every((due) => due === '2025-01-01T12:00:00.000Z'));
  t.same((await sessionsOf('web')).map((s) => s.metadata?.name), [slotName('web', '2025-01-01T11:00:00Z')], 'one session for the slot');
});

t.test('initial backup: one BackupSession per session at first sight, never twice', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, statusOf, events } = await setup(t);
  await client.create(configuration('web'));
  await client.create(configuration('paused', {}, { paused: true }));
  const first = await startScheduler(t, kubeConfig, clock, { initialBackup: true });
  const [initial] = await eventually('the initial session', async () => {
    const list = await sessionsOf('web');
    return list.length > 0 && list;
  });
  const bc = await client.get({ ...BC, namespace: NS, name: 'web' });
  t.equal(initial?.metadata?.name, generateBackupSessionName('web', 'nightly', Date.parse(bc.metadata?.creationTimestamp as string) / 1000), 'named after the configuration creation');
  t.same(initial?.metadata?.annotations, { 'autostash.dev/triggered-by': 'initial' });
  t.equal(initial?.spec?.retryLeft, 0);
  const condition = await eventually('InitialBackupTriggered', async () => (await statusOf('web'))?.conditions?.find((c) => c.type === 'InitialBackupTriggered'));
  t.match(condition, { status: 'True', reason: 'SuccessfullyTriggeredInitialBackup', message: `created BackupSession ${initial?.metadata?.name}` });
  t.ok((await events('InitialBackupTriggered')).length === 1, 'a Normal event says so');
  t.same(await sessionsOf('paused'), [], 'no initial backup for a paused configuration');

  await first.stop();
  // A new term (leader change): the condition is the memory.
  const second = await startScheduler(t, kubeConfig, clock, { initialBackup: true });
  await settled(second, 1);
  t.equal((await sessionsOf('web')).length, 1, 'still one initial session');

  // Condition lost (e.g. status wiped) but the session is there: AlreadyExists, condition set again, no second session.
  await second.stop();
  const stored = await client.get<BackupConfiguration>({ ...BC, namespace: NS, name: 'web' });
  await client.updateStatus({ ...stored, status: { sessions: [{ name: 'nightly', nextSchedule: '2025-01-01T11:00:00Z', conditions: [] }] } });
  const third = await startScheduler(t, kubeConfig, clock, { initialBackup: true });
  await settled(third, 1);
  await eventually('the condition written again', async () => (await statusOf('web'))?.conditions?.find((c) => c.type === 'InitialBackupTriggered')?.message === 'the initial BackupSession exists');
  t.equal((await sessionsOf('web')).length, 1, 'still one initial session');
});

t.test('an invalid schedule is reported in SchedulerEnsured and holds no slot', async (t) => {
  const { kubeConfig, client, clock, statusOf } = await setup(t);
  await client.create(configuration('web', { scheduler: { schedule: 'CRON_TZ=Mars/Olympus 0 2 * * *' } }));
  await client.create(configuration('ok'));
  const scheduler = await startScheduler(t, kubeConfig, clock);
  await settled(scheduler, 1);
  const condition = await eventually('SchedulerEnsured False', async () => (await statusOf('web'))?.conditions?.find((c) => c.type === 'SchedulerEnsured' && c.status === 'False'));
  t.equal(condition.reason, 'InvalidSchedule');
  t.equal(condition.message, 'spec.sessions[0].scheduler.schedule: unknown time zone "Mars/Olympus" in CRON_TZ=; use an IANA name such as Europe/Berlin or America/New_York');
  t.equal((await statusOf('web'))?.nextSchedule, undefined);
});

const metricValues = async (registry: Registry, name: string) => ((await registry.getSingleMetric(name)?.get())?.values ?? []) as Array<{ metricName?: string; value: number; labels: Record<string, string | number> }>;

t.test('a restart between creating a slot session and writing nextSchedule creates nothing and misses nothing', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, statusOf, events } = await setup(t, '2025-01-01T10:00:30Z');
  const registry = new Registry();
  await client.create(configuration('web', { scheduler: { concurrencyPolicy: 'Allow' } }));
  const stored = await client.get<BackupConfiguration>({ ...BC, namespace: NS, name: 'web' });
  // The last leader created the 10:00 session and died before recording 11:00: status still says 10:00.
  await client.updateStatus({ ...stored, status: { sessions: [{ name: 'nightly', nextSchedule: '2025-01-01T10:00:00Z', conditions: [] }] } });
  await client.create<BackupSession>({
    ...BS,
    metadata: {
      name: slotName('web', '2025-01-01T10:00:00Z'),
      namespace: NS,
      labels: { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': 'web', 'kubestash.com/session-name': 'nightly' },
      annotations: { 'autostash.dev/triggered-by': 'scheduler', 'autostash.dev/scheduled-at': '2025-01-01T10:00:00Z' },
    },
    spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'web' }, session: 'nightly' },
  } as BackupSession);
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(scheduler, 1);
  await eventually('the next schedule recorded', async () => (await statusOf('web'))?.nextSchedule === '2025-01-01T11:00:00Z');
  t.same((await sessionsOf('web')).map((s) => s.metadata?.name), [slotName('web', '2025-01-01T10:00:00Z')], 'the slot has its one session');
  t.same(await metricValues(registry, 'autostash_schedule_missed_total'), [], 'the slot that ran is not a miss');
  t.equal((await events('MissedSchedule')).length, 0);
  t.equal((await metricValues(registry, 'autostash_schedule_delay_seconds')).find((v) => v.metricName === 'autostash_schedule_delay_seconds_count')?.value, 0, 'no creation, no delay observed');
});

t.test('many configurations due at one slot: every session is created, statuses follow, the next slot is already planned', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, statusOf } = await setup(t);
  const registry = new Registry();
  const names = Array.from({ length: 12 }, (_, i) => `app-${i}`);
  for (const name of names) await client.create(configuration(name, { scheduler: { concurrencyPolicy: 'Allow' } }));
  // Three creates in flight at most: the backlog of due slots is worked off in order.
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry, fireConcurrency: 3 });
  await settled(scheduler, names.length);
  t.same(clock.pending(), ['2025-01-01T11:00:00.000Z'], 'one timer for all twelve');
  for (const slot of ['2025-01-01T11:00:00Z', '2025-01-01T12:00:00Z']) {
    clock.advance(slot);
    await scheduler.controller.whenIdle();
    for (const name of names) t.ok((await sessionsOf(name)).some((s) => s.metadata?.name === slotName(name, slot)), `${name}: the ${slot} session`);
  }
  const next = new Set(await Promise.all(names.map(async (name) => (await statusOf(name))?.nextSchedule)));
  t.same([...next], ['2025-01-01T13:00:00Z'], 'every status names the slot after the last one fired');
  t.same(clock.pending(), ['2025-01-01T13:00:00.000Z']);
  t.equal((await metricValues(registry, 'autostash_schedule_delay_seconds')).find((v) => v.metricName === 'autostash_schedule_delay_seconds_count')?.value, 24, 'a delay per created session');
});

t.test('a timer that fires after the following slot passed leaves the slot to the reconcile: latest runs, the rest is missed', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, events } = await setup(t);
  const registry = new Registry();
  await client.create(configuration('web', { scheduler: { concurrencyPolicy: 'Allow' } }));
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(scheduler, 1);
  // The process was frozen from 10:15 to 12:30: the 11:00 timer fires once, at 12:30.
  clock.advance('2025-01-01T12:30:00Z');
  await scheduler.controller.whenIdle();
  t.same((await sessionsOf('web')).map((s) => s.metadata?.name), [slotName('web', '2025-01-01T12:00:00Z')], 'only the latest slot runs');
  t.equal((await metricValues(registry, 'autostash_schedule_missed_total'))[0]?.value, 1, '11:00 counted as missed');
  await eventually('the MissedSchedule event', async () => (await events('MissedSchedule')).length === 1);
  t.same(clock.pending(), ['2025-01-01T13:00:00.000Z']);
});

t.test('connection warm-up: a timer shortly before the slot opens connections, then the slot fires', async (t) => {
  const { kubeConfig, client, clock, sessionsOf } = await setup(t);
  for (const name of ['web', 'db']) await client.create(configuration(name, { scheduler: { concurrencyPolicy: 'Allow' } }));
  const scheduler = await startScheduler(t, kubeConfig, clock, { connectionWarmUpMs: 2000 });
  await settled(scheduler, 2);
  t.same(clock.pending(), ['2025-01-01T10:59:58.000Z'], 'the warm-up timer comes first');
  clock.advance('2025-01-01T10:59:58.500Z');
  t.same(clock.pending(), ['2025-01-01T11:00:00.000Z'], 'then the slot itself');
  await scheduler.controller.whenIdle();
  t.same(await sessionsOf('web'), [], 'warming up creates nothing');
  clock.advance('2025-01-01T11:00:00Z');
  await scheduler.controller.whenIdle();
  for (const name of ['web', 'db']) t.same((await sessionsOf(name)).map((s) => s.metadata?.name), [slotName(name, '2025-01-01T11:00:00Z')]);
  t.same(clock.pending(), ['2025-01-01T11:59:58.000Z'], 'the next warm-up');
});

/** A validating webhook on BackupSession creates that nothing answers: with failurePolicy Fail the API server refuses every create. */
const refuseBackupSessionCreates = (client: KubeClient) =>
  client.create({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'refuse-backupsessions' },
    webhooks: [
      {
        name: 'refuse.backupsessions.test',
        // Port 1 on loopback: the call fails at once (connection refused).
        clientConfig: { url: 'https://127.0.0.1:1/validate' },
        rules: [{ apiGroups: ['core.kubestash.com'], apiVersions: ['*'], resources: ['backupsessions'], operations: ['CREATE'] }],
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 1,
      },
    ],
  } as KubeObject);

t.test('a slot whose create is refused is retried through the reconcile until it succeeds, once, for that slot', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, statusOf } = await setup(t);
  await client.create(configuration('web', { scheduler: { concurrencyPolicy: 'Allow' } }));
  const scheduler = await startScheduler(t, kubeConfig, clock);
  await settled(scheduler, 1);
  await eventually('the next schedule in status', async () => (await statusOf('web'))?.nextSchedule === '2025-01-01T11:00:00Z');
  await refuseBackupSessionCreates(client);
  // The refusal itself, so the test proves the create really fails while the webhook is there.
  const refused = await client.create({ ...BS, metadata: { name: 'probe', namespace: NS }, spec: {} } as KubeObject).then(
    () => undefined,
    (error: unknown) => error,
  );
  t.ok(refused, 'the API server refuses BackupSession creates');

  clock.advance('2025-01-01T11:00:00Z');
  // The fire path fails, hands the slot to the reconcile, whose creates fail too and are retried with backoff.
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.same(await sessionsOf('web'), [], 'nothing created while refused');

  await client.delete({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', name: 'refuse-backupsessions' });
  await eventually('the slot session after the refusal ended', async () => (await sessionsOf('web')).length > 0, 10_000);
  await scheduler.controller.whenIdle();
  t.same((await sessionsOf('web')).map((s) => s.metadata?.name), [slotName('web', '2025-01-01T11:00:00Z')], 'the refused slot, once');
  await eventually('the following slot in status', async () => (await statusOf('web'))?.nextSchedule === '2025-01-01T12:00:00Z');
  t.same(clock.pending(), ['2025-01-01T12:00:00.000Z'], 'the timer is on the following slot');

  // And the schedule goes on from there on the fast path.
  clock.advance('2025-01-01T12:00:00Z');
  await eventually('the next slot session', async () => (await sessionsOf('web')).length === 2);
});

t.test('two schedulers replacing the same running session create the slot session once and both plan the next slot', async (t) => {
  const { kubeConfig, client, clock, sessionsOf } = await setup(t);
  await client.create(configuration('web', { scheduler: { concurrencyPolicy: 'Replace' } }));
  await runningSession(client, 'web', 'web-manual');
  const registry = new Registry();
  const one = await startScheduler(t, kubeConfig, clock, { registry });
  const two = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(one, 1);
  await settled(two, 1);
  await new Promise((resolve) => setTimeout(resolve, 100)); // the running session reaches both caches
  // Both fire at once and both see web-manual running: their deletes and creates overlap.
  clock.advance('2025-01-01T11:00:00Z');
  await one.controller.whenIdle();
  await two.controller.whenIdle();
  await eventually('the replacement alone', async () => {
    const names = (await sessionsOf('web')).map((s) => s.metadata?.name);
    return names.length === 1 && names[0] === slotName('web', '2025-01-01T11:00:00Z');
  });
  await eventually('both to have planned the next slot', () => clock.pending().length === 2 && clock.pending().every((due) => due === '2025-01-01T12:00:00.000Z'));
});

t.test('an outage longer than the missed-slot count limit reports the count as a lower bound', async (t) => {
  const { kubeConfig, client, clock, sessionsOf, events } = await setup(t, '2025-01-01T10:20:30Z');
  const registry = new Registry();
  const created = await client.create(configuration('web', { scheduler: { schedule: '* * * * *' } }));
  // The last leader planned 2024-12-30T00:00 and went away: about 3500 every-minute slots passed unseen.
  await client.updateStatus({ ...created, status: { sessions: [{ name: 'nightly', nextSchedule: '2024-12-30T00:00:00Z', conditions: [] }] } });
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry });
  await settled(scheduler, 1);
  const warning = await eventually('the MissedSchedule event', async () => (await events('MissedSchedule'))[0]);
  // The walk stops counting at MISSED_COUNT_LIMIT due slots; one of them (the latest) runs.
  t.match(warning.message, /999 or more scheduled slot\(s\) since 2024-12-30T00:00:00Z were not run; running the latest, 2025-01-01T10:20:00Z, now/);
  const missed = (await registry.getSingleMetric('autostash_schedule_missed_total')?.get())?.values;
  t.equal(missed?.[0]?.value, 999, 'the metric counts the lower bound');
  t.same((await sessionsOf('web')).map((s) => s.metadata?.name), [slotName('web', '2025-01-01T10:20:00Z')], 'only the latest slot runs');
});

t.test('with default options: the real clock plans the next slot, the initial backup is created', async (t) => {
  const { kubeConfig, client, sessionsOf, statusOf } = await setup(t);
  await client.create(configuration('web', { scheduler: { schedule: '0 0 1 1 *' } }));
  const schedulerClient = createKubeClient(kubeConfig);
  const logger = silentLogger();
  const informers = createSharedInformers(schedulerClient, { logger });
  const recorder = createEventRecorder({ client: schedulerClient, logger });
  const abort = new AbortController();
  const controller = schedulerController();
  t.equal(controller.scheduledCount(), 0, 'nothing scheduled before start');
  await controller.whenIdle(); // resolves before start
  informers.start();
  const running = controller.start({ client: schedulerClient, informers, recorder, signal: abort.signal, logger });
  t.teardown(async () => {
    abort.abort();
    await running;
    await recorder.flush();
    await informers.stop();
    schedulerClient.close();
  });
  await eventually('one scheduled session', () => controller.scheduledCount() === 1);
  await controller.whenIdle();
  const initial = await eventually('the initial session', async () => {
    const list = await sessionsOf('web');
    return list.length > 0 && list;
  });
  t.equal(initial.length, 1);
  t.equal(initial[0]?.metadata?.annotations?.['autostash.dev/triggered-by'], 'initial');
  const status = await eventually('the status', async () => {
    const stored = await statusOf('web');
    return stored?.nextSchedule !== undefined && stored;
  });
  const next = Date.parse(status.nextSchedule as string);
  t.equal(new Date(next).toISOString().slice(4), '-01-01T00:00:00.000Z', 'the yearly slot');
  t.ok(next > Date.now() && next - Date.now() <= 366 * 24 * 3600 * 1000, 'the next one after the real now');
  abort.abort();
  await running;
  t.equal(controller.scheduledCount(), 0, 'nothing scheduled after the term');
});

t.test('a slot that comes due while the previous backlog is still being fired queues behind it; the late ones go to the reconcile', async (t) => {
  const { kubeConfig, client, clock, sessionsOf } = await setup(t);
  const registry = new Registry();
  for (const name of ['app-a', 'app-b']) await client.create(configuration(name, { scheduler: { concurrencyPolicy: 'Allow' } }));
  // One create in flight: at 11:00 app-a fires, app-b waits in the backlog.
  const scheduler = await startScheduler(t, kubeConfig, clock, { registry, fireConcurrency: 1 });
  await settled(scheduler, 2);
  clock.advance('2025-01-01T11:00:00Z');
  // Before app-a's create returns, the clock reaches 12:00: app-a's 12:00 slot joins the backlog.
  clock.advance('2025-01-01T12:00:00Z');
  await scheduler.controller.whenIdle();
  t.same((await sessionsOf('app-a')).map((s) => s.metadata?.name), [slotName('app-a', '2025-01-01T11:00:00Z'), slotName('app-a', '2025-01-01T12:00:00Z')].sort(), 'app-a: both slots');
  t.same((await sessionsOf('app-b')).map((s) => s.metadata?.name), [slotName('app-b', '2025-01-01T12:00:00Z')], 'app-b: fired after 12:00 passed, only the latest runs');
  t.equal((await metricValues(registry, 'autostash_schedule_missed_total')).find((v) => v.labels.configuration === 'app-b')?.value, 1, 'app-b: 11:00 missed');
  t.same(clock.pending(), ['2025-01-01T13:00:00.000Z']);
});

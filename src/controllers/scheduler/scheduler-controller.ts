/**
 * Creates BackupSessions on the schedules of BackupConfiguration sessions, inside the leader-elected
 * controller (issue 5; SPEC §4.1, §8.1 step 4 — KubeStash uses one CronJob per session, autostash
 * holds the schedules itself).
 *
 * One timer for the earliest slot of all sessions (a min-heap of due times): between slots nothing
 * runs, however many configurations there are. Two paths create BackupSessions, both under a name
 * derived from the slot, so a slot yields at most one session even when two leaders overlap or a
 * process dies between creating it and recording it (AlreadyExists = done):
 * - the fire path, for a due slot that is exactly the one planned (its following slot precomputed,
 *   nothing missed, spec unchanged): concurrencyPolicy, then create — no cron arithmetic and no
 *   status write on the way, up to {@link FIRE_CONCURRENCY} creates in flight;
 * - the reconcile (work queue), for everything else: first sight, spec changes, catch-up after
 *   downtime (slotDecision, startingDeadlineSeconds), pause and suspend, the initial backup, and any
 *   slot the fire path declines or fails.
 * `status.sessions[]` (nextSchedule, SchedulerEnsured, InitialBackupTriggered, nothing else) is
 * written afterwards by a lower-priority queue: one write per configuration however many of its slots
 * passed meanwhile (a later slot supersedes an unwritten one), none while creates are in flight. That
 * queue also precomputes each session's following slot for the fire path.
 */
import { isDeepStrictEqual } from 'node:util';
import { Registry } from 'prom-client';
import type { BackupConfiguration, BackupSession, Session, SessionStatus } from '../../api/core.js';
import { INVOKER_KIND_LABEL, INVOKER_NAME_LABEL, SESSION_NAME_LABEL } from '../../domain/execution/labels.js';
import { generateBackupSessionName } from '../../domain/naming.js';
import {
  buildBackupSession,
  buildSessionStatuses,
  concurrencyDecision,
  effectiveConcurrencyPolicy,
  findCondition,
  formatTimestamp,
  isTerminalSessionPhase,
  nextSlot,
  parseSchedule,
  SchedulerConditions,
  sessionStatusesEqual,
  slotDecision,
  type ParseScheduleResult,
  type Schedule,
  type SessionScheduleState,
} from '../../domain/schedule/index.js';
import { isAlreadyExists, isConflict, isNotFound, type ResourceInfo } from '../../kube/client.js';
import type { Controller, ControllerContext } from '../manager.js';
import { createWorkQueue } from '../work-queue.js';
import { schedulerMetrics } from './metrics.js';
import { SlotHeap } from './slot-heap.js';

/** A pending timer; cancel() is safe after it fired. */
export interface SchedulerTimer {
  cancel(): void;
}

export interface SchedulerControllerOptions {
  /** The wall clock (slots are wall-clock instants). Default `() => new Date()`. */
  now?: () => Date;
  /** Calls `callback` after `delayMs`. Default setTimeout. Tests pass a fake clock's. */
  setTimer?: (callback: () => void, delayMs: number) => SchedulerTimer;
  /** Where `autostash_schedule_missed_total` and `autostash_schedule_delay_seconds` go. Default a private registry. */
  registry?: Registry;
  /** Create one BackupSession per session as soon as a configuration is first seen (KubeStash does). Default true. */
  initialBackup?: boolean;
  /** Configurations reconciled at once (each mostly waits on the API server). Default 16. */
  concurrency?: number;
  /** BackupSession creates in flight on the fire path. Default {@link FIRE_CONCURRENCY}. */
  fireConcurrency?: number;
  /**
   * This long before a slot, open as many connections to the API server as creates will be in flight
   * (cheap GETs). The client's keep-alive sockets close after 30 s idle, so at a minute boundary every
   * create would otherwise wait for its own TLS handshake, all at once. Default
   * {@link CONNECTION_WARM_UP_MS}; 0 turns it off (one timer per slot instead of two).
   */
  connectionWarmUpMs?: number;
}

/** The scheduler as the manager runs it, plus what tests and benchmarks wait on. */
export interface SchedulerController extends Controller {
  /** Resolves when no slot is being fired, no configuration is queued or being reconciled and no status write is pending in the current term (timers may be pending). */
  whenIdle(): Promise<void>;
  /** Sessions holding a slot in the current term. */
  scheduledCount(): number;
}

export const BACKUP_CONFIGURATION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
export const BACKUP_SESSION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
const BACKUP_CONFIGURATION_RESOURCE: ResourceInfo = { plural: 'backupconfigurations', namespaced: true };
const BACKUP_SESSION_RESOURCE: ResourceInfo = { plural: 'backupsessions', namespaced: true };
/** BackupSessions by `<namespace>/<configuration>/<session>` (KubeStash's invoker and session labels). */
const BY_CONFIGURATION_SESSION = 'scheduler/configuration-session';
/** setTimeout's longest delay; a later slot is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const STATUS_WRITE_ATTEMPTS = 5;
/**
 * Creates in flight when many slots are due at once: enough to keep the keep-alive connections to the
 * API server busy, few enough that one boundary does not queue thousands of requests in the socket pool.
 */
export const FIRE_CONCURRENCY = 32;
export const CONNECTION_WARM_UP_MS = 2000;
/** Status writes at once: they only record what already happened, so they get a small share. */
const STATUS_CONCURRENCY = 4;

const defaultSetTimer = (callback: () => void, delayMs: number): SchedulerTimer => {
  const handle = setTimeout(callback, delayMs);
  return { cancel: () => clearTimeout(handle) };
};

const sessionIndexKey = (namespace: string, configuration: string, session: string): string => `${namespace}/${configuration}/${session}`;

const sessionsOfConfiguration = (session: BackupSession): readonly string[] => {
  const labels = session.metadata?.labels;
  if (labels?.[INVOKER_KIND_LABEL] !== 'BackupConfiguration') return [];
  const configuration = labels[INVOKER_NAME_LABEL];
  const sessionName = labels[SESSION_NAME_LABEL];
  return configuration && sessionName !== undefined ? [sessionIndexKey(session.metadata?.namespace ?? '', configuration, sessionName)] : [];
};

/** What the scheduler remembers of a session during a term. */
interface SessionState {
  /** The schedule text the due time was computed from, and its parse (kept: parsing costs). */
  text: string;
  schedule: Schedule;
  /** The slot planned next (epoch ms); undefined while paused or suspended. */
  due?: number;
  /** The slot after `due` (epoch ms), computed off the hot path; undefined until then. */
  following?: number;
}

interface ConfigurationState {
  uid: string;
  sessions: Map<string, SessionState>;
  /** Sessions whose initial BackupSession exists (the condition may not have reached the cache yet). */
  initialDone: Set<string>;
  /** What status.sessions[] should say, from the last reconcile and the slots fired since; undefined before the first reconcile. */
  results?: SessionScheduleState[];
}

/** The scheduler controller; create it once per process and give it to the manager. */
export function schedulerController(options: SchedulerControllerOptions = {}): SchedulerController {
  const clock = options.now ?? (() => new Date());
  const setTimer = options.setTimer ?? defaultSetTimer;
  const initialBackup = options.initialBackup ?? true;
  const metrics = schedulerMetrics(options.registry ?? new Registry());
  const fireConcurrency = Math.max(1, options.fireConcurrency ?? FIRE_CONCURRENCY);
  const warmUpMs = Math.max(0, options.connectionWarmUpMs ?? CONNECTION_WARM_UP_MS);
  let term: { whenIdle: () => Promise<void>; heap: SlotHeap } | undefined;

  async function start(context: ControllerContext): Promise<void> {
    const { client, informers, recorder, signal, logger } = context;
    client.registerResource(BACKUP_CONFIGURATION_TYPE, BACKUP_CONFIGURATION_RESOURCE);
    client.registerResource(BACKUP_SESSION_TYPE, BACKUP_SESSION_RESOURCE);
    const configurations = informers.informerFor<BackupConfiguration>(BACKUP_CONFIGURATION_TYPE, { resource: BACKUP_CONFIGURATION_RESOURCE });
    const backupSessions = informers.informerFor<BackupSession>(BACKUP_SESSION_TYPE, { resource: BACKUP_SESSION_RESOURCE });
    backupSessions.addIndex(BY_CONFIGURATION_SESSION, sessionsOfConfiguration);

    const heap = new SlotHeap();
    const states = new Map<string, ConfigurationState>();
    const reconciling = new Set<string>();
    const queue = createWorkQueue((key) => reconcile(key), { name: 'scheduler', concurrency: options.concurrency ?? 16, logger });
    const statusQueue = createWorkQueue((key) => recordStatus(key), { name: 'scheduler-status', concurrency: STATUS_CONCURRENCY, logger });
    // Slots popped from the heap and not yet fired, in due order; `fireHead` is the next one.
    let fireBacklog: string[] = [];
    let fireHead = 0;
    let firesInFlight = 0;
    let fireWaiters: Array<() => void> = [];
    const firesDone = (): boolean => firesInFlight === 0 && fireHead >= fireBacklog.length;
    const whenFiresDone = (): Promise<void> => (firesDone() ? Promise.resolve() : new Promise((resolve) => fireWaiters.push(resolve)));
    const whenIdle = async (): Promise<void> => {
      // Each stage can feed the others (a declined fire queues a reconcile, a reconcile a status write).
      for (;;) {
        await whenFiresDone();
        await queue.whenIdle();
        await statusQueue.whenIdle();
        const queued = queue.stats();
        const status = statusQueue.stats();
        if (firesDone() && queued.queued + queued.processing === 0 && status.queued + status.processing === 0) return;
      }
    };
    term = { whenIdle, heap };
    let timer: SchedulerTimer | undefined;
    let timerDue: number | undefined;
    /** The slot whose connections were warmed up (see connectionWarmUpMs). */
    let warmedFor: number | undefined;

    /** Keeps the one timer on the earliest due slot, or on its warm-up just before. */
    const arm = (): void => {
      if (signal.aborted) return;
      const top = heap.peek();
      const at = top !== undefined && warmUpMs > 0 && warmedFor !== top ? top - warmUpMs : top;
      if (at === timerDue && timer !== undefined) return;
      timer?.cancel();
      timer = undefined;
      timerDue = at;
      if (at === undefined) return;
      timer = setTimer(onTimer, Math.min(MAX_TIMER_MS, Math.max(0, at - clock().getTime())));
    };
    const onTimer = (): void => {
      timer = undefined;
      timerDue = undefined;
      const now = clock().getTime();
      const top = heap.peek();
      if (top !== undefined && top > now) {
        // Early: a warm-up, or a step of a delay longer than setTimeout takes.
        if (warmUpMs > 0 && warmedFor !== top && top - now <= warmUpMs) {
          warmedFor = top;
          warmConnections(top);
        }
        arm();
        return;
      }
      const due = heap.popDue(now);
      if (fireHead >= fireBacklog.length) {
        fireBacklog = due;
        fireHead = 0;
      } else {
        fireBacklog.push(...due);
      }
      pumpFires();
      arm();
    };

    /** One cheap GET per create that will be in flight at `slot`, all at once: each opens (or keeps) a keep-alive connection. */
    const warmConnections = (slot: number): void => {
      const connections = Math.min(fireConcurrency, heap.countDueAt(slot));
      const [namespace = '', name = ''] = configurationKeyOf(heap.firstDueAt(slot) ?? '').split('/');
      for (let i = 0; i < connections; i++) {
        client.find({ ...BACKUP_CONFIGURATION_TYPE, namespace, name }, { signal }).catch((error: unknown) => {
          if (!signal.aborted) logger.debug({ err: error }, 'connection warm-up request failed');
        });
      }
    };

    const pumpFires = (): void => {
      while (firesInFlight < fireConcurrency && fireHead < fireBacklog.length && !signal.aborted) {
        const key = fireBacklog[fireHead++] as string;
        firesInFlight += 1;
        void fire(key).finally(() => {
          firesInFlight -= 1;
          pumpFires();
          if (!firesDone()) return;
          fireBacklog = [];
          fireHead = 0;
          const waiters = fireWaiters;
          fireWaiters = [];
          for (const resolve of waiters) resolve();
        });
      }
    };

    /**
     * The fast path of a due slot (see the module comment). Declines — hands the configuration to the
     * reconcile — whenever anything but "the planned slot, on time" is the case: the reconcile decides
     * those with slotDecision from the slot still recorded as due.
     */
    async function fire(key: string): Promise<void> {
      const configurationKey = configurationKeyOf(key);
      const sessionName = key.slice(configurationKey.length + 1);
      const [namespace = '', name = ''] = configurationKey.split('/');
      const state = states.get(configurationKey);
      const known = state?.sessions.get(sessionName);
      const configuration = configurations.get(namespace, name);
      const session = configuration?.spec?.sessions?.find((candidate) => (candidate.name ?? '') === sessionName);
      const slot = known?.due;
      const following = known?.following;
      const onTime =
        state !== undefined &&
        known !== undefined &&
        slot !== undefined &&
        following !== undefined &&
        following > clock().getTime() &&
        configuration !== undefined &&
        configuration.metadata?.uid === state.uid &&
        configuration.metadata?.deletionTimestamp === undefined &&
        configuration.spec?.paused !== true &&
        session !== undefined &&
        session.scheduler?.suspend !== true &&
        (session.scheduler?.schedule ?? '') === known.text &&
        state.results !== undefined &&
        !reconciling.has(configurationKey); // a reconcile in progress may be changing the plan
      if (!onTime) {
        queue.add(configurationKey);
        return;
      }
      // Plan the next slot before the create: the heap never holds a slot twice, and a reconcile that
      // starts meanwhile sees the next slot as the one due (nothing to run again).
      known.due = following;
      known.following = undefined;
      heap.set(key, following);
      try {
        await runSlot(configuration, namespace, name, session, new Date(slot));
      } catch (error) {
        logger.warn({ configuration: configurationKey, session: sessionName, slot: formatTimestamp(new Date(slot)), err: error }, 'scheduled backup session not created; retrying through the reconcile');
        if (known.due === following) {
          // Back to "slot due": the reconcile runs it (with backoff) or counts it missed past the deadline.
          known.due = slot;
          known.following = following;
          heap.remove(key);
        }
        queue.add(configurationKey);
        return;
      }
      state.results = state.results?.map((result) => (result.name === sessionName && result.nextSchedule !== undefined ? { ...result, nextSchedule: new Date(following) } : result));
      statusQueue.add(configurationKey);
    }

    /**
     * The low-priority half of a fired slot: precompute each session's following slot, then write
     * status.sessions[] as it stands now. Waits while creates are in flight.
     */
    async function recordStatus(configurationKey: string): Promise<void> {
      await whenFiresDone();
      const state = states.get(configurationKey);
      if (state === undefined || signal.aborted) return;
      for (const known of state.sessions.values()) {
        if (known.due !== undefined && known.following === undefined) known.following = nextSlot(known.schedule, new Date(known.due)).getTime();
      }
      const [namespace = '', name = ''] = configurationKey.split('/');
      const configuration = configurations.get(namespace, name);
      if (configuration === undefined || configuration.metadata?.uid !== state.uid || state.results === undefined) return;
      await writeStatus(configuration, state.results, clock());
    }

    const forget = (configurationKey: string): void => {
      const state = states.get(configurationKey);
      if (state === undefined) return;
      for (const session of state.sessions.keys()) heap.remove(heapKey(configurationKey, session));
      states.delete(configurationKey);
    };

    async function reconcile(configurationKey: string): Promise<void> {
      reconciling.add(configurationKey);
      try {
        await reconcileConfiguration(configurationKey);
      } finally {
        reconciling.delete(configurationKey);
      }
    }

    async function reconcileConfiguration(configurationKey: string): Promise<void> {
      const [namespace = '', name = ''] = configurationKey.split('/');
      const configuration = configurations.get(namespace, name);
      if (configuration === undefined || configuration.metadata?.deletionTimestamp !== undefined) {
        forget(configurationKey);
        arm();
        return;
      }
      const uid = configuration.metadata?.uid ?? '';
      let state = states.get(configurationKey);
      if (state === undefined || state.uid !== uid) {
        forget(configurationKey);
        state = { uid, sessions: new Map(), initialDone: new Set() };
        states.set(configurationKey, state);
      }
      const spec = configuration.spec ?? {};
      const stored = configuration.status?.sessions;
      const now = clock();
      const results: SessionScheduleState[] = [];
      const seen = new Set<string>();
      try {
        for (const [index, session] of (spec.sessions ?? []).entries()) {
          const sessionName = session.name ?? '';
          seen.add(sessionName);
          results.push(await scheduleSession(configuration, namespace, name, state, session, index, stored?.find((entry) => entry.name === sessionName), now));
        }
      } finally {
        for (const sessionName of [...state.sessions.keys()]) {
          if (seen.has(sessionName)) continue;
          state.sessions.delete(sessionName);
          heap.remove(heapKey(configurationKey, sessionName));
        }
        arm();
      }
      state.results = results;
      statusQueue.add(configurationKey);
    }

    /** One session of a configuration: run what is due, plan the next slot, report its state. `namespace`/`name` are the configuration's (from its queue key). */
    async function scheduleSession(
      configuration: BackupConfiguration,
      namespace: string,
      name: string,
      state: ConfigurationState,
      session: Session,
      index: number,
      stored: SessionStatus | undefined,
      now: Date,
    ): Promise<SessionScheduleState> {
      const sessionName = session.name ?? '';
      const key = heapKey(`${namespace}/${name}`, sessionName);
      const text = session.scheduler?.schedule ?? '';
      const known = state.sessions.get(sessionName);
      const parsed: ParseScheduleResult = known?.text === text ? { ok: true, schedule: known.schedule } : parseSchedule(text, `spec.sessions[${index}].scheduler.schedule`);
      if (!parsed.ok) {
        state.sessions.delete(sessionName);
        heap.remove(key);
        return { name: sessionName, scheduleError: `${parsed.error.path}: ${parsed.error.message}` };
      }
      const paused = configuration.spec?.paused === true;
      if (paused || session.scheduler?.suspend === true) {
        // Slots pass unnoticed while paused: resuming starts from the next slot, nothing is "missed".
        state.sessions.set(sessionName, { text, schedule: parsed.schedule });
        heap.remove(key);
        return { name: sessionName, note: paused ? 'the BackupConfiguration is paused: no BackupSessions are created' : 'the session scheduler is suspended: no BackupSessions are created' };
      }

      let lastScheduled: Date | undefined;
      if (known !== undefined) {
        // Same schedule: the planned slot. Changed schedule or just resumed: start afresh.
        if (known.text === text && known.due !== undefined) lastScheduled = new Date(known.due);
      } else if (stored?.nextSchedule !== undefined) {
        // First sight in this term (start, leader change): the slot the last leader planned.
        const storedTime = Date.parse(stored.nextSchedule);
        if (!Number.isNaN(storedTime)) lastScheduled = new Date(storedTime);
      }
      const decision = slotDecision({
        schedule: parsed.schedule,
        ...(lastScheduled !== undefined ? { lastScheduled } : {}),
        now,
        ...(session.scheduler?.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: session.scheduler.startingDeadlineSeconds } : {}),
      });
      if (decision.run !== undefined) await runSlot(configuration, namespace, name, session, decision.run);
      if (decision.missed > 0) {
        const count = `${decision.missed}${decision.missedCountCapped ? ' or more' : ''}`;
        metrics.missed.inc({ namespace, configuration: name, session: sessionName }, decision.missed);
        recorder.warning(
          configuration,
          'MissedSchedule',
          `session ${sessionName}: ${count} scheduled slot(s) since ${formatTimestamp(lastScheduled as Date)} were not run` +
            (decision.run !== undefined ? `; running the latest, ${formatTimestamp(decision.run)}, now` : `; the latest is past startingDeadlineSeconds (${session.scheduler?.startingDeadlineSeconds}s)`),
        );
        logger.warn({ configuration: `${namespace}/${name}`, session: sessionName, missed: decision.missed, ran: decision.run !== undefined }, 'scheduled slots missed');
      }
      state.sessions.set(sessionName, { text, schedule: parsed.schedule, due: decision.next.getTime() });
      heap.set(key, decision.next.getTime());

      let initialBackupTriggered: SessionScheduleState['initialBackupTriggered'];
      if (initialBackup && findCondition(stored?.conditions, SchedulerConditions.InitialBackupTriggered)?.status !== 'True') {
        const created = state.initialDone.has(sessionName) ? undefined : await createInitial(configuration, session);
        state.initialDone.add(sessionName);
        initialBackupTriggered = { message: created !== undefined ? `created BackupSession ${created}` : 'the initial BackupSession exists' };
      }
      return { name: sessionName, nextSchedule: decision.next, ...(initialBackupTriggered !== undefined ? { initialBackupTriggered } : {}) };
    }

    /** Creates the BackupSession of `slot` unless it exists or concurrencyPolicy says otherwise. `namespace`/`name` are the configuration's. */
    async function runSlot(configuration: BackupConfiguration, namespace: string, name: string, session: Session, slot: Date): Promise<void> {
      const sessionName = session.name ?? '';
      const sessionObjectName = generateBackupSessionName(name, sessionName, slot.getTime() / 1000);
      const where = { configuration: `${namespace}/${name}`, session: sessionName, slot: formatTimestamp(slot) };
      if (backupSessions.get(namespace, sessionObjectName) !== undefined) return;
      const running = backupSessions
        .byIndex(BY_CONFIGURATION_SESSION, sessionIndexKey(namespace, name, sessionName))
        .filter((other) => other.metadata?.name !== sessionObjectName && !isTerminalSessionPhase(other.status?.phase))
        .map((other) => other.metadata?.name as string)
        .sort();
      const policy = session.scheduler?.concurrencyPolicy;
      const decision = concurrencyDecision(policy, running);
      if (decision.action === 'skip') {
        recorder.warning(configuration, 'ScheduleSkipped', `session ${sessionName}: slot ${where.slot} skipped because BackupSession ${decision.running.join(', ')} is still running (concurrencyPolicy ${effectiveConcurrencyPolicy(policy)})`);
        logger.info({ ...where, running: decision.running }, 'scheduled slot skipped: a backup is still running');
        return;
      }
      if (decision.action === 'replace') {
        for (const victim of decision.delete) {
          try {
            await client.delete({ ...BACKUP_SESSION_TYPE, namespace, name: victim }, { propagationPolicy: 'Foreground' });
          } catch (error) {
            if (!isNotFound(error)) throw error;
          }
        }
        recorder.normal(configuration, 'BackupSessionReplaced', `session ${sessionName}: deleted running BackupSession ${decision.delete.join(', ')} for slot ${where.slot} (concurrencyPolicy Replace)`);
      }
      const created = await createSession(
        buildBackupSession({ configuration, session, name: sessionObjectName, triggeredBy: 'scheduler', scheduledAt: slot, retryLeft: session.retryConfig?.maxRetry ?? 0 }),
      );
      if (!created) return;
      metrics.delay.observe(Math.max(0, clock().getTime() - slot.getTime()) / 1000);
      logger.info({ ...where, backupSession: sessionObjectName }, 'scheduled backup session created');
    }

    /**
     * The initial BackupSession of a session. Its name comes from the configuration's creation time,
     * so a retry (status write lost, leader change) finds it (AlreadyExists) instead of making another.
     */
    async function createInitial(configuration: BackupConfiguration, session: Session): Promise<string | undefined> {
      const created = Date.parse(configuration.metadata?.creationTimestamp ?? '');
      const seconds = Number.isNaN(created) ? clock().getTime() / 1000 : created / 1000;
      const name = generateBackupSessionName(configuration.metadata?.name ?? '', session.name ?? '', seconds);
      const made = await createSession(buildBackupSession({ configuration, session, name, triggeredBy: 'initial', retryLeft: session.retryConfig?.maxRetry ?? 0 }));
      if (made) {
        recorder.normal(configuration, 'InitialBackupTriggered', `session ${session.name ?? ''}: created BackupSession ${name}`);
        logger.info({ configuration: `${configuration.metadata?.namespace}/${configuration.metadata?.name}`, session: session.name, backupSession: name }, 'initial backup session created');
      }
      return made ? name : undefined;
    }

    /** Creates; false when it already exists (another leader, or an earlier attempt, made it). */
    async function createSession(object: BackupSession): Promise<boolean> {
      try {
        await client.create(object);
        return true;
      } catch (error) {
        if (isAlreadyExists(error)) return false;
        throw error;
      }
    }

    /** Writes status.sessions when it changed: read-modify-write of that field only, retried on 409. */
    async function writeStatus(configuration: BackupConfiguration, results: readonly SessionScheduleState[], now: Date): Promise<void> {
      let current = configuration;
      for (let attempt = 1; ; attempt++) {
        const sessions = buildSessionStatuses(current.status?.sessions, results, now);
        if (sessionStatusesEqual(current.status?.sessions, sessions)) return;
        try {
          await client.updateStatus({ ...current, status: { ...current.status, sessions } });
          return;
        } catch (error) {
          if (isNotFound(error)) return;
          if (!isConflict(error) || attempt >= STATUS_WRITE_ATTEMPTS) throw error;
        }
        const fresh = await client.find<BackupConfiguration>({ ...BACKUP_CONFIGURATION_TYPE, namespace: current.metadata?.namespace, name: current.metadata?.name as string });
        if (fresh === undefined || fresh.metadata?.uid !== configuration.metadata?.uid) return;
        current = fresh;
      }
    }

    const enqueue = (object: BackupConfiguration): void => queue.add(`${object.metadata?.namespace}/${object.metadata?.name}`);
    const unsubscribe: Array<() => void> = [];
    try {
      await Promise.race([
        Promise.all([configurations.whenSynced(), backupSessions.whenSynced()]),
        new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
      ]);
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    if (!signal.aborted) {
      // Our own status writes are updates too: only the spec (and deletion) changes the schedules.
      unsubscribe.push(
        configurations.addEventHandler({
          add: enqueue,
          update: (previous, object) => {
            if (!isDeepStrictEqual(previous.spec, object.spec) || previous.metadata?.uid !== object.metadata?.uid || previous.metadata?.deletionTimestamp !== object.metadata?.deletionTimestamp) enqueue(object);
          },
          delete: enqueue,
        }),
      );
      logger.info({ configurations: configurations.list().length }, 'scheduler started');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    for (const off of unsubscribe) off();
    timer?.cancel();
    timer = undefined;
    // Slots not fired yet stay recorded as due (status.sessions[].nextSchedule): the next leader runs them.
    fireBacklog = fireBacklog.slice(0, fireHead);
    await whenFiresDone();
    await queue.shutdown();
    await statusQueue.shutdown();
    if (term?.heap === heap) term = undefined;
  }

  return {
    name: 'scheduler',
    start,
    whenIdle: () => term?.whenIdle() ?? Promise.resolve(),
    scheduledCount: () => term?.heap.size ?? 0,
  };
}

const heapKey = (configurationKey: string, session: string): string => `${configurationKey}/${session}`;
/** `<namespace>/<name>/<session>` → `<namespace>/<name>` (names and namespaces hold no slash). */
const configurationKeyOf = (key: string): string => key.slice(0, key.indexOf('/', key.indexOf('/') + 1));


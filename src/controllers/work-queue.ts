/**
 * A keyed work queue for level-triggered reconcilers: a key waits at most once however often it
 * is added, is never handled by two workers at once (added while being handled, it runs again
 * afterwards), failed keys come back after a per-key exponential backoff, results may ask to come
 * back later, and {@link TerminalError}s are not retried.
 */

/** A failure retrying cannot fix (bad input): logged, not retried until the key is added again. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/** What a reconcile may ask for besides success. */
export interface ReconcileResult {
  /** Handle the key again after this many ms (e.g. the next schedule); resets the backoff. */
  requeueAfterMs?: number;
  /** Handle the key again after the key's backoff (not an error, but not done: e.g. waiting for a Job). */
  requeue?: boolean;
}

export interface ReconcileContext {
  /** Aborted on shutdown(). */
  signal: AbortSignal;
  /** Consecutive failures of this key before this attempt (0 on a fresh key). */
  failures: number;
}

export type Reconcile = (key: string, context: ReconcileContext) => Promise<ReconcileResult | void> | ReconcileResult | void;

/** The timer functions the queue uses; tests pass a fake. */
export interface QueueClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: QueueClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Log methods the queue uses; a pino Logger fits. */
export interface QueueLogger {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface WorkQueueOptions {
  /** Names the queue in logs. */
  name: string;
  /** Keys handled at the same time. Default 2. */
  concurrency?: number;
  /** First retry delay after a failure; doubles per consecutive failure of the key. Default 100 ms. */
  baseBackoffMs?: number;
  /** Upper bound of the retry delay. Default 60 s. */
  maxBackoffMs?: number;
  clock?: QueueClock;
  logger?: QueueLogger;
}

export interface WorkQueue {
  /** Queues the key now (no-op when it is already waiting, or after shutdown). */
  add(key: string): void;
  /** Queues the key after `delayMs`; an earlier pending delay for the key wins. */
  addAfter(key: string, delayMs: number): void;
  /** Consecutive failures recorded for the key. */
  failures(key: string): number;
  /** Keys waiting, being handled, and waiting on a timer. */
  stats(): { queued: number; processing: number; delayed: number };
  /** Resolves when nothing is queued or being handled (delayed keys do not count). */
  whenIdle(): Promise<void>;
  /** Stops taking keys, drops waiting and delayed ones, aborts and waits for in-flight reconciles. */
  shutdown(): Promise<void>;
}

/** The delay before the `failures`-th retry: base·2^(failures−1), capped. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 40));
}

/** Starts a queue whose workers run `reconcile` for each key. */
export function createWorkQueue(reconcile: Reconcile, options: WorkQueueOptions): WorkQueue {
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const baseBackoffMs = options.baseBackoffMs ?? 100;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const clock = options.clock ?? systemClock;
  const logger = options.logger;

  // `dirty` holds keys that must be handled (again); `waiting` is their order when not in progress.
  const dirty = new Set<string>();
  const waiting: string[] = [];
  let head = 0;
  const processing = new Set<string>();
  const delayed = new Map<string, { due: number; handle: unknown }>();
  const failureCounts = new Map<string, number>();
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let idleWaiters: Array<() => void> = [];
  let shuttingDown = false;

  const queuedCount = (): number => waiting.length - head;

  const notifyIdle = (): void => {
    if (queuedCount() > 0 || processing.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const add = (key: string): void => {
    if (shuttingDown || dirty.has(key)) return;
    dirty.add(key);
    if (!processing.has(key)) waiting.push(key);
    pump();
  };

  const addAfter = (key: string, delayMs: number): void => {
    if (shuttingDown) return;
    if (delayMs <= 0) return add(key);
    const due = clock.now() + delayMs;
    const pending = delayed.get(key);
    if (pending !== undefined) {
      if (pending.due <= due) return;
      clock.clearTimeout(pending.handle);
    }
    const handle = clock.setTimeout(() => {
      if (delayed.get(key)?.handle !== handle) return;
      delayed.delete(key);
      add(key);
    }, delayMs);
    delayed.set(key, { due, handle });
  };

  const next = (): string | undefined => {
    if (head >= waiting.length) return undefined;
    const key = waiting[head];
    head += 1;
    if (head > 1024 && head * 2 > waiting.length) {
      waiting.splice(0, head);
      head = 0;
    }
    return key;
  };

  const retryLater = (key: string): number => {
    const failures = (failureCounts.get(key) ?? 0) + 1;
    failureCounts.set(key, failures);
    const delay = backoffDelay(failures, baseBackoffMs, maxBackoffMs);
    addAfter(key, delay);
    return delay;
  };

  const handle = async (key: string): Promise<void> => {
    const failures = failureCounts.get(key) ?? 0;
    try {
      const result = (await reconcile(key, { signal: abort.signal, failures })) ?? {};
      if (result.requeue && result.requeueAfterMs === undefined) {
        retryLater(key);
      } else {
        failureCounts.delete(key);
        if (result.requeueAfterMs !== undefined) addAfter(key, result.requeueAfterMs);
      }
    } catch (error) {
      if (shuttingDown) return;
      if (error instanceof TerminalError) {
        failureCounts.delete(key);
        logger?.error({ queue: options.name, key, err: messageOf(error) }, 'reconcile failed permanently; not retrying');
        return;
      }
      const retryInMs = retryLater(key);
      logger?.warn({ queue: options.name, key, err: messageOf(error), failures: failureCounts.get(key), retryInMs }, 'reconcile failed; retrying after backoff');
    }
  };

  function pump(): void {
    while (!shuttingDown && processing.size < concurrency) {
      const key = next();
      if (key === undefined) break;
      dirty.delete(key);
      processing.add(key);
      const work = handle(key).finally(() => {
        processing.delete(key);
        inFlight.delete(work);
        // Added while in progress: it waited in `dirty` only; queue it now.
        if (dirty.has(key) && !shuttingDown) waiting.push(key);
        pump();
        notifyIdle();
      });
      inFlight.add(work);
    }
  }

  return {
    add,
    addAfter,
    failures: (key) => failureCounts.get(key) ?? 0,
    stats: () => ({ queued: queuedCount(), processing: processing.size, delayed: delayed.size }),
    whenIdle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        notifyIdle();
      }),
    async shutdown() {
      if (!shuttingDown) {
        shuttingDown = true;
        abort.abort();
        for (const { handle: timer } of delayed.values()) clock.clearTimeout(timer);
        delayed.clear();
        dirty.clear();
        waiting.length = 0;
        head = 0;
      }
      await Promise.all([...inFlight]);
      notifyIdle();
    },
  };
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

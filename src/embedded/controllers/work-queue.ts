import { errorMessage, isConflict } from './api-errors.js';
import type { ControllerLogger } from './logger.js';

/** What a reconcile asks for: nothing, or to be run again after `requeueAfterMs`. */
export type ReconcileResult = void | { requeueAfterMs: number };

export interface WorkQueueOptions {
  name: string;
  logger: ControllerLogger;
  reconcile: (key: string) => Promise<ReconcileResult>;
  /** First retry delay after a failed reconcile; doubles per consecutive failure. Default 100 ms. */
  retryBaseMs?: number;
  /** Longest retry delay. Default 10 s. */
  retryMaxMs?: number;
}

/**
 * A keyed, deduplicating work queue with one worker: a key enqueued many times while waiting is
 * reconciled once, a key is never reconciled twice at the same time, failures are retried with
 * per-key exponential backoff (conflicts at once), and delayed requeues keep the earliest time.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions) {}

  /** Schedules `key` now, or after `delayMs` (an earlier pending schedule wins). */
  enqueue(key: string, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      const existing = this.timers.get(key);
      if (existing && existing.at <= at) return;
      if (existing) clearTimeout(existing.timer);
      const timer = setTimeout(() => {
        this.timers.delete(key);
        this.enqueue(key);
      }, delayMs);
      timer.unref();
      this.timers.set(key, { at, timer });
      return;
    }
    this.pending.add(key);
    if (!this.running) this.running = this.drain();
  }

  /** Stops scheduling and waits for the reconcile in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
    await this.running;
  }

  private async drain(): Promise<void> {
    // Let synchronous bursts of events collapse into one pending set first.
    await Promise.resolve();
    while (!this.stopped) {
      const key = this.pending.values().next().value;
      if (key === undefined) break;
      this.pending.delete(key);
      await this.runOne(key);
    }
    this.running = undefined;
  }

  private async runOne(key: string): Promise<void> {
    try {
      const result = await this.options.reconcile(key);
      this.failures.delete(key);
      if (result && !this.stopped) this.enqueue(key, Math.max(1, result.requeueAfterMs));
    } catch (error) {
      if (this.stopped) return;
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const base = this.options.retryBaseMs ?? 100;
      const delay = isConflict(error) ? 1 : Math.min(base * 2 ** (failures - 1), this.options.retryMaxMs ?? 10_000);
      this.options.logger.warn({ controller: this.options.name, key, failures, err: errorMessage(error) }, 'reconcile failed; retrying');
      this.enqueue(key, delay);
    }
  }
}

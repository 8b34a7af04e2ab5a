/**
 * One watch: filters the bucket's events through its selectors (an object that stops matching is
 * DELETED for this watcher, one that starts matching is ADDED), and delivers them to the callback
 * from a microtask queue so that writers never wait on, or re-enter through, a watcher. The queue is
 * bounded: a watcher that falls more than `maxQueued` events behind receives one ERROR event
 * (410 Expired, so clients re-list) and is stopped.
 */
import type { KubeObject } from '../../domain/kube-object.js';
import type { WatchEvent } from '../api-types.js';
import type { StoredEvent } from './resource-bucket.js';
import type { ObjectMatcher } from './selectors.js';

export interface WatcherOptions {
  matches: ObjectMatcher;
  /** A copy of a stored object as this watcher's API version presents it. */
  present: (object: KubeObject) => KubeObject;
  onEvent: (event: WatchEvent) => void;
  maxQueued: number;
  onStop: () => void;
}

export function expiredStatus(message: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 };
}

export class Watcher {
  private queue: WatchEvent[] = [];
  private flushScheduled = false;
  private stopped = false;
  private stopAfterFlush = false;

  constructor(private readonly options: WatcherOptions) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Filters a committed event for this watcher and queues what it should see. */
  offer(event: StoredEvent): void {
    if (this.stopped) return;
    const nowMatches = this.options.matches(event.object);
    if (event.type !== 'MODIFIED') {
      if (nowMatches) this.enqueue({ type: event.type, object: this.options.present(event.object) });
      return;
    }
    const matchedBefore = event.previous !== undefined && this.options.matches(event.previous);
    if (nowMatches) {
      this.enqueue({ type: matchedBefore ? 'MODIFIED' : 'ADDED', object: this.options.present(event.object) });
    } else if (matchedBefore && event.previous) {
      const leaving = this.options.present(event.previous);
      leaving.metadata = { ...leaving.metadata, resourceVersion: event.object.metadata?.resourceVersion ?? '' };
      this.enqueue({ type: 'DELETED', object: leaving });
    }
  }

  /** Queues an event as is (synthetic ADDED, BOOKMARK, ERROR). */
  enqueue(event: WatchEvent): void {
    if (this.stopped || this.stopAfterFlush) return;
    if (this.queue.length >= this.options.maxQueued) {
      this.queue = [{ type: 'ERROR', object: expiredStatus('the watcher fell too far behind; list again and restart the watch') }];
      this.scheduleFlush();
      this.stopAfterFlush = true;
      return;
    }
    this.queue.push(event);
    this.scheduleFlush();
  }

  /** Queues a final event, delivers what is queued, then stops. */
  finish(event: WatchEvent): void {
    this.enqueue(event);
    this.stopAfterFlush = true;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const event of batch) {
      if (this.stopped) return;
      try {
        this.options.onEvent(event);
      } catch {
        // A failing consumer must not break the writer or other watchers; it stops receiving.
        this.stop();
        return;
      }
    }
    if (this.stopAfterFlush) this.stop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.options.onStop();
  }
}

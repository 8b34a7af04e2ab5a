/**
 * The objects of one resource (all versions of a group/resource share a bucket), the window of
 * recent change events that watches resume from, and the watchers that receive new events.
 * Stored objects are never mutated after they are committed: writers replace them.
 */
import type { KubeObject } from '../../domain/kube-object.js';
import type { Watcher } from './watcher.js';

export interface StoredEvent {
  resourceVersion: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The object as committed (for DELETED: its last state, carrying the deletion's resourceVersion). */
  object: KubeObject;
  /** The object before this change (MODIFIED), so selector watches can see it stop matching. */
  previous?: KubeObject;
}

/** Key of an object inside its bucket; sorts by namespace then name, as kube lists. */
export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class ResourceBucket {
  readonly objects = new Map<string, KubeObject>();
  readonly watchers = new Set<Watcher>();
  private readonly events: StoredEvent[] = [];
  private firstEvent = 0;
  /** Every event with a resourceVersion above this is in the window; older ones may be lost. */
  private oldestResumable: number;

  constructor(
    private readonly capacity: number,
    startResourceVersion: number,
  ) {
    this.oldestResumable = startResourceVersion;
  }

  /** Appends an event to the window (evicting the oldest beyond capacity) and offers it to watchers. */
  record(event: StoredEvent): void {
    this.events.push(event);
    if (this.events.length - this.firstEvent > this.capacity) {
      const evicted = this.events[this.firstEvent];
      if (evicted) this.oldestResumable = evicted.resourceVersion;
      this.firstEvent += 1;
      if (this.firstEvent >= this.capacity) {
        this.events.splice(0, this.firstEvent);
        this.firstEvent = 0;
      }
    }
    for (const watcher of this.watchers) watcher.offer(event);
  }

  /** The events after `resourceVersion`, or undefined when some of them have left the window. */
  eventsAfter(resourceVersion: number): StoredEvent[] | undefined {
    if (resourceVersion < this.oldestResumable) return undefined;
    const result: StoredEvent[] = [];
    for (let index = this.firstEvent; index < this.events.length; index += 1) {
      const event = this.events[index];
      if (event && event.resourceVersion > resourceVersion) result.push(event);
    }
    return result;
  }

  /** The lowest resourceVersion a watch can still resume from. */
  get oldestResourceVersion(): number {
    return this.oldestResumable;
  }

  /** Objects sorted by key (namespace, then name). */
  sortedObjects(): KubeObject[] {
    return [...this.objects.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)).map(([, object]) => object);
  }
}

import type { EmbeddedApi, GroupVersionResource, WatchEvent } from '../api-types.js';
import { errorMessage } from './api-errors.js';
import type { ControllerLogger } from './logger.js';
import { objectKey, watchResource } from './watch-resource.js';
import { WorkQueue, type ReconcileResult } from './work-queue.js';

export interface ControllerLoopOptions {
  name: string;
  api: EmbeddedApi;
  logger: ControllerLogger;
  /** Resources whose events enqueue keys; `keysFor` maps an event to keys (default: the object's own key). */
  watches: ReadonlyArray<{ gvr: GroupVersionResource; keysFor?: (event: WatchEvent) => string[] }>;
  /** Lists these on every resync and enqueues each object's key. */
  resync: { gvr: GroupVersionResource; everyMs: number };
  reconcile: (key: string) => Promise<ReconcileResult>;
}

const ownKey = (event: WatchEvent): string[] => [objectKey(event.object.metadata?.namespace, event.object.metadata?.name ?? '')];

/**
 * A level-triggered controller: watch events and a periodic full resync enqueue object keys
 * (`namespace/name` or `name`) on one WorkQueue, whose reconcile reads the current state itself.
 */
export function startControllerLoop(options: ControllerLoopOptions): { queue: WorkQueue; stop(): Promise<void> } {
  const queue = new WorkQueue({ name: options.name, logger: options.logger, reconcile: options.reconcile });
  const watches = options.watches.map(({ gvr, keysFor }) =>
    watchResource(options.api, gvr, (event) => (keysFor ?? ownKey)(event).forEach((key) => queue.enqueue(key)), options.logger),
  );
  const resync = setInterval(() => {
    options.api.list(options.resync.gvr).then(
      (list) => list.items.forEach((item) => queue.enqueue(objectKey(item.metadata?.namespace, item.metadata?.name ?? ''))),
      (error: unknown) => options.logger.warn({ controller: options.name, err: errorMessage(error) }, 'resync failed'),
    );
  }, options.resync.everyMs);
  resync.unref();
  return {
    queue,
    async stop() {
      clearInterval(resync);
      watches.forEach((watch) => watch.stop());
      await queue.stop();
    },
  };
}

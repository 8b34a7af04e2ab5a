import type { EmbeddedApi, GroupVersionResource, WatchEvent, WatchHandle } from '../api-types.js';
import { errorMessage } from './api-errors.js';
import type { ControllerLogger } from './logger.js';

/**
 * Watches every object of `gvr` (all namespaces) starting with synthetic ADDED events for what
 * exists, and starts over the same way when the watch reports an ERROR (e.g. 410 Gone) or cannot
 * be opened, so the handler always converges on the current state. BOOKMARKs are not passed on.
 */
export function watchResource(
  api: EmbeddedApi,
  gvr: GroupVersionResource,
  onEvent: (event: WatchEvent) => void,
  logger: ControllerLogger,
  restartDelayMs = 1000,
): { stop(): void } {
  let handle: WatchHandle | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let generation = 0;

  const restartLater = (): void => {
    handle?.stop();
    handle = undefined;
    generation++;
    if (stopped || restartTimer) return;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      open();
    }, restartDelayMs);
    restartTimer.unref();
  };

  const open = (): void => {
    if (stopped) return;
    const current = ++generation;
    try {
      handle = api.watch(gvr, { resourceVersion: '0' }, (event) => {
        // Events of a watch already replaced or stopped are stale.
        if (stopped || current !== generation) return;
        if (event.type === 'ERROR') {
          logger.debug({ resource: gvr.resource, status: event.object }, 'watch ended with an error; restarting');
          restartLater();
          return;
        }
        if (event.type === 'BOOKMARK') return;
        onEvent(event);
      });
    } catch (error) {
      logger.debug({ resource: gvr.resource, err: errorMessage(error) }, 'watch could not start; retrying');
      restartLater();
    }
  };

  open();
  return {
    stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      handle?.stop();
    },
  };
}

/** `namespace/name` for namespaced objects, `name` for cluster-scoped ones. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits an `objectKey` back into namespace and name. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

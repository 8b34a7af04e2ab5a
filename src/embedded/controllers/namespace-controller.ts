import type { KubeObject } from '../../domain/kube-object.js';
import type { EmbeddedApi } from '../api-types.js';
import { getIfExists, isAlreadyExists, isNotFound, retryOnConflict } from './api-errors.js';
import { startControllerLoop } from './controller-loop.js';
import type { ControllerLogger } from './logger.js';
import { NAMESPACES } from './resources.js';

/** The namespaces a Kubernetes cluster always has. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

const NAMESPACE_FINALIZER = 'kubernetes';

export interface NamespaceControllerOptions {
  api: EmbeddedApi;
  logger: ControllerLogger;
  resyncMs?: number;
  /** Delay before checking again while a terminating namespace still has objects. Default 500 ms. */
  contentPollMs?: number;
}

/**
 * Namespace lifecycle: the system namespaces exist and are Active; a namespace being deleted has
 * every namespaced object in it deleted, then its `kubernetes` finalizer removed from
 * spec.finalizers (with a plain update, which is how the embedded store finalizes namespaces)
 * so the store removes it.
 */
export function startNamespaceController(options: NamespaceControllerOptions): { ready: Promise<void>; stop(): Promise<void> } {
  const { api, logger } = options;

  const removeContents = async (namespace: string): Promise<number> => {
    let remaining = 0;
    const seen = new Set<string>();
    for (const type of api.resourceTypes()) {
      const groupResource = `${type.group}/${type.resource}`;
      if (!type.namespaced || seen.has(groupResource) || !type.verbs.includes('list')) continue;
      seen.add(groupResource);
      const gvr = { group: type.group, version: type.version, resource: type.resource };
      const { items } = await api.list(gvr, { namespace });
      remaining += items.length;
      for (const item of items) {
        if (item.metadata?.deletionTimestamp) continue;
        try {
          await api.delete(gvr, namespace, item.metadata?.name ?? '', { propagationPolicy: 'Background' });
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
    return remaining;
  };

  const loop = startControllerLoop({
    name: 'namespace',
    api,
    logger,
    watches: [{ gvr: NAMESPACES }],
    resync: { gvr: NAMESPACES, everyMs: options.resyncMs ?? 30_000 },
    async reconcile(name) {
      const namespace = await getIfExists(api, NAMESPACES, undefined, name);
      if (!namespace) return;
      if (!namespace.metadata?.deletionTimestamp) {
        const phase = (namespace.status as { phase?: string } | undefined)?.phase;
        if (phase !== 'Active') await api.updateStatus(NAMESPACES, undefined, { ...namespace, status: { ...(namespace.status as object), phase: 'Active' } });
        return;
      }
      const finalizers = ((namespace.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []);
      if (!finalizers.includes(NAMESPACE_FINALIZER)) return;
      const remaining = await removeContents(name);
      if (remaining > 0) return { requeueAfterMs: options.contentPollMs ?? 500 };
      await retryOnConflict(async () => {
        const current = await getIfExists(api, NAMESPACES, undefined, name);
        if (!current) return;
        const spec = (current.spec ?? {}) as { finalizers?: string[] };
        const next: KubeObject = { ...current, spec: { ...spec, finalizers: (spec.finalizers ?? []).filter((finalizer) => finalizer !== NAMESPACE_FINALIZER) } };
        await api.update(NAMESPACES, undefined, next);
      });
      logger.info({ namespace: name }, 'namespace contents removed; namespace finalized');
    },
  });

  const ensureSystemNamespaces = async (): Promise<void> => {
    for (const name of SYSTEM_NAMESPACES) {
      try {
        await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      loop.queue.enqueue(name);
    }
  };

  const ready = ensureSystemNamespaces().catch((error: unknown) => {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'could not create the system namespaces');
  });
  return { ready, stop: loop.stop };
}

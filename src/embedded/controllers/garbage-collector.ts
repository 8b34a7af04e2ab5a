import type { KubeObject } from '../../domain/kube-object.js';
import type { EmbeddedApi, GroupVersionResource } from '../api-types.js';
import { errorMessage, getIfExists, isNotFound, retryOnConflict } from './api-errors.js';
import type { ControllerLogger } from './logger.js';
import { watchResource } from './watch-resource.js';
import { WorkQueue } from './work-queue.js';

const FOREGROUND_FINALIZER = 'foregroundDeletion';

interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  blockOwnerDeletion?: boolean;
}

/** What the collector remembers of each object: enough to find and judge it, not the object. */
interface GraphNode {
  gvr: GroupVersionResource;
  namespace: string | undefined;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  foreground: boolean;
}

export interface GarbageCollectorOptions {
  api: EmbeddedApi;
  logger: ControllerLogger;
  /** How often the set of served resources is checked for new types to watch. Default 2 s. */
  typeRefreshMs?: number;
}

/**
 * Garbage collection by ownerReferences, as kube-controller-manager's GC does it: an object whose
 * owners are all gone (by uid, confirmed with a live read) is deleted in the background; owners
 * that are gone are dropped from a dependent that still has others. An owner deleted in the
 * foreground (the `foregroundDeletion` finalizer) has its dependents deleted and keeps the
 * finalizer until no dependent with blockOwnerDeletion remains. Orphaning happens in the store at
 * delete time. Dependents are indexed by owner uid from watches of every served resource.
 */
export function startGarbageCollector(options: GarbageCollectorOptions): { stop(): Promise<void> } {
  const { api, logger } = options;
  const nodes = new Map<string, GraphNode>();
  const dependents = new Map<string, Set<string>>();
  const watches = new Map<string, { stop(): void }>();

  const link = (uid: string, owners: OwnerReference[]): void => {
    for (const owner of owners) {
      if (!owner.uid) continue;
      let set = dependents.get(owner.uid);
      if (!set) dependents.set(owner.uid, (set = new Set()));
      set.add(uid);
    }
  };
  const unlink = (uid: string, owners: OwnerReference[]): void => {
    for (const owner of owners) {
      const set = owner.uid ? dependents.get(owner.uid) : undefined;
      set?.delete(uid);
      if (set?.size === 0) dependents.delete(owner.uid!);
    }
  };

  const ownerAlive = async (owner: OwnerReference, namespace: string | undefined): Promise<boolean | undefined> => {
    if (!owner.uid) return undefined;
    if (nodes.has(owner.uid)) return true;
    const type = api.resourceTypeForKind(owner.apiVersion ?? '', owner.kind ?? '');
    // An owner of a kind nobody serves cannot be checked: leave the dependent alone, as kube does.
    if (!type) return undefined;
    const found = await getIfExists(api, type, type.namespaced ? namespace : undefined, owner.name ?? '');
    return found?.metadata?.uid === owner.uid;
  };

  const deleteObject = async (node: GraphNode, uid: string, propagationPolicy: 'Background' | 'Foreground'): Promise<void> => {
    try {
      await api.delete(node.gvr, node.namespace, node.name, { propagationPolicy, preconditions: { uid } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  };

  const collectDependent = async (uid: string): Promise<void> => {
    const node = nodes.get(uid);
    if (!node || node.owners.length === 0 || node.deleting) return;
    const dead: string[] = [];
    for (const owner of node.owners) {
      const alive = await ownerAlive(owner, node.namespace);
      if (alive === false) dead.push(owner.uid!);
      else if (alive === undefined) return;
    }
    if (dead.length === 0) return;
    if (dead.length === node.owners.length) {
      logger.info({ resource: node.gvr.resource, namespace: node.namespace, name: node.name }, 'owners gone; deleting dependent');
      await deleteObject(node, uid, 'Background');
      return;
    }
    await retryOnConflict(async () => {
      const current = await getIfExists(api, node.gvr, node.namespace, node.name);
      if (!current || current.metadata?.uid !== uid) return;
      const remaining = (current.metadata.ownerReferences ?? []).filter((reference) => !dead.includes(String(reference.uid)));
      await api.update(node.gvr, node.namespace, { ...current, metadata: { ...current.metadata, ownerReferences: remaining } });
    });
  };

  const finishForeground = async (uid: string): Promise<void> => {
    const node = nodes.get(uid);
    if (!node || !node.deleting || !node.foreground) return;
    let blocked = false;
    for (const dependentUid of dependents.get(uid) ?? []) {
      const dependent = nodes.get(dependentUid);
      if (!dependent) continue;
      const blocking = dependent.owners.some((owner) => owner.uid === uid && owner.blockOwnerDeletion === true);
      if (blocking) blocked = true;
      if (!dependent.deleting) await deleteObject(dependent, dependentUid, blocking ? 'Foreground' : 'Background');
    }
    if (blocked) return;
    await retryOnConflict(async () => {
      const current = await getIfExists(api, node.gvr, node.namespace, node.name);
      if (!current || current.metadata?.uid !== uid) return;
      const finalizers = current.metadata.finalizers ?? [];
      if (!finalizers.includes(FOREGROUND_FINALIZER)) return;
      await api.update(node.gvr, node.namespace, { ...current, metadata: { ...current.metadata, finalizers: finalizers.filter((finalizer) => finalizer !== FOREGROUND_FINALIZER) } });
    });
  };

  const queue = new WorkQueue({
    name: 'garbage-collector',
    logger,
    async reconcile(key) {
      const [what, uid] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
      if (what === 'owner') await finishForeground(uid);
      else await collectDependent(uid);
    },
  });

  const observe = (gvr: GroupVersionResource, type: string, object: KubeObject): void => {
    const uid = object.metadata?.uid;
    if (!uid) return;
    const previous = nodes.get(uid);
    if (previous) unlink(uid, previous.owners);
    if (type === 'DELETED') {
      nodes.delete(uid);
      for (const owner of previous?.owners ?? []) {
        if (owner.uid && nodes.get(owner.uid)?.foreground) queue.enqueue(`owner:${owner.uid}`);
      }
      for (const dependent of dependents.get(uid) ?? []) queue.enqueue(`dependent:${dependent}`);
      return;
    }
    const owners = (object.metadata?.ownerReferences ?? []) as OwnerReference[];
    const node: GraphNode = {
      gvr,
      namespace: object.metadata?.namespace,
      name: object.metadata?.name ?? '',
      owners,
      deleting: Boolean(object.metadata?.deletionTimestamp),
      foreground: Boolean(object.metadata?.deletionTimestamp) && (object.metadata?.finalizers ?? []).includes(FOREGROUND_FINALIZER),
    };
    nodes.set(uid, node);
    link(uid, owners);
    if (owners.length > 0) queue.enqueue(`dependent:${uid}`);
    if (node.foreground) queue.enqueue(`owner:${uid}`);
    // A dependent seen before its owner's watch started may have been judged on a live read; nothing to redo.
  };

  const refreshWatches = (): void => {
    for (const type of api.resourceTypes()) {
      const groupResource = `${type.group}/${type.resource}`;
      if (watches.has(groupResource) || !type.verbs.includes('watch')) continue;
      const gvr = { group: type.group, version: type.version, resource: type.resource };
      watches.set(groupResource, watchResource(api, gvr, (event) => observe(gvr, event.type, event.object), logger));
    }
  };
  refreshWatches();
  const refresher = setInterval(() => {
    try {
      refreshWatches();
    } catch (error) {
      logger.warn({ err: errorMessage(error) }, 'garbage collector could not refresh its watches');
    }
  }, options.typeRefreshMs ?? 2000);
  refresher.unref();

  return {
    async stop() {
      clearInterval(refresher);
      for (const watch of watches.values()) watch.stop();
      await queue.stop();
    },
  };
}

/**
 * Small write helpers the storage, repository, configuration and snapshot controllers share: the
 * kinds they touch, status read-modify-write retried on 409, finalizer add/remove retried on 409,
 * and deletes that treat "already gone" as done.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../domain/kube-object.js';
import { isConflict, isNotFound, type KubeClient, type ObjectRef, type ResourceInfo, type TypeRef } from '../../kube/client.js';
import { nameOf, namespaceOf } from '../../domain/rules/common.js';

export interface KindInfo {
  type: TypeRef;
  resource: ResourceInfo;
}

export const BACKUP_STORAGE: KindInfo = { type: { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage' }, resource: { plural: 'backupstorages', namespaced: true } };
export const REPOSITORY: KindInfo = { type: { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' }, resource: { plural: 'repositories', namespaced: true } };
export const SNAPSHOT: KindInfo = { type: { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Snapshot' }, resource: { plural: 'snapshots', namespaced: true } };
export const RETENTION_POLICY: KindInfo = { type: { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy' }, resource: { plural: 'retentionpolicies', namespaced: true } };
export const BACKUP_CONFIGURATION: KindInfo = { type: { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' }, resource: { plural: 'backupconfigurations', namespaced: true } };
export const ADDON: KindInfo = { type: { apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Addon' }, resource: { plural: 'addons', namespaced: false } };
export const JOB: KindInfo = { type: { apiVersion: 'batch/v1', kind: 'Job' }, resource: { plural: 'jobs', namespaced: true } };

const WRITE_ATTEMPTS = 5;

export const keyOf = (object: KubeObject): string => `${namespaceOf(object)}/${nameOf(object)}`;

/** `namespace/name` → its parts (names and namespaces hold no slash). */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

const refOf = (kind: KindInfo, object: KubeObject): ObjectRef => ({ ...kind.type, namespace: object.metadata?.namespace, name: nameOf(object) });

/**
 * Writes `status = desired(current)` unless it equals the current status; on 409 reads the object
 * again and recomputes, so fields others wrote meanwhile are kept. Returns the written object, or
 * undefined when nothing was written (no change, or the object is gone or was replaced).
 */
export async function writeStatus<T extends KubeObject>(client: KubeClient, kind: KindInfo, object: T, desired: (current: T) => T['status']): Promise<T | undefined> {
  let current = object;
  for (let attempt = 1; ; attempt++) {
    const status = desired(current);
    if (isDeepStrictEqual(status, current.status)) return undefined;
    try {
      return await client.updateStatus<T>({ ...current, ...kind.type, status });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error;
    }
    const fresh = await client.find<T>(refOf(kind, current));
    if (fresh === undefined || fresh.metadata?.uid !== object.metadata?.uid) return undefined;
    current = fresh;
  }
}

/**
 * Applies `change` to the object (metadata or spec) and PUTs it when it changed anything; on 409
 * reads again and reapplies. `change` returns the new object or undefined for "nothing to do".
 */
export async function updateObject<T extends KubeObject>(client: KubeClient, kind: KindInfo, object: T, change: (current: T) => T | undefined): Promise<T | undefined> {
  let current = object;
  for (let attempt = 1; ; attempt++) {
    const next = change(structuredClone(current));
    if (next === undefined) return undefined;
    try {
      return await client.update<T>({ ...next, ...kind.type });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error;
    }
    const fresh = await client.find<T>(refOf(kind, current));
    if (fresh === undefined || fresh.metadata?.uid !== object.metadata?.uid) return undefined;
    current = fresh;
  }
}

/** True once deletion was requested (the API server may send null for "not deleting"). */
export const isDeleting = (object: KubeObject): boolean => Boolean(object.metadata?.deletionTimestamp);

export const hasFinalizer = (object: KubeObject, finalizer: string): boolean => (object.metadata?.finalizers ?? []).includes(finalizer);

/** Adds `finalizer` unless present (or the object is being deleted: a finalizer cannot be added then). */
export function addFinalizer<T extends KubeObject>(client: KubeClient, kind: KindInfo, object: T, finalizer: string): Promise<T | undefined> {
  return updateObject(client, kind, object, (current) => {
    if (hasFinalizer(current, finalizer) || isDeleting(current)) return undefined;
    current.metadata = { ...current.metadata, finalizers: [...(current.metadata?.finalizers ?? []), finalizer] };
    return current;
  });
}

/** Removes `finalizer` when present. */
export function removeFinalizer<T extends KubeObject>(client: KubeClient, kind: KindInfo, object: T, finalizer: string): Promise<T | undefined> {
  return updateObject(client, kind, object, (current) => {
    if (!hasFinalizer(current, finalizer)) return undefined;
    current.metadata = { ...current.metadata, finalizers: (current.metadata?.finalizers ?? []).filter((f) => f !== finalizer) };
    return current;
  });
}

/** Deletes (Background propagation, so owned Pods and Jobs go too); already gone is fine. */
export async function deleteIfPresent(client: KubeClient, ref: ObjectRef): Promise<void> {
  try {
    await client.delete(ref, { propagationPolicy: 'Background' });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

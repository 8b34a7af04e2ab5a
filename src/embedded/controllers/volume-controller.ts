import type { KubeObject } from '../../domain/kube-object.js';
import type { EmbeddedApi } from '../api-types.js';
import { errorMessage, getIfExists, isAlreadyExists, isNotFound, retryOnConflict } from './api-errors.js';
import type { ControllerLogger } from './logger.js';
import { PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES } from './resources.js';
import { createVolumeDirectory, removeVolumeDirectory } from './volume-directories.js';
import { objectKey, splitKey, watchResource } from './watch-resource.js';
import { WorkQueue, type ReconcileResult } from './work-queue.js';

export const DEFAULT_STORAGE_CLASS = 'standard';
export const PROVISIONER = 'autostash.io/hostpath';

interface ClaimSpec {
  volumeName?: string;
  storageClassName?: string;
  accessModes?: string[];
  volumeMode?: string;
  resources?: { requests?: { storage?: string } };
}

interface VolumeSpec {
  capacity?: { storage?: string };
  accessModes?: string[];
  hostPath?: { path?: string };
  persistentVolumeReclaimPolicy?: string;
  storageClassName?: string;
  claimRef?: { namespace?: string; name?: string; uid?: string };
}

const phaseOf = (object: KubeObject): string | undefined => (object.status as { phase?: string } | undefined)?.phase;

export interface VolumeControllerOptions {
  api: EmbeddedApi;
  dataDir: string;
  logger: ControllerLogger;
  resyncMs?: number;
}

/**
 * PersistentVolume provisioning and binding. A claim without spec.volumeName gets a hostPath
 * volume `pvc-<uid>` under `<dataDir>/volumes` (reclaim Delete); a claim naming a volume binds to
 * it when the volume is free or already reserved for it. Both sides end Bound. When a bound
 * claim is gone, a Delete volume is deleted with its directory (only under `<dataDir>/volumes`)
 * and a Retain volume becomes Released.
 */
export function startVolumeController(options: VolumeControllerOptions): { stop(): Promise<void> } {
  const { api, logger, dataDir } = options;

  const setPhase = async (gvrName: 'pv' | 'pvc', object: KubeObject, status: Record<string, unknown>): Promise<void> => {
    const gvr = gvrName === 'pv' ? PERSISTENT_VOLUMES : PERSISTENT_VOLUME_CLAIMS;
    const namespace = object.metadata?.namespace;
    const name = object.metadata?.name ?? '';
    await retryOnConflict(async () => {
      const current = await getIfExists(api, gvr, namespace, name);
      if (!current || current.metadata?.uid !== object.metadata?.uid) return;
      const next = { ...((current.status as object | undefined) ?? {}), ...status };
      await api.updateStatus(gvr, namespace, { ...current, status: next });
    });
  };

  const bind = async (claim: KubeObject, volume: KubeObject): Promise<void> => {
    const volumeSpec = (volume.spec ?? {}) as VolumeSpec;
    if (phaseOf(volume) !== 'Bound') await setPhase('pv', volume, { phase: 'Bound' });
    await setPhase('pvc', claim, { phase: 'Bound', accessModes: volumeSpec.accessModes ?? [], capacity: volumeSpec.capacity ?? {} });
    logger.info({ claim: objectKey(claim.metadata?.namespace, claim.metadata?.name ?? ''), volume: volume.metadata?.name }, 'claim bound');
  };

  /** Sets spec.volumeName (and a default storageClassName) on the claim; returns it fresh. */
  const pointClaimAt = async (claim: KubeObject, volumeName: string, storageClassName: string | undefined): Promise<KubeObject | undefined> =>
    retryOnConflict(async () => {
      const current = await getIfExists(api, PERSISTENT_VOLUME_CLAIMS, claim.metadata?.namespace, claim.metadata?.name ?? '');
      if (!current || current.metadata?.uid !== claim.metadata?.uid) return undefined;
      const spec = (current.spec ?? {}) as ClaimSpec;
      if (spec.volumeName === volumeName && (storageClassName === undefined || spec.storageClassName !== undefined)) return current;
      const annotations = { ...current.metadata?.annotations, 'pv.kubernetes.io/bind-completed': 'yes', ...(storageClassName ? { 'volume.kubernetes.io/storage-provisioner': PROVISIONER } : {}) };
      return api.update(PERSISTENT_VOLUME_CLAIMS, current.metadata?.namespace, {
        ...current,
        metadata: { ...current.metadata, annotations },
        spec: { ...spec, volumeName, ...(spec.storageClassName === undefined && storageClassName ? { storageClassName } : {}) },
      });
    });

  const provision = async (claim: KubeObject): Promise<KubeObject> => {
    const spec = (claim.spec ?? {}) as ClaimSpec;
    const name = `pvc-${claim.metadata?.uid ?? ''}`;
    const existing = await getIfExists(api, PERSISTENT_VOLUMES, undefined, name);
    if (existing) return existing;
    const path = await createVolumeDirectory(dataDir, name);
    const volume: KubeObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER } },
      spec: {
        capacity: { storage: spec.resources?.requests?.storage ?? '1Gi' },
        accessModes: spec.accessModes ?? ['ReadWriteOnce'],
        hostPath: { path, type: 'DirectoryOrCreate' },
        persistentVolumeReclaimPolicy: 'Delete',
        storageClassName: spec.storageClassName ?? DEFAULT_STORAGE_CLASS,
        volumeMode: spec.volumeMode ?? 'Filesystem',
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata?.namespace, name: claim.metadata?.name, uid: claim.metadata?.uid },
      },
    };
    try {
      const created = await api.create(PERSISTENT_VOLUMES, undefined, volume);
      logger.info({ volume: name, path }, 'volume provisioned');
      return created;
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      return api.get(PERSISTENT_VOLUMES, undefined, name);
    }
  };

  const reconcileClaim = async (namespace: string | undefined, name: string): Promise<ReconcileResult> => {
    const claim = await getIfExists(api, PERSISTENT_VOLUME_CLAIMS, namespace, name);
    if (!claim || claim.metadata?.deletionTimestamp) return;
    const spec = (claim.spec ?? {}) as ClaimSpec;
    if (spec.volumeName) {
      const volume = await getIfExists(api, PERSISTENT_VOLUMES, undefined, spec.volumeName);
      // The volume may be created later (static provisioning): look again then.
      if (!volume) return { requeueAfterMs: 2000 };
      const claimRef = ((volume.spec ?? {}) as VolumeSpec).claimRef;
      const reservedForClaim = claimRef && claimRef.namespace === namespace && claimRef.name === name && (!claimRef.uid || claimRef.uid === claim.metadata?.uid);
      if (claimRef && !reservedForClaim) {
        logger.warn({ claim: objectKey(namespace, name), volume: spec.volumeName }, 'volume is bound to another claim; claim stays Pending');
        return;
      }
      if (!claimRef?.uid) {
        await retryOnConflict(async () => {
          const current = await api.get(PERSISTENT_VOLUMES, undefined, spec.volumeName!);
          const ref = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name, uid: claim.metadata?.uid };
          await api.update(PERSISTENT_VOLUMES, undefined, { ...current, spec: { ...(current.spec as object), claimRef: ref } });
        });
      }
      if (phaseOf(claim) === 'Bound' && phaseOf(volume) === 'Bound') return;
      await bind(claim, await api.get(PERSISTENT_VOLUMES, undefined, spec.volumeName));
      return;
    }
    // An explicit empty class asks for static binding only.
    if (spec.storageClassName === '') return;
    const volume = await provision(claim);
    const pointed = await pointClaimAt(claim, volume.metadata?.name ?? '', DEFAULT_STORAGE_CLASS);
    if (pointed) await bind(pointed, volume);
  };

  const reconcileVolume = async (name: string): Promise<ReconcileResult> => {
    const volume = await getIfExists(api, PERSISTENT_VOLUMES, undefined, name);
    if (!volume || volume.metadata?.deletionTimestamp) return;
    const spec = (volume.spec ?? {}) as VolumeSpec;
    const claimRef = spec.claimRef;
    if (!claimRef?.uid) {
      if (phaseOf(volume) !== 'Available') await setPhase('pv', volume, { phase: 'Available' });
      return;
    }
    const claim = await getIfExists(api, PERSISTENT_VOLUME_CLAIMS, claimRef.namespace, claimRef.name ?? '');
    if (claim && claim.metadata?.uid === claimRef.uid) return;
    if (phaseOf(volume) === 'Released' && spec.persistentVolumeReclaimPolicy !== 'Delete') return;
    if (spec.persistentVolumeReclaimPolicy === 'Delete') {
      const path = spec.hostPath?.path;
      if (path && !(await removeVolumeDirectory(dataDir, path))) {
        logger.warn({ volume: name, path }, 'volume directory is outside the data directory; left in place');
      }
      try {
        await api.delete(PERSISTENT_VOLUMES, undefined, name, { preconditions: { uid: volume.metadata?.uid } });
        logger.info({ volume: name }, 'released volume deleted');
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return;
    }
    await setPhase('pv', volume, { phase: 'Released' });
  };

  const queue = new WorkQueue({
    name: 'volume',
    logger,
    reconcile(key) {
      const { namespace, name } = splitKey(key.slice(key.indexOf(':') + 1));
      return key.startsWith('pvc:') ? reconcileClaim(namespace, name) : reconcileVolume(name);
    },
  });

  const claimKey = (object: KubeObject): string => `pvc:${objectKey(object.metadata?.namespace, object.metadata?.name ?? '')}`;
  const claimWatch = watchResource(api, PERSISTENT_VOLUME_CLAIMS, (event) => {
    queue.enqueue(claimKey(event.object));
    const volumeName = (event.object.spec as ClaimSpec | undefined)?.volumeName;
    if (volumeName) queue.enqueue(`pv:${volumeName}`);
  }, logger);
  const volumeWatch = watchResource(api, PERSISTENT_VOLUMES, (event) => {
    queue.enqueue(`pv:${event.object.metadata?.name ?? ''}`);
    const claimRef = (event.object.spec as VolumeSpec | undefined)?.claimRef;
    if (claimRef?.name) queue.enqueue(`pvc:${objectKey(claimRef.namespace, claimRef.name)}`);
  }, logger);
  const resync = setInterval(() => {
    Promise.all([api.list(PERSISTENT_VOLUME_CLAIMS), api.list(PERSISTENT_VOLUMES)]).then(
      ([claims, volumes]) => {
        claims.items.forEach((claim) => queue.enqueue(claimKey(claim)));
        volumes.items.forEach((volume) => queue.enqueue(`pv:${volume.metadata?.name ?? ''}`));
      },
      (error: unknown) => logger.warn({ err: errorMessage(error) }, 'volume resync failed'),
    );
  }, options.resyncMs ?? 30_000);
  resync.unref();

  return {
    async stop() {
      clearInterval(resync);
      claimWatch.stop();
      volumeWatch.stop();
      await queue.stop();
    },
  };
}

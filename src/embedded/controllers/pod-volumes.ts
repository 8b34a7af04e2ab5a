import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, posix } from 'node:path';
import type { KubeObject } from '../../domain/kube-object.js';
import { keyedValues, type KeyedObjectReader } from './container-env.js';

/** Thrown while a volume cannot be mapped yet (a claim not bound): try again later, not a failure. */
export class VolumeNotReadyError extends Error {
  override readonly name = 'VolumeNotReadyError';
}

export interface VolumeSources {
  read: KeyedObjectReader;
  /** The host directory of the PersistentVolume bound to the claim; undefined while unbound. */
  claimHostPath(namespace: string, claimName: string): Promise<string | undefined>;
  /** Where temporary directories (emptyDir, Secret and ConfigMap files) are made. */
  scratchRoot: string;
}

interface Volume {
  name?: string;
  persistentVolumeClaim?: { claimName?: string };
  hostPath?: { path?: string; type?: string };
  emptyDir?: Record<string, unknown>;
  secret?: { secretName?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  configMap?: { name?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  [type: string]: unknown;
}

interface KeyToPath {
  key?: string;
  path?: string;
  mode?: number;
}

export interface VolumeMount {
  name?: string;
  mountPath?: string;
  subPath?: string;
}

/** The host paths of a pod's volumes and how to remove the temporary ones. */
export interface PodVolumes {
  /** Per container (in the order given): `mountPath -> host path` for its volumeMounts, subPath applied. */
  maps: Array<Record<string, string>>;
  /** Removes the temporary directories (emptyDir, Secret, ConfigMap); never the persistent ones. */
  cleanup(): Promise<void>;
}

function safeRelative(path: string, what: string): string {
  const normalized = normalize(path);
  if (isAbsolute(path) || normalized === '..' || normalized.startsWith(`..${'/'}`) || path.split('/').includes('..')) {
    throw new Error(`${what} ${JSON.stringify(path)} must be a relative path without '..'`);
  }
  return normalized;
}

async function writeKeyFiles(directory: string, values: Record<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number | undefined, what: string): Promise<void> {
  const files = items && items.length > 0 ? items.map((item) => ({ key: item.key ?? '', path: item.path ?? item.key ?? '', mode: item.mode })) : Object.keys(values).map((key) => ({ key, path: key, mode: undefined }));
  for (const file of files) {
    const value = values[file.key];
    if (value === undefined) throw new Error(`key ${file.key} not found in ${what}`);
    const target = join(directory, safeRelative(file.path, 'item path'));
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, value);
    await chmod(target, file.mode ?? defaultMode ?? 0o644);
  }
}

/**
 * Maps the volumes used by `containers` to directories on this machine: a persistentVolumeClaim to
 * its bound PersistentVolume's host path (VolumeNotReadyError while unbound), hostPath to its
 * path, emptyDir to a fresh temporary directory, Secret/ConfigMap to a temporary directory with
 * one file per key (decoded; `items`, `defaultMode` and `optional` honoured). Other volume types
 * throw. On any error the temporary directories made so far are removed.
 */
export async function preparePodVolumes(
  podSpec: { volumes?: readonly Volume[] },
  containers: ReadonlyArray<{ volumeMounts?: readonly VolumeMount[] }>,
  namespace: string,
  sources: VolumeSources,
): Promise<PodVolumes> {
  const used = new Set(containers.flatMap((container) => (container.volumeMounts ?? []).map((mount) => mount.name)));
  const hostDirs = new Map<string, { path: string; ownsSubPaths: boolean }>();
  const temporary: string[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(temporary.map((directory) => rm(directory, { recursive: true, force: true })));
    temporary.length = 0;
  };
  const scratch = async (): Promise<string> => {
    await mkdir(sources.scratchRoot, { recursive: true });
    const directory = await mkdtemp(join(sources.scratchRoot, 'vol-'));
    temporary.push(directory);
    return directory;
  };

  try {
    for (const volume of podSpec.volumes ?? []) {
      if (!volume.name || !used.has(volume.name)) continue;
      if (volume.persistentVolumeClaim) {
        const claim = volume.persistentVolumeClaim.claimName ?? '';
        const path = await sources.claimHostPath(namespace, claim);
        if (path === undefined) throw new VolumeNotReadyError(`PersistentVolumeClaim ${namespace}/${claim} is not bound yet`);
        hostDirs.set(volume.name, { path, ownsSubPaths: true });
      } else if (volume.hostPath) {
        const path = volume.hostPath.path ?? '';
        if (!isAbsolute(path)) throw new Error(`volume ${volume.name}: hostPath.path must be absolute`);
        if (volume.hostPath.type === 'DirectoryOrCreate') await mkdir(path, { recursive: true });
        hostDirs.set(volume.name, { path, ownsSubPaths: true });
      } else if (volume.emptyDir) {
        hostDirs.set(volume.name, { path: await scratch(), ownsSubPaths: true });
      } else if (volume.secret || volume.configMap) {
        const kind = volume.secret ? 'Secret' : 'ConfigMap';
        const source = volume.secret ?? volume.configMap!;
        const objectName = volume.secret ? volume.secret.secretName : volume.configMap!.name;
        const directory = await scratch();
        const object = await sources.read(kind, namespace, objectName ?? '');
        if (object === undefined && !source.optional) throw new Error(`volume ${volume.name}: ${kind} ${namespace}/${objectName ?? ''} not found`);
        if (object) await writeKeyFiles(directory, keyedValues(object as KubeObject), source.items, source.defaultMode, `${kind} ${namespace}/${objectName ?? ''}`);
        hostDirs.set(volume.name, { path: directory, ownsSubPaths: false });
      } else {
        const type = Object.keys(volume).find((key) => key !== 'name') ?? 'unknown';
        throw new Error(`volume ${volume.name}: type ${type} is not supported by the embedded control plane (use persistentVolumeClaim, hostPath, emptyDir, secret or configMap)`);
      }
    }

    const maps: Array<Record<string, string>> = [];
    for (const container of containers) {
      const map: Record<string, string> = {};
      for (const mount of container.volumeMounts ?? []) {
        const host = hostDirs.get(mount.name ?? '');
        if (!host) throw new Error(`volumeMount ${mount.name ?? ''} names no volume of the pod`);
        if (!mount.mountPath || !posix.isAbsolute(mount.mountPath)) throw new Error(`volumeMount ${mount.name ?? ''}: mountPath must be absolute`);
        let path = host.path;
        if (mount.subPath) {
          path = join(host.path, safeRelative(mount.subPath, 'subPath'));
          // The kubelet creates a missing subPath directory in a writable volume.
          if (host.ownsSubPaths) await mkdir(path, { recursive: true });
        }
        map[mount.mountPath.length > 1 ? mount.mountPath.replace(/\/+$/, '') : mount.mountPath] = path;
      }
      maps.push(map);
    }
    return { maps, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

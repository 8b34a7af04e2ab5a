import { lstat, mkdir, realpath, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Where provisioned volumes live: `<dataDir>/volumes`. */
export function volumesRoot(dataDir: string): string {
  return join(resolve(dataDir), 'volumes');
}

/** Creates (if needed) and returns the directory of the volume `pvName` (`<dataDir>/volumes/<pvName>`). */
export async function createVolumeDirectory(dataDir: string, pvName: string): Promise<string> {
  const path = join(volumesRoot(dataDir), pvName);
  await mkdir(path, { recursive: true });
  return path;
}

/**
 * Removes a provisioned volume's directory, but only a real directory named `pvc-*` directly in
 * `<dataDir>/volumes` (symlinks resolved): anything else is left alone and false is returned.
 * A directory already gone counts as removed.
 */
export async function removeVolumeDirectory(dataDir: string, path: string): Promise<boolean> {
  const root = await realpath(volumesRoot(dataDir)).catch(() => undefined);
  const parent = await realpath(dirname(resolve(path))).catch(() => undefined);
  if (!root || parent !== root || !basename(path).startsWith('pvc-')) return false;
  const info = await lstat(join(parent, basename(path))).catch(() => undefined);
  if (!info) return true;
  if (!info.isDirectory()) return false;
  await rm(join(parent, basename(path)), { recursive: true, force: true });
  return true;
}

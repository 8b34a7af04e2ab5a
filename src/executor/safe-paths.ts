/**
 * Defence in depth for the paths an executor reads from or writes to: the webhook already refuses addon params
 * with `..` (domain/rules/safe-paths.ts), but the Job's flags may come from elsewhere and a volume may hold a
 * symbolic link that points out of it. Every path is resolved on disk (symbolic links followed) and must stay
 * inside the volume mount it names.
 */
import { readFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { isWithin, normaliseAbsolutePath, pathProblem } from '../domain/rules/safe-paths.js';
import { ExecError, translatePath } from './context.js';

/**
 * Mount points listed in a /proc/<pid>/mountinfo text (field 5, with the kernel's octal escapes decoded),
 * in file order. Lines that do not parse are skipped.
 */
export function mountPointsFrom(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined || !field.startsWith('/')) continue;
    points.push(field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))));
  }
  return points;
}

/** This process's mount points (Linux), or just `/` where /proc is not readable. */
export function ownMountPoints(mountinfoPath = '/proc/self/mountinfo'): string[] {
  try {
    return mountPointsFrom(readFileSync(mountinfoPath, 'utf8'));
  } catch {
    return ['/'];
  }
}

/** Where the volumes of this Job are mounted: the volume map's mount paths (embedded plane), else the process's mount points. */
export interface MountView {
  volumeMap?: Record<string, string> | undefined;
  /** Container mount points when there is no volume map; default {@link ownMountPoints}. */
  mountPoints?: () => string[];
}

/**
 * The mount (a container path) that `containerPath` lies in: the longest matching mount point. Without a volume
 * map the root file system counts (`/`); with one, a path in no mapped volume has no mount (undefined): on the
 * embedded plane it would be this machine's own file system.
 */
export function mountOf(view: MountView, containerPath: string): string | undefined {
  const points = view.volumeMap !== undefined ? Object.keys(view.volumeMap) : ['/', ...(view.mountPoints ?? ownMountPoints)()];
  let best: string | undefined;
  for (const point of points) {
    const bare = point.replace(/\/+$/, '') || '/';
    if (isWithin(bare, containerPath) && (best === undefined || bare.length > best.length)) best = bare;
  }
  return best;
}

/** The real path of `path`, or of its deepest existing ancestor joined with the segments that do not exist yet. */
async function realPathOrAncestor(path: string): Promise<string> {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      return posix.join(await realpath(current), ...missing.reverse());
    } catch (error) {
      // realpath("/") always succeeds, so the walk up ends.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(posix.basename(current));
      current = posix.dirname(current);
    }
  }
}

/**
 * Returns the path on this machine for `containerPath` after checking that it is absolute, has no `..`
 * segments, and, with symbolic links resolved, stays inside the volume mount it lies in (a path that does not
 * exist yet is judged by its deepest existing ancestor, so a later `mkdir -p` cannot be led out either).
 * `what` names the flag or field in the error.
 * @throws ExecError naming `what`, the path and the mount it escapes.
 */
export async function resolveInsideMount(view: MountView, containerPath: string, what: string): Promise<string> {
  const problem = pathProblem(containerPath, 'absolutePath');
  if (problem !== undefined) throw new ExecError(`${what} ${JSON.stringify(containerPath)} ${problem}`);
  // Mount points are matched as text: "/./data/link" or "//data/link" would match only "/", inside which any
  // link target is allowed. `..` is refused above, so normalising only drops "." segments and extra slashes.
  const normalised = normaliseAbsolutePath(containerPath);
  const mount = mountOf(view, normalised);
  if (mount === undefined) throw new ExecError(`${what} ${JSON.stringify(containerPath)} is not inside a volume mounted in the Job`);
  const hostPath = translatePath(view.volumeMap, normalised);
  const [realMount, realTarget] = await Promise.all([realPathOrAncestor(translatePath(view.volumeMap, mount)), realPathOrAncestor(hostPath)]).catch((error: NodeJS.ErrnoException) => {
    // realpath fails with a system error, which always has a code (ENOTDIR, ELOOP, EACCES).
    throw new ExecError(`${what} ${JSON.stringify(containerPath)} cannot be resolved (${String(error.code)})`);
  });
  if (!isWithin(realMount, realTarget)) {
    throw new ExecError(`${what} ${JSON.stringify(containerPath)} leads out of the volume mounted at ${mount} through a symbolic link: refused`);
  }
  return hostPath;
}

/** Throws an ExecError naming `what` for a restic include/exclude pattern with `..` segments or a NUL. */
export function requireSafePatterns(patterns: readonly string[], what: string): void {
  for (const pattern of patterns) {
    const problem = pathProblem(pattern, 'patternList');
    if (problem !== undefined) throw new ExecError(`${what} ${JSON.stringify(pattern)} ${problem}`);
  }
}

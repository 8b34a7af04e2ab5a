/**
 * `exec backup`: backs up one component into every Snapshot of a BackupSession and records the result in
 * `Snapshot.status.components[<component>]` (the only part of a Snapshot the executor writes).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupSession, BackupStorage, Snapshot, SnapshotComponent } from '../api/index.js';
import { parseGoDuration } from '../domain/duration.js';
import { BACKUP_SESSION_LABEL, componentPath, PVC_DATA_MOUNT_PATH } from '../domain/execution/labels.js';
import { formatByteSize } from '../domain/status/snapshot-phase.js';
import {
  BACKUP_SESSION_TYPE,
  describeFailure,
  ExecError,
  formatDuration,
  getRequired,
  localRoot,
  requireSafeAbsolutePath,
  resolveRepository,
  rfc3339,
  SNAPSHOT_TYPE,
  translatePath,
  updateStatusRetrying,
  withComponentRepository,
  type ExecOptions,
} from './context.js';
import { METADATA_FILE } from './init.js';
import { requireSafePatterns, resolveInsideMount } from './safe-paths.js';
import { createProgressThrottle, ResticError, type BackupProgress } from './restic.js';
import { DEFAULT_STALE_LOCK_MS, removeStaleLocks } from './stale-locks.js';

/** Progress is written into the Snapshot at most this often (each write is an API call). */
export const PROGRESS_WRITE_INTERVAL_MS = 2000;

export interface BackupOptions extends ExecOptions {
  backupSession: string;
  component: string;
  /** Container paths to back up; default [/kubestash-data]. */
  paths?: string[];
  /** restic exclude patterns; absolute container paths are translated like the paths. */
  exclude?: string[];
  /** Age after which a leftover restic lock may be removed (default: the session's backupTimeout, else 1 h). */
  staleLockSeconds?: number;
  /**
   * Produces the content of `paths` once the session and its Snapshots are known and before any is backed up
   * (a manifest backup writes its dump there). When it throws, the failure is recorded in every Snapshot.
   */
  prepare?: (session: BackupSession) => Promise<void>;
}

export interface SnapshotBackupResult {
  snapshot: string;
  phase: 'Succeeded' | 'Failed';
  error?: string;
  resticIds: string[];
}

export interface BackupResult {
  ok: boolean;
  snapshots: SnapshotBackupResult[];
  /** One line naming the failed snapshots and why (when !ok). */
  message: string;
}

type ResticStatsEntry = NonNullable<SnapshotComponent['resticStats']>[number];

/**
 * Throws an ExecError naming the mount path unless a local backend's root is a directory holding the
 * metadata.yaml that init-storage wrote; does nothing for other providers. Why: a share that is not mounted
 * leaves an empty (or no) directory at the mount path, and `restic init` would quietly start a new repository
 * there, on the wrong disk, while the real one is unreachable.
 */
export async function requireInitialisedLocalRoot(storage: BackupStorage, volumeMap: Record<string, string> | undefined): Promise<void> {
  const root = localRoot(storage, volumeMap);
  if (root === undefined) return;
  const what = `the local backend root ${storage.spec?.storage?.local?.mountPath ?? ''}`;
  const info = await stat(root).catch(() => undefined);
  if (info === undefined) throw new ExecError(`${what} does not exist (is the backend mounted?)`);
  if (!info.isDirectory()) throw new ExecError(`${what} is not a directory`);
  const marker = await stat(join(root, METADATA_FILE)).catch(() => undefined);
  if (marker === undefined) {
    throw new ExecError(`${what} has no ${METADATA_FILE}: the backend is not mounted or was not initialised, so no restic repository is created there`);
  }
}

/**
 * Validates the paths, runs `prepare` (when given) once the session's Snapshots are known, then for each
 * Snapshot of the session (status.snapshots[] names, else the Snapshots labelled with the session) resolves
 * Repository → BackupStorage → Secrets, initialises the component's restic repository when missing, clears
 * stale locks, and backs up each path (restic in the translated path, `.`,
 * host = component, tags session=<BS> and snapshot=<name>). Writes the component Running with progress, then
 * Succeeded or Failed with the restic ids and sizes. A failing Snapshot does not stop the others.
 * Throws ExecError (nothing written) when the session or its Snapshots cannot be found.
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const { client, namespace, logger, component } = options;
  const now = options.now ?? (() => new Date());
  if (component === '') throw new ExecError('--component is required');
  const paths = options.paths !== undefined && options.paths.length > 0 ? options.paths : [PVC_DATA_MOUNT_PATH];
  // A bad path or a failed preparation is written into every Snapshot (the user sees it there), not only on stderr.
  let pathProblem: unknown;
  try {
    for (const path of paths) requireSafeAbsolutePath(path, '--paths entry');
    requireSafePatterns(options.exclude ?? [], '--exclude pattern');
  } catch (error) {
    pathProblem = error;
  }
  const session = await getRequired<BackupSession>(client, BACKUP_SESSION_TYPE, namespace, options.backupSession, 'BackupSession');
  const sessionName = session.spec?.session ?? '';
  if (sessionName === '') throw new ExecError(`BackupSession ${namespace}/${options.backupSession} has no spec.session`);
  const snapshotNames = await snapshotsOf(options, session);
  if (snapshotNames.length === 0) throw new ExecError(`BackupSession ${namespace}/${options.backupSession} has no Snapshots yet`);
  const staleAfterMs = options.staleLockSeconds !== undefined ? options.staleLockSeconds * 1000 : timeoutMs(session.spec?.backupTimeout) ?? DEFAULT_STALE_LOCK_MS;
  if (pathProblem === undefined && options.prepare !== undefined) {
    try {
      await options.prepare(session);
    } catch (error) {
      pathProblem = error;
    }
  }

  const results: SnapshotBackupResult[] = [];
  for (const snapshotName of snapshotNames) {
    const started = now();
    const write = (entry: SnapshotComponent): Promise<unknown> =>
      updateStatusRetrying<Snapshot>(client, SNAPSHOT_TYPE, namespace, snapshotName, (current) => {
        const status = (current.status ??= {});
        status.components = { ...status.components, [component]: entry };
      });
    const base: SnapshotComponent = { path: componentPath(sessionName, component), driver: 'Restic' };
    const stats: ResticStatsEntry[] = [];
    let integrity = true;
    let totalBytes = 0;
    try {
      if (pathProblem !== undefined) throw pathProblem;
      await write({ ...base, phase: 'Running' });
      const snapshot = await getRequired<Snapshot>(client, SNAPSHOT_TYPE, namespace, snapshotName, 'Snapshot');
      const repositoryName = snapshot.spec?.repository ?? '';
      if (repositoryName === '') throw new ExecError(`Snapshot ${snapshotName} has no spec.repository`);
      const resolved = await resolveRepository(client, namespace, repositoryName);
      await requireInitialisedLocalRoot(resolved.storage, options.volumeMap);
      await withComponentRepository(options, resolved, base.path as string, async ({ restic }) => {
        // Every restic run that opens the repository pays its key derivation (~0.5 s), so the happy path is one
        // run: the backup itself. A missing repository (first backup) is initialised and a lock left by a crashed
        // run is cleared only when the backup reports them, then the backup is tried once more.
        let initialised = false;
        let unlocked = false;
        const recovering = async <T>(run: () => Promise<T>): Promise<T> => {
          for (;;) {
            try {
              return await run();
            } catch (error) {
              if (!(error instanceof ResticError)) throw error;
              if (error.code === 'RepositoryNotFound' && !initialised) {
                initialised = true;
                await restic.init();
              } else if (error.code === 'RepositoryLocked' && !unlocked) {
                unlocked = true;
                const cleared = await removeStaleLocks({
                  restic,
                  client,
                  namespaces: [namespace, resolved.repository.metadata?.namespace ?? namespace],
                  repository: repositoryName,
                  podName: options.podName,
                  staleAfterMs,
                  now: now(),
                  logger,
                });
                if (cleared.remaining !== 0 && !cleared.removedAll) throw error;
              } else throw error;
            }
          }
        };
        const throttle = createProgressThrottle(PROGRESS_WRITE_INTERVAL_MS, () => now().getTime());
        for (const path of paths) {
          // Symbolic links in the volume must not take the backup out of it.
          const hostPath = await resolveInsideMount(options, path, '--paths entry');
          const info = await stat(hostPath).catch(() => undefined);
          if (info === undefined) throw new ExecError(`the path ${path} does not exist in the backup Job`);
          if (!info.isDirectory()) throw new ExecError(`the path ${path} is not a directory`);
          const pathStarted = now();
          if ((await readdir(hostPath)).length === 0) {
            // restic refuses an empty snapshot ("snapshot is empty"); an empty volume is still a good backup of
            // nothing, so it is recorded without a restic id and a restore leaves the path empty.
            stats.push({ summary: { hostPath: path, size: formatByteSize(0), uploaded: formatByteSize(0), startTime: rfc3339(pathStarted), endTime: rfc3339(now()) } });
            logger.info({ snapshot: snapshotName, path }, 'path is empty; nothing to back up');
            continue;
          }
          const onProgress = (progress: BackupProgress): void => {
            if (!throttle()) return;
            const entry: ResticStatsEntry = {
              progress: {
                percentDone: `${(progress.percentDone * 100).toFixed(2)}%`,
                backupDone: formatByteSize(progress.bytesDone),
                total: formatByteSize(progress.totalBytes),
                secondsElapsed: Math.round((now().getTime() - pathStarted.getTime()) / 1000),
              },
            };
            write({ ...base, phase: 'Running', resticStats: [...stats, entry] }).catch((error: unknown) =>
              logger.warn({ err: describeFailure(error) }, 'backup progress not written'),
            );
          };
          const result = await recovering(() => restic.backup(['.'], {
            cwd: hostPath,
            host: component,
            tags: [`session=${options.backupSession}`, `snapshot=${snapshotName}`],
            exclude: excludePatterns(options.exclude ?? [], options.volumeMap),
            onProgress,
          }));
          if (result.incomplete) integrity = false;
          totalBytes += result.totalBytesProcessed;
          stats.push({
            summary: {
              id: result.snapshotId,
              hostPath: path,
              size: formatByteSize(result.totalBytesProcessed),
              uploaded: formatByteSize(result.dataAdded),
              startTime: rfc3339(pathStarted),
              endTime: rfc3339(now()),
            },
          });
          logger.info({ snapshot: snapshotName, path, resticId: result.snapshotId }, 'path backed up');
        }
        // A local backend that vanished (or was swapped) mid-run: restic recreates the directories it writes
        // into and reports success for a snapshot whose tree has no repository around it.
        try {
          await requireInitialisedLocalRoot(resolved.storage, options.volumeMap);
        } catch (error) {
          // The ids restic reported name snapshots outside the repository: none is recorded.
          stats.splice(0);
          throw new ExecError(`the backend changed during the backup, so the snapshot is not reported as saved: ${(error as Error).message}`);
        }
      });
      await write({
        ...base,
        phase: 'Succeeded',
        duration: formatDuration(now().getTime() - started.getTime()),
        size: formatByteSize(totalBytes),
        integrity,
        resticStats: stats,
        ...(integrity ? {} : { error: 'some files could not be read; the snapshot is incomplete' }),
      });
      results.push({ snapshot: snapshotName, phase: 'Succeeded', resticIds: stats.map((s) => s.summary?.id ?? '') });
    } catch (error) {
      const reason = describeFailure(error);
      logger.error({ snapshot: snapshotName, component, reason }, 'component backup failed');
      try {
        await write({
          ...base,
          phase: 'Failed',
          duration: formatDuration(now().getTime() - started.getTime()),
          integrity: false,
          error: reason,
          ...(stats.length > 0 ? { resticStats: stats } : {}),
        });
      } catch (writeError) {
        logger.error({ snapshot: snapshotName, err: describeFailure(writeError) }, 'component failure not written');
      }
      results.push({ snapshot: snapshotName, phase: 'Failed', error: reason, resticIds: stats.map((s) => s.summary?.id ?? '') });
    }
  }
  const failed = results.filter((r) => r.phase === 'Failed');
  return {
    ok: failed.length === 0,
    snapshots: results,
    message: failed.length === 0 ? `backed up ${component} into ${results.length} snapshot(s)` : failed.map((r) => `snapshot ${r.snapshot}: ${r.error}`).join('; '),
  };
}

/** Snapshot names of a session: its status list, else the Snapshots labelled with it (sorted by name). */
async function snapshotsOf(options: BackupOptions, session: BackupSession): Promise<string[]> {
  const listed = (session.status?.snapshots ?? []).map((s) => s.name ?? '').filter((n) => n !== '');
  if (listed.length > 0) return listed;
  const found = await options.client.list<Snapshot>(SNAPSHOT_TYPE, { namespace: options.namespace, labelSelector: `${BACKUP_SESSION_LABEL}=${options.backupSession}` });
  return found.items.map((s) => s.metadata?.name ?? '').filter((n) => n !== '').sort();
}

/**
 * restic matches backup excludes against absolute paths on this machine, so an absolute container path is
 * translated the same way the backed-up paths are; other patterns (`*.tmp`, `cache`) pass unchanged.
 */
export function excludePatterns(patterns: string[], volumeMap: Record<string, string> | undefined): string[] {
  return patterns.map((pattern) => (pattern.startsWith('/') ? translatePath(volumeMap, pattern) : pattern));
}

/** A Go duration in milliseconds, or undefined when absent, invalid or not positive. */
export function timeoutMs(duration: string | undefined): number | undefined {
  if (duration === undefined || duration === '') return undefined;
  const parsed = parseGoDuration(duration);
  if (!parsed.ok || parsed.value <= 0n) return undefined;
  return Number(parsed.value / 1_000_000n);
}

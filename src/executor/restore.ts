/**
 * `exec restore`: restores one component of a Snapshot into the paths the restore Job mounts, and records the
 * result in `RestoreSession.status.components[<component>]`.
 */
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { RestoreSession, Snapshot } from '../api/index.js';
import type { ComponentRestoreStatus } from '../api/core.js';
import { componentPath, REPOSITORY_NAME_LABEL } from '../domain/execution/labels.js';
import {
  describeFailure,
  ExecError,
  formatDuration,
  getRequired,
  isMountedPath,
  localMount,
  requireSafeAbsolutePath,
  resolveRepository,
  RESTORE_SESSION_TYPE,
  SNAPSHOT_TYPE,
  updateStatusRetrying,
  withComponentRepository,
  type ExecOptions,
} from './context.js';
import { isWithin, normaliseAbsolutePath } from '../domain/rules/safe-paths.js';
import { requireSafePatterns, resolveInsideMount } from './safe-paths.js';
import type { Restic } from './restic.js';

export interface RestoreOptions extends ExecOptions {
  restoreSession: string;
  component: string;
  /** Snapshot name chosen by the controller; else spec.dataSource.snapshot (`latest` resolved here). */
  snapshot?: string;
  include?: string[];
  exclude?: string[];
  /**
   * Where the target's data is mounted in this Job when it differs from where it was backed up (a PVC
   * restore mounts at /kubestash-data whatever the source workload used). One recorded path is restored
   * into it; several go to `<targetPath>/<recorded path>`. Unset: each path is restored where it was.
   */
  targetPath?: string;
}

export interface RestoreResult {
  ok: boolean;
  snapshot?: string;
  /** Container paths restored into. */
  restoredPaths: string[];
  message: string;
}

export const LATEST_SNAPSHOT = 'latest';

/** One restic snapshot of a component as the Snapshot recorded it (an entry without id was an empty path). */
export type RecordedEntry = { id?: string | undefined; hostPath: string };

/** What a component restore has once the Snapshot is chosen and its restic repository is open. */
export interface ComponentRestoreContext {
  session: RestoreSession;
  snapshotName: string;
  /** The component's recorded paths, each with its restic snapshot id. */
  entries: RecordedEntry[];
  restic: Restic;
  /** Where a local backend is mounted in this Job (container path); undefined for other providers. */
  backendMountPath?: string | undefined;
}

/** How a component restore ended; `error` makes the component Failed (without throwing). */
export interface ComponentRestoreOutcome {
  restoredPaths: string[];
  message: string;
  error?: string;
}

/**
 * Reads the RestoreSession, picks the Snapshot (flag, else spec.dataSource.snapshot; `latest` = the newest
 * Succeeded Snapshot of the repository), and for each resticStats entry of the component runs
 * `restic restore <id> --target <translated hostPath>`. Writes the component Running, then Succeeded or Failed
 * (with duration and a reason). Throws ExecError only when the RestoreSession itself is missing.
 */
export async function runRestore(options: RestoreOptions): Promise<RestoreResult> {
  return restoreComponent(options, (context) => restoreIntoPaths(options, context));
}

/**
 * The frame of every component restore: reads the RestoreSession (throwing ExecError when it is missing),
 * writes the component Running, chooses the Snapshot, resolves the Repository, opens the component's restic
 * repository and hands the recorded entries to `restoreData`; then writes the component Succeeded, or Failed
 * with the outcome's error or the reason of whatever was thrown, with the duration either way.
 */
export async function restoreComponent(
  options: RestoreOptions,
  restoreData: (context: ComponentRestoreContext) => Promise<ComponentRestoreOutcome>,
): Promise<RestoreResult> {
  const { client, namespace, logger, component } = options;
  const now = options.now ?? (() => new Date());
  const session = await getRequired<RestoreSession>(client, RESTORE_SESSION_TYPE, namespace, options.restoreSession, 'RestoreSession');
  const started = now();
  const write = (entry: ComponentRestoreStatus): Promise<unknown> =>
    updateStatusRetrying<RestoreSession>(client, RESTORE_SESSION_TYPE, namespace, options.restoreSession, (current) => {
      const status = (current.status ??= {});
      status.components = { ...status.components, [component]: entry };
    });
  const duration = (): string => formatDuration(now().getTime() - started.getTime());

  let snapshotName: string | undefined;
  let outcome: ComponentRestoreOutcome = { restoredPaths: [], message: '' };
  try {
    if (component === '') throw new ExecError('--component is required');
    await write({ phase: 'Running' });
    const dataSource = session.spec?.dataSource;
    const repositoryName = dataSource?.repository ?? '';
    if (repositoryName === '') throw new ExecError('spec.dataSource.repository is not set');
    const repositoryNamespace = dataSource?.namespace ?? namespace;
    snapshotName = await chooseSnapshot(options, options.snapshot || dataSource?.snapshot || '', repositoryNamespace, repositoryName);
    const chosen = snapshotName;
    const snapshot = await getRequired<Snapshot>(client, SNAPSHOT_TYPE, repositoryNamespace, snapshotName, 'Snapshot');
    const recorded = snapshot.status?.components?.[component];
    // Entries without an id are paths that were empty at backup time (restic keeps no empty snapshot).
    const entries = (recorded?.resticStats ?? [])
      .map((s) => s.summary)
      .filter((s): s is RecordedEntry => s?.hostPath !== undefined && s.hostPath !== '');
    if (recorded === undefined || entries.length === 0) throw new ExecError(`Snapshot ${snapshotName} has no restic data for component ${component}`);
    const resolved = await resolveRepository(client, repositoryNamespace, repositoryName, dataSource?.encryptionSecret);
    const path = recorded.path ?? componentPath(snapshot.spec?.session ?? '', component);
    outcome = await withComponentRepository(options, resolved, path, ({ restic }) => restoreData({ session, snapshotName: chosen, entries, restic, backendMountPath: localMount(resolved.storage, options.volumeMap)?.mountPath }));
    if (outcome.error !== undefined) throw new ExecError(outcome.error);
    await write({ phase: 'Succeeded', duration: duration() });
    return { ok: true, snapshot: snapshotName, restoredPaths: outcome.restoredPaths, message: outcome.message };
  } catch (error) {
    const reason = describeFailure(error);
    logger.error({ restoreSession: `${namespace}/${options.restoreSession}`, component, reason }, 'component restore failed');
    try {
      await write({ phase: 'Failed', duration: duration(), error: reason });
    } catch (writeError) {
      logger.error({ err: describeFailure(writeError) }, 'component failure not written');
    }
    return { ok: false, ...(snapshotName !== undefined ? { snapshot: snapshotName } : {}), restoredPaths: outcome.restoredPaths, message: reason };
  }
}

/** File restores: each recorded path back where the restore Job mounts it (see RestoreOptions.targetPath). */
async function restoreIntoPaths(options: RestoreOptions, { snapshotName, entries, restic, backendMountPath }: ComponentRestoreContext): Promise<ComponentRestoreOutcome> {
  const restoredPaths: string[] = [];
  requireSafePatterns(options.include ?? [], '--include pattern');
  requireSafePatterns(options.exclude ?? [], '--exclude pattern');
  for (const entry of entries) {
    const hostPath = entry.hostPath;
    requireSafeAbsolutePath(hostPath, 'restore target');
    const containerTarget = restoreTargetOf(hostPath, entries.length, options.targetPath);
    requireSafeAbsolutePath(containerTarget, '--target-path');
    requireOutsideBackend(containerTarget, backendMountPath);
    if (options.volumeMap !== undefined && !isMountedPath(options.volumeMap, containerTarget)) {
      // Outside every volume of the Job the data would land in the container's own file system (or, on the
      // embedded plane, on this machine's): refuse rather than "succeed" into nowhere.
      throw new ExecError(`the restore target ${containerTarget} is not inside a volume mounted in the restore Job`);
    }
    // Resolved before mkdir: a symbolic link in the volume must not lead the restore (or mkdir -p) out of it.
    const target = await resolveInsideMount(options, containerTarget, 'restore target');
    await mkdir(target, { recursive: true });
    if (entry.id === undefined || entry.id === '') {
      restoredPaths.push(containerTarget);
      continue;
    }
    await restic.restore(entry.id, target, {
      include: snapshotPatterns(options.include ?? [], hostPath),
      exclude: snapshotPatterns(options.exclude ?? [], hostPath),
    });
    restoredPaths.push(containerTarget);
    options.logger.info({ snapshot: snapshotName, path: hostPath, resticId: entry.id }, 'path restored');
  }
  return { restoredPaths, message: `restored ${options.component} from ${snapshotName} into ${restoredPaths.join(', ')}` };
}

/**
 * A local backend's volume is mounted read-write in the restore Job (restic reads the repository from it), and
 * may be shared by other namespaces' repositories: a target in it, or above it, would overwrite repositories,
 * the one being read included. (A symbolic link into it is caught by resolveInsideMount: it leaves its volume.)
 */
function requireOutsideBackend(containerTarget: string, backendMountPath: string | undefined): void {
  if (backendMountPath === undefined) return;
  const [target, backend] = [normaliseAbsolutePath(containerTarget), normaliseAbsolutePath(backendMountPath)];
  if (isWithin(backend, target) || isWithin(target, backend)) {
    throw new ExecError(`the restore target ${containerTarget} overlaps the backend volume mounted at ${backendMountPath}: restore into the target's data volume`);
  }
}

/** Where a recorded path is restored to (see {@link RestoreOptions.targetPath}). */
export function restoreTargetOf(recordedPath: string, entryCount: number, targetPath: string | undefined): string {
  if (targetPath === undefined || targetPath === '') return recordedPath;
  return entryCount === 1 ? targetPath : posix.join(targetPath, recordedPath);
}

/** The Snapshot to restore: a name as given, or for `latest` the newest Succeeded Snapshot of the repository. */
async function chooseSnapshot(options: RestoreOptions, requested: string, namespace: string, repository: string): Promise<string> {
  if (requested === '') throw new ExecError('no snapshot given: set spec.dataSource.snapshot');
  if (requested !== LATEST_SNAPSHOT) return requested;
  const listed = await options.client.list<Snapshot>(SNAPSHOT_TYPE, { namespace, labelSelector: `${REPOSITORY_NAME_LABEL}=${repository}` });
  const time = (s: Snapshot): number => Date.parse(s.status?.snapshotTime ?? s.metadata?.creationTimestamp ?? '') || 0;
  const newest = listed.items
    .filter((s) => s.status?.phase === 'Succeeded' && !s.metadata?.deletionTimestamp)
    .sort((a, b) => time(b) - time(a) || ((b.metadata?.name ?? '') < (a.metadata?.name ?? '') ? -1 : 1))[0];
  if (newest?.metadata?.name === undefined) throw new ExecError(`Repository ${namespace}/${repository} has no Succeeded Snapshot to restore as latest`);
  return newest.metadata.name;
}

/**
 * Restore include/exclude patterns as restic matches them, against the snapshot tree (rooted at the backed-up
 * path): an absolute container path under the path becomes `/<relative>`; other patterns pass unchanged.
 */
export function snapshotPatterns(patterns: string[], hostPath: string): string[] {
  const base = hostPath.replace(/\/+$/, '');
  return patterns.map((pattern) => {
    if (pattern === base) return '/';
    return pattern.startsWith(`${base}/`) ? pattern.slice(base.length) : pattern;
  });
}

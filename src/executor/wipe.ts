/**
 * `exec wipe-snapshot` and `exec wipe-repository`: remove backup data for a Snapshot or a whole Repository
 * (WipeOut deletion policy). The controller removes the finalizers once these Jobs complete.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Repository, Snapshot } from '../api/index.js';
import { componentPath } from '../domain/execution/labels.js';
import {
  BACKUP_STORAGE_TYPE,
  ExecError,
  getRequired,
  hasParentSegment,
  localRoot,
  resolveRepository,
  REPOSITORY_TYPE,
  SNAPSHOT_TYPE,
  withComponentRepository,
  type ExecOptions,
  type ResolvedRepository,
} from './context.js';
import { ResticError } from './restic.js';
import { DEFAULT_STALE_LOCK_MS, removeStaleLocks } from './stale-locks.js';

export interface WipeResult {
  ok: boolean;
  message: string;
}

/**
 * Forgets `ids` in the restic repository of `path` and prunes it, after clearing stale locks. A restic repository
 * that does not exist has nothing to forget; ids restic no longer has are ignored. Returns false when there was no
 * repository.
 */
export async function forgetInComponentRepository(
  options: ExecOptions,
  resolved: ResolvedRepository,
  path: string,
  ids: string[] | 'all',
  staleAfterMs: number,
): Promise<boolean> {
  return withComponentRepository(options, resolved, path, async ({ restic }) => {
    try {
      await removeStaleLocks({
        restic,
        client: options.client,
        // resolveRepository read the Repository in options.namespace.
        namespaces: [options.namespace],
        repository: resolved.repository.metadata?.name as string,
        podName: options.podName,
        staleAfterMs,
        now: (options.now ?? (() => new Date()))(),
        logger: options.logger,
      });
    } catch (error) {
      if (error instanceof ResticError && error.code === 'RepositoryNotFound') return false;
      throw error;
    }
    const toForget = ids === 'all' ? (await restic.snapshots()).map((s) => s.id) : ids;
    if (toForget.length === 0) return true;
    await restic.forget(toForget);
    await restic.prune();
    return true;
  });
}

/**
 * `exec wipe-snapshot`: forgets and prunes the restic snapshots of every component of the Snapshot. A Snapshot
 * or restic data that is already gone is success.
 */
export async function wipeSnapshot(options: ExecOptions & { snapshot: string; staleLockSeconds?: number }): Promise<WipeResult> {
  const { client, namespace } = options;
  const snapshot = await client.find<Snapshot>({ ...SNAPSHOT_TYPE, namespace, name: options.snapshot });
  if (snapshot === undefined) return { ok: true, message: `Snapshot ${namespace}/${options.snapshot} is already gone` };
  const components = Object.entries(snapshot.status?.components ?? {})
    .map(([name, c]) => ({ path: c.path ?? componentPath(snapshot.spec?.session ?? '', name), ids: (c.resticStats ?? []).map((s) => s.summary?.id).filter((id): id is string => Boolean(id)) }))
    .filter((c) => c.ids.length > 0);
  if (components.length === 0) return { ok: true, message: `Snapshot ${options.snapshot} has no restic data` };
  const resolved = await resolveRepository(client, namespace, snapshot.spec?.repository ?? '');
  const staleAfterMs = options.staleLockSeconds !== undefined ? options.staleLockSeconds * 1000 : DEFAULT_STALE_LOCK_MS;
  let forgotten = 0;
  for (const component of components) {
    if (await forgetInComponentRepository(options, resolved, component.path, component.ids, staleAfterMs)) forgotten += component.ids.length;
  }
  options.logger.info({ snapshot: `${namespace}/${options.snapshot}`, forgotten }, 'snapshot data wiped');
  return { ok: true, message: `wiped ${forgotten} restic snapshot(s) of Snapshot ${options.snapshot}` };
}

/**
 * `exec wipe-repository`: for a local backend removes `<root>/<spec.path>` (refusing an empty path, `/` or `..`
 * segments); for other backends forgets every restic snapshot and prunes each path in status.componentPaths.
 */
export async function wipeRepository(options: ExecOptions & { repository: string; staleLockSeconds?: number }): Promise<WipeResult> {
  const { client, namespace, logger } = options;
  const repository = await getRequired<Repository>(client, REPOSITORY_TYPE, namespace, options.repository, 'Repository');
  const path = repository.spec?.path ?? '';
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw new ExecError(`refusing to wipe Repository ${options.repository}: spec.path "${path}" names the backend root`);
  if (hasParentSegment(path)) throw new ExecError(`refusing to wipe Repository ${options.repository}: spec.path "${path}" contains ".." segments`);
  const resolvedStorage: ResolvedRepository | Error = await resolveRepository(client, namespace, options.repository).catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  // A local backend is wiped by removing the directory: no password needed, so a lost encryption Secret does not block it.
  const storage = resolvedStorage instanceof Error ? await storageOf(options, repository) : resolvedStorage.storage;
  const root = localRoot(storage, options.volumeMap);
  if (root !== undefined) {
    const directory = join(root, ...segments);
    const exists = await stat(directory).then(() => true, () => false);
    await rm(directory, { recursive: true, force: true });
    logger.info({ repository: `${namespace}/${options.repository}`, existed: exists }, 'repository directory removed');
    return { ok: true, message: exists ? `removed ${path} from the local backend` : `${path} was already absent from the local backend` };
  }
  if (resolvedStorage instanceof Error) throw resolvedStorage;
  const staleAfterMs = options.staleLockSeconds !== undefined ? options.staleLockSeconds * 1000 : DEFAULT_STALE_LOCK_MS;
  const paths = repository.status?.componentPaths ?? [];
  for (const componentPathEntry of paths) await forgetInComponentRepository(options, resolvedStorage, componentPathEntry, 'all', staleAfterMs);
  return { ok: true, message: `forgot every snapshot in ${paths.length} component path(s) of Repository ${options.repository}` };
}

async function storageOf(options: ExecOptions, repository: Repository): Promise<ResolvedRepository['storage']> {
  const ref = repository.spec?.storageRef;
  return getRequired(options.client, BACKUP_STORAGE_TYPE, ref?.namespace ?? options.namespace, ref?.name ?? '', 'BackupStorage');
}

/**
 * `exec retention`: applies each repository's RetentionPolicy after a BackupSession and records the outcome
 * in `BackupSession.status.retentionPolicy[]`. Data first, objects second: a Snapshot object is deleted only
 * after the restic snapshots of all its components are forgotten and pruned.
 */
import type { BackupConfiguration, BackupSession, RetentionPolicy, Snapshot } from '../api/index.js';
import { CLEANUP_FINALIZER, REPOSITORY_NAME_LABEL } from '../domain/execution/labels.js';
import { selectSnapshots, type SnapshotForRetention } from '../domain/retention/select-snapshots.js';
import { isConflict, isNotFound } from '../kube/client.js';
import {
  BACKUP_CONFIGURATION_TYPE,
  BACKUP_SESSION_TYPE,
  describeFailure,
  ExecError,
  getRequired,
  resolveRepository,
  RETENTION_POLICY_TYPE,
  SNAPSHOT_TYPE,
  updateStatusRetrying,
  type ExecOptions,
  type ResolvedRepository,
} from './context.js';
import { DEFAULT_STALE_LOCK_MS } from './stale-locks.js';
import { forgetInComponentRepository } from './wipe.js';

export interface RetentionOptions extends ExecOptions {
  backupSession: string;
  staleLockSeconds?: number;
}

export interface RepositoryRetentionResult {
  repository: string;
  policy?: { name: string; namespace: string };
  phase: 'Applied' | 'FailedToApply';
  error?: string;
  /** Snapshot objects deleted (their data removed first). */
  removed: string[];
  /** Snapshots selected for removal but kept because their data could not be removed. */
  kept: string[];
}

export interface RetentionResult {
  ok: boolean;
  repositories: RepositoryRetentionResult[];
  message: string;
}

type RetentionStatusEntry = NonNullable<NonNullable<BackupSession['status']>['retentionPolicy']>[number];

/**
 * For every repository in the session's status.snapshots, finds the RetentionPolicy of the repository's backend
 * in the invoking BackupConfiguration, selects the Snapshots to remove (selectSnapshots with `now`), forgets
 * their components' restic snapshots and prunes each touched restic repository once, then deletes the Snapshot
 * objects (finalizer removed first: their data is gone). Writes one status.retentionPolicy entry per repository.
 */
export async function runRetention(options: RetentionOptions): Promise<RetentionResult> {
  const { client, namespace, logger } = options;
  const now = options.now ?? (() => new Date());
  const session = await getRequired<BackupSession>(client, BACKUP_SESSION_TYPE, namespace, options.backupSession, 'BackupSession');
  const repositories = [...new Set((session.status?.snapshots ?? []).map((s) => s.repository).filter((r): r is string => Boolean(r)))];
  const invoker = session.spec?.invoker;
  const staleAfterMs = options.staleLockSeconds !== undefined ? options.staleLockSeconds * 1000 : DEFAULT_STALE_LOCK_MS;

  // The invoking configuration, or why there is none (reported for every repository).
  let configuration: BackupConfiguration | ExecError;
  if (invoker?.kind !== 'BackupConfiguration' || !invoker.name) configuration = new ExecError(`BackupSession spec.invoker is not a BackupConfiguration`);
  else {
    configuration =
      (await client.find<BackupConfiguration>({ ...BACKUP_CONFIGURATION_TYPE, namespace, name: invoker.name })) ??
      new ExecError(`BackupConfiguration ${namespace}/${invoker.name} not found`);
  }

  const results: RepositoryRetentionResult[] = [];
  for (const repository of repositories) {
    const result: RepositoryRetentionResult = { repository, phase: 'Applied', removed: [], kept: [] };
    try {
      if (configuration instanceof ExecError) throw configuration;
      const policyRef = retentionPolicyOf(configuration, session.spec?.session, repository);
      result.policy = policyRef;
      const policy = await getRequired<RetentionPolicy>(client, RETENTION_POLICY_TYPE, policyRef.namespace, policyRef.name, 'RetentionPolicy');
      await applyToRepository(options, repository, policy, now(), staleAfterMs, result);
    } catch (error) {
      result.phase = 'FailedToApply';
      result.error = describeFailure(error);
      logger.error({ repository, reason: result.error }, 'retention policy not applied');
    }
    results.push(result);
  }

  await updateStatusRetrying<BackupSession>(client, BACKUP_SESSION_TYPE, namespace, options.backupSession, (current) => {
    const status = (current.status ??= {});
    const mine = new Set(results.map((r) => r.repository));
    const entries: RetentionStatusEntry[] = (status.retentionPolicy ?? []).filter((e) => !mine.has(e.repository ?? ''));
    for (const r of results) {
      entries.push({
        ...(r.policy !== undefined ? { ref: r.policy } : {}),
        repository: r.repository,
        phase: r.phase,
        ...(r.error !== undefined ? { error: r.error } : {}),
      });
    }
    status.retentionPolicy = entries;
  });

  const failed = results.filter((r) => r.phase === 'FailedToApply');
  return {
    ok: failed.length === 0,
    repositories: results,
    message:
      failed.length === 0
        ? `retention applied to ${results.length} repositor${results.length === 1 ? 'y' : 'ies'}, ${results.reduce((n, r) => n + r.removed.length, 0)} snapshot(s) removed`
        : failed.map((r) => `repository ${r.repository}: ${r.error}`).join('; '),
  };
}

/** The RetentionPolicy reference of the backend the repository belongs to (namespace defaults to the BC's). */
export function retentionPolicyOf(configuration: BackupConfiguration, sessionName: string | undefined, repository: string): { name: string; namespace: string } {
  const sessions = configuration.spec?.sessions ?? [];
  const candidates = sessions.filter((s) => s.name === sessionName).concat(sessions.filter((s) => s.name !== sessionName));
  const info = candidates.flatMap((s) => s.repositories ?? []).find((r) => r.name === repository);
  const bcName = `${configuration.metadata?.namespace ?? ''}/${configuration.metadata?.name ?? ''}`;
  if (info === undefined) throw new ExecError(`BackupConfiguration ${bcName} lists no repository ${repository}`);
  const backend = (configuration.spec?.backends ?? []).find((b) => b.name === info.backend);
  if (backend === undefined) throw new ExecError(`BackupConfiguration ${bcName} has no backend "${info.backend ?? ''}" for repository ${repository}`);
  const ref = backend.retentionPolicy;
  if (ref?.name === undefined || ref.name === '') throw new ExecError(`backend "${backend.name ?? ''}" of BackupConfiguration ${bcName} has no retentionPolicy`);
  return { name: ref.name, namespace: ref.namespace ?? configuration.metadata?.namespace ?? '' };
}

const RETENTION_PHASES = new Set(['Succeeded', 'Failed', 'Running', 'Pending']);

async function applyToRepository(
  options: RetentionOptions,
  repository: string,
  policy: RetentionPolicy,
  now: Date,
  staleAfterMs: number,
  result: RepositoryRetentionResult,
): Promise<void> {
  const { client, namespace, logger } = options;
  const listed = await client.list<Snapshot>(SNAPSHOT_TYPE, { namespace, labelSelector: `${REPOSITORY_NAME_LABEL}=${repository}` });
  // Snapshots already being deleted belong to their cleanup Job.
  const live = listed.items.filter((s) => !s.metadata?.deletionTimestamp && s.metadata?.name);
  const byName = new Map(live.map((s) => [s.metadata?.name as string, s]));
  const candidates: SnapshotForRetention[] = live.map((s) => ({
    name: s.metadata?.name as string,
    // The API server sets creationTimestamp on every stored object.
    time: new Date(s.status?.snapshotTime ?? (s.metadata?.creationTimestamp as string)),
    // An unknown phase is treated as in progress: never removed.
    phase: (RETENTION_PHASES.has(s.status?.phase ?? '') ? s.status?.phase : 'Pending') as SnapshotForRetention['phase'],
  }));
  const decision = selectSnapshots(candidates, policy.spec, now);
  for (const warning of decision.warnings) logger.warn({ repository, warning }, 'retention policy warning');
  if (decision.remove.length === 0) return;

  // restic ids to forget, per component path (one restic repository each).
  const idsByPath = new Map<string, string[]>();
  for (const { name } of decision.remove) {
    for (const [componentName, component] of Object.entries(byName.get(name)?.status?.components ?? {})) {
      const ids = (component.resticStats ?? []).map((s) => s.summary?.id).filter((id): id is string => Boolean(id));
      if (ids.length === 0) continue;
      const path = component.path ?? `repository/v1/${byName.get(name)?.spec?.session ?? ''}/${componentName}`;
      idsByPath.set(path, [...(idsByPath.get(path) ?? []), ...ids]);
    }
  }
  const failedPaths = new Map<string, string>();
  if (idsByPath.size > 0) {
    let resolved: ResolvedRepository;
    try {
      resolved = await resolveRepository(client, namespace, repository);
    } catch (error) {
      throw new ExecError(`cannot reach the data of ${decision.remove.length} snapshot(s) to remove: ${describeFailure(error)}`);
    }
    for (const [path, ids] of idsByPath) {
      try {
        await forgetInComponentRepository(options, resolved, path, ids, staleAfterMs);
      } catch (error) {
        failedPaths.set(path, describeFailure(error));
      }
    }
  }

  for (const { name } of decision.remove) {
    const snapshot = byName.get(name) as Snapshot;
    const failedComponent = Object.values(snapshot.status?.components ?? {}).find((c) => c.path !== undefined && failedPaths.has(c.path));
    if (failedComponent !== undefined) {
      result.kept.push(name);
      continue;
    }
    await deleteSnapshotObject(options, name);
    result.removed.push(name);
  }
  logger.info({ repository, removed: result.removed, kept: result.kept }, 'retention applied');
  if (failedPaths.size > 0) {
    const [path, reason] = [...failedPaths][0] as [string, string];
    throw new ExecError(`restic data of ${result.kept.length} snapshot(s) could not be removed (${path}: ${reason}); those Snapshots are kept`);
  }
}

/** Removes the cleanup finalizer (the data is already gone) and deletes the Snapshot; a vanished one is fine. */
async function deleteSnapshotObject(options: ExecOptions, name: string): Promise<void> {
  const { client, namespace } = options;
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await client.find<Snapshot>({ ...SNAPSHOT_TYPE, namespace, name });
    if (current === undefined) return;
    const finalizers = current.metadata?.finalizers ?? [];
    if (!finalizers.includes(CLEANUP_FINALIZER)) break;
    try {
      await client.update({ ...current, metadata: { ...current.metadata, finalizers: finalizers.filter((f) => f !== CLEANUP_FINALIZER) } });
      break;
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isConflict(error) || attempt === 4) throw error;
    }
  }
  try {
    await client.delete({ ...SNAPSHOT_TYPE, namespace, name });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

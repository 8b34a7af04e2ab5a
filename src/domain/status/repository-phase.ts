/**
 * What the repository controller derives for a Repository (SPEC §3.3): the phase from the
 * RepositoryInitialized condition the executor writes, and the backup summary from its Snapshot
 * objects. Pure.
 */
import type { Condition } from '../../api/common.js';
import type { RepositoryPhase, RepositoryStatus, Snapshot, SnapshotInfo } from '../../api/storage.js';
import type { ConditionInput } from './conditions.js';
import { findCondition } from './conditions.js';

export const RepositoryConditions = { RepositoryInitialized: 'RepositoryInitialized' } as const;
export const RepositoryReasons = {
  RepositoryInitializationSucceeded: 'RepositoryInitializationSucceeded',
  RepositoryInitializationFailed: 'RepositoryInitializationFailed',
} as const;

/** How many Snapshots `status.recentSnapshots` lists (KubeStash's docs: 5). */
export const RECENT_SNAPSHOTS = 5;

/** Ready iff RepositoryInitialized is True. */
export function repositoryPhase(conditions: readonly Condition[] | undefined): RepositoryPhase {
  return findCondition(conditions, RepositoryConditions.RepositoryInitialized)?.status === 'True' ? 'Ready' : 'NotReady';
}

/**
 * RepositoryInitialized False with the init Job's failure message, unless the condition is already
 * False (the executor said why). Undefined when nothing is to be written.
 */
export function repositoryInitFailureCondition(conditions: readonly Condition[] | undefined, jobFailure: string | undefined): ConditionInput | undefined {
  if (jobFailure === undefined) return undefined;
  if (findCondition(conditions, RepositoryConditions.RepositoryInitialized)?.status === 'False') return undefined;
  return {
    type: RepositoryConditions.RepositoryInitialized,
    status: 'False',
    reason: RepositoryReasons.RepositoryInitializationFailed,
    message: `the repository initializer Job failed: ${jobFailure}`,
  };
}

/** The part of Repository.status that comes from its Snapshots. */
export type RepositorySnapshotSummary = Pick<RepositoryStatus, 'lastBackupTime' | 'snapshotCount' | 'size' | 'integrity' | 'recentSnapshots' | 'componentPaths'>;

/** When a Snapshot was taken: status.snapshotTime, else its creation time; NaN when neither is readable. */
const takenAt = (snapshot: Snapshot): number => Date.parse(snapshot.status?.snapshotTime ?? snapshot.metadata?.creationTimestamp ?? '');

/**
 * The summary of a repository's Snapshots (those labelled with its name; the caller selects them):
 * - snapshotCount: every Snapshot not being deleted;
 * - lastBackupTime: the newest snapshotTime of a Succeeded Snapshot;
 * - size: the newest Succeeded Snapshot's size (restic deduplicates, so a sum would overstate);
 * - integrity: false when a finished Snapshot reports integrity false, true when at least one
 *   reports true and none false, absent otherwise;
 * - recentSnapshots: up to 5, newest first (ties by name): {name, phase, session, size, snapshotTime};
 * - componentPaths: every component path, sorted, without duplicates.
 * Fields with nothing to say are left out.
 */
export function summarizeRepositorySnapshots(snapshots: readonly Snapshot[]): RepositorySnapshotSummary {
  const live = snapshots.filter((snapshot) => !snapshot.metadata?.deletionTimestamp);
  const newestFirst = [...live].sort((a, b) => {
    // Unreadable times sort last.
    const ta = Number.isNaN(takenAt(a)) ? -Infinity : takenAt(a);
    const tb = Number.isNaN(takenAt(b)) ? -Infinity : takenAt(b);
    if (ta !== tb) return tb > ta ? 1 : -1;
    return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
  });
  const summary: RepositorySnapshotSummary = { snapshotCount: live.length };
  const lastSucceeded = newestFirst.find((snapshot) => snapshot.status?.phase === 'Succeeded');
  if (lastSucceeded?.status?.snapshotTime !== undefined) summary.lastBackupTime = lastSucceeded.status.snapshotTime;
  if (lastSucceeded?.status?.size !== undefined) summary.size = lastSucceeded.status.size;
  const integrities = live
    .filter((snapshot) => snapshot.status?.phase === 'Succeeded' || snapshot.status?.phase === 'Failed')
    .map((snapshot) => snapshot.status?.integrity)
    .filter((integrity): integrity is boolean => integrity !== undefined);
  if (integrities.length > 0) summary.integrity = integrities.every(Boolean);
  if (newestFirst.length > 0) {
    summary.recentSnapshots = newestFirst.slice(0, RECENT_SNAPSHOTS).map((snapshot) => {
      const info: SnapshotInfo = { name: snapshot.metadata?.name ?? '' };
      if (snapshot.status?.phase !== undefined) info.phase = snapshot.status.phase;
      if (snapshot.spec?.session !== undefined) info.session = snapshot.spec.session;
      if (snapshot.status?.size !== undefined) info.size = snapshot.status.size;
      if (snapshot.status?.snapshotTime !== undefined) info.snapshotTime = snapshot.status.snapshotTime;
      return info;
    });
  }
  const paths = new Set<string>();
  for (const snapshot of live) for (const component of Object.values(snapshot.status?.components ?? {})) if (component.path) paths.add(component.path);
  if (paths.size > 0) summary.componentPaths = [...paths].sort();
  return summary;
}

/**
 * The phase of a BackupSession, derived from its status alone as KubeStash's
 * `BackupSession.CalculatePhase` does (SPEC §4.3), so the phase can never disagree with the
 * conditions and snapshot phases that explain it. Pure.
 */
import type { BackupSessionPhase, BackupSessionStatus } from '../../api/core.js';

/** Condition types of a BackupSession (KubeStash's, plus autostash's own failure reasons). */
export const BackupSessionConditions = {
  BackupSkipped: 'BackupSkipped',
  SessionHistoryCleaned: 'SessionHistoryCleaned',
  PreBackupHooksExecutionSucceeded: 'PreBackupHooksExecutionSucceeded',
  PostBackupHooksExecutionSucceeded: 'PostBackupHooksExecutionSucceeded',
  BackupExecutorEnsured: 'BackupExecutorEnsured',
  RetentionPolicyExecutorEnsured: 'RetentionPolicyExecutorEnsured',
  SnapshotsEnsured: 'SnapshotsEnsured',
  SnapshotCleanupIncomplete: 'SnapshotCleanupIncomplete',
  MetricsPushed: 'MetricsPushed',
  /** autostash: spec.invoker names an existing BackupConfiguration with the session spec.session. */
  InvokerFound: 'InvokerFound',
  /** autostash: every Repository, BackupStorage and encryption Secret the session needs is there and Ready. */
  PrerequisitesReady: 'PrerequisitesReady',
} as const;

/**
 * Conditions whose `False` fails a finished session (MetricsPushed True). KubeStash's list, plus
 * InvokerFound and PrerequisitesReady: autostash reports those failures with their own condition
 * instead of overloading BackupExecutorEnsured, and they must fail the session just the same.
 */
export const FAILING_WHEN_FALSE: readonly string[] = [
  BackupSessionConditions.BackupExecutorEnsured,
  BackupSessionConditions.SnapshotsEnsured,
  BackupSessionConditions.PreBackupHooksExecutionSucceeded,
  BackupSessionConditions.PostBackupHooksExecutionSucceeded,
  BackupSessionConditions.SessionHistoryCleaned,
  BackupSessionConditions.InvokerFound,
  BackupSessionConditions.PrerequisitesReady,
];

const conditionStatus = (status: BackupSessionStatus | undefined, type: string): string | undefined =>
  status?.conditions?.find((condition) => condition.type === type)?.status;

/**
 * The phase, rule by rule in KubeStash's order:
 * 1. MetricsPushed False → Failed;
 * 2. BackupSkipped True → Skipped;
 * 3. MetricsPushed True and any of {@link FAILING_WHEN_FALSE} False, SnapshotCleanupIncomplete True,
 *    or a retentionPolicy[] entry FailedToApply → Failed;
 * 4. from status.snapshots[]: none → Pending; all Pending → Pending; any not terminal → Running;
 *    any Failed → Failed; else Succeeded;
 * 5. that phase when it is Pending or MetricsPushed is present; otherwise Running (the session
 *    is not finished until its metrics are pushed, however its snapshots ended);
 * 6. autostash: Pending becomes Running once BackupExecutorEnsured is True and MetricsPushed is
 *    absent — the Jobs exist, so the session runs even before a component reports (KubeStash
 *    shows Pending until then, which reads as "nothing happens").
 */
export function backupSessionPhase(status: BackupSessionStatus | undefined): BackupSessionPhase {
  const metricsPushed = conditionStatus(status, BackupSessionConditions.MetricsPushed);
  if (metricsPushed === 'False') return 'Failed';
  if (conditionStatus(status, BackupSessionConditions.BackupSkipped) === 'True') return 'Skipped';
  if (metricsPushed === 'True') {
    if (FAILING_WHEN_FALSE.some((type) => conditionStatus(status, type) === 'False')) return 'Failed';
    if (conditionStatus(status, BackupSessionConditions.SnapshotCleanupIncomplete) === 'True') return 'Failed';
    if ((status?.retentionPolicy ?? []).some((entry) => entry.phase === 'FailedToApply')) return 'Failed';
  }
  const phase = snapshotsPhase(status?.snapshots ?? []);
  if (metricsPushed !== undefined) return phase;
  if (phase === 'Pending') return conditionStatus(status, BackupSessionConditions.BackupExecutorEnsured) === 'True' ? 'Running' : 'Pending';
  return 'Running';
}

function snapshotsPhase(snapshots: ReadonlyArray<{ phase?: string | undefined }>): BackupSessionPhase {
  if (snapshots.length === 0) return 'Pending';
  if (snapshots.every((snapshot) => (snapshot.phase ?? 'Pending') === 'Pending')) return 'Pending';
  if (snapshots.some((snapshot) => snapshot.phase !== 'Succeeded' && snapshot.phase !== 'Failed')) return 'Running';
  if (snapshots.some((snapshot) => snapshot.phase === 'Failed')) return 'Failed';
  return 'Succeeded';
}

/** True for the phases a session never leaves. */
export const isTerminalSessionPhase = (phase: string | undefined): boolean => phase === 'Succeeded' || phase === 'Failed' || phase === 'Skipped';

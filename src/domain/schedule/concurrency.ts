/**
 * What a due slot does when earlier BackupSessions of the same configuration session are still
 * running: `spec.sessions[].scheduler.concurrencyPolicy`, as a CronJob's. Pure.
 */
import { concurrencyPolicyValues } from '../../api/core.js';

export type ConcurrencyPolicy = (typeof concurrencyPolicyValues)[number];

/**
 * The policy when none is set. KubeStash's CRD has no default, but KubeStash skips a BackupSession
 * while another one is running (SPEC §4.3, kubestash#372): that is Forbid. See decision 0008.
 */
export const DEFAULT_CONCURRENCY_POLICY: ConcurrencyPolicy = 'Forbid';

export type ConcurrencyDecision =
  | { action: 'create' }
  | { action: 'skip'; running: readonly string[] }
  | { action: 'replace'; delete: readonly string[] };

/** BackupSession phases after which a session no longer runs. */
const TERMINAL_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Skipped']);

/** True when a BackupSession in `phase` has finished (no phase yet means Pending: still to run). */
export function isTerminalSessionPhase(phase: string | undefined): boolean {
  return phase !== undefined && TERMINAL_PHASES.has(phase);
}

/** The policy in force: the written one when it is one of Allow/Forbid/Replace, else the default. */
export function effectiveConcurrencyPolicy(policy: string | undefined): ConcurrencyPolicy {
  return (concurrencyPolicyValues as readonly string[]).includes(policy ?? '') ? (policy as ConcurrencyPolicy) : DEFAULT_CONCURRENCY_POLICY;
}

/**
 * `runningSessions` are the names of the session's BackupSessions that have not finished. Allow creates
 * regardless; Forbid skips the slot while any runs; Replace deletes the running ones, then creates.
 * With nothing running every policy creates. An unknown or absent policy acts as the default.
 */
export function concurrencyDecision(policy: string | undefined, runningSessions: readonly string[]): ConcurrencyDecision {
  if (runningSessions.length === 0) return { action: 'create' };
  switch (effectiveConcurrencyPolicy(policy)) {
    case 'Allow':
      return { action: 'create' };
    case 'Replace':
      return { action: 'replace', delete: runningSessions };
    case 'Forbid':
      return { action: 'skip', running: runningSessions };
  }
}

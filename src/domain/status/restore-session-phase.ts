/**
 * The phase of a RestoreSession, derived from its status alone as KubeStash's
 * `RestoreSession.CalculatePhase` does (SPEC §4.4), so the phase never disagrees with the
 * conditions and component phases that explain it. Pure.
 */
import type { RestorePhase, RestoreSessionStatus } from '../../api/core.js';

/** Condition types of a RestoreSession (KubeStash's names). */
export const RestoreSessionConditions = {
  ValidationPassed: 'ValidationPassed',
  RestoreExecutorEnsured: 'RestoreExecutorEnsured',
  PreRestoreHooksExecutionSucceeded: 'PreRestoreHooksExecutionSucceeded',
  PostRestoreHooksExecutionSucceeded: 'PostRestoreHooksExecutionSucceeded',
  RestoreTargetFound: 'RestoreTargetFound',
  RestoreIncomplete: 'RestoreIncomplete',
  MetricsPushed: 'MetricsPushed',
} as const;

/** Conditions whose `False` fails a finished restore (MetricsPushed True). */
const FAILING_WHEN_FALSE: readonly string[] = [
  RestoreSessionConditions.PreRestoreHooksExecutionSucceeded,
  RestoreSessionConditions.PostRestoreHooksExecutionSucceeded,
  RestoreSessionConditions.RestoreExecutorEnsured,
];

const conditionStatus = (status: RestoreSessionStatus | undefined, type: string): string | undefined =>
  status?.conditions?.find((condition) => condition.type === type)?.status;

/**
 * The phase, rule by rule in KubeStash's order:
 * 1. MetricsPushed False → Failed;
 * 2. ValidationPassed False → Invalid;
 * 3. MetricsPushed True and any of Pre/PostRestoreHooksExecutionSucceeded, RestoreExecutorEnsured
 *    False, or RestoreIncomplete True → Failed;
 * 4. from status.components (see {@link restoreComponentsPhase}): Pending stays Pending, and any
 *    phase stands once MetricsPushed is present (the final step ran);
 * 5. Unknown stands even before (KubeStash: nothing more will happen to an Unknown component);
 * 6. otherwise Running: the restore is not finished until its final step ran, however its
 *    components ended;
 * 7. autostash: Pending becomes Running once RestoreExecutorEnsured is True and MetricsPushed is
 *    absent — the Jobs exist, so the restore runs even before a component reports (KubeStash shows
 *    Pending until then, which reads as "nothing happens").
 */
export function restoreSessionPhase(status: RestoreSessionStatus | undefined): RestorePhase {
  const metricsPushed = conditionStatus(status, RestoreSessionConditions.MetricsPushed);
  if (metricsPushed === 'False') return 'Failed';
  if (conditionStatus(status, RestoreSessionConditions.ValidationPassed) === 'False') return 'Invalid';
  if (metricsPushed === 'True') {
    if (FAILING_WHEN_FALSE.some((type) => conditionStatus(status, type) === 'False')) return 'Failed';
    if (conditionStatus(status, RestoreSessionConditions.RestoreIncomplete) === 'True') return 'Failed';
  }
  const phase = restoreComponentsPhase(status);
  if (phase === 'Pending') {
    const executorEnsured = conditionStatus(status, RestoreSessionConditions.RestoreExecutorEnsured) === 'True';
    return executorEnsured && metricsPushed === undefined ? 'Running' : 'Pending';
  }
  if (metricsPushed !== undefined || phase === 'Unknown') return phase;
  return 'Running';
}

/**
 * The phase of the components alone (KubeStash's getComponentsPhase), counting against
 * status.totalComponents (the number of components written when it is unset or 0):
 * none written → Pending; all Succeeded → Succeeded; all terminal (Succeeded/Failed/Unknown) with
 * one Failed → Failed; all terminal without Failed → Unknown; one Failed while others still run →
 * Failed; else Running.
 */
export function restoreComponentsPhase(status: RestoreSessionStatus | undefined): RestorePhase {
  const components = Object.values(status?.components ?? {});
  if (components.length === 0) return 'Pending';
  const total = status?.totalComponents !== undefined && status.totalComponents > 0 ? status.totalComponents : components.length;
  const count = (phase: RestorePhase): number => components.filter((component) => component.phase === phase).length;
  const succeeded = count('Succeeded');
  const failed = count('Failed');
  const unknown = count('Unknown');
  if (succeeded === total) return 'Succeeded';
  if (succeeded + failed + unknown === total) return failed > 0 ? 'Failed' : 'Unknown';
  if (failed > 0) return 'Failed';
  return 'Running';
}

/** True for the phases a RestoreSession never leaves (Invalid included: the spec is immutable in spirit). */
export const isTerminalRestorePhase = (phase: string | undefined): boolean =>
  phase === 'Succeeded' || phase === 'Failed' || phase === 'Invalid' || phase === 'Unknown';

/**
 * The phase of a BackupConfiguration (SPEC §4.1), from its spec and the status parts the
 * configuration controller and the scheduler write. Pure.
 */
import type { BackupConfiguration, BackupInvokerPhase } from '../../api/core.js';
import { findCondition } from './conditions.js';

export const ConfigurationConditions = { ValidationPassed: 'ValidationPassed' } as const;
export const ConfigurationReasons = {
  ResourceValidationPassed: 'ResourceValidationPassed',
  ResourceValidationFailed: 'ResourceValidationFailed',
} as const;
/** The scheduler's condition on each `status.sessions[]` entry. */
export const SCHEDULER_ENSURED = 'SchedulerEnsured';

/**
 * - Invalid: ValidationPassed is False;
 * - Ready: the target was found (a configuration without target — cluster-wide kubedump — has none
 *   to find), there is one ready status.backends[] entry per spec.backends[] entry, and one
 *   status.sessions[] entry per spec.sessions[] entry, each with SchedulerEnsured True;
 * - NotReady: anything else.
 */
export function configurationPhase(configuration: Pick<BackupConfiguration, 'spec' | 'status'>): BackupInvokerPhase {
  const { spec, status } = configuration;
  if (findCondition(status?.conditions, ConfigurationConditions.ValidationPassed)?.status === 'False') return 'Invalid';
  const targetFound = spec?.target === undefined || status?.targetFound === true;
  const specBackends = spec?.backends ?? [];
  const backends = status?.backends ?? [];
  const backendsReady = backends.length === specBackends.length && backends.every((backend) => backend.ready === true);
  const specSessions = spec?.sessions ?? [];
  const sessions = status?.sessions ?? [];
  const sessionsEnsured =
    sessions.length === specSessions.length && sessions.every((session) => findCondition(session.conditions, SCHEDULER_ENSURED)?.status === 'True');
  return targetFound && backendsReady && sessionsEnsured ? 'Ready' : 'NotReady';
}

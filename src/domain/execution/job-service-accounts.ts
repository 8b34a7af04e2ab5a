/**
 * Which ServiceAccount a Job runs as. Each Job role may have its own account (an install creates
 * least-privilege ones, src/api/install/rbac.ts); a role without one falls back to the single
 * `--job-service-account`, and without that the namespace's default account runs the Job. An addon's
 * jobTemplate.spec.serviceAccountName still wins over all of these (the Job builders keep it).
 */
import type { JobRole } from '../../api/install/values.js';

export type { JobRole };

/** Per-role accounts and the fallback, as the controllers receive them. */
export interface JobServiceAccountSettings {
  /** The fallback for every role (`--job-service-account`). */
  serviceAccountName?: string;
  /** Accounts per role (`--backup-job-service-account`, …); a missing role uses the fallback. */
  serviceAccounts?: Readonly<Partial<Record<JobRole, string | undefined>>>;
}

/** The account for `role`'s Jobs, or undefined for the namespace's default account. */
export function jobServiceAccount(settings: JobServiceAccountSettings, role: JobRole): string | undefined {
  return settings.serviceAccounts?.[role] ?? settings.serviceAccountName;
}

/** `{ serviceAccountName }` for `role`, or `{}`: spread into a Job builder's input. */
export function jobServiceAccountField(settings: JobServiceAccountSettings, role: JobRole): { serviceAccountName?: string } {
  const name = jobServiceAccount(settings, role);
  return name === undefined ? {} : { serviceAccountName: name };
}

/**
 * The retention half of the production ExecutionPlanner: the session's retention Job, with the local
 * backends of its repositories mounted.
 */
import { buildRetentionJob } from '../../domain/execution/retention-job.js';
import { jobServiceAccountField } from '../../domain/execution/job-service-accounts.js';
import { formatFieldError } from '../../domain/errors.js';
import type { ClusterObjects, RetentionPlan } from './plan.js';

export function planRetention(objects: ClusterObjects): RetentionPlan {
  const { backupSession } = objects;
  const built = buildRetentionJob({
    backupSession,
    storages: objects.storages,
    image: objects.image,
    ...jobServiceAccountField(objects, 'maintenance'),
    owner: { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', name: backupSession.metadata?.name ?? '', uid: backupSession.metadata?.uid ?? '' },
  });
  if (built.errors.length > 0) return { ok: false, reason: 'InvalidRetentionJob', message: built.errors.map(formatFieldError).join('; ') };
  return { ok: true, job: built.job };
}

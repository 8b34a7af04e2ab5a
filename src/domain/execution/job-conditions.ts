/**
 * Reading a batch/v1 Job's outcome from its conditions, as every controller that waits on Jobs
 * does (backup, restore, maintenance). Pure.
 */
import type { KubeObject } from '../kube-object.js';

export interface JobCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export const jobConditions = (job: KubeObject | undefined): JobCondition[] => (job?.status as { conditions?: JobCondition[] } | undefined)?.conditions ?? [];
/** The Job's `Failed=True` condition, when it has failed for good. */
export const jobFailure = (job: KubeObject | undefined): JobCondition | undefined => jobConditions(job).find((c) => c.type === 'Failed' && c.status === 'True');
export const jobComplete = (job: KubeObject | undefined): boolean => jobConditions(job).some((c) => c.type === 'Complete' && c.status === 'True');
export const jobFinished = (job: KubeObject | undefined): boolean => jobComplete(job) || jobFailure(job) !== undefined;

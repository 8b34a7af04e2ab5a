/**
 * The init Job of a BackupStorage or a Repository, kept level-triggered: one Job per generation of
 * the object (a Job of an older generation is deleted and a new one made), and a failed Job is
 * deleted and run again after a backoff (1 min doubling to 10 min by default), so fixing
 * credentials or the backend heals without touching the object.
 */
import type { FieldError } from '../../domain/errors.js';
import { ATTEMPT_ANNOTATION, jobOutcome, OBSERVED_GENERATION_ANNOTATION } from '../../domain/execution/maintenance-jobs.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { isAlreadyExists, type KubeClient } from '../../kube/client.js';
import type { Informer } from '../informer.js';
import type { JobAccounts } from '../job-accounts.js';
import { backoffDelay } from '../work-queue.js';
import { deleteIfPresent, isDeleting, JOB } from './kube-writes.js';
import { nameOf, namespaceOf } from '../../domain/rules/common.js';

export interface InitJobRetry {
  /** Delay before the first re-run of a failed init Job. Default 60 s. */
  baseMs: number;
  /** Upper bound of that delay (it doubles per failed run). Default 10 min. */
  maxMs: number;
}

export const DEFAULT_INIT_RETRY: InitJobRetry = { baseMs: 60_000, maxMs: 600_000 };

export interface InitJobInput {
  client: KubeClient;
  jobs: Informer;
  /** The BackupStorage or Repository. */
  object: KubeObject;
  /** Builds the Job for run number `attempt`. */
  build: (attempt: number) => { job: KubeObject; errors: FieldError[] };
  now: Date;
  retry: InitJobRetry;
  /** The caller's memory of re-runs by object uid, so a re-run made after a deletion keeps its number. */
  attempts: Map<string, { generation: string; attempt: number }>;
  /** Makes the Job's maintenance ServiceAccount exist before the Job is created. */
  jobAccounts: JobAccounts;
}

export interface InitJobState {
  /** The current Job, when it exists. */
  job?: KubeObject;
  /** The failure message of the current generation's last run (Job Failed), or why no Job can be built. */
  failure?: string;
  /** Come back then (a failed run waits for its re-run). */
  requeueAfterMs?: number;
}

const annotation = (job: KubeObject, key: string): string | undefined => job.metadata?.annotations?.[key];

/** Makes the world converge one step towards "the init Job of this generation ran" and says where it stands. */
export async function reconcileInitJob(input: InitJobInput): Promise<InitJobState> {
  const { client, jobs, object, now, retry } = input;
  const generation = String(object.metadata?.generation ?? 0);
  const uid = object.metadata?.uid ?? '';
  const remembered = input.attempts.get(uid);
  const first = input.build(remembered?.generation === generation ? remembered.attempt : 1);
  if (first.errors.length > 0) return { failure: first.errors.map((error) => `${error.path}: ${error.message}`).join('; ') };
  const namespace = namespaceOf(object);
  const name = nameOf(first.job);
  const job = jobs.get(namespace, name);
  if (job === undefined) {
    await input.jobAccounts.ensure(first.job, ['maintenance'], namespace, object);
    try {
      await client.create(first.job);
    } catch (error) {
      // Our cache is behind (the Job exists, or the old one is still going): its watch event brings us back.
      if (!isAlreadyExists(error)) throw error;
    }
    return {};
  }
  if (isDeleting(job)) return { job };
  if (annotation(job, OBSERVED_GENERATION_ANNOTATION) !== generation) {
    await deleteIfPresent(client, { ...JOB.type, namespace, name });
    input.attempts.delete(uid);
    return {};
  }
  const outcome = jobOutcome(job);
  if (outcome.state !== 'Failed') return { job };
  const attempt = Number(annotation(job, ATTEMPT_ANNOTATION)) || 1;
  const failedCondition = (job.status as { conditions?: Array<{ type?: string; lastTransitionTime?: string }> } | undefined)?.conditions?.find((c) => c.type === 'Failed');
  const failedAt = Date.parse(failedCondition?.lastTransitionTime ?? '');
  const due = (Number.isNaN(failedAt) ? now.getTime() : failedAt) + backoffDelay(attempt, retry.baseMs, retry.maxMs);
  if (due > now.getTime()) return { job, failure: outcome.message, requeueAfterMs: due - now.getTime() };
  // Re-run: delete and create at once; when the old Job is still going, the next pass creates it.
  await deleteIfPresent(client, { ...JOB.type, namespace, name });
  input.attempts.set(uid, { generation, attempt: attempt + 1 });
  const next = input.build(attempt + 1).job;
  try {
    await client.create(next);
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    // The old Job is still being removed: come back soon and create it then.
    return { failure: outcome.message, requeueAfterMs: Math.min(retry.baseMs, 1000) };
  }
  return { failure: outcome.message };
}

/**
 * Job status shapes and the conditions the Kubernetes job controller writes (v1.32: a
 * `SuccessCriteriaMet`/`FailureTarget` condition precedes the terminal `Complete`/`Failed`).
 */

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

export interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
  conditions?: JobCondition[];
  [field: string]: unknown;
}

export interface JobSpec {
  suspend?: boolean;
  completions?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: PodSpec };
}

export interface Container {
  name?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Array<Record<string, unknown>>;
  envFrom?: Array<Record<string, unknown>>;
  volumeMounts?: Array<{ name?: string; mountPath?: string; subPath?: string; readOnly?: boolean }>;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Array<Record<string, unknown>>;
}

/** The terminal condition (`Complete` or `Failed` with status True), if the Job has finished. */
export function finishedCondition(status: JobStatus | undefined): JobCondition | undefined {
  return status?.conditions?.find((condition) => (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True');
}

/** A Job ends successfully: SuccessCriteriaMet and Complete conditions, completionTime, nothing active. */
export function markComplete(status: JobStatus, at: string): void {
  status.active = 0;
  status.completionTime = at;
  status.conditions = [
    ...(status.conditions ?? []).filter((condition) => condition.type !== 'SuccessCriteriaMet' && condition.type !== 'Complete'),
    { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: at, lastTransitionTime: at },
    { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: at, lastTransitionTime: at },
  ];
}

/** A Job ends in failure: FailureTarget and Failed conditions with the reason, nothing active. */
export function markFailed(status: JobStatus, at: string, reason: 'BackoffLimitExceeded' | 'DeadlineExceeded', message: string): void {
  status.active = 0;
  status.conditions = [
    ...(status.conditions ?? []).filter((condition) => condition.type !== 'FailureTarget' && condition.type !== 'Failed'),
    { type: 'FailureTarget', status: 'True', reason, message, lastProbeTime: at, lastTransitionTime: at },
    { type: 'Failed', status: 'True', reason, message, lastProbeTime: at, lastTransitionTime: at },
  ];
}

/** The message of a terminal failure; the last log lines follow the reason's standard text. */
export function failureMessage(reason: 'BackoffLimitExceeded' | 'DeadlineExceeded', lastOutput: string | undefined): string {
  const base = reason === 'BackoffLimitExceeded' ? 'Job has reached the specified backoff limit' : 'Job was active longer than specified deadline';
  return lastOutput ? `${base}; last output:\n${lastOutput}` : base;
}

import type { KubeObject } from '../../domain/kube-object.js';
import type { EmbeddedApi } from '../api-types.js';
import { errorMessage, getIfExists, isNotFound, retryOnConflict } from './api-errors.js';
import type { ControllerLogger } from './logger.js';
import { startJobAttempt, type AttemptOutcome, type JobAttempt } from './job-runner.js';
import { failureMessage, finishedCondition, markComplete, markFailed, type JobSpec, type JobStatus } from './job-status.js';
import { CONFIG_MAPS, JOBS, PERSISTENT_VOLUME_CLAIMS, PERSISTENT_VOLUMES, SECRETS } from './resources.js';
import { objectKey, splitKey, watchResource } from './watch-resource.js';
import { WorkQueue, type ReconcileResult } from './work-queue.js';

export interface JobControllerOptions {
  api: EmbeddedApi;
  dataDir: string;
  logger: ControllerLogger;
  nodeName: string;
  now: () => Date;
  /** Jobs running at the same time; others wait for a slot. Default 2. */
  maxParallelJobs?: number;
  /** Delay before retry n (1-based) is `backoffBaseMs * 2^(n-1)`, at most `backoffMaxMs`. Defaults 500 ms and 10 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** What the program `autostash` in a container command runs, e.g. `[process.execPath, 'dist/cli.js']`. */
  cliCommand?: readonly string[];
  /** Variables every job process gets; the container's own env wins. */
  extraEnv?: Readonly<Record<string, string>>;
  /** SIGTERM to SIGKILL grace. Default 2 s. */
  killGraceMs?: number;
  maxLogBytes?: number;
  /** Full resync period. Default 30 s. */
  resyncMs?: number;
}

interface Run {
  uid: string;
  attempt: JobAttempt;
  /** Why the controller stopped it, if it did. */
  stopReason?: 'deleted' | 'deadline';
  settled: Promise<void>;
}

const DEFAULT_BACKOFF_LIMIT = 6;

/**
 * Runs Jobs as local processes, one attempt at a time per Job, and keeps their status as the
 * Kubernetes job controller does: startTime, active, succeeded/failed counts, completionTime,
 * Complete/Failed conditions, retries up to backoffLimit with exponential backoff,
 * activeDeadlineSeconds (DeadlineExceeded), ttlSecondsAfterFinished, and deletion stops the process.
 * Pods are not created as objects.
 */
/** A Job attempt running as a local process now. */
export interface RunningJobProcess {
  namespace: string;
  job: string;
  /** Its current container process (and process group); undefined between containers. */
  pid: number | undefined;
}

export function startJobController(options: JobControllerOptions): { runningProcesses(): RunningJobProcess[]; stop(): Promise<void> } {
  const { api, logger } = options;
  const runs = new Map<string, Run>();
  const waiting = new Set<string>();
  /** Per Job uid: when the last attempt failed and its last output, for backoff and the Failed message. */
  const lastFailure = new Map<string, { at: number; message: string }>();
  const maxParallel = options.maxParallelJobs ?? 2;
  const backoffBase = options.backoffBaseMs ?? 500;
  const backoffMax = options.backoffMaxMs ?? 10_000;
  /** metav1.Time: RFC 3339 in whole seconds. */
  const nowIso = (): string => options.now().toISOString().replace(/\.\d{3}Z$/, 'Z');

  const queue = new WorkQueue({ name: 'job', logger, reconcile });

  const readObject = (kind: 'Secret' | 'ConfigMap', namespace: string, name: string): Promise<KubeObject | undefined> =>
    getIfExists(api, kind === 'Secret' ? SECRETS : CONFIG_MAPS, namespace, name);

  const claimHostPath = async (namespace: string, claimName: string): Promise<string | undefined> => {
    const claim = await getIfExists(api, PERSISTENT_VOLUME_CLAIMS, namespace, claimName);
    const volumeName = (claim?.spec as { volumeName?: string } | undefined)?.volumeName;
    if (!claim || (claim.status as { phase?: string } | undefined)?.phase !== 'Bound' || !volumeName) return undefined;
    const volume = await getIfExists(api, PERSISTENT_VOLUMES, undefined, volumeName);
    return (volume?.spec as { hostPath?: { path?: string } } | undefined)?.hostPath?.path;
  };

  /** Applies `change` to the Job's status (fresh read, conflicts retried) if the Job still has `uid`. */
  const writeStatus = async (key: string, uid: string, change: (status: JobStatus) => void): Promise<void> => {
    const { namespace, name } = splitKey(key);
    await retryOnConflict(async () => {
      const job = await getIfExists(api, JOBS, namespace, name);
      if (!job || job.metadata?.uid !== uid) return;
      const status = { ...((job.status ?? {}) as JobStatus) };
      change(status);
      await api.updateStatus(JOBS, namespace, { ...job, status });
    });
  };

  const backoffDelay = (failed: number): number => Math.min(backoffBase * 2 ** Math.max(0, failed - 1), backoffMax);

  const deadlineOf = (spec: JobSpec, status: JobStatus): number | undefined =>
    spec.activeDeadlineSeconds !== undefined && status.startTime ? Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000 : undefined;

  const releaseSlot = (): void => {
    for (const key of waiting) queue.enqueue(key);
    waiting.clear();
  };

  const finishAttempt = async (key: string, uid: string, run: Run, outcome: AttemptOutcome): Promise<void> => {
    if (run.stopReason === 'deleted') return;
    const at = nowIso();
    if (run.stopReason === 'deadline') {
      await writeStatus(key, uid, (status) => {
        status.failed = (status.failed ?? 0) + 1;
        markFailed(status, at, 'DeadlineExceeded', failureMessage('DeadlineExceeded', outcome.result === 'Terminated' ? outcome.message : undefined));
      });
      return;
    }
    switch (outcome.result) {
      case 'NotReady':
        // Nothing ran: the attempt is not counted; try again shortly.
        await writeStatus(key, uid, (status) => {
          status.active = 0;
        });
        queue.enqueue(key, 1000);
        return;
      case 'Succeeded':
        await writeStatus(key, uid, (status) => {
          status.active = 0;
          status.succeeded = (status.succeeded ?? 0) + 1;
        });
        queue.enqueue(key);
        return;
      case 'Failed':
      case 'Terminated':
        lastFailure.set(uid, { at: Date.now(), message: outcome.message });
        await writeStatus(key, uid, (status) => {
          status.active = 0;
          status.failed = (status.failed ?? 0) + 1;
        });
        queue.enqueue(key);
        return;
    }
  };

  const startRun = async (key: string, job: KubeObject, attemptNumber: number): Promise<void> => {
    const uid = job.metadata?.uid ?? '';
    await writeStatus(key, uid, (status) => {
      status.startTime ??= nowIso();
      status.active = 1;
    });
    const attempt = startJobAttempt({
      job,
      attempt: attemptNumber,
      dataDir: options.dataDir,
      nodeName: options.nodeName,
      sources: { read: readObject, claimHostPath },
      cliCommand: options.cliCommand,
      extraEnv: options.extraEnv,
      killGraceMs: options.killGraceMs,
      maxLogBytes: options.maxLogBytes,
    });
    const run: Run = { uid, attempt, settled: Promise.resolve() };
    run.settled = attempt.done
      .then((outcome) => finishAttempt(key, uid, run, outcome))
      .catch((error: unknown) => logger.error({ job: key, err: errorMessage(error) }, 'job attempt bookkeeping failed'))
      .finally(() => {
        if (runs.get(key) === run) runs.delete(key);
        releaseSlot();
        queue.enqueue(key);
      });
    runs.set(key, run);
    logger.info({ job: key, attempt: attemptNumber, pod: attempt.podName, log: attempt.logPath }, 'job attempt started');
  };

  async function reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const job = await getIfExists(api, JOBS, namespace, name);
    const run = runs.get(key);
    const uid = job?.metadata?.uid;
    if (run && (!job || job.metadata?.deletionTimestamp || run.uid !== uid)) {
      run.stopReason = 'deleted';
      run.attempt.terminate();
    }
    if (!job || !uid || job.metadata?.deletionTimestamp) {
      waiting.delete(key);
      return;
    }
    const spec = (job.spec ?? {}) as JobSpec;
    const status = (job.status ?? {}) as JobStatus;
    const now = options.now().getTime();

    const finished = finishedCondition(status);
    if (finished) {
      waiting.delete(key);
      lastFailure.delete(uid);
      if (spec.ttlSecondsAfterFinished === undefined) return;
      const finishedAt = Date.parse(finished.lastTransitionTime ?? status.completionTime ?? '') || now;
      const expiresAt = finishedAt + spec.ttlSecondsAfterFinished * 1000;
      if (now < expiresAt) return { requeueAfterMs: expiresAt - now };
      try {
        await api.delete(JOBS, namespace, name, { propagationPolicy: 'Background', preconditions: { uid } });
        logger.info({ job: key }, 'finished job deleted after ttlSecondsAfterFinished');
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return;
    }

    const deadline = deadlineOf(spec, status);
    if (run && run.uid === uid) {
      if (deadline !== undefined && now >= deadline) {
        run.stopReason = 'deadline';
        run.attempt.terminate();
        return;
      }
      return deadline !== undefined ? { requeueAfterMs: deadline - now } : undefined;
    }

    if (deadline !== undefined && now >= deadline) {
      await writeStatus(key, uid, (next) => markFailed(next, nowIso(), 'DeadlineExceeded', failureMessage('DeadlineExceeded', lastFailure.get(uid)?.message)));
      return;
    }
    if ((status.active ?? 0) > 0) {
      // Active with no process here: this process restarted while it ran. Count it as failed.
      await writeStatus(key, uid, (next) => {
        next.active = 0;
        next.failed = (next.failed ?? 0) + 1;
      });
      return { requeueAfterMs: 1 };
    }
    if ((status.succeeded ?? 0) >= (spec.completions ?? 1)) {
      await writeStatus(key, uid, (next) => markComplete(next, nowIso()));
      return;
    }
    const failed = status.failed ?? 0;
    if (failed > (spec.backoffLimit ?? DEFAULT_BACKOFF_LIMIT)) {
      await writeStatus(key, uid, (next) => markFailed(next, nowIso(), 'BackoffLimitExceeded', failureMessage('BackoffLimitExceeded', lastFailure.get(uid)?.message)));
      return;
    }
    if (spec.suspend) return;
    const previous = lastFailure.get(uid);
    if (failed > 0 && previous) {
      const retryAt = previous.at + backoffDelay(failed);
      if (Date.now() < retryAt) return { requeueAfterMs: Math.min(retryAt - Date.now(), deadline !== undefined ? deadline - now : Infinity) };
    }
    if (runs.size >= maxParallel) {
      waiting.add(key);
      return;
    }
    waiting.delete(key);
    await startRun(key, job, failed + (status.succeeded ?? 0) + 1);
    return deadline !== undefined ? { requeueAfterMs: Math.max(1, deadline - now) } : undefined;
  }

  const watch = watchResource(api, JOBS, (event) => queue.enqueue(objectKey(event.object.metadata?.namespace, event.object.metadata?.name ?? '')), logger);
  const resync = setInterval(() => {
    void api.list(JOBS).then(
      (list) => list.items.forEach((job) => queue.enqueue(objectKey(job.metadata?.namespace, job.metadata?.name ?? ''))),
      (error: unknown) => logger.warn({ err: errorMessage(error) }, 'job resync failed'),
    );
  }, options.resyncMs ?? 30_000);
  resync.unref();

  return {
    /** The attempts running now (a test hook for fault tests: not reachable through the API). */
    runningProcesses: () =>
      [...runs.entries()].map(([key, run]) => {
        const slash = key.indexOf('/');
        return { namespace: key.slice(0, slash), job: key.slice(slash + 1), pid: run.attempt.pid };
      }),
    async stop() {
      watch.stop();
      clearInterval(resync);
      await queue.stop();
      for (const run of runs.values()) {
        run.stopReason = 'deleted';
        run.attempt.terminate();
      }
      await Promise.all([...runs.values()].map((run) => run.settled));
    },
  };
}

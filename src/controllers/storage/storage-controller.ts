/**
 * The BackupStorage controller (SPEC §3.1, §8.1 step 1): runs the init Job of each storage's
 * generation (`autostash exec init-storage` writes metadata.yaml and the conditions
 * BackendSecretFound/BackendInitialized), re-runs a failed one after a backoff, says why when the
 * Job died without the executor saying it, and keeps status.phase, repositories[] and totalSize.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BackupStorage, BackupStorageStatus, Repository } from '../../api/storage.js';
import type { JobTemplate } from '../../api/core.js';
import { STORAGE_LABEL } from '../../domain/execution/labels.js';
import { buildInitStorageJob } from '../../domain/execution/maintenance-jobs.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { setCondition } from '../../domain/status/conditions.js';
import { initFailureCondition, storagePhase, storageRepositories } from '../../domain/status/storage-phase.js';
import { untilAborted, type Controller, type ControllerContext } from '../manager.js';
import { createWorkQueue, type WorkQueue } from '../work-queue.js';
import { DEFAULT_INIT_RETRY, reconcileInitJob, type InitJobRetry } from './init-job.js';
import { BACKUP_STORAGE, isDeleting, JOB, keyOf, REPOSITORY, splitKey, writeStatus } from './kube-writes.js';
import { namespaceOf } from '../../domain/rules/common.js';
import { createJobAccounts, type JobAccountsOptions } from '../job-accounts.js';

export interface StorageControllerOptions {
  /** The autostash image the init Jobs run. */
  image: string;
  serviceAccountName?: string;
  /** Settings of the init Jobs (backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished). */
  jobTemplate?: JobTemplate;
  /** Wall clock. Default `() => new Date()`. */
  now?: () => Date;
  /** When a failed init Job runs again. Default 1 min doubling to 10 min. */
  initRetry?: Partial<InitJobRetry>;
  /** Per-role accounts created on demand in the Job's namespace (configuredRoleAccounts; maintenance is used). Default none. */
  provisionedJobAccounts?: JobAccountsOptions['configured'];
  /** Storages reconciled at once. Default 4. */
  concurrency?: number;
}

export interface StorageController extends Controller {
  /** Resolves when nothing is queued or being reconciled in the current term. */
  whenIdle(): Promise<void>;
}

/** Repositories by `<namespace>/<name>` of the storage their storageRef points at. */
const BY_STORAGE = 'storage-controller/storage-ref';
export const storageKeyOfRepository = (repository: Repository): string =>
  repository.spec?.storageRef?.name ? `${repository.spec.storageRef.namespace || repository.metadata?.namespace || ''}/${repository.spec.storageRef.name}` : '';

/** The BackupStorage controller; create it once per process and give it to the manager. */
export function storageController(options: StorageControllerOptions): StorageController {
  const clock = options.now ?? (() => new Date());
  const retry: InitJobRetry = { ...DEFAULT_INIT_RETRY, ...options.initRetry };
  const settings = {
    image: options.image,
    ...(options.serviceAccountName !== undefined ? { serviceAccountName: options.serviceAccountName } : {}),
    ...(options.jobTemplate !== undefined ? { jobTemplate: options.jobTemplate } : {}),
  };
  let queue: WorkQueue | undefined;

  async function start(context: ControllerContext): Promise<void> {
    const { client, informers, signal, logger } = context;
    const jobAccounts = createJobAccounts({ client, recorder: context.recorder, logger, configured: options.provisionedJobAccounts ?? {} });
    for (const kind of [BACKUP_STORAGE, REPOSITORY, JOB]) client.registerResource(kind.type, kind.resource);
    const storages = informers.informerFor<BackupStorage>(BACKUP_STORAGE.type, { resource: BACKUP_STORAGE.resource });
    const repositories = informers.informerFor<Repository>(REPOSITORY.type, { resource: REPOSITORY.resource });
    const jobs = informers.informerFor(JOB.type, { resource: JOB.resource });
    repositories.addIndex(BY_STORAGE, (repository) => {
      const key = storageKeyOfRepository(repository);
      return key ? [key] : [];
    });
    const attempts = new Map<string, { generation: string; attempt: number }>();

    const reconcile = async (key: string) => {
      const { namespace, name } = splitKey(key);
      const storage = storages.get(namespace, name);
      if (storage === undefined) return;
      if (isDeleting(storage)) return;
      const now = clock();
      const init = await reconcileInitJob({ client, jobs, object: storage, build: (attempt) => buildInitStorageJob(storage, settings, attempt), now, retry, attempts, jobAccounts });
      const stored = repositories.byIndex(BY_STORAGE, key).filter((repository) => !isDeleting(repository));
      const written = await writeStatus<BackupStorage>(client, BACKUP_STORAGE, storage, (current) => desiredStatus(current, init.failure, stored, now));
      if (written !== undefined && written.status?.phase !== storage.status?.phase) {
        context.recorder.record(
          written,
          written.status?.phase === 'Ready' ? 'Normal' : 'Warning',
          written.status?.phase === 'Ready' ? 'StorageReady' : 'StorageNotReady',
          written.status?.phase === 'Ready' ? 'the backend is initialized' : `the backend is not ready${init.failure !== undefined ? `: ${init.failure}` : ''}`,
        );
        logger.info({ storage: key, phase: written.status?.phase }, 'backup storage phase changed');
      }
      return init.requeueAfterMs !== undefined ? { requeueAfterMs: init.requeueAfterMs } : undefined;
    };

    const workQueue = createWorkQueue(reconcile, { name: 'backup-storage', concurrency: options.concurrency ?? 4, logger });
    queue = workQueue;
    const enqueue = (object: KubeObject) => workQueue.add(keyOf(object));
    const enqueueStorageOf = (repository: Repository) => {
      const key = storageKeyOfRepository(repository);
      if (key) workQueue.add(key);
    };
    const enqueueJobOwner = (job: KubeObject) => {
      const storage = job.metadata?.labels?.[STORAGE_LABEL];
      if (storage !== undefined) workQueue.add(`${namespaceOf(job)}/${storage}`);
    };
    const unsubscribe = [
      storages.addEventHandler({ add: enqueue, update: (_previous, object) => enqueue(object), delete: enqueue }),
      repositories.addEventHandler({
        add: enqueueStorageOf,
        update: (previous, object) => {
          if (storageKeyOfRepository(previous) !== storageKeyOfRepository(object)) enqueueStorageOf(previous);
          if (!isDeepStrictEqual(previous.status?.size, object.status?.size) || !isDeepStrictEqual(previous.spec, object.spec) || isDeleting(previous) !== isDeleting(object)) enqueueStorageOf(object);
        },
        delete: enqueueStorageOf,
      }),
      jobs.addEventHandler({ add: enqueueJobOwner, update: (_previous, job) => enqueueJobOwner(job), delete: enqueueJobOwner }),
    ];
    await untilAborted(signal);
    for (const off of unsubscribe) off();
    await workQueue.shutdown();
    if (queue === workQueue) queue = undefined;
  }

  return { name: 'backup-storage', start, whenIdle: () => queue?.whenIdle() ?? Promise.resolve() };
}

/** The status with what this controller owns recomputed; the executor's conditions are kept. */
function desiredStatus(storage: BackupStorage, failure: string | undefined, repositories: readonly Repository[], now: Date): BackupStorageStatus {
  const status: BackupStorageStatus = { ...storage.status };
  const failed = initFailureCondition(status.conditions, failure);
  if (failed !== undefined) status.conditions = setCondition(status.conditions, failed, now);
  status.phase = storagePhase(status.conditions);
  const summary = storageRepositories(repositories);
  status.repositories = summary.repositories;
  if (summary.totalSize !== undefined) status.totalSize = summary.totalSize;
  else delete status.totalSize;
  return status;
}

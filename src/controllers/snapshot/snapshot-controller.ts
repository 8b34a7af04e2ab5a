/**
 * The Snapshot controller: Snapshots carry the finalizer kubestash.com/cleanup (the session
 * controller creates them with it). On deletion, deletionPolicy WipeOut runs the wipe Job
 * (`autostash exec wipe-snapshot` forgets the Snapshot's restic snapshots) and lets go once it
 * Completed; Delete (the default) lets go at once. When the Repository is gone or going, the
 * Repository's own deletion policy decides about the data, so the Snapshot lets go at once too
 * (it must never block the garbage collection of a deleted Repository's Snapshots).
 */
import type { JobTemplate } from '../../api/core.js';
import type { BackupStorage, Repository, Snapshot } from '../../api/storage.js';
import { CLEANUP_FINALIZER, REPOSITORY_NAME_LABEL, SNAPSHOT_LABEL } from '../../domain/execution/labels.js';
import { buildWipeSnapshotJob, jobOutcome, wipeSnapshotJobName, type MaintenanceJobSettings } from '../../domain/execution/maintenance-jobs.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { isAlreadyExists } from '../../kube/client.js';
import { untilAborted, type Controller, type ControllerContext } from '../manager.js';
import { createWorkQueue, type ReconcileResult, type WorkQueue } from '../work-queue.js';
import { retryFailedWipe } from '../repository/repository-controller.js';
import { DEFAULT_INIT_RETRY, type InitJobRetry } from '../storage/init-job.js';
import { BACKUP_STORAGE, deleteIfPresent, hasFinalizer, isDeleting, JOB, keyOf, removeFinalizer, REPOSITORY, SNAPSHOT, splitKey } from '../storage/kube-writes.js';
import { storageKeyOfRepository } from '../storage/storage-controller.js';
import { namespaceOf } from '../../domain/rules/common.js';
import { createJobAccounts, type JobAccountsOptions } from '../job-accounts.js';

export interface SnapshotControllerOptions {
  /** The autostash image the wipe Jobs run. */
  image: string;
  serviceAccountName?: string;
  /** Settings of the wipe Jobs. */
  jobTemplate?: JobTemplate;
  /** Wall clock. Default `() => new Date()`. */
  now?: () => Date;
  /** A failed wipe Job runs again `baseMs` after it failed. Default 1 min. */
  retry?: Partial<InitJobRetry>;
  /** Per-role accounts created on demand in the Job's namespace (configuredRoleAccounts; maintenance is used). Default none. */
  provisionedJobAccounts?: JobAccountsOptions['configured'];
  /** Snapshots reconciled at once. Default 4. */
  concurrency?: number;
}

export interface SnapshotController extends Controller {
  whenIdle(): Promise<void>;
}

/** The Snapshot controller; create it once per process and give it to the manager. */
export function snapshotController(options: SnapshotControllerOptions): SnapshotController {
  const clock = options.now ?? (() => new Date());
  const retry: InitJobRetry = { ...DEFAULT_INIT_RETRY, ...options.retry };
  const settings: MaintenanceJobSettings = {
    image: options.image,
    ...(options.serviceAccountName !== undefined ? { serviceAccountName: options.serviceAccountName } : {}),
    ...(options.jobTemplate !== undefined ? { jobTemplate: options.jobTemplate } : {}),
  };
  let queue: WorkQueue | undefined;

  async function start(context: ControllerContext): Promise<void> {
    const { client, informers, signal, logger, recorder } = context;
    const jobAccounts = createJobAccounts({ client, recorder, logger, configured: options.provisionedJobAccounts ?? {} });
    for (const kind of [SNAPSHOT, REPOSITORY, BACKUP_STORAGE, JOB]) client.registerResource(kind.type, kind.resource);
    const snapshots = informers.informerFor<Snapshot>(SNAPSHOT.type, { resource: SNAPSHOT.resource });
    const repositories = informers.informerFor<Repository>(REPOSITORY.type, { resource: REPOSITORY.resource });
    const storages = informers.informerFor<BackupStorage>(BACKUP_STORAGE.type, { resource: BACKUP_STORAGE.resource });
    const jobs = informers.informerFor(JOB.type, { resource: JOB.resource });

    const reconcile = async (key: string): Promise<ReconcileResult | void> => {
      const { namespace, name } = splitKey(key);
      const snapshot = snapshots.get(namespace, name);
      if (snapshot === undefined || !isDeleting(snapshot) || !hasFinalizer(snapshot, CLEANUP_FINALIZER)) return;
      const repositoryName = snapshot.spec?.repository ?? snapshot.metadata?.labels?.[REPOSITORY_NAME_LABEL] ?? '';
      const repository = repositories.get(namespace, repositoryName);
      const jobName = wipeSnapshotJobName(snapshot);
      if (snapshot.spec?.deletionPolicy !== 'WipeOut' || repository === undefined || isDeleting(repository)) {
        await removeFinalizer(client, SNAPSHOT, snapshot, CLEANUP_FINALIZER);
        if (jobs.get(namespace, jobName) !== undefined) await deleteIfPresent(client, { ...JOB.type, namespace, name: jobName });
        return;
      }
      const job = jobs.get(namespace, jobName);
      if (job === undefined) {
        const storageKey = storageKeyOfRepository(repository);
        const storage = storageKey ? storages.get(splitKey(storageKey).namespace, splitKey(storageKey).name) : undefined;
        const built = buildWipeSnapshotJob(snapshot, storage, settings);
        if (built.errors.length > 0) {
          recorder.warning(snapshot, 'WipeOutFailed', `cannot build the wipe Job: ${built.errors.map((error) => `${error.path}: ${error.message}`).join('; ')}`);
          return { requeueAfterMs: retry.maxMs };
        }
        await jobAccounts.ensure(built.job, ['maintenance'], namespace, snapshot);
        try {
          await client.create(built.job);
          recorder.normal(snapshot, 'WipeOutStarted', `Job ${jobName} removes the snapshot's data from the backend`);
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
        }
        return;
      }
      if (isDeleting(job)) return;
      const outcome = jobOutcome(job);
      if (outcome.state === 'Complete') {
        await removeFinalizer(client, SNAPSHOT, snapshot, CLEANUP_FINALIZER);
        await deleteIfPresent(client, { ...JOB.type, namespace, name: jobName });
        logger.info({ snapshot: key }, 'snapshot wiped out');
        return;
      }
      if (outcome.state === 'Failed') return retryFailedWipe({ client, recorder, retry, clock }, snapshot, job, outcome.message);
    };

    const workQueue = createWorkQueue(reconcile, { name: 'snapshot', concurrency: options.concurrency ?? 4, logger });
    queue = workQueue;
    const enqueue = (object: KubeObject) => workQueue.add(keyOf(object));
    const onJob = (job: KubeObject) => {
      const snapshot = job.metadata?.labels?.[SNAPSHOT_LABEL];
      if (snapshot !== undefined) workQueue.add(`${namespaceOf(job)}/${snapshot}`);
    };
    const onRepository = (repository: Repository) => {
      // A Repository going away releases its Snapshots' finalizers.
      if (!isDeleting(repository)) return;
      for (const snapshot of snapshots.list(repository.metadata?.namespace)) {
        if ((snapshot.spec?.repository ?? snapshot.metadata?.labels?.[REPOSITORY_NAME_LABEL]) === repository.metadata?.name && isDeleting(snapshot)) enqueue(snapshot);
      }
    };
    const unsubscribe = [
      snapshots.addEventHandler({ add: enqueue, update: (previous, object) => (isDeleting(object) || isDeleting(previous)) && enqueue(object) }),
      jobs.addEventHandler({ add: onJob, update: (_previous, job) => onJob(job), delete: onJob }),
      repositories.addEventHandler({ update: (_previous, object) => onRepository(object), delete: (object) => onRepository({ ...object, metadata: { ...object.metadata, deletionTimestamp: 'gone' } }) }),
    ];
    await untilAborted(signal);
    for (const off of unsubscribe) off();
    await workQueue.shutdown();
    if (queue === workQueue) queue = undefined;
  }

  return { name: 'snapshot', start, whenIdle: () => queue?.whenIdle() ?? Promise.resolve() };
}

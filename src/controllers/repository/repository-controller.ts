/**
 * The Repository controller (SPEC §3.3, §8.1 steps 2–3):
 * - from every BackupConfiguration, a Repository per `sessions[].repositories[]` (created and kept
 *   in line, never taken over when it was not made for that configuration: that is a Warning Event
 *   on the configuration, whose controller also reports it in status);
 * - per Repository: the finalizer kubestash.com/cleanup, the init Job of its generation once its
 *   storage is Ready (`autostash exec init-repository` writes RepositoryInitialized), phase, and the
 *   backup summary from its Snapshots;
 * - on deletion: WipeOut runs the wipe Job and lets go once it Completed; Delete lets go at once.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BackupConfiguration, JobTemplate } from '../../api/core.js';
import type { BackupStorage, Repository, RepositoryStatus, Snapshot } from '../../api/storage.js';
import { CLEANUP_FINALIZER, REPOSITORY_LABEL, REPOSITORY_NAME_LABEL, SNAPSHOT_LABEL } from '../../domain/execution/labels.js';
import { buildInitRepositoryJob, buildWipeRepositoryJob, jobOutcome, wipeRepositoryJobName, type MaintenanceJobSettings } from '../../domain/execution/maintenance-jobs.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { setCondition } from '../../domain/status/conditions.js';
import { repositoryInitFailureCondition, repositoryPhase, summarizeRepositorySnapshots } from '../../domain/status/repository-phase.js';
import { isAlreadyExists, type KubeClient } from '../../kube/client.js';
import type { EventRecorder } from '../event-recorder.js';
import type { Informer } from '../informer.js';
import { untilAborted, type Controller, type ControllerContext } from '../manager.js';
import { createWorkQueue, type ReconcileResult, type WorkQueue } from '../work-queue.js';
import { DEFAULT_INIT_RETRY, reconcileInitJob, type InitJobRetry } from '../storage/init-job.js';
import { createJobAccounts, type JobAccounts, type JobAccountsOptions } from '../job-accounts.js';
import {
  addFinalizer,
  BACKUP_CONFIGURATION,
  BACKUP_STORAGE,
  deleteIfPresent,
  hasFinalizer,
  isDeleting,
  JOB,
  keyOf,
  removeFinalizer,
  REPOSITORY,
  SNAPSHOT,
  splitKey,
  updateObject,
  writeStatus,
} from '../storage/kube-writes.js';
import { storageKeyOfRepository } from '../storage/storage-controller.js';
import { configurationRepositories, repositoryAction } from './desired-repository.js';
import { nameOf, namespaceOf } from '../../domain/rules/common.js';

export interface RepositoryControllerOptions {
  /** The autostash image the init and wipe Jobs run. */
  image: string;
  serviceAccountName?: string;
  /** Settings of the init and wipe Jobs. */
  jobTemplate?: JobTemplate;
  /** Wall clock. Default `() => new Date()`. */
  now?: () => Date;
  /** When a failed init or wipe Job runs again. Default 1 min doubling to 10 min. */
  retry?: Partial<InitJobRetry>;
  /** Per-role accounts created on demand in the Job's namespace (configuredRoleAccounts; maintenance is used). Default none. */
  provisionedJobAccounts?: JobAccountsOptions['configured'];
  /** Keys reconciled at once. Default 4. */
  concurrency?: number;
}

export interface RepositoryController extends Controller {
  whenIdle(): Promise<void>;
}

const CONFIGURATION_KEY = 'bc:';
const REPOSITORY_KEY = 'repo:';
/** BackupConfigurations by `<namespace>/<repository name>` they ask for. */
const BY_REPOSITORY = 'repository-controller/repository-name';
/** Repositories by `<namespace>/<storage>`. */
const BY_STORAGE = 'repository-controller/storage-ref';
/** Snapshots by `<namespace>/<repository>`. */
const BY_REPOSITORY_LABEL = 'repository-controller/repo-name';

/** The Repository controller; create it once per process and give it to the manager. */
export function repositoryController(options: RepositoryControllerOptions): RepositoryController {
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
    for (const kind of [BACKUP_CONFIGURATION, BACKUP_STORAGE, REPOSITORY, SNAPSHOT, JOB]) client.registerResource(kind.type, kind.resource);
    const configurations = informers.informerFor<BackupConfiguration>(BACKUP_CONFIGURATION.type, { resource: BACKUP_CONFIGURATION.resource });
    const storages = informers.informerFor<BackupStorage>(BACKUP_STORAGE.type, { resource: BACKUP_STORAGE.resource });
    const repositories = informers.informerFor<Repository>(REPOSITORY.type, { resource: REPOSITORY.resource });
    const snapshots = informers.informerFor<Snapshot>(SNAPSHOT.type, { resource: SNAPSHOT.resource });
    const jobs = informers.informerFor(JOB.type, { resource: JOB.resource });
    configurations.addIndex(BY_REPOSITORY, (configuration) => configurationRepositories(configuration).map((info) => `${namespaceOf(configuration)}/${info.name}`));
    repositories.addIndex(BY_STORAGE, (repository) => {
      const key = storageKeyOfRepository(repository);
      return key ? [key] : [];
    });
    snapshots.addIndex(BY_REPOSITORY_LABEL, (snapshot) => {
      const repository = snapshot.metadata?.labels?.[REPOSITORY_NAME_LABEL] ?? snapshot.spec?.repository;
      return repository ? [`${namespaceOf(snapshot)}/${repository}`] : [];
    });
    const attempts = new Map<string, { generation: string; attempt: number }>();
    const jobAccounts = createJobAccounts({ client, recorder, logger, configured: options.provisionedJobAccounts ?? {} });
    const tools = { client, recorder, jobs, storages, snapshots, attempts, settings, retry, clock, jobAccounts };

    const reconcile = async (key: string): Promise<ReconcileResult | void> => {
      if (key.startsWith(CONFIGURATION_KEY)) return reconcileConfiguration(tools, configurations, repositories, key.slice(CONFIGURATION_KEY.length), logger);
      return reconcileRepository(tools, repositories, key.slice(REPOSITORY_KEY.length), logger);
    };

    const workQueue = createWorkQueue(reconcile, { name: 'repository', concurrency: options.concurrency ?? 4, logger });
    queue = workQueue;
    const enqueueRepository = (object: KubeObject) => workQueue.add(REPOSITORY_KEY + keyOf(object));
    const enqueueConfiguration = (object: KubeObject) => workQueue.add(CONFIGURATION_KEY + keyOf(object));
    const enqueueByName = (namespace: string, name: string) => {
      workQueue.add(`${REPOSITORY_KEY}${namespace}/${name}`);
      for (const configuration of configurations.byIndex(BY_REPOSITORY, `${namespace}/${name}`)) enqueueConfiguration(configuration);
    };
    const onRepository = (repository: Repository) => enqueueByName(namespaceOf(repository), nameOf(repository));
    const onSnapshot = (snapshot: Snapshot) => {
      const repository = snapshot.metadata?.labels?.[REPOSITORY_NAME_LABEL] ?? snapshot.spec?.repository;
      if (repository) workQueue.add(`${REPOSITORY_KEY}${namespaceOf(snapshot)}/${repository}`);
    };
    const onStorage = (storage: BackupStorage) => {
      for (const repository of repositories.byIndex(BY_STORAGE, keyOf(storage))) enqueueRepository(repository);
    };
    const onJob = (job: KubeObject) => {
      const repository = job.metadata?.labels?.[REPOSITORY_LABEL];
      // Wipe-snapshot Jobs carry the repository label too; they belong to the snapshot controller.
      if (repository !== undefined && job.metadata?.labels?.[SNAPSHOT_LABEL] === undefined) workQueue.add(`${REPOSITORY_KEY}${namespaceOf(job)}/${repository}`);
    };
    const unsubscribe = [
      configurations.addEventHandler({
        add: enqueueConfiguration,
        update: (previous, object) => {
          if (!isDeepStrictEqual(previous.spec, object.spec) || isDeleting(previous) !== isDeleting(object)) enqueueConfiguration(object);
        },
      }),
      repositories.addEventHandler({ add: onRepository, update: (_previous, object) => onRepository(object), delete: onRepository }),
      snapshots.addEventHandler({ add: onSnapshot, update: (_previous, object) => onSnapshot(object), delete: onSnapshot }),
      storages.addEventHandler({ add: onStorage, update: (previous, object) => previous.status?.phase !== object.status?.phase && onStorage(object) }),
      jobs.addEventHandler({ add: onJob, update: (_previous, object) => onJob(object), delete: onJob }),
    ];
    await untilAborted(signal);
    for (const off of unsubscribe) off();
    await workQueue.shutdown();
    if (queue === workQueue) queue = undefined;
  }

  return { name: 'repository', start, whenIdle: () => queue?.whenIdle() ?? Promise.resolve() };
}

interface Tools {
  client: KubeClient;
  recorder: EventRecorder;
  jobs: Informer;
  storages: Informer<BackupStorage>;
  snapshots: Informer<Snapshot>;
  attempts: Map<string, { generation: string; attempt: number }>;
  settings: MaintenanceJobSettings;
  retry: InitJobRetry;
  clock: () => Date;
  jobAccounts: JobAccounts;
}

type Log = ControllerContext['logger'];

/** Creates or aligns the Repositories a configuration asks for; conflicts become Warning Events. */
async function reconcileConfiguration(tools: Tools, configurations: Informer<BackupConfiguration>, repositories: Informer<Repository>, key: string, logger: Log): Promise<ReconcileResult | void> {
  const { client, recorder } = tools;
  const { namespace, name } = splitKey(key);
  const configuration = configurations.get(namespace, name);
  // On deletion the configuration controller decides the Repositories' fate.
  if (configuration === undefined || isDeleting(configuration)) return;
  let waiting = false;
  for (const info of configurationRepositories(configuration)) {
    const decision = repositoryAction(configuration, info, repositories.get(namespace, info.name ?? ''));
    switch (decision.action) {
      case 'create':
        try {
          await client.create(decision.repository);
          recorder.normal(configuration, 'RepositoryCreated', `created Repository ${info.name}`);
          logger.info({ configuration: key, repository: info.name }, 'repository created');
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
          waiting = true; // our cache is behind: look again when it catches up
        }
        break;
      case 'update':
        await updateObject(client, REPOSITORY, decision.repository, (current) => {
          const again = repositoryAction(configuration, info, current);
          return again.action === 'update' ? again.repository : undefined;
        });
        break;
      case 'conflict':
        recorder.warning(configuration, 'RepositoryConflict', decision.reason);
        break;
      case 'wait':
        waiting = true;
        break;
      case 'none':
        break;
    }
  }
  return waiting ? { requeue: true } : undefined;
}

async function reconcileRepository(tools: Tools, repositories: Informer<Repository>, key: string, logger: Log): Promise<ReconcileResult | void> {
  const { client, jobs, storages, snapshots, clock } = tools;
  const { namespace, name } = splitKey(key);
  const repository = repositories.get(namespace, name);
  if (repository === undefined) return;
  const storageKey = storageKeyOfRepository(repository);
  const storage = storageKey ? storages.get(splitKey(storageKey).namespace, splitKey(storageKey).name) : undefined;
  if (isDeleting(repository)) return finalize(tools, repository, storage, logger);
  if (!hasFinalizer(repository, CLEANUP_FINALIZER)) {
    // The update event brings the rest of the work.
    await addFinalizer(client, REPOSITORY, repository, CLEANUP_FINALIZER);
    return;
  }
  const now = clock();
  let failure: string | undefined;
  let requeueAfterMs: number | undefined;
  // Initialising before the storage is ready would only fail: the storage's phase change brings us back.
  if (storage?.status?.phase === 'Ready') {
    const init = await reconcileInitJob({ client, jobs, object: repository, build: (attempt) => buildInitRepositoryJob(repository, storage, tools.settings, attempt), now, retry: tools.retry, attempts: tools.attempts, jobAccounts: tools.jobAccounts });
    failure = init.failure;
    requeueAfterMs = init.requeueAfterMs;
  }
  const own = snapshots.byIndex(BY_REPOSITORY_LABEL, key);
  const written = await writeStatus<Repository>(client, REPOSITORY, repository, (current) => desiredStatus(current, failure, own, now));
  if (written !== undefined && written.status?.phase !== repository.status?.phase) logger.info({ repository: key, phase: written.status?.phase }, 'repository phase changed');
  return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
}

/** What this controller owns in Repository.status, recomputed; RepositoryInitialized is the executor's. */
function desiredStatus(repository: Repository, failure: string | undefined, snapshots: readonly Snapshot[], now: Date): RepositoryStatus {
  const status: RepositoryStatus = { ...repository.status };
  const failed = repositoryInitFailureCondition(status.conditions, failure);
  if (failed !== undefined) status.conditions = setCondition(status.conditions, failed, now);
  status.phase = repositoryPhase(status.conditions);
  for (const field of ['lastBackupTime', 'snapshotCount', 'size', 'integrity', 'recentSnapshots', 'componentPaths'] as const) delete status[field];
  return { ...status, ...summarizeRepositorySnapshots(snapshots) };
}

/** Deletion: WipeOut waits for the wipe Job to Complete; Delete lets go at once (the Snapshots go by GC). */
async function finalize(tools: Tools, repository: Repository, storage: BackupStorage | undefined, logger: Log): Promise<ReconcileResult | void> {
  const { client, jobs, recorder } = tools;
  if (!hasFinalizer(repository, CLEANUP_FINALIZER)) return;
  const namespace = namespaceOf(repository);
  const jobName = wipeRepositoryJobName(repository);
  if (repository.spec?.deletionPolicy !== 'WipeOut') {
    await removeFinalizer(client, REPOSITORY, repository, CLEANUP_FINALIZER);
    return;
  }
  const job = jobs.get(namespace, jobName);
  if (job === undefined) {
    const built = buildWipeRepositoryJob(repository, storage, tools.settings);
    if (built.errors.length > 0) {
      recorder.warning(repository, 'WipeOutFailed', `cannot build the wipe Job: ${built.errors.map((error) => `${error.path}: ${error.message}`).join('; ')}`);
      return { requeueAfterMs: tools.retry.maxMs };
    }
    await tools.jobAccounts.ensure(built.job, ['maintenance'], namespace, repository);
    try {
      await client.create(built.job);
      recorder.normal(repository, 'WipeOutStarted', `Job ${jobName} removes the repository's data from the backend`);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    return;
  }
  if (isDeleting(job)) return;
  const outcome = jobOutcome(job);
  if (outcome.state === 'Complete') {
    await removeFinalizer(client, REPOSITORY, repository, CLEANUP_FINALIZER);
    await deleteIfPresent(client, { ...JOB.type, namespace, name: jobName });
    recorder.normal(repository, 'WipeOutSucceeded', 'the repository data was removed from the backend');
    logger.info({ repository: keyOf(repository) }, 'repository wiped out');
    return;
  }
  if (outcome.state === 'Failed') return retryFailedWipe(tools, repository, job, outcome.message);
}

/**
 * A failed wipe keeps the finalizer (the data is still there): a Warning Event, then the Job is
 * deleted `retry.baseMs` after it failed so the next pass runs it again. Shared with the snapshot controller.
 */
export async function retryFailedWipe(tools: Pick<Tools, 'client' | 'recorder' | 'retry' | 'clock'>, object: KubeObject, job: KubeObject, message: string): Promise<ReconcileResult | void> {
  const failedAt = Date.parse((job.status as { conditions?: Array<{ type?: string; lastTransitionTime?: string }> } | undefined)?.conditions?.find((c) => c.type === 'Failed')?.lastTransitionTime ?? '');
  const due = (Number.isNaN(failedAt) ? tools.clock().getTime() : failedAt) + tools.retry.baseMs;
  const wait = due - tools.clock().getTime();
  if (wait > 0) {
    tools.recorder.warning(object, 'WipeOutFailed', `Job ${nameOf(job)} failed: ${message}; the finalizer stays and the Job runs again`);
    return { requeueAfterMs: wait };
  }
  await deleteIfPresent(tools.client, { ...JOB.type, namespace: job.metadata?.namespace, name: nameOf(job) });
}

/**
 * The Jobs that look after backends rather than backups: initialise a BackupStorage
 * (`metadata.yaml`) and a Repository (`repository.yaml`), and wipe a Snapshot's or a Repository's
 * data before their objects go. Each runs `autostash exec <verb>` with the storage's local volume
 * mounted (the executor reads everything else through the API). Pure.
 */
import type { BackupStorage, Repository, Snapshot } from '../../api/index.js';
import type { JobTemplate } from '../../api/core.js';
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../kube-object.js';
import { validNameWithPrefixNSuffix } from '../naming.js';
import { EXECUTOR_COMMAND } from './addons-catalog.js';
import { executorJob, type JobOwner } from './job-skeleton.js';
import { REPOSITORY_LABEL, SNAPSHOT_LABEL, STORAGE_LABEL, type JobComponent } from './labels.js';
import { nameOf, namespaceOf } from '../rules/common.js';
import { jobComplete, jobFailure } from './job-conditions.js';

/** KubeStash's name prefixes (constants PrefixInit, PrefixCleanup) with what they act on. */
export const INIT_STORAGE_JOB_PREFIX = 'init-storage';
export const INIT_REPOSITORY_JOB_PREFIX = 'init-repo';
export const CLEANUP_SNAPSHOT_JOB_PREFIX = 'cleanup';
export const CLEANUP_REPOSITORY_JOB_PREFIX = 'cleanup-repo';

/** On init Jobs: the metadata.generation of the object the Job initialises (a spec change re-runs it). */
export const OBSERVED_GENERATION_ANNOTATION = 'autostash.dev/observed-generation';
/** On init Jobs: which run this is (1, 2, ...) after failed ones, for the retry backoff. */
export const ATTEMPT_ANNOTATION = 'autostash.dev/attempt';

/** Settings every maintenance Job shares. */
export interface MaintenanceJobSettings {
  /** The autostash image (the executor). */
  image: string;
  serviceAccountName?: string;
  /** Job settings (backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished). */
  jobTemplate?: JobTemplate;
}

export const initStorageJobName = (storage: BackupStorage): string => validNameWithPrefixNSuffix(INIT_STORAGE_JOB_PREFIX, nameOf(storage), '');
export const initRepositoryJobName = (repository: Repository): string => validNameWithPrefixNSuffix(INIT_REPOSITORY_JOB_PREFIX, nameOf(repository), '');
export const wipeSnapshotJobName = (snapshot: Snapshot): string => validNameWithPrefixNSuffix(CLEANUP_SNAPSHOT_JOB_PREFIX, nameOf(snapshot), '');
export const wipeRepositoryJobName = (repository: Repository): string => validNameWithPrefixNSuffix(CLEANUP_REPOSITORY_JOB_PREFIX, nameOf(repository), '');

/** A controller ownerReference to `object` (kind given, since list items may lack it). */
export function ownerOf(object: KubeObject, apiVersion: string, kind: string): JobOwner {
  return { apiVersion, kind, name: nameOf(object), uid: object.metadata?.uid ?? '' };
}

interface MaintenanceJobInput {
  name: string;
  namespace: string;
  component: JobComponent;
  verb: string;
  /** `--flag=value` arguments after the verb. */
  flags: Record<string, string>;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  owner?: JobOwner;
  /** The storage whose local volume (if any) the Job mounts and whose runtimeSettings it uses. */
  storage: BackupStorage | undefined;
  settings: MaintenanceJobSettings;
}

function maintenanceJob(input: MaintenanceJobInput): { job: KubeObject; errors: FieldError[] } {
  const runtime = input.storage?.spec?.runtimeSettings;
  const { job, errors } = executorJob({
    name: input.name,
    namespace: input.namespace,
    component: input.component,
    ...(input.owner !== undefined ? { owner: input.owner } : {}),
    labels: input.labels,
    container: {
      image: input.settings.image,
      command: [...EXECUTOR_COMMAND],
      args: ['exec', input.verb, ...Object.entries(input.flags).map(([flag, value]) => `--${flag}=${value}`)],
    },
    localStorages: input.storage !== undefined ? [input.storage] : [],
    ...(input.settings.jobTemplate !== undefined ? { jobTemplate: input.settings.jobTemplate } : {}),
    ...(runtime?.pod !== undefined ? { podRuntimeSettings: runtime.pod } : {}),
    ...(runtime?.container !== undefined ? { containerRuntimeSettings: runtime.container } : {}),
    ...(input.settings.serviceAccountName !== undefined ? { serviceAccountName: input.settings.serviceAccountName } : {}),
  });
  if (input.annotations !== undefined && job.metadata !== undefined) job.metadata.annotations = { ...input.annotations };
  return { job, errors };
}

/**
 * `init-storage-<storage>` in the storage's namespace, owned by it: `autostash exec init-storage
 * --namespace=<ns> --storage=<name>` with the storage's local volume and runtimeSettings. Annotated
 * with the storage's generation and `attempt` (default 1). Errors come from the local backend.
 */
export function buildInitStorageJob(storage: BackupStorage, settings: MaintenanceJobSettings, attempt = 1): { job: KubeObject; errors: FieldError[] } {
  const name = nameOf(storage);
  const namespace = namespaceOf(storage);
  return maintenanceJob({
    name: initStorageJobName(storage),
    namespace,
    component: 'storage-initializer',
    verb: 'init-storage',
    flags: { namespace, storage: name },
    labels: { [STORAGE_LABEL]: name },
    annotations: { [OBSERVED_GENERATION_ANNOTATION]: String(storage.metadata?.generation ?? 0), [ATTEMPT_ANNOTATION]: String(attempt) },
    owner: ownerOf(storage, 'storage.kubestash.com/v1alpha1', 'BackupStorage'),
    storage,
    settings,
  });
}

/**
 * `init-repo-<repository>` in the repository's namespace, owned by it: `autostash exec
 * init-repository --namespace=<ns> --repository=<name>` with its storage's local volume (when the
 * storage is known) and runtimeSettings. Annotated like {@link buildInitStorageJob}.
 */
export function buildInitRepositoryJob(repository: Repository, storage: BackupStorage | undefined, settings: MaintenanceJobSettings, attempt = 1): { job: KubeObject; errors: FieldError[] } {
  const name = nameOf(repository);
  const namespace = namespaceOf(repository);
  return maintenanceJob({
    name: initRepositoryJobName(repository),
    namespace,
    component: 'repository-initializer',
    verb: 'init-repository',
    flags: { namespace, repository: name },
    labels: { [REPOSITORY_LABEL]: name },
    annotations: { [OBSERVED_GENERATION_ANNOTATION]: String(repository.metadata?.generation ?? 0), [ATTEMPT_ANNOTATION]: String(attempt) },
    owner: ownerOf(repository, 'storage.kubestash.com/v1alpha1', 'Repository'),
    storage,
    settings,
  });
}

/**
 * `cleanup-<snapshot>` in the snapshot's namespace: `autostash exec wipe-snapshot --namespace=<ns>
 * --snapshot=<name>`. No owner: the Snapshot is being deleted and a foreground deletion would take
 * the Job with it before it ran; the controller deletes the Job once it has removed the finalizer.
 */
export function buildWipeSnapshotJob(snapshot: Snapshot, storage: BackupStorage | undefined, settings: MaintenanceJobSettings): { job: KubeObject; errors: FieldError[] } {
  const name = nameOf(snapshot);
  const namespace = namespaceOf(snapshot);
  return maintenanceJob({
    name: wipeSnapshotJobName(snapshot),
    namespace,
    component: 'cleaner',
    verb: 'wipe-snapshot',
    flags: { namespace, snapshot: name },
    labels: { [SNAPSHOT_LABEL]: name, ...(snapshot.spec?.repository ? { [REPOSITORY_LABEL]: snapshot.spec.repository } : {}) },
    storage,
    settings,
  });
}

/**
 * `cleanup-repo-<repository>` in the repository's namespace: `autostash exec wipe-repository
 * --namespace=<ns> --repository=<name>`. No owner, for the reason given at {@link buildWipeSnapshotJob}.
 */
export function buildWipeRepositoryJob(repository: Repository, storage: BackupStorage | undefined, settings: MaintenanceJobSettings): { job: KubeObject; errors: FieldError[] } {
  const name = nameOf(repository);
  const namespace = namespaceOf(repository);
  return maintenanceJob({
    name: wipeRepositoryJobName(repository),
    namespace,
    component: 'cleaner',
    verb: 'wipe-repository',
    flags: { namespace, repository: name },
    labels: { [REPOSITORY_LABEL]: name },
    storage,
    settings,
  });
}

/** How a Job ended, from its conditions: Complete, Failed (with its message on one line), or still running. */
export type JobOutcome = { state: 'Running' } | { state: 'Complete' } | { state: 'Failed'; message: string };

export function jobOutcome(job: KubeObject | undefined): JobOutcome {
  if (jobComplete(job)) return { state: 'Complete' };
  const failed = jobFailure(job);
  if (failed !== undefined) return { state: 'Failed', message: (failed.message || failed.reason || 'the Job failed').trim().replace(/\s*\n\s*/g, ' ') };
  return { state: 'Running' };
}

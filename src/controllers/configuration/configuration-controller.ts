/**
 * The BackupConfiguration controller: the finalizer kubestash.com/cleanup, status (all but
 * `sessions[]`, which is the scheduler's) and, on deletion, each generated Repository's fate per
 * `sessions[].repositories[].deletionPolicy` (SPEC §4.1): Retain keeps it (no longer labelled as
 * ours), Delete deletes the object (data kept), WipeOut deletes it with deletionPolicy WipeOut so
 * its own finalizer wipes the data. BackupSessions owned by the configuration go by GC.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ResourceFoundStatus } from '../../api/common.js';
import type { BackendStatus, BackupConfiguration, BackupConfigurationStatus, RepositoryState } from '../../api/core.js';
import type { BackupStorage, Repository } from '../../api/storage.js';
import { CLEANUP_FINALIZER, CONFIGURATION_NAME_LABEL } from '../../domain/execution/labels.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { setCondition } from '../../domain/status/conditions.js';
import { configurationPhase, ConfigurationConditions, ConfigurationReasons } from '../../domain/status/configuration-phase.js';
import type { ObjectRef } from '../../kube/client.js';
import { untilAborted, type Controller, type ControllerContext } from '../manager.js';
import { createWorkQueue, type ReconcileResult, type WorkQueue } from '../work-queue.js';
import { belongsTo, configurationRepositories, repositoryAction } from '../repository/desired-repository.js';
import {
  ADDON,
  addFinalizer,
  BACKUP_CONFIGURATION,
  BACKUP_STORAGE,
  deleteIfPresent,
  hasFinalizer,
  isDeleting,
  keyOf,
  removeFinalizer,
  REPOSITORY,
  RETENTION_POLICY,
  splitKey,
  updateObject,
  writeStatus,
} from '../storage/kube-writes.js';
import { nameOf, namespaceOf } from '../../domain/rules/common.js';

export interface ConfigurationControllerOptions {
  /** Wall clock. Default `() => new Date()`. */
  now?: () => Date;
  /** A missing target is looked for again this often (its creation is not watched). Default 60 s. */
  targetRecheckMs?: number;
  /** Configurations reconciled at once. Default 4. */
  concurrency?: number;
}

export interface ConfigurationController extends Controller {
  whenIdle(): Promise<void>;
}

/** apiVersion of a target's group (targets name only the group); KubeStash's targets are in these. */
const GROUP_VERSIONS: Record<string, string> = { '': 'v1', core: 'v1', apps: 'apps/v1', batch: 'batch/v1', 'kubedb.com': 'kubedb.com/v1' };
const apiVersionOfGroup = (group: string | undefined): string => GROUP_VERSIONS[group ?? ''] ?? `${group}/v1`;

/** Configurations by every `<namespace>/<name>` of a storage, retention policy or repository they reference. */
const BY_REFERENCE = 'configuration-controller/configuration-references';

function referencesOf(configuration: BackupConfiguration): string[] {
  const namespace = namespaceOf(configuration);
  const keys = new Set<string>();
  for (const backend of configuration.spec?.backends ?? []) {
    if (backend.storageRef?.name) keys.add(`storage:${backend.storageRef.namespace || namespace}/${backend.storageRef.name}`);
    if (backend.retentionPolicy?.name) keys.add(`retention:${backend.retentionPolicy.namespace || namespace}/${backend.retentionPolicy.name}`);
  }
  for (const info of configurationRepositories(configuration)) keys.add(`repository:${namespace}/${info.name}`);
  for (const session of configuration.spec?.sessions ?? []) if (session.addon?.name) keys.add(`addon:${session.addon.name}`);
  return [...keys];
}

/** The BackupConfiguration controller; create it once per process and give it to the manager. */
export function configurationController(options: ConfigurationControllerOptions = {}): ConfigurationController {
  const clock = options.now ?? (() => new Date());
  const targetRecheckMs = options.targetRecheckMs ?? 60_000;
  let queue: WorkQueue | undefined;

  async function start(context: ControllerContext): Promise<void> {
    const { client, informers, signal, logger, recorder } = context;
    for (const kind of [BACKUP_CONFIGURATION, BACKUP_STORAGE, REPOSITORY, RETENTION_POLICY, ADDON]) client.registerResource(kind.type, kind.resource);
    const configurations = informers.informerFor<BackupConfiguration>(BACKUP_CONFIGURATION.type, { resource: BACKUP_CONFIGURATION.resource });
    const storages = informers.informerFor<BackupStorage>(BACKUP_STORAGE.type, { resource: BACKUP_STORAGE.resource });
    const repositories = informers.informerFor<Repository>(REPOSITORY.type, { resource: REPOSITORY.resource });
    const retentionPolicies = informers.informerFor(RETENTION_POLICY.type, { resource: RETENTION_POLICY.resource });
    const addons = informers.informerFor(ADDON.type, { resource: ADDON.resource });
    configurations.addIndex(BY_REFERENCE, referencesOf);

    async function finalize(configuration: BackupConfiguration): Promise<void> {
      const namespace = namespaceOf(configuration);
      const policies = new Map<string, string>();
      for (const session of configuration.spec?.sessions ?? []) {
        for (const info of session.repositories ?? []) if (info.name && !policies.has(info.name)) policies.set(info.name, info.deletionPolicy ?? 'Delete');
      }
      for (const [name, policy] of policies) {
        const repository = repositories.get(namespace, name);
        if (repository === undefined || !belongsTo(repository, configuration)) continue;
        const ref: ObjectRef = { ...REPOSITORY.type, namespace, name };
        if (policy === 'Retain') {
          await updateObject<Repository>(client, REPOSITORY, repository, (current) => {
            if (current.metadata?.labels?.[CONFIGURATION_NAME_LABEL] === undefined) return undefined;
            const labels = { ...current.metadata.labels };
            delete labels[CONFIGURATION_NAME_LABEL];
            current.metadata = { ...current.metadata, labels };
            return current;
          });
          recorder.normal(configuration, 'RepositoryRetained', `Repository ${name} is kept (deletionPolicy Retain)`);
          continue;
        }
        if (isDeleting(repository)) continue;
        if (policy === 'WipeOut') {
          // The Repository's finalizer wipes the data once it is deleted with deletionPolicy WipeOut.
          await updateObject<Repository>(client, REPOSITORY, repository, (current) => {
            if (current.spec?.deletionPolicy === 'WipeOut') return undefined;
            current.spec = { ...current.spec, deletionPolicy: 'WipeOut' };
            return current;
          });
        }
        await deleteIfPresent(client, ref);
        recorder.normal(configuration, 'RepositoryDeleted', `Repository ${name} deleted (deletionPolicy ${policy}${policy === 'WipeOut' ? ': its data is wiped' : ': its data is kept'})`);
      }
      await removeFinalizer(client, BACKUP_CONFIGURATION, configuration, CLEANUP_FINALIZER);
      logger.info({ configuration: keyOf(configuration) }, 'backup configuration finalized');
    }

    async function targetFound(configuration: BackupConfiguration): Promise<boolean | undefined> {
      const target = configuration.spec?.target;
      if (target === undefined) return undefined;
      const ref: ObjectRef = { apiVersion: apiVersionOfGroup(target.apiGroup), kind: target.kind ?? '', namespace: target.namespace || configuration.metadata?.namespace, name: target.name };
      try {
        return (await client.find(ref)) !== undefined;
      } catch {
        // A kind the API server does not serve is a target that is not there.
        return false;
      }
    }

    function desiredStatus(configuration: BackupConfiguration, found: boolean | undefined, now: Date): BackupConfigurationStatus {
      const namespace = namespaceOf(configuration);
      const status: BackupConfigurationStatus = { ...configuration.status };
      if (found === undefined) delete status.targetFound;
      else status.targetFound = found;
      status.backends = (configuration.spec?.backends ?? []).map((backend): BackendStatus => {
        const entry: BackendStatus = { name: backend.name ?? '' };
        let ready = true;
        if (backend.storageRef?.name) {
          const ref = { name: backend.storageRef.name, namespace: backend.storageRef.namespace || namespace };
          const storage = storages.get(ref.namespace, ref.name);
          const phase = storage?.status?.phase ?? 'NotReady';
          const reason =
            storage === undefined ? `BackupStorage ${ref.namespace}/${ref.name} not found`
            : phase !== 'Ready' ? (storage.status?.conditions?.find((condition) => condition.status !== 'True')?.message ?? 'the BackupStorage is not initialized yet')
            : undefined;
          entry.storage = { ref, phase, ...(reason !== undefined ? { reason } : {}) };
          ready &&= phase === 'Ready';
        } else {
          ready = false;
        }
        if (backend.retentionPolicy?.name) {
          const ref = { name: backend.retentionPolicy.name, namespace: backend.retentionPolicy.namespace || namespace };
          const exists = retentionPolicies.get(ref.namespace, ref.name) !== undefined;
          entry.retentionPolicy = { ref, found: exists, ...(exists ? {} : { reason: `RetentionPolicy ${ref.namespace}/${ref.name} not found` }) };
          ready &&= exists;
        }
        entry.ready = ready;
        return entry;
      });
      const problems: string[] = [];
      status.repositories = configurationRepositories(configuration).map((info): RepositoryState => {
        const name = info.name ?? '';
        const existing = repositories.get(namespace, name);
        const action = repositoryAction(configuration, info, existing);
        if (action.action === 'conflict') {
          problems.push(action.reason);
          return { name, phase: 'NotReady', reason: action.reason };
        }
        if (existing === undefined || action.action === 'wait') return { name, phase: 'NotReady', reason: action.action === 'wait' ? action.reason : 'the Repository is not created yet' };
        const phase = existing.status?.phase === 'Ready' ? 'Ready' : 'NotReady';
        const reason = phase === 'Ready' ? undefined : (existing.status?.conditions?.find((condition) => condition.status !== 'True')?.message ?? 'the Repository is not initialized yet');
        return { name, phase, ...(reason !== undefined ? { reason } : {}) };
      });
      const addonNames = [...new Set((configuration.spec?.sessions ?? []).map((session) => session.addon?.name).filter((name): name is string => Boolean(name)))];
      status.dependencies = addonNames.map((name): ResourceFoundStatus => ({ apiGroup: 'addons.kubestash.com', kind: 'Addon', name, found: addons.get(undefined, name) !== undefined }));
      status.conditions = setCondition(
        status.conditions,
        problems.length > 0
          ? { type: ConfigurationConditions.ValidationPassed, status: 'False', reason: ConfigurationReasons.ResourceValidationFailed, message: problems.join('; ') }
          : { type: ConfigurationConditions.ValidationPassed, status: 'True', reason: ConfigurationReasons.ResourceValidationPassed, message: 'the repositories of the configuration can be used' },
        now,
      );
      status.phase = configurationPhase({ ...(configuration.spec !== undefined ? { spec: configuration.spec } : {}), status });
      return status;
    }

    const reconcile = async (key: string): Promise<ReconcileResult | void> => {
      const { namespace, name } = splitKey(key);
      const configuration = configurations.get(namespace, name);
      if (configuration === undefined) return;
      if (isDeleting(configuration)) {
        if (hasFinalizer(configuration, CLEANUP_FINALIZER)) await finalize(configuration);
        return;
      }
      if (!hasFinalizer(configuration, CLEANUP_FINALIZER)) {
        await addFinalizer(client, BACKUP_CONFIGURATION, configuration, CLEANUP_FINALIZER);
        return; // the update event brings the status pass
      }
      const found = await targetFound(configuration);
      const now = clock();
      const written = await writeStatus<BackupConfiguration>(client, BACKUP_CONFIGURATION, configuration, (current) => desiredStatus(current, found, now));
      if (written !== undefined && written.status?.phase !== configuration.status?.phase) {
        logger.info({ configuration: key, phase: written.status?.phase }, 'backup configuration phase changed');
        if (written.status?.phase === 'Invalid') {
          recorder.warning(written, 'ValidationFailed', written.status.conditions?.find((c) => c.type === ConfigurationConditions.ValidationPassed)?.message ?? 'invalid');
        }
      }
      return found === false ? { requeueAfterMs: targetRecheckMs } : undefined;
    };

    const workQueue = createWorkQueue(reconcile, { name: 'backup-configuration', concurrency: options.concurrency ?? 4, logger });
    queue = workQueue;
    const enqueue = (object: KubeObject) => workQueue.add(keyOf(object));
    const enqueueReferencing = (prefix: string) => (object: KubeObject) => {
      const key = prefix === 'addon:' ? `addon:${nameOf(object)}` : `${prefix}${keyOf(object)}`;
      for (const configuration of configurations.byIndex(BY_REFERENCE, key)) enqueue(configuration);
    };
    const onStorage = enqueueReferencing('storage:');
    const onRetention = enqueueReferencing('retention:');
    const onRepository = enqueueReferencing('repository:');
    const onAddon = enqueueReferencing('addon:');
    const onRepositoryLabelled = (repository: Repository) => {
      onRepository(repository);
      const owner = repository.metadata?.labels?.[CONFIGURATION_NAME_LABEL];
      if (owner !== undefined) workQueue.add(`${namespaceOf(repository)}/${owner}`);
    };
    const unsubscribe = [
      configurations.addEventHandler({
        add: enqueue,
        update: (previous, object) => {
          // Status changes matter only in the scheduler's part (sessions[] feeds the phase).
          if (!isDeepStrictEqual(previous.spec, object.spec) || !isDeepStrictEqual(previous.metadata?.finalizers, object.metadata?.finalizers) || isDeleting(previous) !== isDeleting(object) || !isDeepStrictEqual(previous.status?.sessions, object.status?.sessions)) enqueue(object);
        },
      }),
      storages.addEventHandler({ add: onStorage, update: (previous, object) => previous.status?.phase !== object.status?.phase && onStorage(object), delete: onStorage }),
      retentionPolicies.addEventHandler({ add: onRetention, delete: onRetention }),
      repositories.addEventHandler({
        add: onRepositoryLabelled,
        update: (previous, object) => {
          if (previous.status?.phase !== object.status?.phase || !isDeepStrictEqual(previous.metadata?.labels, object.metadata?.labels) || previous.spec?.path !== object.spec?.path || isDeleting(previous) !== isDeleting(object)) onRepositoryLabelled(object);
        },
        delete: onRepositoryLabelled,
      }),
      addons.addEventHandler({ add: onAddon, delete: onAddon }),
    ];
    await untilAborted(signal);
    for (const off of unsubscribe) off();
    await workQueue.shutdown();
    if (queue === workQueue) queue = undefined;
  }

  return { name: 'backup-configuration', start, whenIdle: () => queue?.whenIdle() ?? Promise.resolve() };
}

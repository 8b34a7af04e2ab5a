/**
 * Keeps one generated BackupConfiguration per annotated workload or PVC converged with its blueprint
 * (SPEC §7, issue 4). Level-triggered: every reconcile reads the caches, computes what should exist
 * and makes it so; running it twice with nothing changed writes nothing. Ownership is decided by the
 * markers on the configuration (labels + autostash annotations), never by its name.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { BLUEPRINT_NAME_ANNOTATION, BLUEPRINT_NAMESPACE_ANNOTATION } from '../../domain/auto-backup/annotations.js';
import { readGeneratedMarkers } from '../../domain/auto-backup/markers.js';
import { previewAutoBackup, type AutoBackupPreview } from '../../domain/auto-backup/preview.js';
import type { ClusterView } from '../../domain/cluster-view.js';
import { formatFieldError } from '../../domain/errors.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { isAlreadyExists, isConflict, isNotFound, KubeApiError, type KubeClient } from '../../kube/client.js';
import type { Informer, SharedInformers } from '../informer.js';
import { createWorkQueue, type ReconcileResult, type WorkQueue } from '../work-queue.js';
import { parseTargetKey, TARGET_TYPES, targetKey, targetRefOf, targetRefOfConfiguration, type TargetRef } from './target-key.js';

/** Where the controller reports what it did, as Kubernetes Events on the target. */
export interface EventSink {
  record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface AutoBackupControllerOptions {
  client: KubeClient;
  informers: SharedInformers;
  /** The view the rules read (over the same informers). */
  view: ClusterView;
  events: EventSink;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** Delete the generated configuration when the annotations go or the target is deleted. Default true. */
  deleteWhenUnannotated?: boolean;
  /** Reconciles at once (each mostly waits on the API server). Default 8. */
  concurrency?: number;
  /** Everything is reconciled again this often, to catch what no event announced. Default 10 min. */
  resyncMs?: number;
}

export interface AutoBackupController {
  /** Reconcile this target soon (the webhook hands over admitted workloads here). */
  enqueue(target: TargetRef): void;
  /** Resolves when nothing is queued or being reconciled. */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

const CONFIGURATION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
const BLUEPRINT_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupBlueprint' };
const NAMESPACE_TYPE = { apiVersion: 'v1', kind: 'Namespace' };
const BY_TARGET = 'auto-backup-controller/target';
const BY_BLUEPRINT = 'auto-backup-controller/blueprint';
const CONDITION_TYPE = 'GeneratedFromBlueprint';

const blueprintOfTarget = (object: KubeObject): readonly string[] => {
  const annotations = object.metadata?.annotations;
  const name = annotations?.[BLUEPRINT_NAME_ANNOTATION];
  const namespace = annotations?.[BLUEPRINT_NAMESPACE_ANNOTATION];
  return name && namespace ? [`${namespace}/${name}`] : [];
};

const ownTarget = (configuration: KubeObject): readonly string[] => {
  if (readGeneratedMarkers(configuration) === undefined) return [];
  const ref = targetRefOfConfiguration(configuration);
  return ref ? [targetKey(ref)] : [];
};

const ownBlueprint = (configuration: KubeObject): readonly string[] => {
  const markers = readGeneratedMarkers(configuration);
  return markers ? [`${markers.blueprint.namespace}/${markers.blueprint.name}`] : [];
};

const describe = (object: KubeObject): string => `${object.metadata?.namespace}/${object.metadata?.name}`;

/** Reasons for Warning events, by the first error's code. */
function warningReason(preview: Extract<AutoBackupPreview, { status: 'invalid' }>): string {
  switch (preview.errors[0]?.code) {
    case 'AutoBackupVariableMissing':
      return 'VariableMissing';
    case 'AutoBackupNotAllowed':
      return 'NotAllowed';
    case 'AutoBackupSessionUnknown':
      return 'SessionUnknown';
    case 'AutoBackupInvalidConfiguration':
      return 'InvalidConfiguration';
    default:
      return 'AutoBackupInvalid';
  }
}

/** True when the stored configuration already says what the desired one says (labels and annotations as subsets). */
function upToDate(existing: KubeObject, desired: KubeObject): boolean {
  const subset = (want: Record<string, string> | undefined, have: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).every(([key, value]) => have?.[key] === value);
  return (
    isDeepStrictEqual(existing.spec, desired.spec) &&
    subset(desired.metadata?.labels, existing.metadata?.labels) &&
    subset(desired.metadata?.annotations, existing.metadata?.annotations)
  );
}

/** Starts the controller; its informers must belong to `options.informers` (started by the caller). */
export function startAutoBackupController(options: AutoBackupControllerOptions): AutoBackupController {
  const { client, informers, view, events, logger } = options;
  const deleteWhenUnannotated = options.deleteWhenUnannotated ?? true;
  const configurations = informers.informerFor(CONFIGURATION_TYPE);
  configurations.addIndex(BY_TARGET, ownTarget);
  configurations.addIndex(BY_BLUEPRINT, ownBlueprint);
  const targets = new Map<string, Informer>();
  for (const type of TARGET_TYPES) {
    const informer = informers.informerFor(type);
    informer.addIndex(BY_BLUEPRINT, blueprintOfTarget);
    targets.set(`${type.apiVersion}|${type.kind}`, informer);
  }

  const queue: WorkQueue = createWorkQueue((key) => reconcile(key), { name: 'auto-backup', concurrency: options.concurrency ?? 8, logger });
  const enqueueObject = (object: KubeObject) => {
    const ref = targetRefOf(object);
    if (ref) queue.add(targetKey(ref));
  };
  const enqueueBlueprint = (blueprint: KubeObject) => {
    const key = describe(blueprint);
    for (const informer of targets.values()) for (const target of informer.byIndex(BY_BLUEPRINT, key)) enqueueObject(target);
    for (const configuration of configurations.byIndex(BY_BLUEPRINT, key)) for (const target of ownTarget(configuration)) queue.add(target);
  };

  const unsubscribe: Array<() => void> = [];
  for (const informer of targets.values()) {
    unsubscribe.push(
      informer.addEventHandler({
        add: enqueueObject,
        // Workload status changes all the time; only what auto backup reads matters.
        update: (previous, object) => {
          if (
            !isDeepStrictEqual(previous.metadata?.annotations, object.metadata?.annotations) ||
            previous.metadata?.uid !== object.metadata?.uid ||
            previous.metadata?.deletionTimestamp !== object.metadata?.deletionTimestamp
          ) enqueueObject(object);
        },
        delete: enqueueObject,
      }),
    );
  }
  const enqueueOwnTarget = (configuration: KubeObject) => {
    for (const key of ownTarget(configuration)) queue.add(key);
  };
  unsubscribe.push(configurations.addEventHandler({ add: enqueueOwnTarget, update: (_previous, object) => enqueueOwnTarget(object), delete: enqueueOwnTarget }));
  unsubscribe.push(
    informers.informerFor(BLUEPRINT_TYPE).addEventHandler({ add: enqueueBlueprint, update: (_previous, object) => enqueueBlueprint(object), delete: enqueueBlueprint }),
  );
  unsubscribe.push(
    informers.informerFor(NAMESPACE_TYPE).addEventHandler({
      // A namespace's labels decide Selector usage policies.
      update: (previous, namespace) => {
        if (isDeepStrictEqual(previous.metadata?.labels, namespace.metadata?.labels)) return;
        for (const informer of targets.values()) for (const target of informer.list(namespace.metadata?.name)) enqueueObject(target);
      },
    }),
  );
  const resync = setInterval(() => {
    for (const informer of targets.values()) for (const target of informer.list()) if (blueprintOfTarget(target).length > 0) enqueueObject(target);
    for (const configuration of configurations.list()) enqueueOwnTarget(configuration);
  }, options.resyncMs ?? 600_000);
  resync.unref();

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const ref = parseTargetKey(key);
    if (ref === undefined) return;
    const informer = targets.get(`${ref.apiVersion}|${ref.kind}`);
    const live = informer?.get(ref.namespace, ref.name);
    const target = live && !live.metadata?.deletionTimestamp ? live : undefined;
    const owned = configurations.byIndex(BY_TARGET, key);
    const preview: AutoBackupPreview = target ? previewAutoBackup(target, view) : { status: 'none' };

    switch (preview.status) {
      case 'ready':
        return converge(target as KubeObject, preview, owned);
      case 'none':
        if (deleteWhenUnannotated) for (const configuration of owned) await remove(configuration, target, 'BackupConfigurationDeleted', target ? 'the auto-backup annotations were removed' : 'the target was deleted');
        return;
      case 'blueprintNotFound': {
        events.record(target as KubeObject, 'Warning', 'BlueprintNotFound', preview.message);
        const gone = `${preview.blueprint.namespace}/${preview.blueprint.name}`;
        for (const configuration of owned) {
          const markers = readGeneratedMarkers(configuration);
          if (markers?.deleteWithBlueprint && `${markers.blueprint.namespace}/${markers.blueprint.name}` === gone) {
            await remove(configuration, target, 'BackupConfigurationDeleted', `its blueprint ${gone} was deleted and its template says deletionPolicy: OnDelete`);
          }
        }
        return;
      }
      case 'invalid': {
        const message = preview.errors.map(formatFieldError).join('; ');
        events.record(target as KubeObject, 'Warning', warningReason(preview), message);
        // Keep the last good configuration: backups go on while the owner fixes the annotations.
        for (const configuration of owned) await setCondition(configuration, 'False', 'ExpansionFailed', message);
        return;
      }
    }
  }

  async function converge(target: KubeObject, preview: Extract<AutoBackupPreview, { status: 'ready' }>, owned: readonly KubeObject[]): Promise<ReconcileResult | void> {
    const desired = preview.defaulted;
    const namespace = desired.metadata?.namespace as string;
    const name = desired.metadata?.name as string;
    const existing = configurations.get(namespace, name);
    if (existing !== undefined && readGeneratedMarkers(existing) === undefined) {
      events.record(target, 'Warning', 'BackupConfigurationConflict', `BackupConfiguration ${namespace}/${name} exists and was not generated by autostash; it is left alone. Remove it or rename the workload to enable auto backup`);
      return;
    }
    const message = `generated from BackupBlueprint ${preview.blueprint.namespace}/${preview.blueprint.name} for ${target.kind} ${describe(target)}`;
    try {
      if (existing === undefined) {
        const created = await client.create(preview.configuration);
        events.record(target, 'Normal', 'BackupConfigurationCreated', `created BackupConfiguration ${namespace}/${name}`);
        logger.info({ configuration: `${namespace}/${name}`, target: describe(target) }, 'backup configuration created');
        await setCondition(created, 'True', 'BlueprintExpanded', message);
      } else if (!upToDate(existing, desired)) {
        const updated = await client.update({
          ...existing,
          metadata: {
            ...existing.metadata,
            labels: { ...existing.metadata?.labels, ...desired.metadata?.labels },
            annotations: { ...existing.metadata?.annotations, ...desired.metadata?.annotations },
          },
          spec: desired.spec,
        });
        events.record(target, 'Normal', 'BackupConfigurationUpdated', `updated BackupConfiguration ${namespace}/${name} from its blueprint`);
        logger.info({ configuration: `${namespace}/${name}`, target: describe(target) }, 'backup configuration updated');
        await setCondition(updated, 'True', 'BlueprintExpanded', message);
      } else {
        await setCondition(existing, 'True', 'BlueprintExpanded', message);
      }
    } catch (error) {
      // The cache was behind the API server: read again on the next round.
      if (isAlreadyExists(error) || isConflict(error)) return { requeue: true };
      // An admission webhook (e.g. a BackupPolicy with action Deny) refused it: retrying cannot help
      // until something changes, and every change brings the target back to the queue.
      if (error instanceof KubeApiError && (error.code === 403 || error.code === 422)) {
        events.record(target, 'Warning', 'BackupConfigurationRejected', `BackupConfiguration ${namespace}/${name} was refused: ${error.message}`);
        logger.warn({ configuration: `${namespace}/${name}`, code: error.code, reason: error.reason }, 'backup configuration refused by the API server');
        return;
      }
      throw error;
    }
    // The annotations now point elsewhere (another blueprint or namespace): the old configuration goes.
    for (const configuration of owned) {
      if (configuration.metadata?.namespace !== namespace || configuration.metadata?.name !== name) {
        await remove(configuration, target, 'BackupConfigurationReplaced', `replaced by BackupConfiguration ${namespace}/${name}`);
      }
    }
  }

  async function remove(configuration: KubeObject, target: KubeObject | undefined, reason: string, why: string): Promise<void> {
    try {
      await client.delete(
        { ...CONFIGURATION_TYPE, namespace: configuration.metadata?.namespace, name: configuration.metadata?.name as string },
        { preconditions: { uid: configuration.metadata?.uid as string } },
      );
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    logger.info({ configuration: describe(configuration), reason }, 'backup configuration deleted');
    if (target) events.record(target, 'Normal', reason, `deleted BackupConfiguration ${describe(configuration)}: ${why}`);
  }

  /** Sets our condition on the configuration's status when it differs (no write otherwise). */
  async function setCondition(configuration: KubeObject, status: 'True' | 'False', reason: string, message: string): Promise<void> {
    const conditions = ((configuration.status as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions ?? []).slice();
    const index = conditions.findIndex((c) => c.type === CONDITION_TYPE);
    const current = index >= 0 ? conditions[index] : undefined;
    if (current?.status === status && current.reason === reason && current.message === message) return;
    const condition = { type: CONDITION_TYPE, status, reason, message, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
    if (index >= 0) conditions[index] = condition;
    else conditions.push(condition);
    try {
      await client.updateStatus({ ...configuration, status: { ...(configuration.status as object | undefined), conditions } });
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return; // the next event brings the fresh object
      throw error;
    }
  }

  return {
    enqueue: (target) => queue.add(targetKey(target)),
    whenIdle: () => queue.whenIdle(),
    stop: async () => {
      clearInterval(resync);
      for (const off of unsubscribe) off();
      await queue.shutdown();
    },
  };
}

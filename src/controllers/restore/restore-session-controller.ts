/**
 * Runs RestoreSessions (SPEC §4.4, §9): validates what a RestoreSession names (resolving `latest`
 * once), pauses the backups of its target, creates one restore Job per component, follows the Jobs
 * and the executor's component results to the end (restoreTimeout included), resumes the backups it
 * paused and reports phase, Events and metrics.
 *
 * Level-triggered: every reconcile reads the caches and works out the next step from what exists;
 * it writes only what changed. Status writes are conditional on the resourceVersion read, so the
 * executor's writes (status.components) are never overwritten: a conflict requeues the key.
 *
 * Deletion: the Jobs carry an ownerReference to the RestoreSession (same namespace), so garbage
 * collection stops them; the finalizer kubestash.com/cleanup (added once validation passed, before
 * anything is paused) lets the controller resume the backups it paused and delete Jobs it runs in
 * another namespace, where an ownerReference cannot point.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Addon, AddonFunction, BackupConfiguration, BackupStorage, Repository, RestoreSession, RestoreSessionStatus, Snapshot } from '../../api/index.js';
import type { Condition, TypedObjectReference } from '../../api/common.js';
import { buildRestoreJobs } from '../../domain/execution/restore-jobs.js';
import { jobServiceAccountField, type JobServiceAccountSettings } from '../../domain/execution/job-service-accounts.js';
import { createJobAccounts, type JobAccountsOptions } from '../job-accounts.js';
import {
  CLEANUP_FINALIZER,
  INVOKER_NAMESPACE_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REPOSITORY_NAME_LABEL,
  RESTORE_SESSION_LABEL,
  TARGET_COMPONENT_LABEL,
} from '../../domain/execution/labels.js';
import { targetComponents } from '../../domain/execution/target-components.js';
import { formatFieldError, type FieldError } from '../../domain/errors.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { RestoreSessionConditions as C, isTerminalRestorePhase, restoreComponentsPhase, restoreSessionPhase } from '../../domain/status/restore-session-phase.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from '../../kube/client.js';
import type { EventRecorder } from '../event-recorder.js';
import type { Informer, SharedInformers } from '../informer.js';
import { createWorkQueue, type ReconcileResult } from '../work-queue.js';
import { findCondition, formatGoDuration, rfc3339, setCondition as withCondition } from './status-helpers.js';
import type { RestoreSessionMetrics } from './metrics.js';
import { RESOLVED_SNAPSHOT_ANNOTATION, validateRestoreSession, type RestoreLookups, type RestorePlan, type TargetRef } from './validate.js';
import { jobComplete, jobFailure, jobFinished } from '../../domain/execution/job-conditions.js';
import { describeManifestRestore } from '../../domain/kubedump/restore-results.js';

export const RESTORE_SESSION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'RestoreSession' };
const CONFIGURATION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
const BACKUP_SESSION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
const SNAPSHOT_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Snapshot' };
const REPOSITORY_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' };
const STORAGE_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage' };
const ADDON_TYPE = { apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Addon' };
const FUNCTION_TYPE = { apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Function' };
const JOB_TYPE = { apiVersion: 'batch/v1', kind: 'Job' };
const SECRET_TYPE = { apiVersion: 'v1', kind: 'Secret' };
const POD_TYPE = { apiVersion: 'v1', kind: 'Pod' };
const NODE_TYPE = { apiVersion: 'v1', kind: 'Node' };
const CLAIM_TYPE = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
const TARGET_TYPES = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  CLAIM_TYPE,
];

/** On BackupConfigurations this controller paused: `<namespace>/<name>` of the RestoreSession. A user's own pause carries none. */
export const PAUSED_BY_RESTORE_ANNOTATION = 'autostash.dev/paused-by-restore';
/** On the RestoreSession once validation passed: the components restored, comma-separated (fixed for the restore's life). */
export const RESTORE_COMPONENTS_ANNOTATION = 'autostash.dev/restore-components';

const BY_RESTORE = 'restore-session-controller/restore-session';
const BY_PAUSED_BY = 'restore-session-controller/paused-by-restore';
const MANAGED_JOBS = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export interface RestoreSessionControllerOptions {
  client: KubeClient;
  informers: SharedInformers;
  recorder: EventRecorder;
  metrics: RestoreSessionMetrics;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** The executor image of the restore Jobs. */
  image: string;
  /** Fallback ServiceAccount of the Jobs; serviceAccounts names one per role (restore, kubedumpRestore). */
  serviceAccountName?: string;
  serviceAccounts?: JobServiceAccountSettings['serviceAccounts'];
  /** Per-role accounts created on demand in a restore's namespace (src/controllers/job-accounts.ts). Default none. */
  provisionedJobAccounts?: JobAccountsOptions['configured'];
  now?: () => Date;
  /** While waiting for a running backup of the target to end, look again at least this often. Default 5 s. */
  pollMs?: number;
  concurrency?: number;
}

export interface RunningRestoreSessionController {
  enqueue(namespace: string, name: string): void;
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** The cache was behind the API server (a write met a conflict): the key runs again. */
class StaleCache extends Error {}

const nameOf = (object: KubeObject | undefined): string => object?.metadata?.name ?? '';
const namespaceOf = (object: KubeObject | undefined): string => object?.metadata?.namespace ?? '';
const keyOf = (object: KubeObject): string => `${namespaceOf(object)}/${nameOf(object)}`;


/** `<invoker namespace>/<restore session>` of a restore Job (the Job may run in the target's namespace). */
const restoreOfJob = (job: KubeObject): readonly string[] => {
  const session = job.metadata?.labels?.[RESTORE_SESSION_LABEL];
  if (!session) return [];
  return [`${job.metadata?.labels?.[INVOKER_NAMESPACE_LABEL] || namespaceOf(job)}/${session}`];
};

const sameTarget = (bc: BackupConfiguration, target: TargetRef): boolean => {
  const ref = bc.spec?.target;
  return (
    ref !== undefined &&
    (ref.apiGroup ?? '') === target.apiGroup &&
    ref.kind === target.kind &&
    ref.name === target.name &&
    (ref.namespace || namespaceOf(bc)) === target.namespace
  );
};

const isTerminalComponent = (phase: string | undefined): boolean => phase === 'Succeeded' || phase === 'Failed' || phase === 'Unknown';

export function startRestoreSessionController(options: RestoreSessionControllerOptions): RunningRestoreSessionController {
  const { client, informers, recorder, metrics, logger } = options;
  const jobAccounts = createJobAccounts({ client, recorder, logger, configured: options.provisionedJobAccounts ?? {} });
  const now = options.now ?? (() => new Date());
  const pollMs = options.pollMs ?? 5_000;

  const sessions = informers.informerFor<RestoreSession>(RESTORE_SESSION_TYPE);
  const jobs = informers.informerFor(JOB_TYPE, { labelSelector: MANAGED_JOBS });
  const configurations = informers.informerFor<BackupConfiguration>(CONFIGURATION_TYPE);
  const backupSessions = informers.informerFor(BACKUP_SESSION_TYPE);
  const snapshots = informers.informerFor<Snapshot>(SNAPSHOT_TYPE);
  const repositories = informers.informerFor<Repository>(REPOSITORY_TYPE);
  const storages = informers.informerFor<BackupStorage>(STORAGE_TYPE);
  const addons = informers.informerFor<Addon>(ADDON_TYPE);
  const functions = informers.informerFor<AddonFunction>(FUNCTION_TYPE);
  const pods = informers.informerFor(POD_TYPE);
  const nodes = informers.informerFor(NODE_TYPE);
  const targets = new Map<string, Informer>(TARGET_TYPES.map((type) => [`${type.apiVersion}|${type.kind}`, informers.informerFor(type)]));
  const claims = targets.get(`${CLAIM_TYPE.apiVersion}|${CLAIM_TYPE.kind}`) as Informer;

  jobs.addIndex(BY_RESTORE, restoreOfJob);
  configurations.addIndex(BY_PAUSED_BY, (bc) => {
    const by = bc.metadata?.annotations?.[PAUSED_BY_RESTORE_ANNOTATION];
    return by ? [by] : [];
  });

  const queue = createWorkQueue((key) => reconcile(key), { name: 'restore-session', concurrency: options.concurrency ?? 4, logger });
  const enqueue = (rs: KubeObject): void => queue.add(keyOf(rs));
  const enqueueJob = (job: KubeObject): void => {
    for (const key of restoreOfJob(job)) queue.add(key);
  };
  const enqueueUnfinished = (): void => {
    for (const rs of sessions.list()) if (findCondition(rs.status?.conditions, C.MetricsPushed) === undefined) enqueue(rs);
  };
  const unsubscribe = [
    sessions.addEventHandler({ add: enqueue, update: (_previous, rs) => enqueue(rs) }),
    jobs.addEventHandler({ add: enqueueJob, update: (_previous, job) => enqueueJob(job), delete: enqueueJob }),
    // A backup of a target ending lets a restore waiting for it go on.
    backupSessions.addEventHandler({ update: enqueueUnfinished, delete: enqueueUnfinished }),
  ];

  /** Cache first; on a miss the API server answers (a cache behind must not turn a RestoreSession Invalid). */
  const cachedOrLive = async <T extends KubeObject>(informer: Informer<T>, type: { apiVersion: string; kind: string }, namespace: string | undefined, name: string): Promise<T | undefined> =>
    informer.get(namespace, name) ?? (await client.find<T>({ ...type, namespace, name }));

  const lookups: RestoreLookups = {
    repository: (namespace, name) => cachedOrLive(repositories, REPOSITORY_TYPE, namespace, name),
    storage: (namespace, name) => cachedOrLive(storages, STORAGE_TYPE, namespace, name),
    snapshot: (namespace, name) => cachedOrLive(snapshots, SNAPSHOT_TYPE, namespace, name),
    async snapshotsOf(namespace, repository) {
      const ofRepository = (s: Snapshot): boolean => s.metadata?.labels?.[REPOSITORY_NAME_LABEL] === repository;
      const cached = snapshots.list(namespace).filter(ofRepository);
      if (cached.some((s) => s.status?.phase === 'Succeeded')) return cached;
      return (await client.list<Snapshot>(SNAPSHOT_TYPE, { namespace, labelSelector: `${REPOSITORY_NAME_LABEL}=${repository}` })).items;
    },
    async secretHasKey(namespace, name, key) {
      const secret = await client.find(({ ...SECRET_TYPE, namespace, name }));
      if (secret === undefined) return 'missing';
      const { data, stringData } = secret as { data?: Record<string, string>; stringData?: Record<string, string> };
      return data?.[key] !== undefined || stringData?.[key] !== undefined ? 'ok' : 'noKey';
    },
    async target(ref) {
      const informer = targets.get(`${ref.apiVersion}|${ref.kind}`);
      if (informer !== undefined) return cachedOrLive(informer, ref, ref.namespace, ref.name);
      try {
        return await client.find({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, name: ref.name });
      } catch {
        return undefined; // a kind the API server does not serve
      }
    },
    addons: async () => {
      const cached = addons.list();
      return cached.length > 0 ? cached : (await client.list<Addon>(ADDON_TYPE)).items;
    },
    functions: async () => {
      const cached = functions.list();
      return cached.length > 0 ? cached : (await client.list<AddonFunction>(FUNCTION_TYPE)).items;
    },
  };

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const slash = key.indexOf('/');
    const rs = sessions.get(key.slice(0, slash), key.slice(slash + 1));
    if (rs === undefined) return;
    try {
      if (rs.metadata?.deletionTimestamp) return await cleanUp(rs, true);
      if (findCondition(rs.status?.conditions, C.MetricsPushed) !== undefined) return await cleanUp(rs, false);
      return await advance(rs);
    } catch (error) {
      if (error instanceof StaleCache || isConflict(error)) return { requeue: true };
      throw error;
    }
  }

  /** Writes the status when it changed (phase derived from it); answers the object as stored. */
  async function writeStatus(rs: RestoreSession, status: RestoreSessionStatus): Promise<RestoreSession> {
    const next: RestoreSessionStatus = { ...status, phase: restoreSessionPhase(status) };
    if (isDeepStrictEqual(next, rs.status ?? {})) return rs;
    try {
      return await client.updateStatus<RestoreSession>({ ...rs, status: next });
    } catch (error) {
      if (isConflict(error)) throw new StaleCache('restore session changed');
      throw error;
    }
  }

  async function updateObject<T extends KubeObject>(object: T): Promise<T> {
    try {
      return await client.update<T>(object);
    } catch (error) {
      if (isConflict(error)) throw new StaleCache('object changed');
      throw error;
    }
  }

  /** The next step of an unfinished RestoreSession. */
  async function advance(initial: RestoreSession): Promise<ReconcileResult | void> {
    let rs = initial;
    const at = now();
    const status: RestoreSessionStatus = structuredClone(rs.status ?? {});
    const validated = findCondition(status.conditions, C.ValidationPassed)?.status === 'True';
    const executorEnsured = findCondition(status.conditions, C.RestoreExecutorEnsured)?.status === 'True';

    // 1. Validation (and, until the Jobs exist, the objects the Jobs are built from).
    let plan: RestorePlan | undefined;
    if (!executorEnsured) {
      const validation = await validateRestoreSession(rs, lookups);
      if (!validation.ok) {
        if (validated) {
          // Something vanished between validation and the Jobs: the restore cannot start.
          status.conditions = withCondition(status.conditions, { type: C.RestoreExecutorEnsured, status: 'False', reason: 'FailedToEnsureRestoreExecutor', message: validation.message }, at);
        } else if (validation.invalid) {
          status.conditions = withCondition(status.conditions, { type: C.ValidationPassed, status: 'False', reason: 'ValidationFailed', message: validation.message }, at);
        } else {
          status.conditions = withCondition(status.conditions, { type: C.ValidationPassed, status: 'True', reason: 'ValidationPassed', message: 'the RestoreSession is valid' }, at);
          status.conditions = withCondition(status.conditions, { type: C.RestoreExecutorEnsured, status: 'False', reason: 'NoSnapshotToRestore', message: validation.message }, at);
        }
        return finish(rs, status, at);
      }
      plan = validation.plan;
      if (!validated) {
        // Fix what is restored (latest resolved, the components) and hold the finalizer before anything is paused.
        const annotations = {
          ...rs.metadata?.annotations,
          [RESOLVED_SNAPSHOT_ANNOTATION]: nameOf(plan.snapshot),
          [RESTORE_COMPONENTS_ANNOTATION]: plan.components.join(','),
        };
        const finalizers = rs.metadata?.finalizers?.includes(CLEANUP_FINALIZER) ? rs.metadata.finalizers : [...(rs.metadata?.finalizers ?? []), CLEANUP_FINALIZER];
        if (!isDeepStrictEqual(annotations, rs.metadata?.annotations) || finalizers !== rs.metadata?.finalizers) {
          rs = await updateObject({ ...rs, metadata: { ...rs.metadata, annotations, finalizers } });
        }
        const into = plan.targetRef ? `${plan.targetRef.kind} ${plan.targetRef.namespace}/${plan.targetRef.name}` : 'the objects of the manifest';
        status.conditions = withCondition(
          status.conditions,
          {
            type: C.ValidationPassed,
            status: 'True',
            reason: 'ValidationPassed',
            message: `restoring Snapshot ${namespaceOf(plan.snapshot)}/${nameOf(plan.snapshot)} (components ${plan.components.join(', ')}) into ${into}`,
          },
          at,
        );
        if (plan.targetRef !== undefined) {
          status.targetFound = plan.target !== undefined;
          // Only a manifest restore gets this far without its target: it recreates it.
          const found = plan.target !== undefined
            ? { status: 'True' as const, reason: 'TargetFound', message: `${into} exists` }
            : { status: 'False' as const, reason: 'TargetNotFound', message: `${into} does not exist yet: the manifest restore creates it` };
          status.conditions = withCondition(status.conditions, { type: C.RestoreTargetFound, ...found }, at);
        }
        status.totalComponents = plan.components.length;
        if (plan.timeoutMs !== undefined) status.restoreDeadline = rfc3339(createdAt(rs, at) + plan.timeoutMs);
        rs = await writeStatus(rs, status);
      }
    }

    const components = (rs.metadata?.annotations?.[RESTORE_COMPONENTS_ANNOTATION] ?? '').split(',').filter((c) => c !== '');
    const deadline = status.restoreDeadline !== undefined ? Date.parse(status.restoreDeadline) : undefined;
    const ownJobs = jobs.byIndex(BY_RESTORE, keyOf(rs));

    // Timeout: whatever has not finished fails, and its Job goes.
    if (deadline !== undefined && at.getTime() >= deadline) return timeOut(rs, status, components, ownJobs, at);
    const untilDeadline = deadline !== undefined ? { requeueAfterMs: Math.max(1, deadline - at.getTime()) } : {};

    // 2. Pause the backups of the target, and wait for a running one to end.
    if (!executorEnsured) {
      const targetRef = (plan as RestorePlan).targetRef;
      if (targetRef !== undefined) {
        const paused = await pauseBackups(rs, targetRef);
        if (paused.length > 0) status.pausedBackups = paused;
        else delete status.pausedBackups;
        rs = await writeStatus(rs, status);
        const running = runningBackups(paused);
        if (running.length > 0) {
          logger.info({ restoreSession: keyOf(rs), backupSessions: running }, 'restore waits for running backups of its target');
          return { requeueAfterMs: Math.min(pollMs, untilDeadline.requeueAfterMs ?? pollMs) };
        }
      }
      // 3. The Jobs.
      const built = restoreJobs(rs, plan as RestorePlan);
      if (built.errors.length > 0) {
        status.conditions = withCondition(
          status.conditions,
          { type: C.RestoreExecutorEnsured, status: 'False', reason: 'FailedToEnsureRestoreExecutor', message: built.errors.map(formatFieldError).join('; ') },
          at,
        );
        return finish(rs, status, at);
      }
      const accounts = await jobAccounts.ensureEach(built.jobs, ['restore', 'kubedumpRestore'], namespaceOf(rs), rs);
      if (!accounts.ready) {
        status.conditions = withCondition(status.conditions, { type: C.RestoreExecutorEnsured, status: 'False', reason: accounts.reason, message: accounts.message }, at);
        return finish(rs, status, at);
      }
      for (const job of built.jobs) {
        if (ownJobs.some((existing) => nameOf(existing) === nameOf(job) && namespaceOf(existing) === namespaceOf(job))) continue;
        try {
          await client.create(job);
          logger.info({ restoreSession: keyOf(rs), job: keyOf(job) }, 'restore job created');
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
        }
      }
      status.conditions = withCondition(
        status.conditions,
        { type: C.RestoreExecutorEnsured, status: 'True', reason: 'SuccessfullyEnsuredRestoreExecutor', message: `created restore Jobs ${built.jobs.map(keyOf).join(', ')}` },
        at,
      );
      rs = await writeStatus(rs, status);
      return untilDeadline;
    }

    // 4. Follow the Jobs: a Job that ended without its component reported fails the component.
    const componentStatus = { ...status.components };
    for (const component of components) {
      if (isTerminalComponent(componentStatus[component]?.phase)) continue;
      let job = ownJobs.find((candidate) => candidate.metadata?.labels?.[TARGET_COMPONENT_LABEL] === component);
      if (job === undefined) {
        // The cache may not have seen a Job created a moment ago: ask before declaring it gone.
        const found = await findJob(rs, component);
        if (found === undefined) {
          componentStatus[component] = { ...componentStatus[component], phase: 'Failed', error: `the restore Job of component ${component} was deleted before the component finished` };
          continue;
        }
        job = found;
      }
      const failure = jobFailure(job);
      if (failure !== undefined) {
        const why = [failure.reason, failure.message].filter((part) => part).join(': ');
        componentStatus[component] = { ...componentStatus[component], phase: 'Failed', error: `Job ${keyOf(job)} failed${why ? `: ${why}` : ''}` };
      } else if (jobComplete(job)) {
        componentStatus[component] = { ...componentStatus[component], phase: 'Failed', error: `Job ${keyOf(job)} completed without the executor reporting component ${component}` };
      }
    }
    if (Object.keys(componentStatus).length > 0) status.components = componentStatus;
    const done = components.every((component) => isTerminalComponent(componentStatus[component]?.phase));
    if (!done) {
      await writeStatus(rs, status);
      return untilDeadline;
    }
    return finish(rs, status, at);
  }

  /** Marks the unfinished components Failed after restoreTimeout and deletes their Jobs. */
  async function timeOut(rs: RestoreSession, status: RestoreSessionStatus, components: readonly string[], ownJobs: readonly KubeObject[], at: Date): Promise<ReconcileResult | void> {
    const timeout = rs.spec?.restoreTimeout ?? '';
    const componentStatus = { ...status.components };
    const unfinished = components.filter((component) => !isTerminalComponent(componentStatus[component]?.phase));
    for (const component of unfinished) {
      componentStatus[component] = { ...componentStatus[component], phase: 'Failed', error: `component ${component} did not finish within restoreTimeout ${timeout}` };
    }
    if (Object.keys(componentStatus).length > 0) status.components = componentStatus;
    for (const job of ownJobs) if (!jobFinished(job)) await deleteJob(job);
    status.conditions = withCondition(
      status.conditions,
      {
        type: C.RestoreIncomplete,
        status: 'True',
        reason: 'DeadlineExceeded',
        message: `the restore did not finish within restoreTimeout ${timeout}${unfinished.length > 0 ? ` (unfinished: ${unfinished.join(', ')})` : ''}`,
      },
      at,
    );
    if (findCondition(status.conditions, C.RestoreExecutorEnsured) === undefined) {
      status.conditions = withCondition(status.conditions, { type: C.RestoreExecutorEnsured, status: 'False', reason: 'DeadlineExceeded', message: `restoreTimeout ${timeout} passed before the restore Jobs were created` }, at);
    }
    return finish(rs, status, at);
  }

  /**
   * The end: resume the backups paused for this restore (before the phase says finished, so whoever
   * waits for Succeeded finds backups running again), then the final status, then Event and metrics
   * (once: only the write that finished the session reports).
   */
  async function finish(rs: RestoreSession, status: RestoreSessionStatus, at: Date): Promise<ReconcileResult | void> {
    await resumeBackups({ ...rs, status });
    const durationMs = Math.max(0, at.getTime() - createdAt(rs, at));
    status.duration = formatGoDuration(durationMs);
    status.conditions = withCondition(status.conditions, { type: C.MetricsPushed, status: 'True', reason: 'SuccessfullyPushedMetrics', message: 'restore metrics recorded' }, at);
    const written = await writeStatus(rs, status);
    // writeStatus stores exactly this phase (or finds it already stored).
    const phase = restoreSessionPhase(status);
    metrics.observe({ namespace: namespaceOf(rs), phase, durationSeconds: durationMs / 1000 });
    if (status.manifestRestore !== undefined) {
      const line = `manifests: ${describeManifestRestore(status.manifestRestore)}`;
      if ((status.manifestRestore.failed ?? 0) > 0) recorder.warning(written, 'ManifestRestoreIncomplete', line);
      else recorder.normal(written, 'ManifestRestored', line);
    }
    if (phase === 'Succeeded') {
      recorder.normal(written, 'RestoreSucceeded', `restored ${status.totalComponents ?? 0} component(s) in ${status.duration}`);
    } else {
      recorder.warning(written, 'RestoreFailed', `restore ${phase === 'Invalid' ? 'is invalid' : `ended ${phase}`} after ${status.duration}: ${failureSummary(status)}`);
    }
    logger.info({ restoreSession: keyOf(rs), phase, duration: status.duration }, 'restore session finished');
    await releaseFinalizer(written);
  }

  /** After the end (or on deletion): the Jobs elsewhere go (on deletion), the backups resume, the finalizer goes. */
  async function cleanUp(rs: RestoreSession, deleted: boolean): Promise<void> {
    if (deleted && rs.metadata?.finalizers?.includes(CLEANUP_FINALIZER)) {
      for (const job of jobs.byIndex(BY_RESTORE, keyOf(rs))) if (!jobFinished(job) || namespaceOf(job) !== namespaceOf(rs)) await deleteJob(job);
    }
    await resumeBackups(rs);
    await releaseFinalizer(rs);
  }

  async function releaseFinalizer(rs: RestoreSession): Promise<void> {
    if (!rs.metadata?.finalizers?.includes(CLEANUP_FINALIZER)) return;
    const finalizers = rs.metadata.finalizers.filter((f) => f !== CLEANUP_FINALIZER);
    try {
      await updateObject({ ...rs, metadata: { ...rs.metadata, finalizers } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async function deleteJob(job: KubeObject): Promise<void> {
    try {
      await client.delete({ ...JOB_TYPE, namespace: namespaceOf(job), name: nameOf(job) }, { propagationPolicy: 'Background' });
      logger.info({ job: keyOf(job) }, 'restore job deleted');
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async function findJob(rs: RestoreSession, component: string): Promise<KubeObject | undefined> {
    const namespaces = new Set([namespaceOf(rs), ...jobs.byIndex(BY_RESTORE, keyOf(rs)).map(namespaceOf)]);
    const targetNamespace = targetNamespaceOf(rs);
    if (targetNamespace !== undefined) namespaces.add(targetNamespace);
    for (const namespace of namespaces) {
      const list = await client.list(JOB_TYPE, { namespace, labelSelector: `${RESTORE_SESSION_LABEL}=${nameOf(rs)},${TARGET_COMPONENT_LABEL}=${component}` });
      const job = list.items.find((candidate) => restoreOfJob(candidate).includes(keyOf(rs)));
      if (job !== undefined) return job;
    }
    return undefined;
  }

  /** The namespace the Jobs of `rs` run in: spec.target's, else the restored Snapshot's appRef's. */
  function targetNamespaceOf(rs: RestoreSession): string | undefined {
    if (rs.spec?.target) return rs.spec.target.namespace || namespaceOf(rs);
    const snapshotName = rs.metadata?.annotations?.[RESOLVED_SNAPSHOT_ANNOTATION];
    const sourceNamespace = rs.spec?.dataSource?.namespace || namespaceOf(rs);
    const appRef = snapshotName ? snapshots.get(sourceNamespace, snapshotName)?.spec?.appRef : undefined;
    return appRef ? appRef.namespace || sourceNamespace : undefined;
  }

  /**
   * The restore Jobs, from the domain builder. A Job restoring into another namespace than the
   * RestoreSession's runs there (claims are namespaced); an ownerReference cannot cross namespaces, so
   * it carries the invoker-namespace label instead and the finalizer deletes it.
   */
  function restoreJobs(rs: RestoreSession, plan: RestorePlan): { jobs: KubeObject[]; errors: FieldError[] } {
    // A manifest restore's Job works through the API and mounts no target volume; the target's namespace may not exist yet.
    const targetNamespace = plan.manifest ? namespaceOf(rs) : (plan.targetRef?.namespace ?? namespaceOf(rs));
    const found = targetComponents({
      target: plan.target,
      pods: pods.list(targetNamespace),
      nodes: nodes.list(),
      claims: claims.list(targetNamespace),
      taskTargetVolumes: plan.task.taskRef.targetVolumes,
      mode: 'restore',
      manifest: plan.manifest,
    });
    if (found.errors.length > 0) return { jobs: [], errors: found.errors };
    const built = buildRestoreJobs({
      restoreSession: { ...rs, spec: { ...rs.spec, dataSource: { ...rs.spec?.dataSource, components: plan.components } } },
      resolved: plan.task.resolved,
      taskIndex: 0,
      components: found.components,
      storages: [plan.storage],
      snapshotName: nameOf(plan.snapshot),
      snapshotComponents: plan.available,
      image: options.image,
      ...jobServiceAccountField(options, plan.manifest ? 'kubedumpRestore' : 'restore'),
      owner: { apiVersion: RESTORE_SESSION_TYPE.apiVersion, kind: RESTORE_SESSION_TYPE.kind, name: nameOf(rs), uid: rs.metadata?.uid ?? '' },
    });
    const relocated = built.jobs.map((job) => {
      const labels = { ...job.metadata?.labels, [INVOKER_NAMESPACE_LABEL]: namespaceOf(rs) };
      if (targetNamespace === namespaceOf(rs)) return { ...job, metadata: { ...job.metadata, labels } };
      const metadata = { ...job.metadata, namespace: targetNamespace, labels };
      delete metadata.ownerReferences;
      return { ...job, metadata };
    });
    return { jobs: relocated, errors: built.errors };
  }

  /**
   * Pauses every BackupConfiguration of the target's namespace that backs up the target and is not
   * paused yet, marking it as paused by this restore. Answers the configurations paused by this
   * restore (sorted); a configuration the user paused is left alone and not listed.
   */
  async function pauseBackups(rs: RestoreSession, target: TargetRef): Promise<TypedObjectReference[]> {
    const marker = keyOf(rs);
    const paused: TypedObjectReference[] = [];
    for (const bc of configurations.list(target.namespace)) {
      if (!sameTarget(bc, target)) continue;
      const by = bc.metadata?.annotations?.[PAUSED_BY_RESTORE_ANNOTATION];
      if (bc.spec?.paused === true && by !== marker) continue; // the user's pause, or another restore's
      if (bc.spec?.paused !== true) {
        await updateObject({
          ...bc,
          metadata: { ...bc.metadata, annotations: { ...bc.metadata?.annotations, [PAUSED_BY_RESTORE_ANNOTATION]: marker } },
          spec: { ...bc.spec, paused: true },
        });
        logger.info({ restoreSession: marker, backupConfiguration: keyOf(bc) }, 'backup configuration paused for a restore');
      }
      paused.push({ apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: nameOf(bc), namespace: namespaceOf(bc) });
    }
    return paused.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  }

  /** `<namespace>/<name>` of the unfinished BackupSessions invoked by the given configurations. */
  function runningBackups(paused: readonly TypedObjectReference[]): string[] {
    const running: string[] = [];
    for (const ref of paused) {
      for (const bs of backupSessions.list(ref.namespace)) {
        const spec = bs.spec as { invoker?: { kind?: string; name?: string } } | undefined;
        const phase = (bs.status as { phase?: string } | undefined)?.phase;
        if (spec?.invoker?.kind === 'BackupConfiguration' && spec.invoker.name === ref.name && phase !== 'Succeeded' && phase !== 'Failed' && phase !== 'Skipped') {
          running.push(keyOf(bs));
        }
      }
    }
    return running;
  }

  /**
   * Resumes the configurations this restore paused: those still carrying its marker. One the user
   * unpaused meanwhile just loses the marker; a user's own pause never carries it.
   */
  async function resumeBackups(rs: RestoreSession): Promise<void> {
    const marker = keyOf(rs);
    // The cache may not show a pause made a moment ago: status.pausedBackups names them too, read live.
    const candidates = new Map<string, { namespace: string; name: string }>();
    for (const bc of configurations.byIndex(BY_PAUSED_BY, marker)) candidates.set(keyOf(bc), { namespace: namespaceOf(bc), name: nameOf(bc) });
    for (const ref of rs.status?.pausedBackups ?? []) {
      const namespace = ref.namespace || namespaceOf(rs);
      candidates.set(`${namespace}/${ref.name}`, { namespace, name: ref.name });
    }
    for (const { namespace, name } of candidates.values()) {
      const bc = await client.find<BackupConfiguration>({ ...CONFIGURATION_TYPE, namespace, name });
      if (bc?.metadata?.annotations?.[PAUSED_BY_RESTORE_ANNOTATION] !== marker) continue;
      const annotations = { ...bc.metadata.annotations };
      delete annotations[PAUSED_BY_RESTORE_ANNOTATION];
      try {
        await updateObject({ ...bc, metadata: { ...bc.metadata, annotations }, spec: { ...bc.spec, paused: false } });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      logger.info({ restoreSession: marker, backupConfiguration: `${namespace}/${name}` }, 'backup configuration resumed after a restore');
    }
  }

  return {
    enqueue: (namespace, name) => queue.add(`${namespace}/${name}`),
    whenIdle: () => queue.whenIdle(),
    async stop() {
      for (const off of unsubscribe) off();
      await queue.shutdown();
    },
  };
}

const createdAt = (object: KubeObject, fallback: Date): number => {
  const parsed = Date.parse(object.metadata?.creationTimestamp ?? '');
  return Number.isNaN(parsed) ? fallback.getTime() : parsed;
};

/** The first reason a restore did not succeed: a False condition (Invalid, executor), RestoreIncomplete, or a failed component. */
function failureSummary(status: RestoreSessionStatus): string {
  const conditions: Condition[] = status.conditions ?? [];
  const failed = conditions.find((c) => c.status === 'False' && c.type !== C.MetricsPushed) ?? conditions.find((c) => c.type === C.RestoreIncomplete && c.status === 'True');
  if (failed !== undefined) return `${failed.type}: ${failed.message ?? failed.reason ?? ''}`;
  const components = Object.entries(status.components ?? {}).filter(([, c]) => c.phase === 'Failed');
  if (components.length > 0) return components.map(([name, c]) => `component ${name}: ${c.error ?? 'failed'}`).join('; ');
  return `components ended ${restoreComponentsPhase(status)}`;
}

export { isTerminalRestorePhase };

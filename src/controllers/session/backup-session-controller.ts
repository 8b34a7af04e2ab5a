/**
 * Runs BackupSessions (SPEC §4.3, §8.1 step 5-6): whoever created one (the scheduler, `autostash
 * trigger`, a retry, a user with kubectl, any name), this controller turns it into one Snapshot per
 * repository and one backup Job per component, follows them to the end, runs retention, prunes the
 * session history, schedules a retry and reports phase, Events and metrics.
 *
 * Level-triggered: every reconcile reads the caches, works out the next step from what exists and
 * writes only what changed. Names of Snapshots and Jobs are deterministic, so a second reconcile (or
 * a second replica after a leader change) finds what the first created instead of creating it twice.
 * Status writes are conditional on the resourceVersion read; a conflict requeues the key, so the
 * executor's writes (Snapshot components, status.retentionPolicy[]) are never overwritten.
 *
 * Deletion: no finalizer on BackupSessions. The backup and retention Jobs carry an ownerReference to
 * the session, so deleting it stops them (garbage collection); Snapshots belong to their Repository
 * and are backup data, which only retention and WipeOut remove. A finalizer would only let us mark an
 * interrupted Snapshot Failed, at the price of sessions that cannot be deleted while the controller is
 * down (namespace deletion hanging on it).
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { BackupConfiguration, BackupSession, BackupSessionStatus, BackupStorage, Repository, Session, Snapshot } from '../../api/index.js';
import type { Condition, TypedObjectReference } from '../../api/common.js';
import { parseGoDuration } from '../../domain/duration.js';
import {
  BACKUP_SESSION_LABEL,
  componentPath,
  INVOKER_KIND_LABEL,
  INVOKER_NAME_LABEL,
  JOB_COMPONENT_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  RETRY_OF_ANNOTATION,
  SESSION_NAME_LABEL,
  TARGET_COMPONENT_LABEL,
  TRIGGERED_BY_ANNOTATION,
  CLEANUP_FINALIZER,
  REPOSITORY_NAME_LABEL,
  APP_REF_KIND_LABEL,
  APP_REF_NAME_LABEL,
  APP_REF_NAMESPACE_LABEL,
  SNAPSHOT_VERSION,
} from '../../domain/execution/labels.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { generateBackupSessionName, generateSnapshotName } from '../../domain/naming.js';
import { BackupSessionConditions as C, backupSessionPhase, isTerminalSessionPhase } from '../../domain/status/backup-session-phase.js';
import { isTerminalWorkPhase, parseByteSize, snapshotPhase, summarizeSnapshot } from '../../domain/status/snapshot-phase.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from '../../kube/client.js';
import type { EventRecorder } from '../event-recorder.js';
import type { Informer, SharedInformers } from '../informer.js';
import { createWorkQueue, type ReconcileResult } from '../work-queue.js';
import { formatGoDuration } from '../../domain/go-duration.js';
import type { BackupSessionMetrics } from './metrics.js';
import type { ClusterObjects, ExecutionPlanner } from './plan.js';
import { findCondition, rfc3339, withCondition, type ConditionInput } from './session-conditions.js';
import { ulid } from './ulid.js';
import { jobComplete, jobFailure, jobFinished } from '../../domain/execution/job-conditions.js';
import { nameOf, namespaceOf } from '../../domain/rules/common.js';
import type { JobServiceAccountSettings } from '../../domain/execution/job-service-accounts.js';
import { createJobAccounts, type JobAccountsOptions } from '../job-accounts.js';

export const SESSION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' };
export const CONFIGURATION_TYPE = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
export const SNAPSHOT_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Snapshot' };
export const REPOSITORY_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' };
export const STORAGE_TYPE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage' };
export const ADDON_TYPE = { apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Addon' };
export const FUNCTION_TYPE = { apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Function' };
export const JOB_TYPE = { apiVersion: 'batch/v1', kind: 'Job' };
const SECRET_TYPE = { apiVersion: 'v1', kind: 'Secret' };
const NODE_TYPE = { apiVersion: 'v1', kind: 'Node' };
const POD_TYPE = { apiVersion: 'v1', kind: 'Pod' };
const CLAIM_TYPE = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' };
const TARGET_TYPES = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
];
const MANAGED_JOBS = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

const BY_CONFIGURATION_SESSION = 'backup-session-controller/configuration-session';
const BY_SESSION = 'backup-session-controller/backup-session';
const BY_RETRY_OF = 'backup-session-controller/retry-of';

export interface BackupSessionControllerOptions {
  client: KubeClient;
  informers: SharedInformers;
  recorder: EventRecorder;
  metrics: BackupSessionMetrics;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** Builds the Jobs (src/controllers/session/execution-planner.ts in production). */
  planner: ExecutionPlanner;
  /** The executor image the Jobs run (the Function's image is replaced by it). */
  image: string;
  /** Fallback ServiceAccount of the Jobs; serviceAccounts names one per role. */
  serviceAccountName?: string;
  serviceAccounts?: JobServiceAccountSettings['serviceAccounts'];
  /** Per-role accounts created on demand in a session's namespace (src/controllers/job-accounts.ts). Default none. */
  provisionedJobAccounts?: JobAccountsOptions['configured'];
  now?: () => Date;
  /** Random bytes for snapshot IDs (tests pass a fixed source). Default crypto.randomBytes. */
  random?: (size: number) => Uint8Array;
  /** How long a session waits for its Repositories, BackupStorages and Secrets before failing. Default 5 min. */
  prerequisitesTimeoutMs?: number;
  /** While waiting for something no watched object announces (a Secret), look again this often. Default 5 s. */
  pollMs?: number;
  concurrency?: number;
}

export interface RunningBackupSessionController {
  enqueue(namespace: string, name: string): void;
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

/** Thrown inside a reconcile when the cache was behind the API server: the key runs again. */
class StaleCache extends Error {}


/** Go-duration text to milliseconds; undefined when absent or unparsable (the webhook refuses those). */
function durationMs(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const parsed = parseGoDuration(text);
  return parsed.ok ? Number(parsed.value / 1_000_000n) : undefined;
}

/** `ns/configuration/session`: the sessions that compete (concurrency) and share a history. */
const configurationSessionKey = (namespace: string, configuration: string, session: string): string => `${namespace}/${configuration}/${session}`;
const sessionGroupOf = (bs: BackupSession): readonly string[] => {
  const invoker = bs.spec?.invoker;
  if (invoker?.kind !== 'BackupConfiguration' || !invoker.name || !bs.spec?.session) return [];
  return [configurationSessionKey(namespaceOf(bs), invoker.name, bs.spec.session)];
};

const createdAt = (object: KubeObject, fallback: Date): number => {
  const parsed = Date.parse(object.metadata?.creationTimestamp ?? '');
  return Number.isNaN(parsed) ? fallback.getTime() : parsed;
};

/** Newest first; names break ties (creation times have second precision). */
const newestFirst = (a: KubeObject, b: KubeObject): number =>
  createdAt(b, new Date(0)) - createdAt(a, new Date(0)) || nameOf(b).localeCompare(nameOf(a));

export function startBackupSessionController(options: BackupSessionControllerOptions): RunningBackupSessionController {
  const { client, informers, recorder, metrics, logger } = options;
  const jobAccounts = createJobAccounts({ client, recorder, logger, configured: options.provisionedJobAccounts ?? {} });
  const now = options.now ?? (() => new Date());
  const random = options.random ?? ((size: number) => randomBytes(size));
  const prerequisitesTimeoutMs = options.prerequisitesTimeoutMs ?? 5 * 60_000;
  const pollMs = options.pollMs ?? 5_000;

  const sessions = informers.informerFor<BackupSession>(SESSION_TYPE);
  const snapshots = informers.informerFor<Snapshot>(SNAPSHOT_TYPE);
  const jobs = informers.informerFor(JOB_TYPE, { labelSelector: MANAGED_JOBS });
  const configurations = informers.informerFor<BackupConfiguration>(CONFIGURATION_TYPE);
  const repositories = informers.informerFor<Repository>(REPOSITORY_TYPE);
  const storages = informers.informerFor<BackupStorage>(STORAGE_TYPE);
  const addons = informers.informerFor(ADDON_TYPE);
  const functions = informers.informerFor(FUNCTION_TYPE);
  const nodes = informers.informerFor(NODE_TYPE);
  const pods = informers.informerFor(POD_TYPE);
  const claims = informers.informerFor(CLAIM_TYPE);
  const targets = new Map<string, Informer>(TARGET_TYPES.map((type) => [type.kind, informers.informerFor(type)]));

  sessions.addIndex(BY_CONFIGURATION_SESSION, sessionGroupOf);
  sessions.addIndex(BY_RETRY_OF, (bs) => {
    const of = bs.metadata?.annotations?.[RETRY_OF_ANNOTATION];
    return of ? [`${namespaceOf(bs)}/${of}`] : [];
  });
  const bySessionLabel = (object: KubeObject): readonly string[] => {
    const session = object.metadata?.labels?.[BACKUP_SESSION_LABEL];
    return session ? [`${namespaceOf(object)}/${session}`] : [];
  };
  snapshots.addIndex(BY_SESSION, bySessionLabel);
  jobs.addIndex(BY_SESSION, bySessionLabel);

  const queue = createWorkQueue((key) => reconcile(key), { name: 'backup-session', concurrency: options.concurrency ?? 4, logger });

  const enqueueSession = (bs: KubeObject) => queue.add(`${namespaceOf(bs)}/${nameOf(bs)}`);
  const enqueueLabelled = (object: KubeObject) => {
    for (const key of bySessionLabel(object)) queue.add(key);
  };
  const enqueueUnfinishedIn = (namespace: string | undefined) => {
    for (const bs of sessions.list(namespace)) if (!isTerminalSessionPhase(bs.status?.phase)) enqueueSession(bs);
  };
  const unsubscribe = [
    sessions.addEventHandler({ add: enqueueSession, update: (_p, bs) => enqueueSession(bs) }),
    snapshots.addEventHandler({ add: enqueueLabelled, update: (_p, o) => enqueueLabelled(o), delete: enqueueLabelled }),
    jobs.addEventHandler({ add: enqueueLabelled, update: (_p, o) => enqueueLabelled(o), delete: enqueueLabelled }),
    configurations.addEventHandler({
      add: (bc) => enqueueUnfinishedIn(namespaceOf(bc)),
      update: (_p, bc) => enqueueUnfinishedIn(namespaceOf(bc)),
    }),
    repositories.addEventHandler({ add: (o) => enqueueUnfinishedIn(namespaceOf(o)), update: (_p, o) => enqueueUnfinishedIn(namespaceOf(o)) }),
    storages.addEventHandler({ add: () => enqueueUnfinishedIn(undefined), update: () => enqueueUnfinishedIn(undefined) }),
  ];

  async function reconcile(key: string): Promise<ReconcileResult | void> {
    const slash = key.indexOf('/');
    const bs = sessions.get(key.slice(0, slash), key.slice(slash + 1));
    if (bs === undefined || bs.metadata?.deletionTimestamp) return;
    try {
      if (findCondition(bs.status?.conditions, C.MetricsPushed) !== undefined) return await afterFinish(bs);
      return await run(bs);
    } catch (error) {
      if (error instanceof StaleCache || isConflict(error)) return { requeue: true };
      throw error;
    }
  }

  // ---- the steps of an unfinished session ---------------------------------------------------------

  async function run(original: BackupSession): Promise<ReconcileResult | void> {
    const at = now();
    const draft: BackupSessionStatus = structuredClone(original.status ?? {});
    const set = (input: ConditionInput) => {
      draft.conditions = withCondition(draft.conditions, input, at);
    };
    const namespace = namespaceOf(original);

    // Invoker: a BackupConfiguration of this namespace with the session.
    const invoker = await findInvoker(original);
    if ('missing' in invoker) {
      set({ type: C.InvokerFound, status: 'False', reason: invoker.reason, message: invoker.missing });
      return finish(original, draft, at, undefined);
    }
    const { configuration, session } = invoker;
    set({ type: C.InvokerFound, status: 'True', reason: 'InvokerFound', message: `BackupConfiguration ${namespace}/${nameOf(configuration)} session ${session.name}` });
    const bs = await ensureMetadata(original, configuration, session);
    let current = bs;
    const context: RunContext = { configuration, session };

    const timeoutMs = durationMs(bs.spec?.backupTimeout ?? session.backupTimeout);
    const startMs = createdAt(bs, at);
    if (timeoutMs !== undefined && draft.backupDeadline === undefined) draft.backupDeadline = rfc3339(startMs + timeoutMs);
    const deadlineMs = draft.backupDeadline ? Date.parse(draft.backupDeadline) : undefined;

    const snapshotsEnsured = findCondition(draft.conditions, C.SnapshotsEnsured)?.status === 'True';
    if (!snapshotsEnsured) {
      const skip = skipReason(bs, configuration, session);
      if (skip !== undefined) {
        set({ type: C.BackupSkipped, status: 'True', reason: 'PreRequisitesNotSatisfied', message: skip });
        return finish(bs, draft, at, context);
      }
      const missing = await missingPrerequisite(namespace, session);
      if (missing !== undefined) {
        const boundMs = Math.min(startMs + prerequisitesTimeoutMs, deadlineMs ?? Number.POSITIVE_INFINITY);
        if (at.getTime() >= boundMs) {
          set({ type: C.PrerequisitesReady, status: 'False', reason: 'PrerequisitesNotReady', message: `gave up after ${formatGoDuration(at.getTime() - startMs)}: ${missing}` });
          return finish(bs, draft, at, context);
        }
        set({ type: C.PrerequisitesReady, status: 'False', reason: 'WaitingForPrerequisites', message: missing });
        draft.phase = backupSessionPhase(draft);
        await writeStatus(current, draft);
        return { requeueAfterMs: Math.max(1, Math.min(pollMs, boundMs - at.getTime())) };
      }
      set({ type: C.PrerequisitesReady, status: 'True', reason: 'PrerequisitesReady', message: 'every Repository and BackupStorage is Ready and every encryption Secret exists' });
    }

    // Jobs are planned until all of them exist; afterwards the Jobs themselves say what runs.
    if (findCondition(draft.conditions, C.BackupExecutorEnsured)?.status !== 'True') {
      const plan = options.planner.planBackup(clusterObjects(bs, configuration, session));
      if (!plan.ok) {
        set({ type: C.BackupExecutorEnsured, status: 'False', reason: plan.reason, message: plan.message });
        return finish(bs, draft, at, context);
      }
      const accounts = await jobAccounts.ensureEach(plan.jobs, ['backup', 'kubedumpBackup'], namespace, bs);
      if (!accounts.ready) {
        set({ type: C.BackupExecutorEnsured, status: 'False', reason: accounts.reason, message: accounts.message });
        return finish(bs, draft, at, context);
      }
      const ensured = await ensureSnapshots(bs, configuration, session, plan.components.length, at);
      if ('failed' in ensured) {
        set({ type: C.SnapshotsEnsured, status: 'False', reason: 'SnapshotConflict', message: ensured.failed });
        return finish(bs, draft, at, context);
      }
      draft.snapshots = ensured.entries;
      draft.totalSnapshots = ensured.entries.length;
      set({ type: C.SnapshotsEnsured, status: 'True', reason: 'SnapshotsEnsured', message: `${ensured.entries.length} Snapshot(s) created` });
      // Persist the snapshots before the Jobs exist: a Job must find them in status.snapshots[].
      current = await writeStatus(current, draft);
      for (const job of plan.jobs) await ensureJob(current, job);
      set({ type: C.BackupExecutorEnsured, status: 'True', reason: 'BackupExecutorEnsured', message: `${plan.jobs.length} backup Job(s) created for component(s) ${plan.components.join(', ')}` });
    }
    // Follow the Jobs and the Snapshots.
    const sessionJobs = jobs.byIndex(BY_SESSION, `${namespace}/${nameOf(bs)}`);
    const backupJobs = sessionJobs.filter((job) => job.metadata?.labels?.[JOB_COMPONENT_LABEL] === 'backup');
    const overdue = deadlineMs !== undefined && at.getTime() >= deadlineMs;
    const ownSnapshots = await followSnapshots(current, draft, backupJobs, overdue, at);
    draft.snapshots = (draft.snapshots ?? []).map((entry) => ({ ...entry, phase: ownSnapshots.get(entry.name ?? '')?.status?.phase ?? entry.phase ?? 'Pending' }));
    const allFinished = (draft.snapshots ?? []).every((entry) => isTerminalWorkPhase(entry.phase));
    if (!allFinished) {
      draft.phase = backupSessionPhase(draft);
      await writeStatus(current, draft);
      if (deadlineMs !== undefined) return { requeueAfterMs: Math.max(1, deadlineMs - at.getTime()) };
      return;
    }

    // Retention, once per session after every Snapshot finished.
    const retention = await ensureRetention(current, draft, configuration, session, sessionJobs, set);
    if (retention === 'waiting') {
      draft.phase = backupSessionPhase(draft);
      await writeStatus(current, draft);
      return;
    }
    return finish(current, draft, at, context, ownSnapshots);
  }

  interface RunContext {
    configuration: BackupConfiguration;
    session: Session;
  }

  async function findInvoker(bs: BackupSession): Promise<RunContext | { missing: string; reason: string }> {
    const invoker = bs.spec?.invoker;
    const namespace = namespaceOf(bs);
    if (invoker?.kind !== 'BackupConfiguration' || (invoker.apiGroup !== undefined && invoker.apiGroup !== 'core.kubestash.com')) {
      return { reason: 'InvokerNotSupported', missing: `spec.invoker must be a core.kubestash.com BackupConfiguration, got ${invoker?.apiGroup ?? ''}/${invoker?.kind ?? '(none)'}` };
    }
    // A session created right after its configuration may be seen before the configuration's watch event.
    const configuration =
      configurations.get(namespace, invoker.name) ??
      (await client.find<BackupConfiguration>({ ...CONFIGURATION_TYPE, namespace, name: invoker.name }));
    if (configuration === undefined) return { reason: 'InvokerNotFound', missing: `BackupConfiguration ${namespace}/${invoker.name} (spec.invoker) not found` };
    const session = configuration.spec?.sessions?.find((s) => s.name === bs.spec?.session);
    if (session === undefined) {
      return { reason: 'SessionNotFound', missing: `BackupConfiguration ${namespace}/${invoker.name} has no session "${bs.spec?.session ?? ''}" (spec.session)` };
    }
    return { configuration, session };
  }

  /** Labels (invoker, session) and the ownerReference to the configuration, for sessions created bare. */
  async function ensureMetadata(bs: BackupSession, configuration: BackupConfiguration, session: Session): Promise<BackupSession> {
    const labels = {
      ...bs.metadata?.labels,
      [INVOKER_KIND_LABEL]: 'BackupConfiguration',
      [INVOKER_NAME_LABEL]: nameOf(configuration),
      [SESSION_NAME_LABEL]: session.name ?? '',
    };
    const owners = bs.metadata?.ownerReferences ?? [];
    const owned = owners.some((owner) => owner.uid === configuration.metadata?.uid);
    if (isDeepStrictEqual(labels, bs.metadata?.labels ?? {}) && owned) return bs;
    const ownerReferences = owned
      ? owners
      : [
          ...owners,
          {
            apiVersion: CONFIGURATION_TYPE.apiVersion,
            kind: CONFIGURATION_TYPE.kind,
            name: nameOf(configuration),
            uid: configuration.metadata?.uid,
            // Only one controller owner is allowed; a user's own controller reference wins.
            ...(owners.some((owner) => owner.controller === true) ? {} : { controller: true }),
            blockOwnerDeletion: true,
          },
        ];
    return client.update<BackupSession>({ ...bs, metadata: { ...bs.metadata, labels, ownerReferences } });
  }

  function skipReason(bs: BackupSession, configuration: BackupConfiguration, session: Session): string | undefined {
    if (configuration.spec?.paused === true) return `BackupConfiguration ${namespaceOf(configuration)}/${nameOf(configuration)} is paused`;
    // Allow runs sessions side by side; Replace is the scheduler's business (it replaces the running one).
    const policy = session.scheduler?.concurrencyPolicy ?? 'Forbid';
    if (policy === 'Allow' || policy === 'Replace') return undefined;
    const mine = createdAt(bs, new Date(0));
    for (const other of sessions.byIndex(BY_CONFIGURATION_SESSION, sessionGroupOf(bs)[0] ?? '')) {
      if (nameOf(other) === nameOf(bs) || isTerminalSessionPhase(other.status?.phase)) continue;
      // A Running session blocks; between two that have not started, the older one goes first.
      const earlier = createdAt(other, new Date(0)) < mine || (createdAt(other, new Date(0)) === mine && nameOf(other) < nameOf(bs));
      if (other.status?.phase === 'Running' || earlier) {
        return `BackupSession ${namespaceOf(other)}/${nameOf(other)} of the same session is still ${other.status?.phase === 'Running' ? 'running' : 'pending'} (concurrencyPolicy ${policy})`;
      }
    }
    return undefined;
  }

  /** The first thing the session waits for (a sentence naming it and why), or undefined when all is there. */
  async function missingPrerequisite(namespace: string, session: Session): Promise<string | undefined> {
    for (const info of session.repositories ?? []) {
      const repository = repositories.get(namespace, info.name ?? '');
      if (repository === undefined) return `Repository ${namespace}/${info.name} does not exist yet`;
      if (repository.status?.phase !== 'Ready') {
        const condition = repository.status?.conditions?.find((c) => c.status === 'False');
        return `Repository ${namespace}/${info.name} is not Ready${condition ? ` (${condition.reason ?? condition.type}: ${condition.message ?? ''})` : ''}`;
      }
      const storageRef = repository.spec?.storageRef;
      const storageNamespace = storageRef?.namespace || namespace;
      const storage = storageRef ? storages.get(storageNamespace, storageRef.name) : undefined;
      if (storage === undefined) return `BackupStorage ${storageNamespace}/${storageRef?.name ?? '(none)'} of Repository ${namespace}/${info.name} does not exist`;
      if (storage.status?.phase !== 'Ready') {
        const condition = storage.status?.conditions?.find((c) => c.status === 'False');
        return `BackupStorage ${storageNamespace}/${storageRef?.name} is not Ready${condition ? ` (${condition.reason ?? condition.type}: ${condition.message ?? ''})` : ''}`;
      }
      const secretRef = repository.spec?.encryptionSecret ?? info.encryptionSecret;
      if (secretRef !== undefined) {
        const secretNamespace = secretRef.namespace || namespace;
        // Existence only: the controller never reads Secret values.
        const secret = await client.find({ ...SECRET_TYPE, namespace: secretNamespace, name: secretRef.name });
        if (secret === undefined) return `encryption Secret ${secretNamespace}/${secretRef.name} of Repository ${namespace}/${info.name} does not exist`;
      }
    }
    return undefined;
  }

  function clusterObjects(bs: BackupSession, configuration: BackupConfiguration, session: Session): ClusterObjects {
    const namespace = namespaceOf(bs);
    const target = configuration.spec?.target;
    const targetInformer = target?.kind === 'PersistentVolumeClaim' ? claims : target?.kind ? targets.get(target.kind) : undefined;
    const repos = (session.repositories ?? []).map((info) => repositories.get(namespace, info.name ?? '')).filter((r): r is Repository => r !== undefined);
    const storageList = repos
      .map((repository) => storages.get(repository.spec?.storageRef?.namespace || namespace, repository.spec?.storageRef?.name ?? ''))
      .filter((s): s is BackupStorage => s !== undefined);
    return {
      backupSession: bs,
      configuration,
      session,
      repositories: repos,
      storages: storageList,
      addons: addons.list(),
      functions: functions.list(),
      target: target && targetInformer ? targetInformer.get(target.namespace || namespace, target.name) : undefined,
      pods: pods.list(target?.namespace || namespace),
      claims: claims.list(target?.namespace || namespace),
      nodes: nodes.list(),
      image: options.image,
      ...(options.serviceAccountName === undefined ? {} : { serviceAccountName: options.serviceAccountName }),
      ...(options.serviceAccounts === undefined ? {} : { serviceAccounts: options.serviceAccounts }),
    };
  }

  /** One Snapshot per repository, as KubeStash names and labels them. */
  async function ensureSnapshots(
    bs: BackupSession,
    configuration: BackupConfiguration,
    session: Session,
    totalComponents: number,
    at: Date,
  ): Promise<{ entries: NonNullable<BackupSessionStatus['snapshots']> } | { failed: string }> {
    const namespace = namespaceOf(bs);
    const entries: NonNullable<BackupSessionStatus['snapshots']> = [];
    for (const info of session.repositories ?? []) {
      const repository = repositories.get(namespace, info.name ?? '');
      if (repository === undefined) throw new StaleCache(`Repository ${info.name} vanished`);
      const name = generateSnapshotName(nameOf(repository), nameOf(bs));
      const appRef: TypedObjectReference = repository.spec?.appRef ?? configuration.spec?.target ?? { name: '' };
      let snapshot = snapshots.get(namespace, name) ?? (await client.find<Snapshot>({ ...SNAPSHOT_TYPE, namespace, name }));
      if (snapshot !== undefined && snapshot.spec?.backupSession !== nameOf(bs)) {
        return { failed: `Snapshot ${namespace}/${name} exists and belongs to BackupSession ${snapshot.spec?.backupSession ?? '(none)'}` };
      }
      if (snapshot === undefined) {
        const desired: Snapshot = {
          ...SNAPSHOT_TYPE,
          metadata: {
            name,
            namespace,
            labels: {
              [REPOSITORY_NAME_LABEL]: nameOf(repository),
              ...(appRef.kind ? { [APP_REF_KIND_LABEL]: appRef.kind } : {}),
              ...(appRef.name ? { [APP_REF_NAME_LABEL]: appRef.name } : {}),
              [APP_REF_NAMESPACE_LABEL]: appRef.namespace || namespace,
              [BACKUP_SESSION_LABEL]: nameOf(bs),
              [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
            },
            finalizers: [CLEANUP_FINALIZER],
            ownerReferences: [
              { apiVersion: REPOSITORY_TYPE.apiVersion, kind: REPOSITORY_TYPE.kind, name: nameOf(repository), uid: repository.metadata?.uid, controller: true, blockOwnerDeletion: true },
            ],
          },
          spec: {
            snapshotID: ulid(at.getTime(), random(10)),
            type: 'FullBackup',
            repository: nameOf(repository),
            session: session.name ?? '',
            backupSession: nameOf(bs),
            version: SNAPSHOT_VERSION,
            appRef,
            // A configuration's Retain keeps the data when the configuration goes; a Snapshot knows only Delete and WipeOut.
            deletionPolicy: info.deletionPolicy === 'WipeOut' ? 'WipeOut' : 'Delete',
          },
        };
        try {
          snapshot = await client.create(desired);
        } catch (error) {
          if (isAlreadyExists(error)) throw new StaleCache(`Snapshot ${name} was created meanwhile`);
          throw error;
        }
      }
      if (snapshot.status?.totalComponents === undefined || snapshot.status.phase === undefined) {
        snapshot = await client.updateStatus<Snapshot>({
          ...snapshot,
          status: { ...snapshot.status, phase: snapshot.status?.phase ?? 'Pending', totalComponents: snapshot.status?.totalComponents ?? totalComponents },
        });
      }
      entries.push({ name, phase: snapshot.status?.phase ?? 'Pending', appRef, repository: nameOf(repository) });
    }
    return { entries };
  }

  async function ensureJob(bs: BackupSession, job: KubeObject): Promise<void> {
    const namespace = namespaceOf(bs);
    if (jobs.get(namespace, nameOf(job)) !== undefined) return;
    const labelled: KubeObject = {
      ...job,
      metadata: {
        ...job.metadata,
        namespace,
        labels: { ...job.metadata?.labels, [BACKUP_SESSION_LABEL]: nameOf(bs), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
        ownerReferences: job.metadata?.ownerReferences ?? [
          { apiVersion: SESSION_TYPE.apiVersion, kind: SESSION_TYPE.kind, name: nameOf(bs), uid: bs.metadata?.uid, controller: true, blockOwnerDeletion: true },
        ],
      },
    };
    try {
      await client.create(labelled);
      logger.info({ backupSession: `${namespace}/${nameOf(bs)}`, job: nameOf(job) }, 'job created');
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  /**
   * Marks components Failed whose Job failed (or completed) without the executor reporting them, or
   * whose time ran out; derives each Snapshot's phase and, when finished, its summary. Returns the
   * Snapshots as last written.
   */
  async function followSnapshots(bs: BackupSession, draft: BackupSessionStatus, backupJobs: KubeObject[], overdue: boolean, at: Date): Promise<Map<string, Snapshot>> {
    const namespace = namespaceOf(bs);
    const result = new Map<string, Snapshot>();
    const failures = new Map<string, string>();
    for (const job of backupJobs) {
      const component = job.metadata?.labels?.[TARGET_COMPONENT_LABEL];
      if (!component) continue;
      const failed = jobFailure(job);
      if (failed) failures.set(component, `Job ${nameOf(job)} failed: ${failed.message ?? failed.reason ?? 'no message'}`);
      else if (jobComplete(job)) failures.set(component, `Job ${nameOf(job)} completed without the executor reporting component ${component}`);
      else if (overdue) failures.set(component, `backupTimeout exceeded (deadline ${draft.backupDeadline}): Job ${nameOf(job)} was stopped`);
    }
    if (overdue) {
      for (const job of backupJobs) {
        if (jobFinished(job)) continue;
        try {
          await client.delete({ ...JOB_TYPE, namespace, name: nameOf(job) }, { propagationPolicy: 'Background' });
          logger.info({ backupSession: `${namespace}/${nameOf(bs)}`, job: nameOf(job) }, 'job deleted: backup timeout exceeded');
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
    for (const entry of draft.snapshots ?? []) {
      let snapshot = snapshots.get(namespace, entry.name ?? '');
      if (snapshot === undefined) continue;
      const components = snapshot.status?.components ?? {};
      const unreported = [...failures.entries()].filter(([component]) => !isTerminalWorkPhase(components[component]?.phase));
      if (unreported.length > 0) {
        // Read again: the executor may have reported since the cache was filled.
        const fresh = await client.get<Snapshot>({ ...SNAPSHOT_TYPE, namespace, name: nameOf(snapshot) });
        const freshComponents = { ...fresh.status?.components };
        let changed = false;
        for (const [component, message] of failures) {
          if (isTerminalWorkPhase(freshComponents[component]?.phase)) continue;
          const session = fresh.spec?.session ?? '';
          freshComponents[component] = { ...freshComponents[component], path: componentPath(session, component), phase: 'Failed', error: message };
          changed = true;
        }
        if (changed) snapshot = await client.updateStatus<Snapshot>({ ...fresh, status: { ...fresh.status, components: freshComponents } });
        else snapshot = fresh;
      }
      snapshot = await settleSnapshot(snapshot, at, overdue ? `backupTimeout exceeded (deadline ${draft.backupDeadline})` : undefined);
      result.set(nameOf(snapshot), snapshot);
    }
    return result;
  }

  /**
   * Writes the Snapshot's phase (and summary once finished) when they differ from what it says.
   * Past the deadline an unfinished Snapshot is Failed even when a component never reported (its
   * Job was stopped before the executor started).
   */
  async function settleSnapshot(snapshot: Snapshot, at: Date, overdue: string | undefined): Promise<Snapshot> {
    const status = snapshot.status ?? {};
    const derived = snapshotPhase(status.totalComponents ?? 0, status.components);
    const phase = overdue !== undefined && !isTerminalWorkPhase(derived) ? 'Failed' : derived;
    const next = { ...status, phase };
    if (isTerminalWorkPhase(phase)) {
      const summary = summarizeSnapshot(status, at);
      next.snapshotTime = status.snapshotTime ?? summary.snapshotTime;
      if (summary.size !== undefined) next.size = summary.size;
      next.integrity = summary.integrity;
      const failed = Object.entries(status.components ?? {})
        .filter(([, component]) => component.phase === 'Failed')
        .map(([name, component]) => `${name}: ${component.error ?? 'failed'}`);
      if (phase !== derived && overdue !== undefined) failed.push(overdue);
      const incomplete: ConditionInput = failed.length > 0
        ? { type: 'BackupIncomplete', status: 'True', reason: 'BackupFailed', message: failed.join('; ') }
        : { type: 'BackupIncomplete', status: 'False', reason: 'BackupSucceeded', message: 'every component was backed up' };
      next.conditions = withCondition(status.conditions as Condition[] | undefined, incomplete, at);
    }
    if (isDeepStrictEqual(next, status)) return snapshot;
    next.lastUpdateTime = rfc3339(at);
    return client.updateStatus<Snapshot>({ ...snapshot, status: next });
  }

  /**
   * The retention Job of the session when a repository's backend has a RetentionPolicy: created
   * once, then followed. A failed Job that wrote nothing leaves FailedToApply entries with its message.
   */
  async function ensureRetention(
    bs: BackupSession,
    draft: BackupSessionStatus,
    configuration: BackupConfiguration,
    session: Session,
    sessionJobs: KubeObject[],
    set: (input: ConditionInput) => void,
  ): Promise<'done' | 'waiting'> {
    const namespace = namespaceOf(bs);
    const withPolicy = (session.repositories ?? []).flatMap((info) => {
      const backend = configuration.spec?.backends?.find((b) => b.name === info.backend);
      return backend?.retentionPolicy ? [{ repository: info.name ?? '', ref: { name: backend.retentionPolicy.name, namespace: backend.retentionPolicy.namespace || namespace } }] : [];
    });
    if (withPolicy.length === 0) {
      set({ type: C.RetentionPolicyExecutorEnsured, status: 'True', reason: 'NoRetentionPolicy', message: 'no backend of this session has a retention policy' });
      return 'done';
    }
    const job = sessionJobs.find((j) => j.metadata?.labels?.[JOB_COMPONENT_LABEL] === 'retention-policy');
    if (job === undefined) {
      const plan = options.planner.planRetention(clusterObjects(bs, configuration, session));
      if (!plan.ok) {
        set({ type: C.RetentionPolicyExecutorEnsured, status: 'False', reason: plan.reason, message: plan.message });
        draft.retentionPolicy = withPolicy.map((entry) => ({ ...entry, phase: 'FailedToApply' as const, error: plan.message }));
        return 'done';
      }
      await jobAccounts.ensure(plan.job, ['maintenance'], namespace, bs);
      await ensureJob(bs, plan.job);
      set({ type: C.RetentionPolicyExecutorEnsured, status: 'True', reason: 'RetentionPolicyExecutorEnsured', message: `retention Job ${nameOf(plan.job)} created` });
      return 'waiting';
    }
    if (!jobFinished(job)) return 'waiting';
    const failed = jobFailure(job);
    if (failed) {
      const entries = [...(draft.retentionPolicy ?? [])];
      for (const wanted of withPolicy) {
        const index = entries.findIndex((e) => e.repository === wanted.repository);
        if (index >= 0 && (entries[index]?.phase === 'Applied' || entries[index]?.phase === 'FailedToApply')) continue;
        const entry = { ...wanted, phase: 'FailedToApply' as const, error: `retention Job ${nameOf(job)} failed: ${failed.message ?? failed.reason ?? 'no message'}` };
        if (index >= 0) entries[index] = entry;
        else entries.push(entry);
      }
      draft.retentionPolicy = entries;
    }
    return 'done';
  }

  /** Deletes terminal sessions of the same configuration session beyond sessionHistoryLimit (newest kept). */
  async function cleanHistory(bs: BackupSession, context: RunContext): Promise<number> {
    const limit = Math.max(0, context.session.sessionHistoryLimit ?? 1);
    const others = sessions
      .byIndex(BY_CONFIGURATION_SESSION, sessionGroupOf(bs)[0] ?? '')
      .filter((other) => nameOf(other) !== nameOf(bs) && isTerminalSessionPhase(other.status?.phase) && !other.metadata?.deletionTimestamp)
      // A session still owing its retry stays until the retry exists.
      .filter((other) => !(other.status?.nextRetry && other.status.retried !== true))
      .sort(newestFirst);
    let deleted = 0;
    for (const old of others.slice(limit)) {
      try {
        await client.delete({ ...SESSION_TYPE, namespace: namespaceOf(old), name: nameOf(old) }, { propagationPolicy: 'Background', preconditions: { uid: old.metadata?.uid as string } });
        deleted++;
      } catch (error) {
        if (!isNotFound(error) && !isConflict(error)) throw error;
      }
    }
    return deleted;
  }

  /** The final status: history, retry time, MetricsPushed, duration, phase; then Events and metrics. */
  async function finish(
    bs: BackupSession,
    draft: BackupSessionStatus,
    at: Date,
    context: RunContext | undefined,
    finishedSnapshots?: Map<string, Snapshot>,
  ): Promise<ReconcileResult | void> {
    const set = (input: ConditionInput) => {
      draft.conditions = withCondition(draft.conditions, input, at);
    };
    if (context !== undefined) {
      const deleted = await cleanHistory(bs, context);
      set({
        type: C.SessionHistoryCleaned,
        status: 'True',
        reason: 'SessionHistoryCleaned',
        message: `kept the newest ${context.session.sessionHistoryLimit ?? 1} finished session(s); deleted ${deleted}`,
      });
    }
    set({ type: C.MetricsPushed, status: 'True', reason: 'MetricsPushed', message: 'metrics of this session are recorded' });
    const startMs = createdAt(bs, at);
    draft.duration = formatGoDuration(at.getTime() - startMs);
    const phase = backupSessionPhase(draft);
    draft.phase = phase;
    const retryLeft = bs.spec?.retryLeft ?? 0;
    if (phase === 'Failed' && context !== undefined && retryLeft > 0 && draft.nextRetry === undefined) {
      draft.nextRetry = rfc3339(at.getTime() + (durationMs(context.session.retryConfig?.delay) ?? 0));
    }
    const written = await writeStatus(bs, draft);

    const namespace = namespaceOf(bs);
    const configurationName = context ? nameOf(context.configuration) : bs.spec?.invoker?.name ?? '';
    const why = phase === 'Succeeded' ? 'every Snapshot succeeded' : phase === 'Skipped' ? findCondition(draft.conditions, C.BackupSkipped)?.message ?? 'skipped' : failureReason(draft, finishedSnapshots);
    const reason = phase === 'Succeeded' ? 'BackupSucceeded' : phase === 'Skipped' ? 'BackupSkipped' : 'BackupFailed';
    const message = `BackupSession ${nameOf(bs)} ${phase === 'Succeeded' ? 'succeeded' : phase === 'Skipped' ? 'was skipped' : 'failed'} after ${draft.duration}: ${why}`;
    const type = phase === 'Failed' ? 'Warning' : 'Normal';
    recorder.record(written, type, reason, message);
    if (context !== undefined) recorder.record(context.configuration, type, reason, message);
    logger.info({ backupSession: `${namespace}/${nameOf(bs)}`, phase, duration: draft.duration }, 'backup session finished');

    let bytesProcessed = 0;
    let bytesAdded = 0;
    for (const snapshot of finishedSnapshots?.values() ?? []) {
      for (const component of Object.values(snapshot.status?.components ?? {})) {
        for (const stats of component.resticStats ?? []) {
          const summary = (stats.summary ?? stats) as { size?: string | number; uploaded?: string | number };
          bytesProcessed += parseByteSize(summary.size) ?? 0;
          bytesAdded += parseByteSize(summary.uploaded) ?? 0;
        }
      }
    }
    metrics.observe({
      namespace,
      configuration: configurationName,
      session: bs.spec?.session ?? '',
      phase: phase === 'Succeeded' || phase === 'Skipped' ? phase : 'Failed',
      durationSeconds: (at.getTime() - startMs) / 1000,
      finishedAtSeconds: at.getTime() / 1000,
      bytesProcessed,
      bytesAdded,
    });
    if (draft.nextRetry !== undefined) return afterFinish(written);
  }

  function failureReason(draft: BackupSessionStatus, finishedSnapshots: Map<string, Snapshot> | undefined): string {
    const reasons: string[] = [];
    for (const condition of draft.conditions ?? []) {
      if (condition.status === 'False' && condition.type !== C.MetricsPushed) reasons.push(`${condition.type}: ${condition.message ?? condition.reason ?? ''}`);
    }
    for (const snapshot of finishedSnapshots?.values() ?? []) {
      for (const [name, component] of Object.entries(snapshot.status?.components ?? {})) {
        if (component.phase === 'Failed') reasons.push(`${nameOf(snapshot)}/${name}: ${component.error ?? 'failed'}`);
      }
    }
    for (const entry of draft.retentionPolicy ?? []) if (entry.phase === 'FailedToApply') reasons.push(`retention of ${entry.repository}: ${entry.error ?? 'failed'}`);
    return reasons.length > 0 ? reasons.join('; ') : 'see the session status';
  }

  // ---- after the end: the retry -----------------------------------------------------------------

  async function afterFinish(bs: BackupSession): Promise<ReconcileResult | void> {
    const nextRetry = bs.status?.nextRetry;
    if (nextRetry === undefined || bs.status?.retried === true) return;
    const at = now();
    const dueMs = Date.parse(nextRetry) - at.getTime();
    if (dueMs > 0) return { requeueAfterMs: dueMs };
    if (!(await retryExists(bs))) await createRetry(bs, at);
    await writeStatus(bs, { ...bs.status, retried: true });
  }

  /** Whether the retry of `bs` exists: the cache first, then the API server (the cache may lag our own create). */
  async function retryExists(bs: BackupSession): Promise<boolean> {
    const namespace = namespaceOf(bs);
    if (sessions.byIndex(BY_RETRY_OF, `${namespace}/${nameOf(bs)}`).length > 0) return true;
    const listed = await client.list<BackupSession>(SESSION_TYPE, { namespace, labelSelector: `${INVOKER_NAME_LABEL}=${bs.spec?.invoker?.name ?? ''}` });
    return listed.items.some((item) => item.metadata?.annotations?.[RETRY_OF_ANNOTATION] === nameOf(bs));
  }

  async function createRetry(bs: BackupSession, at: Date): Promise<void> {
    const namespace = namespaceOf(bs);
    const configurationName = bs.spec?.invoker?.name ?? '';
    const sessionName = bs.spec?.session ?? '';
    const configuration = configurations.get(namespace, configurationName);
    // Names carry seconds: a retry within the second of its original takes the next free second.
    for (let offset = 0; offset < 10; offset++) {
      const name = generateBackupSessionName(configurationName, sessionName, Math.floor(at.getTime() / 1000) + offset);
      const retry: BackupSession = {
        ...SESSION_TYPE,
        metadata: {
          name,
          namespace,
          labels: {
            [INVOKER_KIND_LABEL]: 'BackupConfiguration',
            [INVOKER_NAME_LABEL]: configurationName,
            [SESSION_NAME_LABEL]: sessionName,
            [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
          },
          annotations: { [TRIGGERED_BY_ANNOTATION]: 'retry', [RETRY_OF_ANNOTATION]: nameOf(bs) },
          ...(configuration?.metadata?.uid
            ? { ownerReferences: [{ apiVersion: CONFIGURATION_TYPE.apiVersion, kind: CONFIGURATION_TYPE.kind, name: configurationName, uid: configuration.metadata.uid, controller: true, blockOwnerDeletion: true }] }
            : {}),
        },
        spec: {
          ...(bs.spec?.invoker ? { invoker: bs.spec.invoker } : {}),
          session: sessionName,
          retryLeft: Math.max(0, (bs.spec?.retryLeft ?? 0) - 1),
          ...(bs.spec?.backupTimeout ? { backupTimeout: bs.spec.backupTimeout } : {}),
        },
      };
      try {
        await client.create(retry);
        logger.info({ backupSession: `${namespace}/${nameOf(bs)}`, retry: name }, 'retry created');
        return;
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        const taken = await client.find<BackupSession>({ ...SESSION_TYPE, namespace, name });
        if (taken?.metadata?.annotations?.[RETRY_OF_ANNOTATION] === nameOf(bs)) return;
      }
    }
    throw new Error(`no free name for the retry of BackupSession ${namespace}/${nameOf(bs)}`);
  }

  /** Writes the status when it differs from the object's; returns the object as stored. */
  async function writeStatus(bs: BackupSession, status: BackupSessionStatus): Promise<BackupSession> {
    if (isDeepStrictEqual(status, bs.status ?? {})) return bs;
    return client.updateStatus<BackupSession>({ ...bs, status });
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

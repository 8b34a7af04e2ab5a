/** core.kubestash.com/v1alpha1 kinds (SPEC §4). */
import { Type, type Static } from '@sinclair/typebox';
import {
  backupConfigDeletionPolicyValues,
  conditionList,
  HookStatus,
  ObjectReference,
  ParameterDefinition,
  ResourceFoundStatus,
  TypedLocalObjectReference,
  TypedObjectReference,
  UsagePolicy,
  VolumeSource,
  workPhaseValues,
} from './common.js';
import { kindObject } from './kind-object.js';
import {
  ContainerRuntimeSettings,
  envVarList,
  kubernetesCoreList,
  PodTemplateSpec,
  RuntimeSettings,
  volumeList,
  volumeMountList,
} from './kubernetes.js';
import { AUTOSTASH_EXTENSION_MARKER, dateTime, freeFormObject, int32, int64, intOrString, mapOf, stringEnum } from './schema-builders.js';

const o = Type.Optional;
const str = () => Type.String();

// ---- building blocks of sessions ----------------------------------------------------------------------

/** A named backend of a BackupConfiguration: where (BackupStorage) and how long (RetentionPolicy). */
export const BackendReference = Type.Object({
  name: o(str()),
  retentionPolicy: o(ObjectReference),
  storageRef: o(ObjectReference),
});
export type BackendReference = Static<typeof BackendReference>;

/** A Repository a session writes to: one per (target, backend directory). */
export const RepositoryInfo = Type.Object({
  backend: o(str()),
  backupVerifier: o(ObjectReference),
  deletionPolicy: o(stringEnum(backupConfigDeletionPolicyValues)),
  directory: o(str()),
  encryptionSecret: o(ObjectReference),
  name: o(str()),
});
export type RepositoryInfo = Static<typeof RepositoryInfo>;

export const AddonVolumeInfo = Type.Object({ name: o(str()), source: o(VolumeSource) });
export type AddonVolumeInfo = Static<typeof AddonVolumeInfo>;

export const TargetVolumeInfo = Type.Object({
  volumeClaimTemplates: o(kubernetesCoreList('PersistentVolumeClaim')),
  volumeMounts: o(volumeMountList()),
  volumes: o(volumeList()),
});
export type TargetVolumeInfo = Static<typeof TargetVolumeInfo>;

/** One Addon task to run, with its parameters. */
export const TaskReference = Type.Object({
  addonVolumes: o(Type.Array(AddonVolumeInfo)),
  name: o(str()),
  params: o(freeFormObject()),
  targetVolumes: o(TargetVolumeInfo),
  variables: o(envVarList()),
});
export type TaskReference = Static<typeof TaskReference>;

/** Which Addon and tasks back up or restore a target. */
export const AddonInfo = Type.Object({
  containerRuntimeSettings: o(ContainerRuntimeSettings),
  jobTemplate: o(PodTemplateSpec),
  name: o(str()),
  tasks: o(Type.Array(TaskReference)),
});
export type AddonInfo = Static<typeof AddonInfo>;

export const hookExecutionPolicyValues = ['Always', 'OnSuccess', 'OnFailure'] as const;
export type HookExecutionPolicy = (typeof hookExecutionPolicyValues)[number];

/** A hook to run before or after a backup/restore, based on a HookTemplate. */
export const HookInfo = Type.Object({
  executionPolicy: o(stringEnum(hookExecutionPolicyValues, { default: 'Always' })),
  hookTemplate: o(ObjectReference),
  maxRetry: o(int32({ minimum: 0 })),
  name: o(str()),
  params: o(freeFormObject()),
  runtimeSettings: o(RuntimeSettings),
  timeout: o(str()),
  variables: o(envVarList()),
  volumeMounts: o(volumeMountList()),
  volumes: o(volumeList()),
});
export type HookInfo = Static<typeof HookInfo>;

export const BackupHooks = Type.Object({
  postBackup: o(Type.Array(HookInfo)),
  preBackup: o(Type.Array(HookInfo)),
});
export type BackupHooks = Static<typeof BackupHooks>;

export const RestoreHooks = Type.Object({
  postRestore: o(Type.Array(HookInfo)),
  preRestore: o(Type.Array(HookInfo)),
});
export type RestoreHooks = Static<typeof RestoreHooks>;

/** batch/v1 JobSpec subset used for trigger and verifier jobs. */
export const JobTemplate = Type.Object({
  activeDeadlineSeconds: o(int64()),
  backoffLimit: o(int32()),
  completionMode: o(str()),
  completions: o(int32()),
  parallelism: o(int32()),
  suspend: o(Type.Boolean()),
  template: o(PodTemplateSpec),
  ttlSecondsAfterFinished: o(int32()),
});
export type JobTemplate = Static<typeof JobTemplate>;

export const concurrencyPolicyValues = ['Allow', 'Forbid', 'Replace'] as const;

/** Mirrors a batch/v1 CronJob spec; `schedule` and `jobTemplate` are required by the CRD. */
export const SchedulerSpec = Type.Object({
  /** `Allow`, `Forbid` or `Replace` (no CRD enum). */
  concurrencyPolicy: o(str()),
  failedJobsHistoryLimit: o(int32()),
  jobTemplate: JobTemplate,
  schedule: str(),
  startingDeadlineSeconds: o(int64()),
  successfulJobsHistoryLimit: o(int32()),
  suspend: o(Type.Boolean()),
});
export type SchedulerSpec = Static<typeof SchedulerSpec>;

export const RetryConfig = Type.Object({
  delay: o(str()),
  maxRetry: o(int32({ default: 1, minimum: 1 })),
});
export type RetryConfig = Static<typeof RetryConfig>;

const sessionConfigProperties = () => ({
  backupTimeout: o(str()),
  hooks: o(BackupHooks),
  name: o(str()),
  retryConfig: o(RetryConfig),
  scheduler: o(SchedulerSpec),
  sessionHistoryLimit: o(int32({ default: 1 })),
});

/** The scheduling part of a session, shared by BackupConfiguration and BackupBatch. */
export const SessionConfig = Type.Object(sessionConfigProperties());
export type SessionConfig = Static<typeof SessionConfig>;

/** A BackupConfiguration session: SessionConfig plus what to run and where to store it. */
export const Session = Type.Object({
  ...sessionConfigProperties(),
  addon: o(AddonInfo),
  repositories: o(Type.Array(RepositoryInfo)),
});
export type Session = Static<typeof Session>;

// ---- BackupConfiguration --------------------------------------------------------------------------------

export const backupInvokerPhaseValues = ['NotReady', 'Ready', 'Invalid'] as const;
export type BackupInvokerPhase = (typeof backupInvokerPhaseValues)[number];

export const BackupConfigurationSpec = Type.Object({
  backends: o(Type.Array(BackendReference)),
  paused: o(Type.Boolean()),
  sessions: o(Type.Array(Session)),
  target: o(TypedObjectReference),
});
export type BackupConfigurationSpec = Static<typeof BackupConfigurationSpec>;

export const BackendStatus = Type.Object({
  name: o(str()),
  ready: o(Type.Boolean()),
  retentionPolicy: o(Type.Object({ found: o(Type.Boolean()), reason: o(str()), ref: o(ObjectReference) })),
  storage: o(Type.Object({ phase: o(str()), reason: o(str()), ref: o(ObjectReference) })),
});
export type BackendStatus = Static<typeof BackendStatus>;

export const RepositoryState = Type.Object({
  name: o(str()),
  phase: o(stringEnum(['NotReady', 'Ready'] as const)),
  reason: o(str()),
  verificationConfigured: o(Type.Boolean()),
});
export type RepositoryState = Static<typeof RepositoryState>;

export const SessionStatus = Type.Object({
  conditions: o(conditionList()),
  name: o(str()),
  nextSchedule: o(str()),
});
export type SessionStatus = Static<typeof SessionStatus>;

const backupInvokerStatusProperties = () => ({
  backends: o(Type.Array(BackendStatus)),
  conditions: o(conditionList()),
  dependencies: o(Type.Array(ResourceFoundStatus)),
  phase: o(stringEnum(backupInvokerPhaseValues)),
  repositories: o(Type.Array(RepositoryState)),
  sessions: o(Type.Array(SessionStatus)),
});

export const BackupConfigurationStatus = Type.Object({
  ...backupInvokerStatusProperties(),
  targetFound: o(Type.Boolean()),
});
export type BackupConfigurationStatus = Static<typeof BackupConfigurationStatus>;

export const BackupConfigurationSchema = kindObject(BackupConfigurationSpec, BackupConfigurationStatus);
export type BackupConfiguration = Static<typeof BackupConfigurationSchema>;

// ---- BackupBlueprint ----------------------------------------------------------------------------------

export const BackupConfigurationTemplate = Type.Object({
  backends: o(Type.Array(BackendReference)),
  deletionPolicy: o(stringEnum(['OnDelete'] as const)),
  namespace: o(str()),
  sessions: o(Type.Array(Session)),
});
export type BackupConfigurationTemplate = Static<typeof BackupConfigurationTemplate>;

export const ResourceKind = Type.Object({ apiVersion: o(str()), kind: o(str()) });

export const BackupBlueprintSpec = Type.Object({
  backupConfigurationTemplate: o(BackupConfigurationTemplate),
  subjects: o(Type.Array(ResourceKind)),
  usagePolicy: o(UsagePolicy),
});
export type BackupBlueprintSpec = Static<typeof BackupBlueprintSpec>;

export const BackupBlueprintSchema = kindObject(BackupBlueprintSpec);
export type BackupBlueprint = Static<typeof BackupBlueprintSchema>;

// ---- BackupSession ------------------------------------------------------------------------------------

export const backupSessionPhaseValues = ['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped'] as const;
export type BackupSessionPhase = (typeof backupSessionPhaseValues)[number];

export const BackupSessionSpec = Type.Object({
  backupTimeout: o(str()),
  invoker: o(TypedLocalObjectReference),
  retryLeft: o(int32()),
  session: o(str()),
});
export type BackupSessionSpec = Static<typeof BackupSessionSpec>;

export const SnapshotStatusEntry = Type.Object({
  appRef: o(TypedObjectReference),
  name: o(str()),
  phase: o(stringEnum(workPhaseValues)),
  repository: o(str()),
});

export const RetentionPolicyApplyStatus = Type.Object({
  error: o(str()),
  phase: o(stringEnum(['Pending', 'Applied', 'FailedToApply'] as const)),
  ref: o(ObjectReference),
  repository: o(str()),
});

export const BackupSessionStatus = Type.Object({
  backupDeadline: o(dateTime()),
  conditions: o(conditionList()),
  duration: o(str()),
  hooks: o(HookStatus),
  nextRetry: o(dateTime()),
  phase: o(stringEnum(backupSessionPhaseValues)),
  retentionPolicy: o(Type.Array(RetentionPolicyApplyStatus)),
  retried: o(Type.Boolean()),
  snapshots: o(Type.Array(SnapshotStatusEntry)),
  totalSnapshots: o(int32()),
});
export type BackupSessionStatus = Static<typeof BackupSessionStatus>;

export const BackupSessionSchema = kindObject(BackupSessionSpec, BackupSessionStatus);
export type BackupSession = Static<typeof BackupSessionSchema>;

// ---- RestoreSession -----------------------------------------------------------------------------------

export const restorePhaseValues = ['Pending', 'Running', 'Failed', 'Succeeded', 'Invalid', 'Unknown'] as const;
export type RestorePhase = (typeof restorePhaseValues)[number];

export const RestoreDataSource = Type.Object({
  components: o(Type.Array(str())),
  encryptionSecret: o(ObjectReference),
  namespace: o(str()),
  pitr: o(Type.Object({ exclusive: o(Type.Boolean()), targetTime: o(dateTime()) })),
  repository: o(str()),
  snapshot: o(str()),
});
export type RestoreDataSource = Static<typeof RestoreDataSource>;

const tlsIssuerRef = () => TypedLocalObjectReference;

/** What a KubeDB restore recreates; booleans default as in the CRD. */
const kubeDBManifestOptions = (withConfigSecret: boolean) =>
  Type.Object({
    archiver: o(Type.Boolean({ default: false })),
    archiverRef: o(ObjectReference),
    authSecret: o(Type.Boolean({ default: true })),
    authSecretName: o(str()),
    ...(withConfigSecret
      ? { configSecret: o(Type.Boolean({ default: true })), configSecretName: o(str()) }
      : {}),
    db: o(Type.Boolean({ default: true })),
    dbName: o(str()),
    initScript: o(Type.Boolean({ default: true })),
    restoreNamespace: o(str()),
    tlsIssuerRef: o(tlsIssuerRef()),
  });

export const ManifestRestoreOptions = Type.Object({
  clickhouse: o(kubeDBManifestOptions(true)),
  druid: o(
    Type.Object({
      authSecret: o(Type.Boolean({ default: true })),
      authSecretName: o(str()),
      configSecret: o(Type.Boolean({ default: true })),
      configSecretName: o(str()),
      db: o(Type.Boolean({ default: true })),
      dbName: o(str()),
      deepStorageSecret: o(Type.Boolean({ default: true })),
      restoreNamespace: o(str()),
    }),
  ),
  mariaDB: o(kubeDBManifestOptions(true)),
  mongoDB: o(kubeDBManifestOptions(true)),
  msSQLServer: o(kubeDBManifestOptions(false)),
  mySQL: o(kubeDBManifestOptions(true)),
  postgres: o(kubeDBManifestOptions(true)),
  redis: o(kubeDBManifestOptions(true)),
  redisSentinel: o(
    Type.Object({
      SentinelName: o(str()),
      authSecret: o(Type.Boolean({ default: true })),
      authSecretName: o(str()),
      restoreNamespace: o(str()),
      sentinel: o(Type.Boolean({ default: true })),
      tlsIssuerRef: o(tlsIssuerRef()),
    }),
  ),
  singlestore: o(kubeDBManifestOptions(true)),
  workload: o(Type.Object({ restoreNamespace: o(str()) })),
  zooKeeper: o(kubeDBManifestOptions(true)),
});
export type ManifestRestoreOptions = Static<typeof ManifestRestoreOptions>;

export const RestoreSessionSpec = Type.Object({
  addon: o(AddonInfo),
  dataSource: o(RestoreDataSource),
  hooks: o(RestoreHooks),
  manifestOptions: o(ManifestRestoreOptions),
  restoreTimeout: o(str()),
  target: o(TypedObjectReference),
});
export type RestoreSessionSpec = Static<typeof RestoreSessionSpec>;

export const ComponentRestoreStatus = Type.Object({
  duration: o(str()),
  error: o(str()),
  phase: o(stringEnum(restorePhaseValues)),
  progress: o(
    Type.Object({
      filesDone: o(int64()),
      percentDone: o(str()),
      restoreDone: o(str()),
      secondsElapsed: o(int64()),
      speed: o(str()),
      total: o(str()),
      totalFiles: o(int64()),
    }),
  ),
});
export type ComponentRestoreStatus = Static<typeof ComponentRestoreStatus>;

export const manifestRestoreResultValues = ['Updated', 'Skipped', 'Failed'] as const;
export type ManifestRestoreResultValue = (typeof manifestRestoreResultValues)[number];

/** Most objects listed in ManifestRestoreStatus.resources: thousands of objects must not outgrow the object size. */
export const MANIFEST_RESTORE_LISTED_MAX = 50;

/** One object a manifest restore did not simply create. */
export const ManifestRestoreResource = Type.Object({
  apiGroup: o(str()),
  kind: str(),
  namespace: o(str()),
  name: str(),
  result: stringEnum(manifestRestoreResultValues),
  reason: o(str()),
});
export type ManifestRestoreResource = Static<typeof ManifestRestoreResource>;

/**
 * autostash extension: what a kubedump manifest restore did, object by object, in counts, with the objects
 * not simply created listed (failures first, at most MANIFEST_RESTORE_LISTED_MAX; `unlisted` counts the rest).
 */
export const ManifestRestoreStatus = Type.Object(
  {
    total: o(int32()),
    created: o(int32()),
    updated: o(int32()),
    skipped: o(int32()),
    failed: o(int32()),
    /** Files of the dump the filters (or RestorePVs, or non-restorable kinds) left out. */
    excluded: o(int32()),
    resources: o(Type.Array(ManifestRestoreResource, { maxItems: MANIFEST_RESTORE_LISTED_MAX })),
    unlisted: o(int32()),
  },
  { [AUTOSTASH_EXTENSION_MARKER]: 'per-object results of a kubedump manifest restore' },
);
export type ManifestRestoreStatus = Static<typeof ManifestRestoreStatus>;

export const RestoreSessionStatus = Type.Object({
  components: o(mapOf(ComponentRestoreStatus, { 'x-kubernetes-map-type': 'granular' })),
  conditions: o(conditionList()),
  dependencies: o(Type.Array(ResourceFoundStatus)),
  duration: o(str()),
  hooks: o(HookStatus),
  manifestRestore: o(ManifestRestoreStatus),
  pausedBackups: o(Type.Array(TypedObjectReference)),
  phase: o(stringEnum(restorePhaseValues)),
  restoreDeadline: o(dateTime()),
  targetFound: o(Type.Boolean()),
  totalComponents: o(int32()),
});
export type RestoreSessionStatus = Static<typeof RestoreSessionStatus>;

export const RestoreSessionSchema = kindObject(RestoreSessionSpec, RestoreSessionStatus);
export type RestoreSession = Static<typeof RestoreSessionSchema>;

// ---- HookTemplate -------------------------------------------------------------------------------------

const HTTPHeader = Type.Object({ name: str(), value: str() });

/** kmodules prober.Handler: what a hook does. */
export const HookAction = Type.Object({
  containerName: o(str()),
  exec: o(Type.Object({ command: o(Type.Array(str(), { 'x-kubernetes-list-type': 'atomic' })) })),
  httpGet: o(
    Type.Object({
      host: o(str()),
      httpHeaders: o(Type.Array(HTTPHeader, { 'x-kubernetes-list-type': 'atomic' })),
      path: o(str()),
      port: intOrString(),
      scheme: o(str()),
    }),
  ),
  httpPost: o(
    Type.Object({
      body: o(str()),
      form: o(Type.Array(Type.Object({ key: o(str()), values: o(Type.Array(str())) }))),
      host: o(str()),
      httpHeaders: o(Type.Array(HTTPHeader)),
      path: o(str()),
      port: intOrString(),
      scheme: o(str()),
    }),
  ),
  tcpSocket: o(Type.Object({ host: o(str()), port: intOrString() })),
});
export type HookAction = Static<typeof HookAction>;

export const hookExecutorTypeValues = ['Function', 'Pod', 'Operator'] as const;
export type HookExecutorType = (typeof hookExecutorTypeValues)[number];
export const podHookExecutionStrategyValues = ['ExecuteOnOne', 'ExecuteOnAll'] as const;

/** metav1.OwnerReference, written out because hook pod selection reads it. */
export const OwnerReference = Type.Object(
  {
    apiVersion: str(),
    blockOwnerDeletion: o(Type.Boolean()),
    controller: o(Type.Boolean()),
    kind: str(),
    name: str(),
    uid: str(),
  },
  { 'x-kubernetes-map-type': 'atomic' },
);
export type OwnerReference = Static<typeof OwnerReference>;

export const HookExecutor = Type.Object({
  function: o(
    Type.Object({
      env: o(envVarList()),
      name: o(str()),
      volumeMounts: o(volumeMountList()),
      volumes: o(volumeList()),
    }),
  ),
  pod: o(
    Type.Object({
      owner: o(OwnerReference),
      selector: o(str()),
      strategy: o(stringEnum(podHookExecutionStrategyValues, { default: 'ExecuteOnOne' })),
    }),
  ),
  type: o(stringEnum(hookExecutorTypeValues)),
});
export type HookExecutor = Static<typeof HookExecutor>;

export const HookTemplateSpec = Type.Object({
  action: o(HookAction),
  executor: o(HookExecutor),
  params: o(Type.Array(ParameterDefinition)),
  usagePolicy: o(UsagePolicy),
});
export type HookTemplateSpec = Static<typeof HookTemplateSpec>;

export const HookTemplateSchema = kindObject(HookTemplateSpec);
export type HookTemplate = Static<typeof HookTemplateSchema>;

// ---- BackupBatch --------------------------------------------------------------------------------------

export const BatchTargetReference = Type.Object({ appRef: o(TypedObjectReference), name: o(str()) });
export type BatchTargetReference = Static<typeof BatchTargetReference>;

export const BatchTargetSession = Type.Object({
  addon: o(AddonInfo),
  name: o(str()),
  repositories: o(Type.Array(RepositoryInfo)),
});
export type BatchTargetSession = Static<typeof BatchTargetSession>;

export const BatchSession = Type.Object({
  ...sessionConfigProperties(),
  targets: o(Type.Array(BatchTargetSession)),
});
export type BatchSession = Static<typeof BatchSession>;

export const BackupBatchSpec = Type.Object({
  backends: o(Type.Array(BackendReference)),
  paused: o(Type.Boolean()),
  sessions: o(Type.Array(BatchSession)),
  targets: o(Type.Array(BatchTargetReference)),
});
export type BackupBatchSpec = Static<typeof BackupBatchSpec>;

export const BackupBatchStatus = Type.Object({
  ...backupInvokerStatusProperties(),
  targets: o(Type.Array(ResourceFoundStatus)),
});
export type BackupBatchStatus = Static<typeof BackupBatchStatus>;

export const BackupBatchSchema = kindObject(BackupBatchSpec, BackupBatchStatus);
export type BackupBatch = Static<typeof BackupBatchSchema>;

// ---- BackupVerifier -----------------------------------------------------------------------------------

export const verificationTypeValues = ['RestoreOnly', 'Query', 'Script'] as const;

export const BackupVerifierSpec = Type.Object({
  function: o(str()),
  query: o(freeFormObject()),
  restoreOption: o(Type.Object({ addonInfo: o(AddonInfo), target: o(TypedObjectReference) })),
  retryConfig: o(RetryConfig),
  runtimeSettings: o(RuntimeSettings),
  scheduler: o(SchedulerSpec),
  script: o(Type.Object({ args: o(Type.Array(str())), location: o(str()) })),
  sessionHistoryLimit: o(int32({ default: 1 })),
  type: o(stringEnum(verificationTypeValues)),
  volumeMounts: o(volumeMountList()),
  volumes: o(volumeList()),
});
export type BackupVerifierSpec = Static<typeof BackupVerifierSpec>;

export const BackupVerifierSchema = kindObject(BackupVerifierSpec);
export type BackupVerifier = Static<typeof BackupVerifierSchema>;

// ---- BackupVerificationSession ------------------------------------------------------------------------

export const verificationSessionPhaseValues = ['Running', 'Succeeded', 'Failed', 'Skipped'] as const;

export const BackupVerificationSessionSpec = Type.Object({
  invoker: o(TypedLocalObjectReference),
  repository: o(str()),
  retryLeft: o(int32()),
  session: o(str()),
  snapshot: o(str()),
});
export type BackupVerificationSessionSpec = Static<typeof BackupVerificationSessionSpec>;

export const BackupVerificationSessionStatus = Type.Object({
  conditions: o(conditionList()),
  duration: o(str()),
  phase: o(stringEnum(verificationSessionPhaseValues)),
  retried: o(Type.Boolean()),
});
export type BackupVerificationSessionStatus = Static<typeof BackupVerificationSessionStatus>;

export const BackupVerificationSessionSchema = kindObject(BackupVerificationSessionSpec, BackupVerificationSessionStatus);
export type BackupVerificationSession = Static<typeof BackupVerificationSessionSchema>;


/**
 * The KubeStash API as TypeScript types, schemas, the kind registry, CRD rendering and schema validation.
 * Everything here is pure.
 */
export type {
  AllowedNamespaces,
  BackupConfigDeletionPolicy,
  Condition,
  DeletionPolicy,
  Driver,
  HookPhase,
  HookStatus,
  NamespaceFrom,
  ObjectReference,
  ParameterDefinition,
  ResourceFoundStatus,
  TypedLocalObjectReference,
  TypedObjectReference,
  UsagePolicy,
  VolumeSource,
  WorkPhase,
} from './common.js';
export {
  backupConfigDeletionPolicyValues,
  deletionPolicyValues,
  driverValues,
  hookPhaseValues,
  namespaceFromValues,
  workPhaseValues,
} from './common.js';

export type {
  ContainerRuntimeSettings,
  CoreObject,
  EnvVar,
  LabelSelector,
  LabelSelectorRequirement,
  LocalObjectReference,
  OffshootPodSpec,
  PodRuntimeSettings,
  PodTemplateSpec,
  RuntimeSettings,
  Volume,
  VolumeMount,
} from './kubernetes.js';
export { isKubernetesCoreType, KUBERNETES_CORE_TYPE_MARKER } from './kubernetes.js';

export type {
  AzureSpec,
  Backend,
  BackupStorage,
  BackupStorageRepositoryStatus,
  BackupStorageSpec,
  BackupStorageStatus,
  FailedSnapshotsKeepPolicy,
  GCSSpec,
  LocalSpec,
  Repository,
  RepositoryPhase,
  RepositorySpec,
  RepositoryStatus,
  RetentionPolicy,
  RetentionPolicySpec,
  S3Spec,
  Snapshot,
  SnapshotComponent,
  SnapshotInfo,
  SnapshotSpec,
  SnapshotStatus,
  StorageProvider,
  SuccessfulSnapshotsKeepPolicy,
} from './storage.js';
export {
  repositoryPhaseValues,
  snapshotTypeValues,
  storageProviderValues,
  verificationStatusValues,
} from './storage.js';

export type {
  AddonInfo,
  AddonVolumeInfo,
  BackendReference,
  BackendStatus,
  BackupBatch,
  BackupBatchSpec,
  BackupBatchStatus,
  BackupBlueprint,
  BackupBlueprintSpec,
  BackupConfiguration,
  BackupConfigurationSpec,
  BackupConfigurationStatus,
  BackupConfigurationTemplate,
  BackupHooks,
  BackupInvokerPhase,
  BackupSession,
  BackupSessionPhase,
  BackupSessionSpec,
  BackupSessionStatus,
  BackupVerificationSession,
  BackupVerificationSessionSpec,
  BackupVerificationSessionStatus,
  BackupVerifier,
  BackupVerifierSpec,
  BatchSession,
  BatchTargetReference,
  BatchTargetSession,
  ComponentRestoreStatus,
  HookAction,
  HookExecutionPolicy,
  HookExecutor,
  HookExecutorType,
  HookInfo,
  HookTemplate,
  HookTemplateSpec,
  JobTemplate,
  ManifestRestoreOptions,
  ManifestRestoreResource,
  ManifestRestoreStatus,
  OwnerReference,
  RepositoryInfo,
  RepositoryState,
  RestoreDataSource,
  RestoreHooks,
  RestorePhase,
  RestoreSession,
  RestoreSessionSpec,
  RestoreSessionStatus,
  RetryConfig,
  SchedulerSpec,
  Session,
  SessionConfig,
  SessionStatus,
  TargetVolumeInfo,
  TaskReference,
} from './core.js';
export {
  backupInvokerPhaseValues,
  backupSessionPhaseValues,
  concurrencyPolicyValues,
  hookExecutionPolicyValues,
  hookExecutorTypeValues,
  podHookExecutionStrategyValues,
  restorePhaseValues,
  verificationSessionPhaseValues,
  verificationTypeValues,
} from './core.js';

export type { Addon, AddonFunction, AddonSpec, AddonTask, FunctionSpec, TaskExecutor, VolumeTemplate } from './addons.js';
export { taskExecutorValues } from './addons.js';

export { AddonSchema, FunctionSchema } from './addons.js';
export {
  BackupBatchSchema,
  BackupBlueprintSchema,
  BackupConfigurationSchema,
  BackupSessionSchema,
  BackupVerificationSessionSchema,
  BackupVerifierSchema,
  HookTemplateSchema,
  RestoreSessionSchema,
} from './core.js';
export { BackupStorageSchema, RepositorySchema, RetentionPolicySchema, SnapshotSchema } from './storage.js';

export type { KindInfo, PrinterColumn } from './kinds.js';
export {
  ADDONS_GROUP,
  apiVersionOf,
  CORE_GROUP,
  kindByApiVersion,
  kindByGroupKind,
  kinds,
  KUBESTASH_VERSION,
  STORAGE_GROUP,
} from './kinds.js';
export { allKinds, crdFileName, crdFor, renderCrdFiles, toCrdSchema } from './crd.js';
export type { BackupPolicy, BackupPolicySpec, BackupPolicyStatus, PolicyAction, PolicyRuleName, ViolatingObject } from './autostash/backup-policy.js';
export { BackupPolicySchema, policyActionValues, policyRuleNames } from './autostash/backup-policy.js';
export { autostashKindByApiVersion, autostashKindByGroupKind, autostashKinds, POLICY_GROUP, POLICY_VERSION } from './autostash/kinds.js';
export type { SchemaCheck } from './schema-validator.js';
export { applySchemaDefaults, applySchemaDefaultsInPlace, validateAgainstSchema } from './schema-validator.js';

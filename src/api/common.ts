/**
 * Types shared by several KubeStash kinds: references, usage policies, conditions and shared enums
 * (SPEC §0, §2).
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  coreVolumeSourceProperties,
  kubernetesCoreType,
  labelSelector,
} from './kubernetes.js';
import { dateTime, int64, stringEnum } from './schema-builders.js';

const o = Type.Optional;

/** `{name, namespace?}`: a reference to an object of a kind fixed by the field. */
export const ObjectReference = Type.Object({ name: Type.String(), namespace: o(Type.String()) });
export type ObjectReference = Static<typeof ObjectReference>;

/** `{apiGroup?, kind?, name, namespace?}`: a reference to an object of any kind. */
export const TypedObjectReference = Type.Object({
  apiGroup: o(Type.String()),
  kind: o(Type.String()),
  name: Type.String(),
  namespace: o(Type.String()),
});
export type TypedObjectReference = Static<typeof TypedObjectReference>;

/** corev1.TypedLocalObjectReference (the BackupSession invoker): kind and name in the same namespace. */
export const TypedLocalObjectReference = Type.Object(
  { apiGroup: o(Type.String()), kind: Type.String(), name: Type.String() },
  { 'x-kubernetes-map-type': 'atomic' },
);
export type TypedLocalObjectReference = Static<typeof TypedLocalObjectReference>;

/** kmodules Condition. */
export const Condition = Type.Object({
  lastTransitionTime: dateTime(),
  message: o(Type.String()),
  observedGeneration: o(int64()),
  reason: o(Type.String()),
  severity: o(Type.String()),
  status: Type.String(),
  type: Type.String(),
});
export type Condition = Static<typeof Condition>;
export const conditionList = () => Type.Array(Condition);

export const namespaceFromValues = ['All', 'Selector', 'Same'] as const;
export type NamespaceFrom = (typeof namespaceFromValues)[number];

/** Which namespaces may use an object (BackupStorage, RetentionPolicy, BackupBlueprint, HookTemplate). */
export const UsagePolicy = Type.Object({
  allowedNamespaces: o(
    Type.Object({
      from: o(stringEnum(namespaceFromValues, { default: 'Same' })),
      selector: o(labelSelector()),
    }),
  ),
});
export type UsagePolicy = Static<typeof UsagePolicy>;
export type AllowedNamespaces = NonNullable<UsagePolicy['allowedNamespaces']>;

/** Storage-level deletion policy (BackupStorage, Repository, Snapshot). */
export const deletionPolicyValues = ['Delete', 'WipeOut'] as const;
export type DeletionPolicy = (typeof deletionPolicyValues)[number];

/** Per-repository deletion policy in a BackupConfiguration. */
export const backupConfigDeletionPolicyValues = ['Delete', 'WipeOut', 'Retain'] as const;
export type BackupConfigDeletionPolicy = (typeof backupConfigDeletionPolicyValues)[number];

export const driverValues = [
  'Restic', 'WalG', 'VolumeSnapshotter', 'Solr', 'Medusa', 'ClickHouseBackup', 'Neo4jAdmin',
] as const;
export type Driver = (typeof driverValues)[number];

/** Phase of a unit of work (snapshot, component). */
export const workPhaseValues = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type WorkPhase = (typeof workPhaseValues)[number];

/** A parameter an Addon task or a HookTemplate declares. */
export const ParameterDefinition = Type.Object({
  default: o(Type.String()),
  name: o(Type.String()),
  required: o(Type.Boolean()),
  usage: o(Type.String()),
});
export type ParameterDefinition = Static<typeof ParameterDefinition>;

/** KubeStash VolumeSource: a corev1.VolumeSource plus a PVC template. */
export const VolumeSource = Type.Object({
  ...coreVolumeSourceProperties(),
  volumeClaimTemplate: o(kubernetesCoreType('PersistentVolumeClaimTemplate')),
});
export type VolumeSource = Static<typeof VolumeSource>;

/** Status of an object another object depends on (Addon, target, ...). */
export const ResourceFoundStatus = Type.Object({
  apiGroup: o(Type.String()),
  found: o(Type.Boolean()),
  kind: o(Type.String()),
  name: Type.String(),
  namespace: o(Type.String()),
});
export type ResourceFoundStatus = Static<typeof ResourceFoundStatus>;

export const hookPhaseValues = ['Succeeded', 'Failed', 'Pending'] as const;
export type HookPhase = (typeof hookPhaseValues)[number];

const HookExecutionStatus = Type.Object({
  name: o(Type.String()),
  phase: o(stringEnum(hookPhaseValues)),
});
/** Outcome of the hooks of a session. */
export const HookStatus = Type.Object({
  postHooks: o(Type.Array(HookExecutionStatus)),
  preHooks: o(Type.Array(HookExecutionStatus)),
});
export type HookStatus = Static<typeof HookStatus>;

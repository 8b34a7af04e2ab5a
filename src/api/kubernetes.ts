/**
 * Kubernetes types embedded in KubeStash objects.
 *
 * Core types (corev1/metav1: volumes, probes, affinity, security contexts, ...) are declared through
 * `kubernetesCoreType()` only: an open object (`x-kubernetes-preserve-unknown-fields`) tagged with
 * `KUBERNETES_CORE_TYPE_MARKER` so the CRD emitter can strip the tag and the parity test can tell a
 * deliberate stopping point from a mistake. See docs/decisions/0002-kubernetes-core-types-in-schemas.md.
 *
 * The kmodules "offshoot" wrappers KubeStash uses around them (RuntimeSettings, PodTemplateSpec with its
 * trimmed PodSpec) are spelled out strictly here, because their field set is KubeStash's choice.
 */
import { Type, type SchemaOptions, type Static, type TOptional, type TUnsafe } from '@sinclair/typebox';
import { int32, int64, stringMap } from './schema-builders.js';

/** Schema key that marks a node as a declared Kubernetes core type; never emitted into a CRD. */
export const KUBERNETES_CORE_TYPE_MARKER = 'x-autostash-kubernetes-core-type';

/** Names of the Kubernetes core types we embed (for the marker and the decision record). */
export type KubernetesCoreTypeName =
  | 'Affinity'
  | 'Container'
  | 'EnvFromSource'
  | 'EnvVar'
  | 'LabelSelector'
  | 'Lifecycle'
  | 'LocalObjectReference'
  | 'PersistentVolumeClaim'
  | 'PersistentVolumeClaimTemplate'
  | 'PodDNSConfig'
  | 'PodReadinessGate'
  | 'PodSecurityContext'
  | 'Probe'
  | 'ResourceRequirements'
  | 'SecurityContext'
  | 'Toleration'
  | 'TopologySpreadConstraint'
  | 'Volume'
  | 'VolumeDevice'
  | 'VolumeMount'
  | 'ContainerPort'
  | `VolumeSource.${string}`;

/** Loose TS shape of an embedded core object: known keys typed where our code reads them, the rest open. */
export type CoreObject = Record<string, unknown>;

/**
 * An embedded Kubernetes core type, kept open (`x-kubernetes-preserve-unknown-fields: true`) and marked.
 * The static type defaults to an open record; pass a narrower interface where our code reads fields.
 */
export function kubernetesCoreType<T = CoreObject>(name: KubernetesCoreTypeName): TUnsafe<T> {
  return Type.Unsafe<T>({
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    [KUBERNETES_CORE_TYPE_MARKER]: name,
  });
}

/** A list of an embedded core type; `listOptions` carries list-level flags such as `x-kubernetes-list-type`. */
export function kubernetesCoreList<T = CoreObject>(name: KubernetesCoreTypeName, listOptions: SchemaOptions = {}) {
  return Type.Array(kubernetesCoreType<T>(name), listOptions);
}

/** True when a schema node was declared with `kubernetesCoreType()`. */
export function isKubernetesCoreType(node: unknown): boolean {
  return typeof node === 'object' && node !== null && KUBERNETES_CORE_TYPE_MARKER in node;
}

// ---- the few core shapes our own code reads -------------------------------------------------------------

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: CoreObject;
  [field: string]: unknown;
}
export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
  [field: string]: unknown;
}
export interface Volume {
  name: string;
  [source: string]: unknown;
}
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}
export interface LocalObjectReference {
  name?: string;
}

const o = Type.Optional;

export const envVarList = () => kubernetesCoreList<EnvVar>('EnvVar');
export const volumeList = () => kubernetesCoreList<Volume>('Volume');
export const volumeMountList = () => kubernetesCoreList<VolumeMount>('VolumeMount');
export const labelSelector = () => kubernetesCoreType<LabelSelector>('LabelSelector');
const topologySpreadConstraints = () =>
  kubernetesCoreList('TopologySpreadConstraint', {
    'x-kubernetes-list-map-keys': ['topologyKey', 'whenUnsatisfiable'],
    'x-kubernetes-list-type': 'map',
  });

/** The inline members of corev1.VolumeSource, each an open core type. */
const coreVolumeSourceNames = [
  'awsElasticBlockStore', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'configMap', 'csi', 'downwardAPI',
  'emptyDir', 'ephemeral', 'fc', 'flexVolume', 'flocker', 'gcePersistentDisk', 'glusterfs', 'hostPath', 'iscsi',
  'nfs', 'persistentVolumeClaim', 'photonPersistentDisk', 'portworxVolume', 'projected', 'quobyte', 'rbd',
  'scaleIO', 'secret', 'storageos', 'vsphereVolume',
] as const;
export type CoreVolumeSourceName = (typeof coreVolumeSourceNames)[number];

/** Properties of corev1.VolumeSource, to be spread into a KubeStash structure that inlines it. */
export function coreVolumeSourceProperties() {
  const properties = {} as Record<CoreVolumeSourceName, TOptional<TUnsafe<CoreObject>>>;
  for (const name of coreVolumeSourceNames) properties[name] = o(kubernetesCoreType(`VolumeSource.${name}`));
  return properties;
}

/** kmodules ofst.ContainerRuntimeSettings. */
export const ContainerRuntimeSettings = Type.Object({
  env: o(envVarList()),
  envFrom: o(kubernetesCoreList('EnvFromSource')),
  ionice: o(Type.Object({ class: o(int32()), classData: o(int32()) })),
  lifecycle: o(kubernetesCoreType('Lifecycle')),
  livenessProbe: o(kubernetesCoreType('Probe')),
  nice: o(Type.Object({ adjustment: o(int32()) })),
  readinessProbe: o(kubernetesCoreType('Probe')),
  resources: o(kubernetesCoreType('ResourceRequirements')),
  securityContext: o(kubernetesCoreType('SecurityContext')),
});
export type ContainerRuntimeSettings = Static<typeof ContainerRuntimeSettings>;

/** kmodules ofst.PodRuntimeSettings. */
export const PodRuntimeSettings = Type.Object({
  affinity: o(kubernetesCoreType('Affinity')),
  automountServiceAccountToken: o(Type.Boolean()),
  enableServiceLinks: o(Type.Boolean()),
  imagePullSecrets: o(kubernetesCoreList<LocalObjectReference>('LocalObjectReference')),
  nodeName: o(Type.String()),
  nodeSelector: o(stringMap()),
  podAnnotations: o(stringMap()),
  podLabels: o(stringMap()),
  priority: o(int32()),
  priorityClassName: o(Type.String()),
  readinessGates: o(kubernetesCoreList('PodReadinessGate')),
  runtimeClassName: o(Type.String()),
  schedulerName: o(Type.String()),
  securityContext: o(kubernetesCoreType('PodSecurityContext')),
  serviceAccountAnnotations: o(stringMap()),
  serviceAccountName: o(Type.String()),
  tolerations: o(kubernetesCoreList('Toleration')),
  topologySpreadConstraints: o(topologySpreadConstraints()),
});
export type PodRuntimeSettings = Static<typeof PodRuntimeSettings>;

/** kmodules ofst.RuntimeSettings: settings for the container and the pod KubeStash creates. */
export const RuntimeSettings = Type.Object({
  container: o(ContainerRuntimeSettings),
  pod: o(PodRuntimeSettings),
});
export type RuntimeSettings = Static<typeof RuntimeSettings>;

const LabelsAndAnnotations = () => Type.Object({ annotations: o(stringMap()), labels: o(stringMap()) });

/** kmodules ofst.PodSpec: the subset of a PodSpec (plus container settings) KubeStash lets users set for its jobs. */
export const OffshootPodSpec = Type.Object({
  affinity: o(kubernetesCoreType('Affinity')),
  args: o(Type.Array(Type.String())),
  containerSecurityContext: o(kubernetesCoreType('SecurityContext')),
  dnsConfig: o(kubernetesCoreType('PodDNSConfig')),
  dnsPolicy: o(Type.String()),
  enableServiceLinks: o(Type.Boolean()),
  env: o(envVarList()),
  hostIPC: o(Type.Boolean()),
  hostNetwork: o(Type.Boolean()),
  hostPID: o(Type.Boolean()),
  imagePullSecrets: o(kubernetesCoreList<LocalObjectReference>('LocalObjectReference')),
  initContainers: o(kubernetesCoreList('Container')),
  lifecycle: o(kubernetesCoreType('Lifecycle')),
  livenessProbe: o(kubernetesCoreType('Probe')),
  nodeSelector: o(stringMap({ 'x-kubernetes-map-type': 'atomic' })),
  podPlacementPolicy: o(
    Type.Object({ name: o(Type.String({ default: '' })) }, { 'x-kubernetes-map-type': 'atomic' }),
  ),
  priority: o(int32()),
  priorityClassName: o(Type.String()),
  readinessProbe: o(kubernetesCoreType('Probe')),
  resources: o(kubernetesCoreType('ResourceRequirements')),
  runtimeClassName: o(Type.String()),
  schedulerName: o(Type.String()),
  securityContext: o(kubernetesCoreType('PodSecurityContext')),
  serviceAccountName: o(Type.String()),
  shareProcessNamespace: o(Type.Boolean()),
  terminationGracePeriodSeconds: o(int64()),
  tolerations: o(kubernetesCoreList('Toleration')),
  topologySpreadConstraints: o(topologySpreadConstraints()),
  volumeMounts: o(volumeMountList()),
  volumes: o(volumeList()),
});
export type OffshootPodSpec = Static<typeof OffshootPodSpec>;

/** kmodules ofst.PodTemplateSpec: labels/annotations for the pod and its controller, plus the pod settings. */
export const PodTemplateSpec = Type.Object({
  controller: o(LabelsAndAnnotations()),
  metadata: o(LabelsAndAnnotations()),
  spec: o(OffshootPodSpec),
});
export type PodTemplateSpec = Static<typeof PodTemplateSpec>;

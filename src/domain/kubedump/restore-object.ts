/**
 * One dumped object made ready for the API server at restore (SPEC §11): placed in the namespace it is restored
 * into, storage classes mapped, and the fields the API server assigns removed (a create that carries them is
 * refused or, worse, collides: a Service's clusterIP, a volume's claim uid). For an update (OverrideResources)
 * the live object's resourceVersion and the fields it was given at creation and cannot change are kept.
 */
import type { KubeObject } from '../kube-object.js';
import { asArray, asObject, asString, type JsonObject } from '../json-access.js';
import type { PlannedObject } from './restore-plan.js';

/** Metadata only the API server sets; a dump from another tool (or an older sanitizer) may still carry them. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'generation', 'managedFields'];

/** The legacy storage class annotation claims may carry instead of spec.storageClassName. */
export const LEGACY_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const isKind = (object: KubeObject, group: string, kind: string): boolean =>
  object.kind === kind && (object.apiVersion ?? '').split('/').slice(0, -1).join('/') === group;

function mapStorageClass(spec: JsonObject | undefined, mappings: Readonly<Record<string, string>>): void {
  const current = asString(spec?.storageClassName);
  if (spec !== undefined && current !== '' && Object.prototype.hasOwnProperty.call(mappings, current)) spec.storageClassName = mappings[current];
}

function mapAnnotation(object: KubeObject, mappings: Readonly<Record<string, string>>): void {
  const annotations = object.metadata?.annotations;
  const current = annotations?.[LEGACY_STORAGE_CLASS_ANNOTATION];
  if (annotations !== undefined && current !== undefined && Object.prototype.hasOwnProperty.call(mappings, current)) {
    annotations[LEGACY_STORAGE_CLASS_ANNOTATION] = mappings[current] as string;
  }
}

/**
 * Labels the API server writes into a Job's generated selector and pod template, valued with that Job's uid.
 * A recreated Job has a new uid, and the API server refuses a Job whose selector names another uid unless
 * spec.manualSelector is true, so a dumped Job could never be restored with them.
 */
export const JOB_UID_LABELS: readonly string[] = ['controller-uid', 'batch.kubernetes.io/controller-uid'];

/** Drops the generated (uid) parts of a Job's selector and pod template labels; the API server generates them anew. */
function dropGeneratedJobSelector(spec: JsonObject): void {
  const selector = asObject(spec.selector);
  const matchLabels = asObject(selector?.matchLabels);
  if (matchLabels !== undefined) for (const label of JOB_UID_LABELS) delete matchLabels[label];
  if (selector !== undefined && Object.keys(matchLabels ?? {}).length === 0 && asArray(selector.matchExpressions).length === 0) delete spec.selector;
  const labels = asObject(asObject(asObject(spec.template)?.metadata)?.labels);
  if (labels !== undefined) for (const label of JOB_UID_LABELS) delete labels[label];
}

export interface PrepareOptions {
  storageClassMappings: Readonly<Record<string, string>>;
  /** Where namespaced objects go when it differs from where they were dumped. */
  restoreNamespace?: string;
  /** Namespaces the objects were dumped from; references to them (RoleBinding subjects, a volume's claim) follow restoreNamespace. */
  sourceNamespaces?: readonly string[];
}

/**
 * A deep copy of `object` fit to create as `planned` says: namespace and name as planned (cluster-scoped
 * objects lose any namespace), server-set metadata and ownerReferences removed (owner-links re-adds them),
 * storage classes mapped on PersistentVolumeClaims (spec and legacy annotation), PersistentVolumes and
 * StatefulSet volumeClaimTemplates, a Service's allocated clusterIP(s) dropped (a headless `None` stays), a
 * PersistentVolume's claimRef reduced to namespace and name so the restored claim can bind it, a Job's generated
 * selector and uid labels dropped (JOB_UID_LABELS; not with spec.manualSelector), and with
 * restoreNamespace the namespace of RoleBinding subjects and of a claimRef that named a dumped namespace.
 */
export function prepareForCreate(object: KubeObject, planned: PlannedObject, options: PrepareOptions): KubeObject {
  const copy = structuredClone(object);
  const metadata = (copy.metadata ??= {});
  for (const field of SERVER_METADATA) delete metadata[field];
  delete metadata.ownerReferences;
  metadata.name = planned.name;
  if (planned.namespace !== undefined) metadata.namespace = planned.namespace;
  else delete metadata.namespace;
  const spec = asObject(copy.spec);
  const mappings = options.storageClassMappings;
  const moved = (namespace: string): string =>
    options.restoreNamespace !== undefined && (options.sourceNamespaces ?? []).includes(namespace) ? options.restoreNamespace : namespace;

  if (isKind(copy, '', 'PersistentVolumeClaim')) {
    mapStorageClass(spec, mappings);
    mapAnnotation(copy, mappings);
  } else if (isKind(copy, '', 'PersistentVolume')) {
    mapStorageClass(spec, mappings);
    const claimRef = asObject(spec?.claimRef);
    if (spec !== undefined && claimRef !== undefined) {
      spec.claimRef = { ...claimRef, namespace: moved(asString(claimRef.namespace)) };
      delete (spec.claimRef as JsonObject).uid;
      delete (spec.claimRef as JsonObject).resourceVersion;
    }
  } else if (isKind(copy, 'apps', 'StatefulSet')) {
    for (const template of asArray(spec?.volumeClaimTemplates)) mapStorageClass(asObject(asObject(template)?.spec), mappings);
  } else if (isKind(copy, '', 'Service') && spec !== undefined) {
    if (spec.clusterIP !== 'None') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
  } else if (isKind(copy, 'batch', 'Job') && spec !== undefined && spec.manualSelector !== true) {
    dropGeneratedJobSelector(spec);
  } else if (isKind(copy, 'rbac.authorization.k8s.io', 'RoleBinding') || isKind(copy, 'rbac.authorization.k8s.io', 'ClusterRoleBinding')) {
    for (const subject of asArray(copy.subjects)) {
      const entry = asObject(subject);
      if (entry !== undefined && typeof entry.namespace === 'string') entry.namespace = moved(entry.namespace);
    }
  }
  return copy;
}

/** The live Job's generated selector and uid labels, which prepareForCreate dropped and an update cannot change. */
function keepGeneratedJobSelector(spec: JsonObject, liveSpec: JsonObject): void {
  if (spec.selector === undefined && liveSpec.selector !== undefined) spec.selector = structuredClone(liveSpec.selector);
  const liveLabels = asObject(asObject(asObject(liveSpec.template)?.metadata)?.labels) ?? {};
  const template = asObject(spec.template);
  if (template === undefined) return;
  for (const label of JOB_UID_LABELS) {
    const value = liveLabels[label];
    if (typeof value !== 'string') continue;
    const metadata = (asObject(template.metadata) ?? (template.metadata = {})) as JsonObject;
    const labels = (asObject(metadata.labels) ?? (metadata.labels = {})) as JsonObject;
    labels[label] ??= value;
  }
}

/**
 * The update (PUT) of `live` to `desired` (a prepareForCreate result with owners linked): the live
 * resourceVersion (so a concurrent change is a conflict, not lost), and fields the server assigned that the
 * dump does not carry and that cannot change: a claim's volumeName, a Service's clusterIP(s), a Job's generated
 * selector and uid labels.
 */
export function prepareForUpdate(desired: KubeObject, live: KubeObject): KubeObject {
  const copy = structuredClone(desired);
  const metadata = (copy.metadata ??= {});
  const resourceVersion = live.metadata?.resourceVersion;
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  const spec = asObject(copy.spec);
  const liveSpec = asObject(live.spec);
  if (spec !== undefined && liveSpec !== undefined) {
    const kept = isKind(copy, '', 'PersistentVolumeClaim') ? ['volumeName'] : isKind(copy, '', 'Service') ? ['clusterIP', 'clusterIPs'] : [];
    for (const field of kept) if (spec[field] === undefined && liveSpec[field] !== undefined) spec[field] = structuredClone(liveSpec[field]);
    if (isKind(copy, 'batch', 'Job')) keepGeneratedJobSelector(spec, liveSpec);
  }
  return copy;
}

/**
 * What kubedump removes from an object before writing it (SPEC §11, KubeStash's sanitizers): fields the API
 * server or a controller sets and that a restore must not carry over (identity, versions, bookkeeping
 * annotations, a claim's binding), so the dumped YAML can be applied to another cluster and diffed over time.
 */
import { cloneJson } from '../../util/clone-json.js';
import { asArray, asObject } from '../json-access.js';
import { formatApiVersion, type KubeObject } from '../kube-object.js';
import type { DumpResourceType } from './layout.js';

/** metadata fields the API server owns. */
export const SANITIZED_METADATA_FIELDS: readonly string[] = ['creationTimestamp', 'resourceVersion', 'uid', 'generateName', 'generation', 'managedFields'];

/** Annotations controllers write for their own bookkeeping. */
export const SANITIZED_ANNOTATIONS: readonly string[] = [
  'controller-uid',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deployment.kubernetes.io/revision',
  'pod-template-hash',
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
];

/** Pod spec fields the API server defaults or the scheduler sets. */
function sanitizePodSpec(spec: Record<string, unknown>): void {
  delete spec.dnsPolicy;
  delete spec.nodeName;
  delete spec.terminationGracePeriodSeconds;
  if (spec.serviceAccountName === 'default') delete spec.serviceAccountName;
  for (const list of [spec.containers, spec.initContainers]) {
    for (const container of asArray(list)) {
      const object = asObject(container);
      if (object !== undefined) delete object.terminationMessagePath;
    }
  }
}

/**
 * A sanitized deep copy of `object` (the input is not changed): apiVersion and kind from `type` when missing
 * (list items come without them); metadata without SANITIZED_METADATA_FIELDS and SANITIZED_ANNOTATIONS (an
 * annotation map left empty is dropped); for core Pods the pod spec fields KubeStash clears (dnsPolicy,
 * nodeName, a `default` serviceAccountName, terminationGracePeriodSeconds, containers' terminationMessagePath);
 * for PersistentVolumeClaims no spec.volumeName and no status. Other kinds keep their status. Workload pod
 * templates are kept as they are, as in current KubeStash (docs/decisions/0010-kubedump.md).
 */
export function sanitizeForDump(type: DumpResourceType, object: KubeObject): KubeObject {
  const copy = cloneJson(object);
  copy.apiVersion ??= formatApiVersion(type.group, type.version);
  copy.kind ??= type.kind;
  const metadata = asObject(copy.metadata);
  if (metadata !== undefined) {
    for (const field of SANITIZED_METADATA_FIELDS) delete metadata[field];
    const annotations = asObject(metadata.annotations);
    if (annotations !== undefined) {
      for (const key of SANITIZED_ANNOTATIONS) delete annotations[key];
      if (Object.keys(annotations).length === 0) delete metadata.annotations;
    }
  }
  if (type.group === '' && type.resource === 'pods') {
    const spec = asObject(copy.spec);
    if (spec !== undefined) sanitizePodSpec(spec);
  }
  if (type.group === '' && type.resource === 'persistentvolumeclaims') {
    const spec = asObject(copy.spec);
    if (spec !== undefined) delete spec.volumeName;
    delete copy.status;
  }
  return copy;
}

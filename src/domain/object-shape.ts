/**
 * The types a Kubernetes object's envelope must have before any rule reads it. The API server guarantees them
 * for objects it stores; an AdmissionReview from anyone else, or a manifest, may carry `apiVersion: 7` or
 * `labels: [..]`, and every rule would otherwise have to distrust `KubeObject`'s types field by field.
 */

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`);

const STRING_METADATA_FIELDS = ['name', 'namespace', 'generateName', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'] as const;
const STRING_MAP_METADATA_FIELDS = ['labels', 'annotations'] as const;

/** A field of an object's envelope with the wrong type: its path relative to the object, and why. */
export interface ObjectShapeError {
  path: string;
  reason: string;
}

/**
 * Why `object` is not shaped like a Kubernetes object (the field's path relative to the object, and the reason),
 * or undefined when it is: `apiVersion` and `kind` strings; `metadata` an object whose name, namespace,
 * generateName, uid, resourceVersion and timestamps are strings, whose labels and annotations map strings to
 * strings and whose finalizers and ownerReferences are arrays (of strings, of objects). Absent fields are fine.
 */
export function objectShapeError(object: Record<string, unknown>): ObjectShapeError | undefined {
  for (const field of ['apiVersion', 'kind'] as const) {
    const value = object[field];
    if (value !== undefined && typeof value !== 'string') return { path: field, reason: `must be a string, got ${describe(value)}` };
  }
  const metadata = object.metadata;
  if (metadata === undefined) return undefined;
  if (!isRecord(metadata)) return { path: 'metadata', reason: `must be an object, got ${describe(metadata)}` };
  for (const field of STRING_METADATA_FIELDS) {
    const value = metadata[field];
    if (value !== undefined && value !== null && typeof value !== 'string') return { path: `metadata.${field}`, reason: `must be a string, got ${describe(value)}` };
  }
  for (const field of STRING_MAP_METADATA_FIELDS) {
    const map = metadata[field];
    if (map === undefined || map === null) continue;
    if (!isRecord(map)) return { path: `metadata.${field}`, reason: `must be a map of strings, got ${describe(map)}` };
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string') return { path: `metadata.${field}[${JSON.stringify(key)}]`, reason: `must be a string, got ${describe(value)}` };
    }
  }
  const finalizers = metadata.finalizers;
  if (finalizers !== undefined && finalizers !== null && (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== 'string'))) {
    return { path: 'metadata.finalizers', reason: 'must be a list of strings' };
  }
  const owners = metadata.ownerReferences;
  if (owners !== undefined && owners !== null && (!Array.isArray(owners) || owners.some((o) => !isRecord(o)))) {
    return { path: 'metadata.ownerReferences', reason: 'must be a list of objects' };
  }
  return undefined;
}

/** {@link objectShapeError} as one `<field>: <reason>` text. */
export function objectShapeProblem(object: Record<string, unknown>): string | undefined {
  const error = objectShapeError(object);
  return error === undefined ? undefined : `${error.path}: ${error.reason}`;
}

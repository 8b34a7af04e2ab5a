/**
 * The minimal shape every Kubernetes object shares. Domain code receives objects of this shape
 * (already parsed JSON) and narrows them with the typed kinds exported by `src/api`.
 */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** A Namespace object as the cluster view returns it; only its labels matter to usage policies. */
export interface NamespaceObject extends KubeObject {
  metadata: ObjectMeta & { name: string };
}

/** Identifies a kind by API group and kind name, e.g. `{ group: 'storage.kubestash.com', kind: 'BackupStorage' }`. */
export interface GroupKind {
  group: string;
  kind: string;
}

/** `group/Kind` key used by registries (`/Kind` for the core group). */
export const groupKindKey = (gk: GroupKind): string => `${gk.group}/${gk.kind}`;

/** Joins a group and version into an `apiVersion` (`v1` for the core group); the inverse of parseApiVersion. */
export const formatApiVersion = (group: string, version: string): string => (group === '' ? version : `${group}/${version}`);

/** Splits `apiVersion` (`group/version` or `version` for the core group) into its parts. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

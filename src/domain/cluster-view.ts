import type { KubeObject, NamespaceObject } from './kube-object.js';

/** Kinds that cross-object rules read. */
export type ViewKind =
  | 'BackupStorage'
  | 'RetentionPolicy'
  | 'Repository'
  | 'HookTemplate'
  | 'BackupBlueprint'
  | 'BackupConfiguration'
  /** autostash's own cluster-scoped policy kind (policy.autostash.dev); listed without a namespace. */
  | 'BackupPolicy'
  /** addons.kubestash.com kinds, cluster-scoped; listed without a namespace. */
  | 'Addon'
  | 'Function';

/**
 * A read-only, synchronous view of the cluster for validation and defaulting rules.
 * Implementations: an informer cache (kube/), the documents given to `autostash validate`, test tables.
 * Returned objects must be treated as immutable.
 */
export interface ClusterView {
  /** Objects of a kind; `namespace` undefined means all namespaces. */
  list(kind: ViewKind, namespace?: string): readonly KubeObject[];
  /** One object, or undefined when it does not exist. */
  get(kind: ViewKind, namespace: string, name: string): KubeObject | undefined;
  /** The Namespace object, or undefined when it is unknown to the view. */
  namespace(name: string): NamespaceObject | undefined;
}

/** A view of an empty cluster: used when no cluster is attached yet. */
export const emptyClusterView: ClusterView = {
  list: () => [],
  get: () => undefined,
  namespace: () => undefined,
};

import type { ClusterView, ViewKind } from './cluster-view.js';
import type { KubeObject, NamespaceObject } from './kube-object.js';

const VIEW_KINDS: ReadonlySet<string> = new Set<ViewKind>([
  'BackupStorage',
  'RetentionPolicy',
  'Repository',
  'HookTemplate',
  'BackupBlueprint',
  'BackupConfiguration',
  'BackupPolicy',
  'Addon',
  'Function',
]);

/**
 * A ClusterView over a fixed list of objects (e.g. the documents given to `autostash validate`).
 * Objects are matched by `kind` only (KubeStash kind names are unique); other kinds are ignored,
 * except `Namespace` objects, which answer namespace(). A namespace not given is unknown (undefined).
 * Lists keep the input order; a later object with the same kind/namespace/name replaces an earlier one.
 */
export function createMemoryView(objects: readonly KubeObject[]): ClusterView {
  const byKind = new Map<string, Map<string, KubeObject>>();
  const namespaces = new Map<string, NamespaceObject>();
  for (const object of objects) {
    const name = object.metadata?.name;
    if (typeof name !== 'string') continue;
    if (object.kind === 'Namespace' && (object.apiVersion === undefined || object.apiVersion === 'v1')) {
      namespaces.set(name, object as NamespaceObject);
      continue;
    }
    if (typeof object.kind !== 'string' || !VIEW_KINDS.has(object.kind)) continue;
    let ofKind = byKind.get(object.kind);
    if (!ofKind) byKind.set(object.kind, (ofKind = new Map()));
    ofKind.set(`${object.metadata?.namespace ?? ''}/${name}`, object);
  }
  return {
    list(kind, namespace) {
      const all = [...(byKind.get(kind)?.values() ?? [])];
      return namespace === undefined ? all : all.filter((object) => (object.metadata?.namespace ?? '') === namespace);
    },
    get(kind, namespace, name) {
      return byKind.get(kind)?.get(`${namespace}/${name}`);
    },
    namespace(name) {
      return namespaces.get(name);
    },
  };
}

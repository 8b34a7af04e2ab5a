import type { ClusterView } from '../domain/cluster-view.js';
import type { KubeObject, NamespaceObject } from '../domain/kube-object.js';
import type { KubeClient } from '../kube/client.js';
import { isNamespacedResource, VIEW_RESOURCES } from '../kube/informer-view.js';
import type { Informer, SharedInformers } from './informer.js';

const apiVersionOf = (group: string, version: string): string => (group === '' ? version : `${group}/${version}`);

/**
 * A ClusterView over shared informers (one per kind the rules read, all namespaces), so that the
 * webhook's view and the controllers read the same caches instead of watching everything twice.
 */
export function clusterViewOver(informers: SharedInformers, client: KubeClient): { view: ClusterView; hasSynced(): boolean } {
  const byKind = new Map<string, Informer>();
  for (const resource of VIEW_RESOURCES) {
    const type = { apiVersion: apiVersionOf(resource.group, resource.version), kind: resource.kind };
    const info = { plural: resource.plural, namespaced: isNamespacedResource(resource) };
    client.registerResource(type, info);
    byKind.set(resource.kind, informers.informerFor(type, { resource: info }));
  }
  const informerOf = (kind: string): Informer => {
    const informer = byKind.get(kind);
    if (informer === undefined) throw new Error(`the cluster view does not cache ${kind}`);
    return informer;
  };
  return {
    view: {
      list: (kind, namespace) => informerOf(kind).list(namespace) as readonly KubeObject[],
      get: (kind, namespace, name) => informerOf(kind).get(namespace, name),
      namespace: (name) => informerOf('Namespace').get(undefined, name) as NamespaceObject | undefined,
    },
    hasSynced: () => [...byKind.values()].every((informer) => informer.hasSynced()),
  };
}

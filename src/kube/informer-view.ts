import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterView, ViewKind } from '../domain/cluster-view.js';
import { formatApiVersion, type KubeObject, type NamespaceObject } from '../domain/kube-object.js';
import { createSharedInformers, type Informer, type InformerLogger, type SharedInformers } from '../controllers/informer.js';
import { createKubeClient, type KubeClient } from './client.js';

export type { InformerLogger } from '../controllers/informer.js';

/** A cluster view backed by informer caches. */
export interface InformerView {
  /** Answers from the caches, synchronously; empty for kinds not listed yet. */
  view: ClusterView;
  /** True once every kind has been listed once (a kind the API server does not serve counts as listed, empty). */
  hasSynced(): boolean;
  /** Stops every informer and closes every watch connection; safe to call twice. */
  stop(): Promise<void>;
}

export interface InformerViewOptions {
  /** First retry delay after a failed list or watch; doubles per consecutive failure. Default 1 s. */
  initialBackoffMs?: number;
  /** Upper bound of the retry delay. Default 30 s. */
  maxBackoffMs?: number;
  /** How often to look again for a kind the API server does not serve (CRD not installed). Default 60 s. */
  missingKindRetryMs?: number;
}

interface Resource {
  kind: ViewKind | 'Namespace';
  group: string;
  version: string;
  plural: string;
  /** Cluster-scoped kinds (Namespace, BackupPolicy, Addon, Function) are listed and read without a namespace. */
  clusterScoped?: true;
}

/** Whether a view resource lives in namespaces. */
export const isNamespacedResource = (resource: { clusterScoped?: true }): boolean => resource.clusterScoped !== true;

/** The kinds cross-object rules read: KubeStash's (v1alpha1; Addon and Function cluster-scoped), autostash's BackupPolicy (cluster-scoped) and Namespaces. */
export const VIEW_RESOURCES: readonly Resource[] = [
  { kind: 'BackupStorage', group: 'storage.kubestash.com', version: 'v1alpha1', plural: 'backupstorages' },
  { kind: 'RetentionPolicy', group: 'storage.kubestash.com', version: 'v1alpha1', plural: 'retentionpolicies' },
  { kind: 'Repository', group: 'storage.kubestash.com', version: 'v1alpha1', plural: 'repositories' },
  { kind: 'HookTemplate', group: 'core.kubestash.com', version: 'v1alpha1', plural: 'hooktemplates' },
  { kind: 'BackupBlueprint', group: 'core.kubestash.com', version: 'v1alpha1', plural: 'backupblueprints' },
  { kind: 'BackupConfiguration', group: 'core.kubestash.com', version: 'v1alpha1', plural: 'backupconfigurations' },
  { kind: 'BackupPolicy', group: 'policy.autostash.dev', version: 'v1alpha1', plural: 'backuppolicies', clusterScoped: true },
  { kind: 'Addon', group: 'addons.kubestash.com', version: 'v1alpha1', plural: 'addons', clusterScoped: true },
  { kind: 'Function', group: 'addons.kubestash.com', version: 'v1alpha1', plural: 'functions', clusterScoped: true },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', clusterScoped: true },
];

/**
 * A ClusterView over shared informers (one per kind in {@link VIEW_RESOURCES}, all namespaces), so
 * the webhook's view and each controller read caches instead of the API server.
 */
export function clusterViewOver(informers: SharedInformers, client: KubeClient): { view: ClusterView; hasSynced(): boolean } {
  const byKind = new Map<string, Informer>();
  for (const resource of VIEW_RESOURCES) {
    const type = { apiVersion: formatApiVersion(resource.group, resource.version), kind: resource.kind };
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

/**
 * Starts one list-watch informer (src/controllers/informer.ts) per kind in {@link VIEW_RESOURCES}
 * (all namespaces) and returns a {@link ClusterView} over their caches. Informers that fail (list
 * or watch errors, connection loss) restart with exponential backoff; a watch that expires (410
 * Gone) relists. A kind the API server does not serve (404: its CRD is not installed) stays empty,
 * is warned about once, and is looked for again every `missingKindRetryMs`; it never stops the
 * process.
 */
export function startInformerView(kubeConfig: KubeConfig, logger: InformerLogger, options: InformerViewOptions = {}): InformerView {
  const client = createKubeClient(kubeConfig);
  const informers = createSharedInformers(client, { ...options, logger });
  const { view, hasSynced } = clusterViewOver(informers, client);
  informers.start();
  let stopped: Promise<void> | undefined;
  return {
    view,
    hasSynced,
    stop: () => {
      stopped ??= (async () => {
        await informers.stop();
        client.close();
      })();
      return stopped;
    },
  };
}

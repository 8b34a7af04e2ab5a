import {
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClusterView, ViewKind } from '../domain/cluster-view.js';
import type { KubeObject, NamespaceObject } from '../domain/kube-object.js';

/** The log methods the informers use; a pino Logger fits. */
export type InformerLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

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
}

/** The kinds cross-object rules read; KubeStash serves them all at v1alpha1, all namespaced. */
export const VIEW_RESOURCES: readonly Resource[] = [
  { kind: 'BackupStorage', group: 'storage.kubestash.com', version: 'v1alpha1', plural: 'backupstorages' },
  { kind: 'RetentionPolicy', group: 'storage.kubestash.com', version: 'v1alpha1', plural: 'retentionpolicies' },
  { kind: 'Repository', group: 'storage.kubestash.com', version: 'v1alpha1', plural: 'repositories' },
  { kind: 'HookTemplate', group: 'core.kubestash.com', version: 'v1alpha1', plural: 'hooktemplates' },
  { kind: 'BackupBlueprint', group: 'core.kubestash.com', version: 'v1alpha1', plural: 'backupblueprints' },
  { kind: 'BackupConfiguration', group: 'core.kubestash.com', version: 'v1alpha1', plural: 'backupconfigurations' },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces' },
];

const resourcePath = (r: Resource): string => (r.group === '' ? `/api/${r.version}/${r.plural}` : `/apis/${r.group}/${r.version}/${r.plural}`);
const apiVersionOf = (r: Resource): string => (r.group === '' ? r.version : `${r.group}/${r.version}`);

type ObjectList = KubernetesListObject<KubernetesObject>;

/**
 * A Watch that can be closed for good: it aborts every open watch connection, and any watch that
 * ListWatch starts after (or while) closing, so stop() leaves no socket behind. It also reports each
 * watch request, which ListWatch makes only after it has filled its cache from a list.
 */
class ClosableWatch extends Watch {
  private readonly open = new Set<AbortController>();
  private closed = false;

  constructor(
    config: KubeConfig,
    private readonly onWatchRequested: () => void,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    if (this.closed) return new AbortController();
    this.onWatchRequested();
    let finished = false;
    let controller: AbortController | undefined;
    controller = await super.watch(path, queryParams, callback, (err: unknown) => {
      finished = true;
      if (controller !== undefined) this.open.delete(controller);
      done(err);
    });
    if (this.closed) controller.abort();
    else if (!finished) this.open.add(controller);
    return controller;
  }

  close(): void {
    this.closed = true;
    for (const controller of this.open) controller.abort();
    this.open.clear();
  }
}

interface Slot {
  resource: Resource;
  informer: ListWatch<KubernetesObject>;
  watch: ClosableWatch;
  synced: boolean;
  consecutiveFailures: number;
  reportedMissing: boolean;
  retryTimer: NodeJS.Timeout | undefined;
}

class StoppedError extends Error {}

/**
 * Starts one list-watch informer per kind in {@link VIEW_RESOURCES} (all namespaces) and returns a
 * {@link ClusterView} over their caches. Informers that fail (list or watch errors, connection loss)
 * restart with exponential backoff; a watch that expires (410 Gone) relists. A kind the API server
 * does not serve (404: its CRD is not installed) stays empty, is warned about once, and is looked for
 * again every `missingKindRetryMs`; it never stops the process.
 */
export function startInformerView(kubeConfig: KubeConfig, logger: InformerLogger, options: InformerViewOptions = {}): InformerView {
  const initialBackoffMs = options.initialBackoffMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const missingKindRetryMs = options.missingKindRetryMs ?? 60_000;
  const customObjects = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let stopped = false;

  const listResource = async (resource: Resource): Promise<ObjectList> => {
    if (resource.group === '') {
      // The typed client turns timestamps into Dates; the view hands out plain JSON like the watch does.
      return JSON.parse(JSON.stringify(await core.listNamespace())) as ObjectList;
    }
    return (await customObjects.listClusterCustomObject({ group: resource.group, version: resource.version, plural: resource.plural })) as ObjectList;
  };

  const createInformer = (slot: Slot): void => {
    const { resource } = slot;
    const watch = new ClosableWatch(kubeConfig, () => {
      slot.synced = true;
    });
    const list = async (): Promise<ObjectList> => {
      const result = await listResource(resource);
      if (stopped) throw new StoppedError('informer view stopped');
      if (slot.reportedMissing) {
        slot.reportedMissing = false;
        logger.info({ kind: resource.kind, path: resourcePath(resource) }, 'resource now served; filling its view');
      }
      slot.consecutiveFailures = 0;
      // List items carry no apiVersion/kind; watch events do. Make both alike.
      for (const item of result.items ?? []) {
        item.apiVersion ??= apiVersionOf(resource);
        item.kind ??= resource.kind;
      }
      return result;
    };
    const informer = new ListWatch<KubernetesObject>(resourcePath(resource), watch, list, false);
    informer.on('error', (error: unknown) => onError(slot, informer, error));
    slot.informer = informer;
    slot.watch = watch;
  };

  const start = (slot: Slot): void => {
    slot.retryTimer = undefined;
    const informer = slot.informer;
    informer.start().catch((error: unknown) => onError(slot, informer, error));
  };

  const onError = (slot: Slot, informer: ListWatch<KubernetesObject>, error: unknown): void => {
    if (stopped || slot.informer !== informer || error instanceof StoppedError) return;
    const { resource } = slot;
    const status = statusOf(error);
    if (status === 404) {
      // Drop whatever the old informer cached: the kind is gone (or never was), so the view is empty.
      slot.watch.close();
      void informer.stop();
      createInformer(slot);
      slot.synced = true;
      if (!slot.reportedMissing) {
        slot.reportedMissing = true;
        logger.warn({ kind: resource.kind, path: resourcePath(resource), retryInMs: missingKindRetryMs }, 'resource not served by the API server; its view stays empty');
      }
      slot.retryTimer = setTimeout(() => start(slot), missingKindRetryMs);
      return;
    }
    slot.consecutiveFailures += 1;
    const retryInMs = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(slot.consecutiveFailures - 1, 30));
    logger.warn(
      { kind: resource.kind, path: resourcePath(resource), status, err: messageOf(error), failures: slot.consecutiveFailures, retryInMs },
      'informer failed; restarting after backoff',
    );
    slot.retryTimer = setTimeout(() => start(slot), retryInMs);
  };

  const slots = new Map<Resource['kind'], Slot>();
  for (const resource of VIEW_RESOURCES) {
    const slot = { resource, synced: false, consecutiveFailures: 0, reportedMissing: false, retryTimer: undefined } as Slot;
    createInformer(slot);
    slots.set(resource.kind, slot);
  }
  for (const slot of slots.values()) start(slot);

  const informerOf = (kind: Resource['kind']): ListWatch<KubernetesObject> => {
    const slot = slots.get(kind);
    if (slot === undefined) throw new Error(`the informer view does not cache ${kind}`);
    return slot.informer;
  };

  const view: ClusterView = {
    list: (kind, namespace) => informerOf(kind).list(namespace) as unknown as readonly KubeObject[],
    get: (kind, namespace, name) => informerOf(kind).get(name, namespace) as unknown as KubeObject | undefined,
    namespace: (name) => informerOf('Namespace').get(name) as unknown as NamespaceObject | undefined,
  };

  return {
    view,
    hasSynced: () => [...slots.values()].every((slot) => slot.synced),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const slot of slots.values()) {
        if (slot.retryTimer !== undefined) clearTimeout(slot.retryTimer);
        slot.watch.close();
      }
      await Promise.all([...slots.values()].map((slot) => slot.informer.stop()));
    },
  };
}

/** HTTP status of a client-node error: ApiException has `code`, Watch errors have `statusCode`. */
function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

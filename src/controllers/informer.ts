/**
 * Informers: a local cache of one resource kept by list + watch. A watch that ends resumes from
 * the last resourceVersion (bookmarks keep it fresh); an expired one (410) relists and reports
 * the difference as add/update/delete; failures restart with exponential backoff; a kind the API
 * server does not serve (CRD not installed) stays empty and is looked for again now and then.
 * {@link SharedInformers} hands every controller the same informer per resource.
 */
import { Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parseApiVersion, type KubeObject } from '../domain/kube-object.js';
import { KubeApiError, type KubeClient, type ResourceInfo, type TypeRef } from '../kube/client.js';

/** The log methods informers use; a pino Logger fits. */
export type InformerLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface InformerScope {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerTimings {
  /** First retry delay after a failed list or watch; doubles per consecutive failure. Default 1 s. */
  initialBackoffMs?: number;
  /** Upper bound of the retry delay. Default 30 s. */
  maxBackoffMs?: number;
  /** How often to look again for a kind the API server does not serve. Default 60 s. */
  missingKindRetryMs?: number;
}

export interface InformerOptions extends InformerScope, InformerTimings {
  logger: InformerLogger;
  /** Plural and scope, when known; otherwise discovery answers. */
  resource?: ResourceInfo;
}

/** Callbacks for cache changes; they run synchronously and must not throw (errors are logged). */
export interface EventHandlers<T extends KubeObject> {
  add?(object: T): void;
  update?(previous: T, object: T): void;
  /** Receives the last known state of the object. */
  delete?(object: T): void;
}

export type Indexer<T extends KubeObject> = (object: T) => readonly string[];

export interface Informer<T extends KubeObject = KubeObject> {
  readonly type: TypeRef;
  readonly scope: InformerScope;
  get(namespace: string | undefined, name: string): T | undefined;
  /** Cached objects, of one namespace when given. */
  list(namespace?: string): T[];
  /** True once the first list completed (or the kind turned out not to be served). */
  hasSynced(): boolean;
  /** Resolves on the first sync; rejects if the informer is stopped before. */
  whenSynced(): Promise<void>;
  /** Subscribes; objects already cached are replayed as adds. Returns the unsubscribe function. */
  addEventHandler(handlers: EventHandlers<T>): () => void;
  /** Adds a named index (e.g. by an annotation's value); existing objects are indexed at once. */
  addIndex(name: string, indexer: Indexer<T>): void;
  /** Objects whose index `name` contains `value`. */
  byIndex(name: string, value: string): T[];
  /** Starts listing and watching; idempotent. */
  start(): void;
  /** Stops for good and closes the watch connection; safe to call twice. */
  stop(): Promise<void>;
}

const objectKey = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`;
const keyOf = (object: KubeObject): string => objectKey(object.metadata?.namespace, object.metadata?.name ?? '');

class StoppedError extends Error {}

/** HTTP status of an error: KubeApiError and ApiException have `code`, Watch errors `statusCode`. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The collection path of a kind whose plural is known. */
export function resourcePath(type: TypeRef, resource: ResourceInfo, namespace?: string): string {
  const { group, version } = parseApiVersion(type.apiVersion);
  const base = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const scope = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${scope}/${resource.plural}`;
}

/**
 * Creates (does not start) an informer for `type` through `client`; the watch uses the client's
 * keep-alive configuration.
 */
export function createInformer<T extends KubeObject = KubeObject>(client: KubeClient, type: TypeRef, options: InformerOptions): Informer<T> {
  const { logger } = options;
  const initialBackoffMs = options.initialBackoffMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const missingKindRetryMs = options.missingKindRetryMs ?? 60_000;
  const scope: InformerScope = {
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.labelSelector !== undefined ? { labelSelector: options.labelSelector } : {}),
    ...(options.fieldSelector !== undefined ? { fieldSelector: options.fieldSelector } : {}),
  };
  if (options.resource !== undefined) client.registerResource(type, options.resource);
  const watch = new Watch(client.kubeConfig);
  const store = new Map<string, T>();
  const byNamespace = new Map<string, Map<string, T>>();
  const indexes = new Map<string, { indexer: Indexer<T>; values: Map<string, Set<string>>; keys: Map<string, readonly string[]> }>();
  const handlers = new Set<EventHandlers<T>>();

  let started = false;
  let stopped = false;
  let synced = false;
  let resourceVersion = '';
  let path: string | undefined = options.resource ? resourcePath(type, options.resource, options.namespace) : undefined;
  let failures = 0;
  let reportedMissing = false;
  let sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  let openWatch: AbortController | undefined;
  let running: Promise<void> | undefined;
  const abort = new AbortController();
  let resolveSynced!: () => void;
  let rejectSynced!: (error: Error) => void;
  const synchronised = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  synchronised.catch(() => undefined);

  const logPath = (): string => path ?? `${type.apiVersion}/${type.kind}`;

  const emit = (call: (h: EventHandlers<T>) => void): void => {
    for (const handler of [...handlers]) {
      try {
        call(handler);
      } catch (error) {
        logger.error({ kind: type.kind, err: messageOf(error) }, 'informer event handler failed');
      }
    }
  };

  const unindex = (key: string): void => {
    for (const index of indexes.values()) {
      for (const value of index.keys.get(key) ?? []) {
        const keys = index.values.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.values.delete(value);
      }
      index.keys.delete(key);
    }
  };

  const indexInto = (index: { indexer: Indexer<T>; values: Map<string, Set<string>>; keys: Map<string, readonly string[]> }, key: string, object: T): void => {
    let values: readonly string[];
    try {
      values = index.indexer(object);
    } catch (error) {
      logger.error({ kind: type.kind, key, err: messageOf(error) }, 'informer indexer failed');
      values = [];
    }
    index.keys.set(key, values);
    for (const value of values) {
      let keys = index.values.get(value);
      if (keys === undefined) index.values.set(value, (keys = new Set()));
      keys.add(key);
    }
  };

  const put = (object: T): void => {
    const key = keyOf(object);
    const previous = store.get(key);
    if (previous !== undefined && previous.metadata?.resourceVersion !== undefined && previous.metadata.resourceVersion === object.metadata?.resourceVersion) return;
    store.set(key, object);
    const namespace = object.metadata?.namespace ?? '';
    let names = byNamespace.get(namespace);
    if (names === undefined) byNamespace.set(namespace, (names = new Map()));
    names.set(object.metadata?.name ?? '', object);
    unindex(key);
    for (const index of indexes.values()) indexInto(index, key, object);
    if (previous === undefined) emit((h) => h.add?.(object));
    else emit((h) => h.update?.(previous, object));
  };

  const remove = (key: string, last?: T): void => {
    const previous = store.get(key);
    if (previous === undefined) return;
    store.delete(key);
    const namespace = previous.metadata?.namespace ?? '';
    const names = byNamespace.get(namespace);
    names?.delete(previous.metadata?.name ?? '');
    if (names?.size === 0) byNamespace.delete(namespace);
    unindex(key);
    const final = last ?? previous;
    emit((h) => h.delete?.(final));
  };

  /** Replaces the cache with a full list, reporting only the differences. */
  const replace = (items: readonly T[]): void => {
    const fresh = new Set(items.map(keyOf));
    for (const key of [...store.keys()]) if (!fresh.has(key)) remove(key);
    for (const item of items) put(item);
  };

  const markSynced = (): void => {
    if (synced) return;
    synced = true;
    resolveSynced();
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const wake = (): void => {
        sleeping = undefined;
        resolve();
      };
      sleeping = { timer: setTimeout(wake, ms), wake };
    });

  const list = async (): Promise<void> => {
    path ??= await client.collectionPath(type, options.namespace, { signal: abort.signal });
    const result = await client.list<T>(type, { ...scope, signal: abort.signal });
    if (stopped) throw new StoppedError();
    if (reportedMissing) {
      reportedMissing = false;
      logger.info({ kind: type.kind, path: logPath() }, 'resource now served; filling its view');
    }
    failures = 0;
    replace(result.items);
    resourceVersion = result.resourceVersion;
    markSynced();
  };

  /** One watch from `resourceVersion`: resolves when it ends (`expired` on 410), rejects on failure. */
  const watchOnce = (watchPath: string): Promise<'ended' | 'expired'> =>
    new Promise((resolve, reject) => {
      let expired = false;
      let streamError: KubeApiError | undefined;
      let finished = false;
      const query: Record<string, string | number | boolean | undefined> = {
        resourceVersion,
        allowWatchBookmarks: true,
        // Like client-go: end each watch after 5–10 minutes so no connection lives forever.
        timeoutSeconds: 300 + Math.floor(Math.random() * 300),
        labelSelector: scope.labelSelector,
        fieldSelector: scope.fieldSelector,
      };
      const onEvent = (phase: string, object: KubeObject & { code?: number; reason?: string; message?: string }): void => {
        if (stopped || finished) return;
        if (phase === 'ERROR') {
          if (object?.code === 410) expired = true;
          else streamError = new KubeApiError(object?.code ?? 500, object?.reason ?? 'InternalError', object?.message ?? 'watch error');
          return;
        }
        const version = object?.metadata?.resourceVersion;
        if (phase === 'ADDED' || phase === 'MODIFIED') put(object as T);
        else if (phase === 'DELETED') remove(keyOf(object), object as T);
        if (version) resourceVersion = version;
        failures = 0;
      };
      const onDone = (error: unknown): void => {
        if (finished) return;
        finished = true;
        openWatch = undefined;
        if (stopped) return resolve('ended');
        if (error && statusOf(error) === 410) return resolve('expired');
        if (error) return reject(error);
        if (streamError !== undefined) return reject(streamError);
        resolve(expired ? 'expired' : 'ended');
      };
      watch.watch(watchPath, query, onEvent, onDone).then(
        (controller) => {
          if (finished) return;
          if (stopped) controller.abort();
          else openWatch = controller;
        },
        onDone,
      );
    });

  const onFailure = async (error: unknown): Promise<void> => {
    const status = statusOf(error);
    if (status === 404) {
      // The kind is gone (or never was): the cache is empty until it is served again.
      replace([]);
      markSynced();
      resourceVersion = '';
      if (options.resource === undefined) path = undefined;
      if (!reportedMissing) {
        reportedMissing = true;
        logger.warn({ kind: type.kind, path: logPath(), retryInMs: missingKindRetryMs }, 'resource not served by the API server; its view stays empty');
      }
      await sleep(missingKindRetryMs);
      return;
    }
    failures += 1;
    const retryInMs = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(failures - 1, 30));
    logger.warn({ kind: type.kind, path: logPath(), status, err: messageOf(error), failures, retryInMs }, 'informer failed; restarting after backoff');
    await sleep(retryInMs);
  };

  const run = async (): Promise<void> => {
    while (!stopped) {
      try {
        if (resourceVersion === '') await list();
        if (stopped) break;
        const outcome = await watchOnce(path as string);
        if (outcome === 'expired') resourceVersion = '';
      } catch (error) {
        if (stopped || error instanceof StoppedError) break;
        await onFailure(error);
      }
    }
  };

  return {
    type,
    scope,
    get: (namespace, name) => store.get(objectKey(namespace, name)),
    list: (namespace) => (namespace === undefined ? [...store.values()] : [...(byNamespace.get(namespace)?.values() ?? [])]),
    hasSynced: () => synced,
    whenSynced: () => synchronised,
    addEventHandler(handler) {
      handlers.add(handler);
      for (const object of [...store.values()]) {
        try {
          handler.add?.(object);
        } catch (error) {
          logger.error({ kind: type.kind, err: messageOf(error) }, 'informer event handler failed');
        }
      }
      return () => void handlers.delete(handler);
    },
    addIndex(name, indexer) {
      if (indexes.has(name)) throw new Error(`informer for ${type.kind} already has an index named ${name}`);
      const index = { indexer, values: new Map<string, Set<string>>(), keys: new Map<string, readonly string[]>() };
      indexes.set(name, index);
      for (const [key, object] of store) indexInto(index, key, object);
    },
    byIndex(name, value) {
      const index = indexes.get(name);
      if (index === undefined) throw new Error(`informer for ${type.kind} has no index named ${name}`);
      return [...(index.values.get(value) ?? [])].map((key) => store.get(key)).filter((object): object is T => object !== undefined);
    },
    start() {
      if (started || stopped) return;
      started = true;
      running = run();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!synced) rejectSynced(new Error(`informer for ${type.kind} stopped before it synced`));
      if (sleeping !== undefined) {
        clearTimeout(sleeping.timer);
        sleeping.wake();
      }
      abort.abort();
      openWatch?.abort();
      await running;
    },
  };
}

/** One informer per (kind, scope), shared by every controller that asks. */
export interface SharedInformers {
  /** The informer for `type` in `scope`, created on first request (and started if the set is). */
  informerFor<T extends KubeObject = KubeObject>(type: TypeRef, scope?: InformerScope & { resource?: ResourceInfo }): Informer<T>;
  /** Every informer created so far. */
  all(): readonly Informer[];
  /** Starts every informer, now and as they are created. */
  start(): void;
  /** True when every informer created so far has synced. */
  hasSynced(): boolean;
  /** Resolves when every informer created so far has synced. */
  whenSynced(): Promise<void>;
  stop(): Promise<void>;
}

/** A {@link SharedInformers} over `client`. */
export function createSharedInformers(client: KubeClient, options: InformerTimings & { logger: InformerLogger }): SharedInformers {
  const informers = new Map<string, Informer>();
  let started = false;
  let stopped = false;
  return {
    informerFor<T extends KubeObject>(type: TypeRef, scope: InformerScope & { resource?: ResourceInfo } = {}): Informer<T> {
      const key = JSON.stringify([type.apiVersion, type.kind, scope.namespace ?? '', scope.labelSelector ?? '', scope.fieldSelector ?? '']);
      let informer = informers.get(key);
      if (informer === undefined) {
        if (stopped) throw new Error('shared informers are stopped');
        informer = createInformer(client, type, { ...options, ...scope });
        informers.set(key, informer);
        if (started) informer.start();
      }
      return informer as unknown as Informer<T>;
    },
    all: () => [...informers.values()],
    start() {
      started = true;
      for (const informer of informers.values()) informer.start();
    },
    hasSynced: () => [...informers.values()].every((informer) => informer.hasSynced()),
    whenSynced: async () => {
      await Promise.all([...informers.values()].map((informer) => informer.whenSynced()));
    },
    async stop() {
      stopped = true;
      await Promise.all([...informers.values()].map((informer) => informer.stop()));
    },
  };
}

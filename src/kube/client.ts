/**
 * The one Kubernetes read/write adapter: generic operations addressed by apiVersion, kind,
 * namespace and name, on client-node's auth and HTTP machinery, answering plain JSON (no Date
 * conversion, same shape as watch events) and failing with a typed {@link KubeApiError}.
 *
 * client-node 1.x builds a fresh https.Agent for every request, so each call pays a new TCP+TLS
 * handshake. {@link keepAliveKubeConfig} swaps in one keep-alive agent per distinct TLS identity,
 * which every request and watch made through it shares.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { KubeObject } from '../domain/kube-object.js';

/** An API error in the server's own terms: HTTP status, Status.reason and Status.message. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof KubeApiError && error.code === 404;
export const isForbidden = (error: unknown): boolean => error instanceof KubeApiError && error.code === 403;
/** 409 with reason Conflict: a stale resourceVersion; re-read and retry. */
export const isConflict = (error: unknown): boolean => error instanceof KubeApiError && error.code === 409 && error.reason !== 'AlreadyExists';
export const isAlreadyExists = (error: unknown): boolean => error instanceof KubeApiError && error.code === 409 && error.reason === 'AlreadyExists';
export const isInvalid = (error: unknown): boolean => error instanceof KubeApiError && error.code === 422;

/** Which kind a request is about. */
export interface TypeRef {
  apiVersion: string;
  kind: string;
}

/** One object: its type, namespace (ignored for cluster-scoped kinds) and name. */
export interface ObjectRef extends TypeRef {
  namespace?: string | undefined;
  name: string;
}

/** What discovery says about a kind. */
export interface ResourceInfo {
  /** The URL segment, e.g. `backupconfigurations`. */
  plural: string;
  namespaced: boolean;
}

export interface RequestOptions {
  /** Aborts the request. */
  signal?: AbortSignal;
}

export interface WriteOptions extends RequestOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

export interface ListOptions extends RequestOptions {
  /** Only this namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ObjectListResult<T extends KubeObject> {
  /** Each item carries apiVersion and kind (the API server leaves them off list items). */
  items: T[];
  resourceVersion: string;
  /** Set when `limit` cut the list short. */
  continue?: string;
}

export type PatchBody =
  | { type: 'merge'; patch: Record<string, unknown> }
  | { type: 'strategic'; patch: Record<string, unknown> }
  | { type: 'json'; patch: ReadonlyArray<{ op: string; path: string; value?: unknown; from?: string }> };

export interface PatchOptions extends WriteOptions {
  /** Patch the status subresource instead of the object. */
  subresource?: 'status';
}

export interface DeleteOptions extends RequestOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  /** Delete only if the object still has this uid / resourceVersion (else 409). */
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** A core/v1 Event as {@link KubeClient.createEvent} writes it. */
export interface CoreEvent extends KubeObject {
  metadata: { namespace: string; name?: string; generateName?: string; [field: string]: unknown };
  involvedObject: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source?: { component?: string; host?: string };
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  reportingComponent?: string;
  reportingInstance?: string;
}

/** Generic Kubernetes operations; every failure from the API server is a {@link KubeApiError}. */
export interface KubeClient {
  /** The keep-alive configuration every request uses; hand it to client-node APIs (Watch) too. */
  readonly kubeConfig: KubeConfig;
  /** Plural and scope of a kind, from discovery (cached; looked up again when a kind is missing). */
  resource(type: TypeRef, options?: RequestOptions): Promise<ResourceInfo>;
  /** Declares a kind's plural and scope so requests for it skip discovery. */
  registerResource(type: TypeRef, info: ResourceInfo): void;
  /** The URL path of a kind's collection (`/apis/g/v[/namespaces/ns]/plural`). */
  collectionPath(type: TypeRef, namespace?: string, options?: RequestOptions): Promise<string>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef, options?: RequestOptions): Promise<T>;
  /** Like get, but undefined instead of a 404. */
  find<T extends KubeObject = KubeObject>(ref: ObjectRef, options?: RequestOptions): Promise<T | undefined>;
  list<T extends KubeObject = KubeObject>(type: TypeRef, options?: ListOptions): Promise<ObjectListResult<T>>;
  create<T extends KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** PUT of the whole object; its metadata.resourceVersion makes it conditional (409 when stale). */
  update<T extends KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** PUT of the status subresource (the rest of the object is ignored by the server). */
  updateStatus<T extends KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ObjectRef, body: PatchBody, options?: PatchOptions): Promise<T>;
  /** Deletes; answers what the server returned (the object, or a Status). */
  delete(ref: ObjectRef, options?: DeleteOptions): Promise<KubeObject>;
  createEvent(event: CoreEvent, options?: RequestOptions): Promise<CoreEvent>;
  /** Drops pooled connections; requests in flight finish. Safe to call twice. */
  close(): void;
}

export interface KubeClientOptions {
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
}

/** Idle pooled sockets close after this long, before typical API server idle timeouts (60–90 s). */
const IDLE_SOCKET_TIMEOUT_MS = 30_000;

/**
 * A KubeConfig whose requests share keep-alive agents: one per distinct set of TLS options
 * (server, CA, client certificate, verification), so a rotated client certificate gets a new pool.
 */
export class KeepAliveKubeConfig extends KubeConfig {
  private readonly agents = new Map<string, HttpsAgent>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent();
    if (agent !== undefined) context.setAgent(this.shared(agent));
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    const withAgent = opts as { agent?: unknown };
    if (withAgent.agent instanceof HttpsAgent) withAgent.agent = this.shared(withAgent.agent);
  }

  /** Number of distinct pooled agents (for tests and diagnostics). */
  agentCount(): number {
    return this.agents.size;
  }

  /** Destroys every pooled agent and its sockets. */
  destroyAgents(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private shared<A>(fresh: A): A {
    // Proxy agents (and plain http) keep client-node's behaviour.
    if (this.getCurrentCluster()?.proxyUrl || !(fresh instanceof HttpsAgent) || fresh.constructor !== HttpsAgent) return fresh;
    const options = (fresh as HttpsAgent).options as AgentOptions;
    const key = agentKey(this.getCurrentCluster()?.server ?? '', options);
    let agent = this.agents.get(key);
    if (agent === undefined) {
      agent = new HttpsAgent({ ...options, keepAlive: true, timeout: options.timeout ?? IDLE_SOCKET_TIMEOUT_MS });
      this.agents.set(key, agent);
    }
    return agent as A;
  }
}

/** A digest (not the material itself) of the options that make two agents interchangeable. */
function agentKey(server: string, options: AgentOptions): string {
  const hash = createHash('sha256');
  const material = (value: unknown): string => (value === undefined || value === null ? '' : Buffer.isBuffer(value) ? value.toString('base64') : JSON.stringify(value));
  for (const part of [server, options.ca, options.cert, options.key, options.pfx, options.passphrase, options.rejectUnauthorized, options.servername, options.timeout]) {
    hash.update(material(part)).update('\0');
  }
  return hash.digest('hex');
}

/** The same cluster, user and context as `source`, with pooled keep-alive connections. */
export function keepAliveKubeConfig(source: KubeConfig): KeepAliveKubeConfig {
  if (source instanceof KeepAliveKubeConfig) return source;
  const config = new KeepAliveKubeConfig();
  config.loadFromOptions({ clusters: source.clusters, users: source.users, contexts: source.contexts, currentContext: source.currentContext });
  return config;
}

const contentTypes: Record<PatchBody['type'], string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

const groupVersionPath = (apiVersion: string): string => (apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

interface ApiResourceList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
}

/**
 * A {@link KubeClient} for the current context of `kubeConfig`. Requests share one keep-alive
 * connection pool per cluster; call close() when done so no idle socket outlives the client.
 */
export function createKubeClient(kubeConfig: KubeConfig, options: KubeClientOptions = {}): KubeClient {
  const config = keepAliveKubeConfig(kubeConfig);
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const http = new IsomorphicFetchHttpLibrary();
  const discovery = new Map<string, Promise<ApiResourceList>>();
  const registered = new Map<string, ResourceInfo>();
  const typeKey = (type: TypeRef): string => `${type.apiVersion}/${type.kind}`;

  const server = (): string => {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error('the kubeconfig has no current cluster');
    return cluster.server.replace(/\/+$/, '');
  };

  const request = async <T>(
    method: HttpMethod,
    path: string,
    init: { query?: Record<string, string | number | boolean | undefined>; body?: unknown; contentType?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<T> => {
    const context = new RequestContext(server() + path, method);
    for (const [name, value] of Object.entries(init.query ?? {})) if (value !== undefined && value !== '') context.setQueryParam(name, String(value));
    context.setHeaderParam('Accept', 'application/json');
    if (init.body !== undefined) {
      context.setHeaderParam('Content-Type', init.contentType ?? 'application/json');
      context.setBody(JSON.stringify(init.body));
    }
    await config.applySecurityAuthentication(context);
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    context.setSignal(init.signal ? AbortSignal.any([init.signal, timeout]) : timeout);
    const response = await http.send(context).toPromise();
    const text = await response.body.text();
    const parsed = parseJson(text);
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) return parsed as T;
    throw apiErrorOf(response.httpStatusCode, parsed, text, method, path);
  };

  const fetchDiscovery = (apiVersion: string, signal: AbortSignal | undefined): Promise<ApiResourceList> => {
    const pending = request<ApiResourceList>(HttpMethod.GET, groupVersionPath(apiVersion), { signal }).catch((error: unknown) => {
      discovery.delete(apiVersion);
      if (error instanceof KubeApiError && error.code === 404) {
        throw new KubeApiError(404, 'NotFound', `the API server does not serve ${apiVersion} (is its CRD installed?)`);
      }
      throw error;
    });
    discovery.set(apiVersion, pending);
    return pending;
  };

  const resource = async (type: TypeRef, requestOptions: RequestOptions = {}): Promise<ResourceInfo> => {
    const known = registered.get(typeKey(type));
    if (known !== undefined) return known;
    const find = (list: ApiResourceList) => list.resources?.find((r) => r.kind === type.kind && !r.name.includes('/'));
    const cached = discovery.get(type.apiVersion);
    let found = cached === undefined ? undefined : find(await cached);
    // A kind missing from a cached answer may have been installed since: ask once more.
    found ??= find(await fetchDiscovery(type.apiVersion, requestOptions.signal));
    if (found === undefined) throw new KubeApiError(404, 'NotFound', `${type.apiVersion} has no kind ${type.kind} (is its CRD installed?)`);
    return { plural: found.name, namespaced: found.namespaced };
  };

  const collectionPath = async (type: TypeRef, namespace: string | undefined, requestOptions: RequestOptions = {}): Promise<string> => {
    const info = await resource(type, requestOptions);
    const scope = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    return `${groupVersionPath(type.apiVersion)}${scope}/${info.plural}`;
  };

  const objectPath = async (ref: ObjectRef, requestOptions: RequestOptions): Promise<string> => {
    const info = await resource(ref, requestOptions);
    if (info.namespaced && !ref.namespace) throw new Error(`${ref.kind} ${ref.name} is namespaced: give its namespace`);
    if (!ref.name) throw new Error(`a ${ref.kind} request needs a name`);
    const scope = info.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace as string)}` : '';
    return `${groupVersionPath(ref.apiVersion)}${scope}/${info.plural}/${encodeURIComponent(ref.name)}`;
  };

  const refOf = (object: KubeObject, verb: string): ObjectRef => {
    if (!object.apiVersion || !object.kind) throw new Error(`${verb} needs apiVersion and kind on the object`);
    return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata?.namespace, name: object.metadata?.name ?? '' };
  };

  const writeQuery = (o: WriteOptions = {}) => ({ dryRun: o.dryRun ? 'All' : undefined, fieldManager: o.fieldManager });

  const get = async <T extends KubeObject>(ref: ObjectRef, requestOptions: RequestOptions = {}): Promise<T> =>
    request<T>(HttpMethod.GET, await objectPath(ref, requestOptions), { signal: requestOptions.signal });

  const client: KubeClient = {
    kubeConfig: config,
    resource,
    registerResource: (type, info) => void registered.set(typeKey(type), { ...info }),
    collectionPath,
    get,
    async find<T extends KubeObject>(ref: ObjectRef, requestOptions?: RequestOptions) {
      try {
        return await get<T>(ref, requestOptions);
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    async list<T extends KubeObject>(type: TypeRef, listOptions: ListOptions = {}) {
      const path = await collectionPath(type, listOptions.namespace, listOptions);
      const list = await request<{ items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string } }>(HttpMethod.GET, path, {
        query: { labelSelector: listOptions.labelSelector, fieldSelector: listOptions.fieldSelector, limit: listOptions.limit, continue: listOptions.continue },
        signal: listOptions.signal,
      });
      const items = list.items ?? [];
      for (const item of items) {
        item.apiVersion ??= type.apiVersion;
        item.kind ??= type.kind;
      }
      const result: ObjectListResult<T> = { items, resourceVersion: list.metadata?.resourceVersion ?? '' };
      if (list.metadata?.continue) result.continue = list.metadata.continue;
      return result;
    },
    async create<T extends KubeObject>(object: T, writeOptions: WriteOptions = {}) {
      const ref = refOf(object, 'create');
      const path = await collectionPath(ref, ref.namespace, writeOptions);
      if ((await resource(ref)).namespaced && !ref.namespace) throw new Error(`${ref.kind} is namespaced: set metadata.namespace`);
      return request<T>(HttpMethod.POST, path, { body: object, query: writeQuery(writeOptions), signal: writeOptions.signal });
    },
    async update<T extends KubeObject>(object: T, writeOptions: WriteOptions = {}) {
      const path = await objectPath(refOf(object, 'update'), writeOptions);
      return request<T>(HttpMethod.PUT, path, { body: object, query: writeQuery(writeOptions), signal: writeOptions.signal });
    },
    async updateStatus<T extends KubeObject>(object: T, writeOptions: WriteOptions = {}) {
      const path = await objectPath(refOf(object, 'updateStatus'), writeOptions);
      return request<T>(HttpMethod.PUT, `${path}/status`, { body: object, query: writeQuery(writeOptions), signal: writeOptions.signal });
    },
    async patch<T extends KubeObject>(ref: ObjectRef, body: PatchBody, patchOptions: PatchOptions = {}) {
      const path = await objectPath(ref, patchOptions);
      return request<T>(HttpMethod.PATCH, patchOptions.subresource ? `${path}/${patchOptions.subresource}` : path, {
        body: body.patch,
        contentType: contentTypes[body.type],
        query: writeQuery(patchOptions),
        signal: patchOptions.signal,
      });
    },
    async delete(ref: ObjectRef, deleteOptions: DeleteOptions = {}) {
      const path = await objectPath(ref, deleteOptions);
      const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
      if (deleteOptions.propagationPolicy) body.propagationPolicy = deleteOptions.propagationPolicy;
      if (deleteOptions.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = deleteOptions.gracePeriodSeconds;
      if (deleteOptions.preconditions) body.preconditions = deleteOptions.preconditions;
      if (deleteOptions.dryRun) body.dryRun = ['All'];
      return request<KubeObject>(HttpMethod.DELETE, path, { body, signal: deleteOptions.signal });
    },
    createEvent(event: CoreEvent, requestOptions: RequestOptions = {}) {
      return client.create<CoreEvent>({ ...event, apiVersion: 'v1', kind: 'Event' }, requestOptions);
    },
    close() {
      // Only agents this client made: a KeepAliveKubeConfig handed in is the caller's to close.
      if (config !== kubeConfig) config.destroyAgents();
    },
  };
  return client;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const reasonsByCode: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function apiErrorOf(code: number, body: unknown, text: string, method: string, path: string): KubeApiError {
  const status = typeof body === 'object' && body !== null ? (body as { kind?: unknown; reason?: unknown; message?: unknown; details?: unknown }) : {};
  const reason = typeof status.reason === 'string' && status.reason !== '' ? status.reason : (reasonsByCode[code] ?? 'Unknown');
  const message =
    typeof status.message === 'string' && status.message !== '' ? status.message : `${method} ${path}: HTTP ${code}${text && status.kind === undefined ? ` ${text.slice(0, 200)}` : ''}`;
  return new KubeApiError(code, reason, message, status.details);
}


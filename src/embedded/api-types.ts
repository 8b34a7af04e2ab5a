/**
 * The contract between the embedded control plane's parts: the HTTP front (REST, discovery,
 * watch), the admission chain, and the emulated controllers. Controllers use `EmbeddedApi`
 * in-process, through the same code path as HTTP requests (admission included), as real
 * controllers go through the API server.
 */
import type { KubeObject } from '../domain/kube-object.js';

/** A served resource: `group` is '' for the core group. */
export interface ResourceType {
  group: string;
  version: string;
  /** Plural resource name used in URLs, e.g. `deployments`. */
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  verbs: readonly string[];
  /** True when `/status` is a subresource (status changes only through it; spec changes ignore it). */
  statusSubresource: boolean;
  /** For custom resources: the CRD's structural schema for this version (defaults applied on write). */
  schema?: Record<string, unknown>;
}

/** Identifies a resource type by group, version and plural resource name. */
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface ListOptions {
  /** Undefined: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ObjectList {
  items: KubeObject[];
  resourceVersion: string;
  /** Set when `limit` cut the list. */
  continue?: string;
  remainingItemCount?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** Caller identity for admission (`userInfo`); default the embedded admin user. */
  user?: { username: string; groups: string[]; uid?: string };
  /**
   * Receives each admission warning (from webhooks' `warnings`) as the write runs; the HTTP front
   * sends them as `Warning: 299 - "<text>"` headers. Optional: in-process callers may ignore warnings.
   */
  onWarning?: (warning: string) => void;
}

export type PatchType = 'json' | 'merge' | 'strategic-merge' | 'apply';

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  /** Start after this version; '' or '0' means "now, with synthetic ADDED events for what exists". */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
}

export interface WatchHandle {
  stop(): void;
}

/**
 * A Kubernetes API failure, shaped as a `Status` object (reason and code as the real API server
 * uses them: NotFound 404, AlreadyExists 409, Conflict 409, Invalid 422, BadRequest 400,
 * Forbidden 403, Unauthorized 401, MethodNotAllowed 405, Gone 410, InternalError 500, Timeout 504).
 */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The `Status` body the HTTP front sends. */
  toStatus(): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Status',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/**
 * The embedded API as seen by in-process callers. Every write runs defaulting, admission
 * (mutating then validating webhooks) and validation exactly like an HTTP write; errors are ApiError.
 */
export interface EmbeddedApi {
  /** Every served resource type (built-ins and registered CRDs), for discovery. */
  resourceTypes(): readonly ResourceType[];
  /** The resource type for a GVR, or undefined when not served. */
  resourceType(gvr: GroupVersionResource): ResourceType | undefined;
  /** The resource type serving a kind at an apiVersion (`apps/v1`, `v1`), or undefined. */
  resourceTypeForKind(apiVersion: string, kind: string): ResourceType | undefined;
  get(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<KubeObject>;
  list(gvr: GroupVersionResource, options?: ListOptions): Promise<ObjectList>;
  create(gvr: GroupVersionResource, namespace: string | undefined, object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  update(gvr: GroupVersionResource, namespace: string | undefined, object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** `/status` subresource update: only status changes are kept. */
  updateStatus(gvr: GroupVersionResource, namespace: string | undefined, object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  patch(gvr: GroupVersionResource, namespace: string | undefined, name: string, type: PatchType, patch: unknown, options?: WriteOptions & { subresource?: 'status'; force?: boolean }): Promise<KubeObject>;
  /** Returns the object as it is after the call (with deletionTimestamp while finalizers remain), or the deleted object. */
  delete(gvr: GroupVersionResource, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<KubeObject>;
  watch(gvr: GroupVersionResource, options: WatchOptions, onEvent: (event: WatchEvent) => void): WatchHandle;
  /** Deletes every object the list options select, each as `delete` would; returns them (as after the call). */
  deleteCollection(gvr: GroupVersionResource, options?: ListOptions & DeleteOptions): Promise<ObjectList>;
}

/** What the admission chain is asked about one write (mirrors AdmissionRequest v1). */
export interface AdmissionAttributes {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  resourceType: ResourceType;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** The incoming object (CREATE/UPDATE), after schema defaulting. */
  object?: KubeObject;
  /** The stored object (UPDATE/DELETE). */
  oldObject?: KubeObject;
  dryRun: boolean;
  /** CreateOptions / UpdateOptions / DeleteOptions as the real API server sends them. */
  options?: KubeObject;
  user: { username: string; groups: string[]; uid?: string };
}

/**
 * Calls registered admission webhooks as kube-apiserver does. `mutate` runs every matching
 * MutatingWebhookConfiguration in order and returns the patched object; `validate` runs the
 * ValidatingWebhookConfigurations. A denial (or a failing webhook with failurePolicy Fail) throws
 * ApiError; warnings are returned for the HTTP front to send as `Warning` headers.
 */
export interface AdmissionChain {
  mutate(attributes: AdmissionAttributes): Promise<{ object: KubeObject | undefined; warnings: string[] }>;
  validate(attributes: AdmissionAttributes): Promise<{ warnings: string[] }>;
}

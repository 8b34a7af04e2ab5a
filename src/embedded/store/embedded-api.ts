/**
 * The in-process implementation of `EmbeddedApi`: the state and semantics of the embedded
 * Kubernetes control plane (objects, resourceVersions, generation, finalizers, status subresource,
 * patches, CRD registration, watch with resume and 410 Expired, optional persistence).
 *
 * Choices where kube-apiserver's behaviour is approximated (documented for the other parts):
 * - One global resourceVersion counter; list/watch resourceVersions are that counter.
 * - Namespaces: `delete` sets deletionTimestamp, status.phase Terminating and keeps spec.finalizers
 *   [kubernetes]. The namespace controller finalizes with a plain `update` that empties
 *   spec.finalizers (a normal update may change them here; kube uses `/finalize`). The namespace is
 *   removed once spec.finalizers and metadata.finalizers are both empty.
 * - Propagation: Orphan strips ownerReferences to the deleted object from its dependents at once;
 *   Foreground adds the `foregroundDeletion` finalizer (the GC controller finishes it); Background
 *   (the default for every kind) removes the object and leaves dependents to the GC controller.
 * - Server-side apply merges the applied object onto the stored one (strategic merge for built-ins,
 *   merge patch for custom resources) and records the manager in managedFields; ownership
 *   conflicts between managers are not modelled (`force` is accepted and has no effect).
 * - Watch delivery is asynchronous (microtask) with a bounded queue per watcher; a watcher that falls
 *   `maxQueuedEvents` behind gets an ERROR 410 Expired event and is stopped.
 * - continue tokens page through the current objects after the last returned key (not a snapshot
 *   at the first page's resourceVersion); a token older than the watch window is 410 Expired.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { formatApiVersion, parseApiVersion, type KubeObject, type ObjectMeta } from '../../domain/kube-object.js';
import {
  ApiError,
  type AdmissionAttributes,
  type AdmissionChain,
  type DeleteOptions,
  type EmbeddedApi,
  type GroupVersionResource,
  type ListOptions,
  type ObjectList,
  type PatchType,
  type ResourceType,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
  type WriteOptions,
} from '../api-types.js';
import { alreadyExists, badRequest, conflict, forbidden, gone, invalid, notFound, STALE_OBJECT_MESSAGE, unsupportedMediaType } from './api-errors.js';
import { BUILTIN_RESOURCES } from './builtin-resources.js';
import { applyCreateDefaults, initialStatus } from './builtin-semantics.js';
import { establishedStatus, resourceTypesOfCrd } from './crd-types.js';
import { generatedName, randomSuffix } from './object-names.js';
import { applyDefaults, assertValid } from './object-preparation.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patches.js';
import { objectKey, ResourceBucket } from './resource-bucket.js';
import { parseFieldSelector, parseLabelSelector, type ObjectMatcher } from './selectors.js';
import { DebouncedStateWriter, readStateSnapshot, type StateSnapshot } from './state-file.js';
import { expiredStatus, Watcher } from './watcher.js';

export interface EmbeddedApiOptions {
  /** Called on every create/update/delete (mutate, then validate after defaulting and validation). */
  admission?: AdmissionChain;
  /** With `persist`: the state file (`state.json`) lives here. */
  dataDir?: string;
  /** Keep objects across restarts (JSON snapshot, atomic, debounced, loaded at start). */
  persist?: boolean;
  /** Clock for creationTimestamp, deletionTimestamp and managedFields times. */
  now?: () => Date;
  /** Change events kept per resource for watch resume; older resourceVersions get 410 Expired. Default 10,000. */
  watchCacheSize?: number;
  /** Interval between BOOKMARK events for watches that allow them. Default 1,000 ms. */
  bookmarkIntervalMs?: number;
  /** Events a watcher may have queued before it is stopped with 410. Default 100,000. */
  maxQueuedEvents?: number;
  /** Delay before a changed state is written (with `persist`). Default 100 ms. */
  persistDelayMs?: number;
}

export interface EmbeddedApiImplementation extends EmbeddedApi {
  /** Deletes every object matching the list options, each as `delete` would; returns them. */
  deleteCollection(gvr: GroupVersionResource, options?: ListOptions & DeleteOptions): Promise<ObjectList>;
  /** The current global resourceVersion. */
  currentResourceVersion(): string;
  /** Writes pending state (with persist), stops watches and timers. */
  close(): Promise<void>;
}

const DEFAULT_USER = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const MAX_WRITE_ATTEMPTS = 8;

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const bucketKey = (group: string, resource: string): string => `${group}/${resource}`;
const typeKey = (gvr: GroupVersionResource): string => `${gvr.group}/${gvr.version}/${gvr.resource}`;

function metadataOf(object: KubeObject): ObjectMeta {
  if (!isRecord(object.metadata)) object.metadata = {};
  return object.metadata as ObjectMeta;
}

/** RFC 3339 with seconds, as Kubernetes serializes metav1.Time. */
function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function withoutMetadataAndStatus(object: KubeObject): Fields {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

function comparable(object: KubeObject): KubeObject {
  const copy = { ...object, metadata: { ...object.metadata } };
  delete copy.metadata.resourceVersion;
  delete copy.metadata.managedFields;
  return copy;
}

interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Fields;
  subresource?: string;
}

/** The write being carried out, as the update path needs to know it. */
interface UpdateRequest {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
  /** Produces the desired object from a copy of the current one. */
  desired: (current: KubeObject) => KubeObject;
  subresource?: 'status';
  options: WriteOptions;
  managedFieldsOperation?: 'Apply' | 'Update';
}

class EmbeddedStore implements EmbeddedApiImplementation {
  private resourceVersion = 0;
  private readonly types = new Map<string, ResourceType>();
  private readonly buckets = new Map<string, ResourceBucket>();
  private readonly crdTypes = new Map<string, ResourceType[]>();
  private readonly bookmarkTimers = new Set<NodeJS.Timeout>();
  private readonly writer: DebouncedStateWriter | undefined;
  private readonly now: () => Date;
  private readonly watchCacheSize: number;
  private readonly bookmarkIntervalMs: number;
  private readonly maxQueuedEvents: number;
  private closed = false;

  constructor(private readonly options: EmbeddedApiOptions) {
    this.now = options.now ?? (() => new Date());
    this.watchCacheSize = options.watchCacheSize ?? 10_000;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1_000;
    this.maxQueuedEvents = options.maxQueuedEvents ?? 100_000;
    for (const type of BUILTIN_RESOURCES) this.registerType(type);
    if (options.persist) {
      if (!options.dataDir) throw new Error('persist needs a dataDir for the state file');
      this.writer = new DebouncedStateWriter(options.dataDir, () => this.snapshot(), options.persistDelayMs ?? 100);
    }
  }

  // ---- setup, persistence ----

  /** Loads persisted state (when enabled) and creates the namespaces kube-apiserver always has. */
  start(): void {
    if (this.options.persist && this.options.dataDir) {
      const snapshot = readStateSnapshot(this.options.dataDir);
      if (snapshot) this.restore(snapshot);
    }
    const namespaces = this.requireType({ group: '', version: 'v1', resource: 'namespaces' });
    const bucket = this.bucketFor(namespaces);
    for (const name of SYSTEM_NAMESPACES) {
      if (bucket.objects.has(objectKey(undefined, name))) continue;
      const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: randomUUID(), creationTimestamp: formatTime(this.now()), generation: 1, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
      const stored = this.withResourceVersion(namespace, this.nextResourceVersion());
      bucket.objects.set(objectKey(undefined, name), stored);
      bucket.record({ resourceVersion: this.resourceVersion, type: 'ADDED', object: stored });
    }
    this.writer?.schedule();
  }

  private restore(snapshot: StateSnapshot): void {
    this.resourceVersion = snapshot.resourceVersion;
    const crdKey = bucketKey('apiextensions.k8s.io', 'customresourcedefinitions');
    const ordered = [...snapshot.resources].sort((left, right) => Number(bucketKey(right.group, right.resource) === crdKey) - Number(bucketKey(left.group, left.resource) === crdKey));
    for (const stored of ordered) {
      const type = [...this.types.values()].find((candidate) => candidate.group === stored.group && candidate.resource === stored.resource);
      if (!type) continue;
      const bucket = this.bucketFor(type);
      for (const object of stored.objects) {
        bucket.objects.set(objectKey(object.metadata?.namespace, object.metadata?.name ?? ''), object);
        if (bucketKey(stored.group, stored.resource) === crdKey) this.registerCrd(object);
      }
    }
    // Watches cannot resume from before the restart: their events are gone.
    for (const [key, bucket] of this.buckets) this.buckets.set(key, this.refreshedBucket(bucket));
  }

  private refreshedBucket(bucket: ResourceBucket): ResourceBucket {
    const fresh = new ResourceBucket(this.watchCacheSize, this.resourceVersion);
    for (const [key, object] of bucket.objects) fresh.objects.set(key, object);
    return fresh;
  }

  private snapshot(): StateSnapshot {
    const resources = [...this.buckets.entries()].map(([key, bucket]) => {
      const slash = key.indexOf('/');
      return { group: key.slice(0, slash), resource: key.slice(slash + 1), objects: [...bucket.objects.values()] };
    });
    return { formatVersion: 1, resourceVersion: this.resourceVersion, resources };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.bookmarkTimers) clearInterval(timer);
    this.bookmarkTimers.clear();
    for (const bucket of this.buckets.values()) for (const watcher of [...bucket.watchers]) watcher.stop();
    await this.writer?.flush();
  }

  // ---- resource types ----

  private registerType(type: ResourceType): void {
    this.types.set(typeKey(type), type);
  }

  private registerCrd(crd: KubeObject): void {
    const name = crd.metadata?.name ?? '';
    for (const old of this.crdTypes.get(name) ?? []) this.types.delete(typeKey(old));
    const types = resourceTypesOfCrd(crd).filter((type) => !BUILTIN_RESOURCES.some((builtin) => builtin.group === type.group && builtin.resource === type.resource));
    this.crdTypes.set(name, types);
    for (const type of types) this.registerType(type);
  }

  /** Unregisters a removed CRD's types and deletes its objects (DELETED events, then watches end). */
  private unregisterCrd(crd: KubeObject): void {
    const name = crd.metadata?.name ?? '';
    const types = this.crdTypes.get(name) ?? [];
    this.crdTypes.delete(name);
    for (const type of types) this.types.delete(typeKey(type));
    const first = types[0];
    if (!first) return;
    const key = bucketKey(first.group, first.resource);
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    for (const [objectId, object] of [...bucket.objects]) {
      bucket.objects.delete(objectId);
      const removed = this.withResourceVersion(object, this.nextResourceVersion());
      bucket.record({ resourceVersion: this.resourceVersion, type: 'DELETED', object: removed });
    }
    for (const watcher of [...bucket.watchers]) watcher.finish({ type: 'ERROR', object: expiredStatus(`the resource ${key} is no longer served`) });
    this.buckets.delete(key);
  }

  resourceTypes(): readonly ResourceType[] {
    return [...this.types.values()];
  }

  resourceType(gvr: GroupVersionResource): ResourceType | undefined {
    return this.types.get(typeKey(gvr));
  }

  resourceTypeForKind(apiVersion: string, kind: string): ResourceType | undefined {
    const { group, version } = parseApiVersion(apiVersion);
    return [...this.types.values()].find((type) => type.group === group && type.version === version && type.kind === kind);
  }

  currentResourceVersion(): string {
    return String(this.resourceVersion);
  }

  private requireType(gvr: GroupVersionResource): ResourceType {
    const type = this.resourceType(gvr);
    if (!type) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', { group: gvr.group, kind: gvr.resource });
    return type;
  }

  private bucketFor(type: ResourceType): ResourceBucket {
    const key = bucketKey(type.group, type.resource);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new ResourceBucket(this.watchCacheSize, this.resourceVersion);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** A caller's copy of a stored object, with the apiVersion/kind of the requested type. */
  private present(type: ResourceType, object: KubeObject): KubeObject {
    const copy = structuredClone(object);
    copy.apiVersion = formatApiVersion(type.group, type.version);
    copy.kind = type.kind;
    return copy;
  }

  private nextResourceVersion(): number {
    this.resourceVersion += 1;
    return this.resourceVersion;
  }

  private withResourceVersion(object: KubeObject, resourceVersion: number): KubeObject {
    return { ...object, metadata: { ...object.metadata, resourceVersion: String(resourceVersion) } };
  }

  /** Namespace of a request: the URL's, else the body's; none for cluster-scoped types. */
  private scopeNamespace(type: ResourceType, namespace: string | undefined, body?: KubeObject): string | undefined {
    if (!type.namespaced) return undefined;
    const bodyNamespace = body?.metadata?.namespace;
    if (namespace !== undefined && bodyNamespace !== undefined && bodyNamespace !== '' && bodyNamespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const resolved = namespace ?? (bodyNamespace || undefined);
    if (resolved === undefined || resolved === '') throw badRequest(`a namespace is required for ${type.resource}`);
    return resolved;
  }

  private checkKind(type: ResourceType, body: KubeObject): void {
    if (body.kind !== undefined && body.kind !== '' && body.kind !== type.kind) {
      throw badRequest(`the kind of the provided object (${String(body.kind)}) does not match the expected kind ${type.kind}`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== '') {
      const { group } = parseApiVersion(String(body.apiVersion));
      if (group !== type.group) throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API group ${type.group || 'core'}`);
    }
  }

  /** 404 when the namespace does not exist, 403 when it is terminating (for creates). */
  private assertNamespaceWritable(type: ResourceType, namespace: string | undefined, name: string): void {
    if (!type.namespaced || namespace === undefined) return;
    const namespaces = this.buckets.get(bucketKey('', 'namespaces'));
    const found = namespaces?.objects.get(objectKey(undefined, namespace));
    if (!found) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (found.metadata?.deletionTimestamp) {
      throw forbidden(type, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  // ---- reads ----

  async get(gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<KubeObject> {
    const type = this.requireType(gvr);
    const found = this.bucketFor(type).objects.get(objectKey(type.namespaced ? namespace : undefined, name));
    if (!found) throw notFound(type, name);
    return this.present(type, found);
  }

  private matcher(type: ResourceType, options: { namespace?: string; labelSelector?: string; fieldSelector?: string }): ObjectMatcher {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(options.fieldSelector, type.group, type.resource);
    const namespace = type.namespaced ? options.namespace : undefined;
    return (object) => (namespace === undefined || object.metadata?.namespace === namespace) && labels(object) && fields(object);
  }

  async list(gvr: GroupVersionResource, options: ListOptions = {}): Promise<ObjectList> {
    const type = this.requireType(gvr);
    const bucket = this.bucketFor(type);
    const matches = this.matcher(type, options);
    let listVersion = this.resourceVersion;
    let afterKey: string | undefined;
    if (options.continue) {
      const token = decodeContinue(options.continue);
      if (token.resourceVersion < bucket.oldestResourceVersion) {
        throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      listVersion = token.resourceVersion;
      afterKey = token.afterKey;
    }
    const keyed = [...bucket.objects.entries()]
      .filter(([key, object]) => (afterKey === undefined || key > afterKey) && matches(object))
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : undefined;
    const page = limit !== undefined ? keyed.slice(0, limit) : keyed;
    const result: ObjectList = { items: page.map(([, object]) => this.present(type, object)), resourceVersion: String(listVersion) };
    const last = page[page.length - 1];
    if (limit !== undefined && keyed.length > limit && last) {
      result.continue = encodeContinue({ resourceVersion: listVersion, afterKey: last[0] });
      if (!options.labelSelector && !options.fieldSelector) result.remainingItemCount = keyed.length - limit;
    }
    return result;
  }

  // ---- watch ----

  watch(gvr: GroupVersionResource, options: WatchOptions, onEvent: (event: WatchEvent) => void): WatchHandle {
    const type = this.requireType(gvr);
    const bucket = this.bucketFor(type);
    const matches = this.matcher(type, options);
    let timer: NodeJS.Timeout | undefined;
    const watcher = new Watcher({
      matches,
      present: (object) => this.present(type, object),
      onEvent,
      maxQueued: this.maxQueuedEvents,
      onStop: () => {
        bucket.watchers.delete(watcher);
        if (timer) {
          clearInterval(timer);
          this.bookmarkTimers.delete(timer);
        }
      },
    });
    const requested = options.resourceVersion;
    if (requested === undefined || requested === '' || requested === '0') {
      for (const object of bucket.sortedObjects()) if (matches(object)) watcher.enqueue({ type: 'ADDED', object: this.present(type, object) });
    } else {
      const from = Number(requested);
      if (!Number.isSafeInteger(from) || from < 0) throw badRequest(`invalid resource version: ${requested}`);
      const replay = bucket.eventsAfter(from);
      if (!replay) {
        watcher.finish({ type: 'ERROR', object: expiredStatus(`too old resource version: ${from} (${bucket.oldestResourceVersion})`) });
        return { stop: () => watcher.stop() };
      }
      for (const event of replay) watcher.offer(event);
    }
    if (this.closed) {
      watcher.stop();
      return { stop: () => undefined };
    }
    bucket.watchers.add(watcher);
    if (options.allowWatchBookmarks) {
      timer = setInterval(() => {
        watcher.enqueue({ type: 'BOOKMARK', object: { apiVersion: formatApiVersion(type.group, type.version), kind: type.kind, metadata: { resourceVersion: String(this.resourceVersion) } } });
      }, this.bookmarkIntervalMs);
      timer.unref();
      this.bookmarkTimers.add(timer);
    }
    return { stop: () => watcher.stop() };
  }

  // ---- admission ----

  private admissionOptions(kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions', options: WriteOptions & DeleteOptions): KubeObject {
    return {
      apiVersion: 'meta.k8s.io/v1',
      kind,
      ...(options.dryRun ? { dryRun: ['All'] } : {}),
      ...(options.fieldManager && kind !== 'DeleteOptions' ? { fieldManager: options.fieldManager } : {}),
      ...(kind === 'DeleteOptions' && options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
      ...(kind === 'DeleteOptions' && options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
    };
  }

  /** Runs the mutating or validating chain; webhook warnings go to the caller's onWarning (HTTP: Warning headers). */
  private async admit(attributes: AdmissionAttributes, mutate: boolean, onWarning: ((warning: string) => void) | undefined): Promise<KubeObject | undefined> {
    const chain = this.options.admission;
    if (!chain) return attributes.object;
    const result = mutate ? await chain.mutate(attributes) : { ...(await chain.validate(attributes)), object: attributes.object };
    if (onWarning) for (const warning of result.warnings) onWarning(warning);
    return result.object;
  }

  // ---- create ----

  async create(gvr: GroupVersionResource, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return this.createWith(this.requireType(gvr), namespace, body, options, 'Update');
  }

  private async createWith(type: ResourceType, requestNamespace: string | undefined, body: KubeObject, options: WriteOptions, managedOperation: 'Apply' | 'Update'): Promise<KubeObject> {
    if (!isRecord(body)) throw badRequest('the request body must be an object');
    this.checkKind(type, body);
    const object = structuredClone(body);
    const namespace = this.scopeNamespace(type, requestNamespace, object);
    const meta = metadataOf(object);
    if (namespace === undefined) delete meta.namespace;
    else meta.namespace = namespace;
    for (const systemField of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields', 'selfLink'] as const) delete meta[systemField];
    const displayName = meta.name || meta.generateName || '';
    this.assertNamespaceWritable(type, namespace, displayName);
    object.apiVersion = formatApiVersion(type.group, type.version);
    object.kind = type.kind;
    if (type.statusSubresource) {
      const status = initialStatus(type);
      if (status) object.status = status;
      else delete object.status;
    }
    applyCreateDefaults(type, object);
    applyDefaults(type, object);
    const user = options.user ?? DEFAULT_USER;
    const admissionOptions = this.admissionOptions('CreateOptions', options);
    const base = { operation: 'CREATE' as const, resourceType: type, namespace, dryRun: options.dryRun ?? false, options: admissionOptions, user };
    const mutated = (await this.admit({ ...base, ...(meta.name ? { name: meta.name } : {}), object }, true, options.onWarning)) ?? object;
    applyDefaults(type, mutated);
    const mutatedMeta = metadataOf(mutated);
    mutatedMeta.namespace = namespace;
    if (namespace === undefined) delete mutatedMeta.namespace;
    const generate = !mutatedMeta.name && typeof mutatedMeta.generateName === 'string' && mutatedMeta.generateName !== '';
    if (generate) mutatedMeta.name = generatedName(String(mutatedMeta.generateName), randomSuffix);
    const time = formatTime(this.now());
    mutatedMeta.uid = randomUUID();
    mutatedMeta.creationTimestamp = time;
    mutatedMeta.generation = 1;
    if (options.fieldManager) mutatedMeta.managedFields = [managedFieldsEntry(options.fieldManager, managedOperation, mutated.apiVersion ?? '', time)];
    if (type.group === 'apiextensions.k8s.io' && type.resource === 'customresourcedefinitions') mutated.status = establishedStatus(mutated, time);
    assertValid(type, mutated);
    await this.admit({ ...base, name: mutatedMeta.name ?? '', object: mutated }, false, options.onWarning);

    const bucket = this.bucketFor(type);
    this.assertNamespaceWritable(type, namespace, mutatedMeta.name ?? '');
    for (let attempt = 0; bucket.objects.has(objectKey(namespace, mutatedMeta.name ?? '')); attempt += 1) {
      if (!generate || attempt >= MAX_WRITE_ATTEMPTS) throw alreadyExists(type, mutatedMeta.name ?? '');
      mutatedMeta.name = generatedName(String(mutatedMeta.generateName), randomSuffix);
    }
    if (options.dryRun) return this.present(type, mutated);
    const stored = this.withResourceVersion(mutated, this.nextResourceVersion());
    bucket.objects.set(objectKey(namespace, mutatedMeta.name ?? ''), stored);
    bucket.record({ resourceVersion: this.resourceVersion, type: 'ADDED', object: stored });
    if (type.group === 'apiextensions.k8s.io' && type.resource === 'customresourcedefinitions') this.registerCrd(stored);
    this.writer?.schedule();
    return this.present(type, stored);
  }

  // ---- update ----

  async update(gvr: GroupVersionResource, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return this.updateFromBody(gvr, namespace, body, options, undefined);
  }

  async updateStatus(gvr: GroupVersionResource, namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return this.updateFromBody(gvr, namespace, body, options, 'status');
  }

  private async updateFromBody(gvr: GroupVersionResource, namespace: string | undefined, body: KubeObject, options: WriteOptions, subresource: 'status' | undefined): Promise<KubeObject> {
    const type = this.requireType(gvr);
    if (!isRecord(body)) throw badRequest('the request body must be an object');
    this.checkKind(type, body);
    const scoped = this.scopeNamespace(type, namespace, body);
    const name = body.metadata?.name;
    if (!name) throw invalid(type, type.kind, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name is required' }]);
    if (subresource === 'status' && !type.statusSubresource) throw notFound(type, name);
    return this.updateWith({ type, namespace: scoped, name, desired: () => structuredClone(body), options, ...(subresource ? { subresource } : {}), managedFieldsOperation: 'Update' });
  }

  /**
   * The one update path (update, updateStatus, patch, apply onto an existing object): retries when
   * another write lands during admission, unless the caller's object carried a resourceVersion.
   */
  private async updateWith(request: UpdateRequest): Promise<KubeObject> {
    const { type, namespace, name, options } = request;
    const bucket = this.bucketFor(type);
    const key = objectKey(namespace, name);
    for (let attempt = 0; ; attempt += 1) {
      const current = bucket.objects.get(key);
      if (!current) throw notFound(type, name);
      const incoming = request.desired(this.present(type, current));
      if (!isRecord(incoming)) throw badRequest('the request body must be an object');
      const incomingMeta = metadataOf(incoming);
      const conditional = incomingMeta.resourceVersion !== undefined && incomingMeta.resourceVersion !== '';
      if (conditional && incomingMeta.resourceVersion !== current.metadata?.resourceVersion) throw conflict(type, name, STALE_OBJECT_MESSAGE);
      if (incomingMeta.uid && incomingMeta.uid !== current.metadata?.uid) {
        throw conflict(type, name, `Precondition failed: UID in precondition: ${incomingMeta.uid}, UID in object meta: ${current.metadata?.uid ?? ''}`);
      }
      if (incomingMeta.name !== undefined && incomingMeta.name !== name) throw badRequest(`the name of the object (${incomingMeta.name}) does not match the name on the URL (${name})`);
      let next = this.mergeForUpdate(type, current, incoming, request.subresource);
      applyDefaults(type, next);
      const user = options.user ?? DEFAULT_USER;
      const base = {
        operation: 'UPDATE' as const,
        resourceType: type,
        ...(request.subresource ? { subresource: request.subresource } : {}),
        namespace,
        name,
        oldObject: this.present(type, current),
        dryRun: options.dryRun ?? false,
        options: this.admissionOptions('UpdateOptions', options),
        user,
      };
      const mutated = (await this.admit({ ...base, object: next }, true, options.onWarning)) ?? next;
      next = this.mergeForUpdate(type, current, mutated, request.subresource);
      applyDefaults(type, next);
      this.finishUpdate(type, current, next, request);
      assertValid(type, next);
      await this.admit({ ...base, object: next }, false, options.onWarning);
      // Another write landed during admission: start again from the newer object. A caller's
      // resourceVersion (in the body or set by the patch) then no longer matches and yields 409.
      if (bucket.objects.get(key) !== current) {
        if (attempt + 1 >= MAX_WRITE_ATTEMPTS) throw conflict(type, name, STALE_OBJECT_MESSAGE);
        continue;
      }
      if (isDeepStrictEqual(comparable(current), comparable(next)) && !gainsManager(current, next)) return this.present(type, current);
      if (options.dryRun) return this.present(type, this.withResourceVersion(next, this.resourceVersion));
      return this.present(type, this.commitUpdate(type, bucket, key, current, next));
    }
  }

  /** The stored object after an update: metadata the server owns and (by subresource) spec or status kept. */
  private mergeForUpdate(type: ResourceType, current: KubeObject, incoming: KubeObject, subresource: 'status' | undefined): KubeObject {
    let next: KubeObject;
    if (subresource === 'status') {
      next = structuredClone(current);
      if (incoming.status === undefined) delete next.status;
      else next.status = structuredClone(incoming.status);
    } else {
      next = structuredClone(incoming);
      if (type.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = structuredClone(current.status);
      }
    }
    const meta = metadataOf(next);
    const currentMeta = current.metadata ?? {};
    for (const owned of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'resourceVersion', 'managedFields'] as const) {
      if (currentMeta[owned] === undefined) delete meta[owned];
      else (meta as Fields)[owned] = structuredClone(currentMeta[owned]);
    }
    next.apiVersion = current.apiVersion ?? formatApiVersion(type.group, type.version);
    next.kind = type.kind;
    return next;
  }

  /** Generation, managedFields, CRD status, finalizer rule: what the server derives for an update. */
  private finishUpdate(type: ResourceType, current: KubeObject, next: KubeObject, request: UpdateRequest): void {
    const meta = metadataOf(next);
    if (!isDeepStrictEqual(withoutMetadataAndStatus(current), withoutMetadataAndStatus(next))) meta.generation = (current.metadata?.generation ?? 0) + 1;
    if (current.metadata?.deletionTimestamp) {
      const before = new Set(current.metadata.finalizers ?? []);
      const added = (meta.finalizers ?? []).filter((finalizer) => !before.has(finalizer));
      if (added.length > 0) {
        throw invalid(type, type.kind, request.name, [{ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
      }
    }
    const time = formatTime(this.now());
    if (request.options.fieldManager) {
      meta.managedFields = upsertManagedFields(meta.managedFields, managedFieldsEntry(request.options.fieldManager, request.managedFieldsOperation ?? 'Update', next.apiVersion ?? '', time, request.subresource));
    }
    if (type.group === 'apiextensions.k8s.io' && type.resource === 'customresourcedefinitions') {
      const status = establishedStatus(next, time);
      const previous = isRecord(current.status) ? current.status : {};
      if (!isDeepStrictEqual({ ...previous, conditions: undefined }, { ...status, conditions: undefined })) next.status = status;
    }
  }

  /** Stores an updated object (or removes it when its last finalizer went away during deletion). */
  private commitUpdate(type: ResourceType, bucket: ResourceBucket, key: string, current: KubeObject, next: KubeObject): KubeObject {
    const stored = this.withResourceVersion(next, this.nextResourceVersion());
    if (stored.metadata?.deletionTimestamp && !hasPendingFinalizers(type, stored)) {
      bucket.objects.delete(key);
      bucket.record({ resourceVersion: this.resourceVersion, type: 'DELETED', object: stored });
      this.afterRemoval(type, stored);
    } else {
      bucket.objects.set(key, stored);
      bucket.record({ resourceVersion: this.resourceVersion, type: 'MODIFIED', object: stored, previous: current });
      if (type.group === 'apiextensions.k8s.io' && type.resource === 'customresourcedefinitions') this.registerCrd(stored);
    }
    this.writer?.schedule();
    return stored;
  }

  private afterRemoval(type: ResourceType, removed: KubeObject): void {
    if (type.group === 'apiextensions.k8s.io' && type.resource === 'customresourcedefinitions') this.unregisterCrd(removed);
  }

  // ---- patch ----

  async patch(
    gvr: GroupVersionResource,
    namespace: string | undefined,
    name: string,
    patchType: PatchType,
    patch: unknown,
    options: WriteOptions & { subresource?: 'status'; force?: boolean } = {},
  ): Promise<KubeObject> {
    const type = this.requireType(gvr);
    const scoped = type.namespaced ? namespace : undefined;
    if (type.namespaced && !scoped) throw badRequest(`a namespace is required for ${type.resource}`);
    if (options.subresource === 'status' && !type.statusSubresource) throw notFound(type, name);
    const { subresource, force: _force, ...writeOptions } = options;
    if (patchType === 'apply') return this.apply(type, scoped, name, patch, writeOptions, subresource);
    if (patchType === 'strategic-merge' && type.schema) {
      throw unsupportedMediaType('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
    }
    const parsed = typeof patch === 'string' ? parseJson(patch) : patch;
    const applyPatch = (current: KubeObject): KubeObject => {
      switch (patchType) {
        case 'json':
          return applyJsonPatch(current, parsed);
        case 'merge':
          return applyMergePatch(current, parsed);
        default:
          return applyStrategicMergePatch(current, parsed);
      }
    };
    return this.updateWith({ type, namespace: scoped, name, desired: applyPatch, options: writeOptions, managedFieldsOperation: 'Update', ...(subresource ? { subresource } : {}) });
  }

  private async apply(type: ResourceType, namespace: string | undefined, name: string, patch: unknown, options: WriteOptions, subresource: 'status' | undefined): Promise<KubeObject> {
    if (!options.fieldManager) throw badRequest('PATCH /apply requires fieldManager to be set (for example ?fieldManager=kubectl)');
    const applied = typeof patch === 'string' ? parseApplyBody(patch) : patch;
    if (!isRecord(applied)) throw badRequest('the apply body must be an object');
    const appliedObject = applied as KubeObject;
    if (!appliedObject.apiVersion || !appliedObject.kind) throw badRequest('apply requires apiVersion and kind in the body');
    this.checkKind(type, appliedObject);
    if (appliedObject.metadata?.name !== undefined && appliedObject.metadata.name !== name) {
      throw badRequest(`the name of the object (${appliedObject.metadata.name}) does not match the name on the URL (${name})`);
    }
    const bucket = this.bucketFor(type);
    if (!bucket.objects.has(objectKey(namespace, name))) {
      if (subresource === 'status') throw notFound(type, name);
      return this.createWith(type, namespace, { ...appliedObject, metadata: { ...appliedObject.metadata, name } }, options, 'Apply');
    }
    const merge = type.schema ? applyMergePatch : applyStrategicMergePatch;
    return this.updateWith({
      type,
      namespace,
      name,
      desired: (current) => merge(current, appliedObject),
      options,
      managedFieldsOperation: 'Apply',
      ...(subresource ? { subresource } : {}),
    });
  }

  // ---- delete ----

  async delete(gvr: GroupVersionResource, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<KubeObject> {
    const type = this.requireType(gvr);
    const scoped = type.namespaced ? namespace : undefined;
    if (type.namespaced && !scoped) throw badRequest(`a namespace is required for ${type.resource}`);
    const bucket = this.bucketFor(type);
    const key = objectKey(scoped, name);
    for (let attempt = 0; ; attempt += 1) {
      const current = bucket.objects.get(key);
      if (!current) throw notFound(type, name);
      const preconditions = options.preconditions ?? {};
      if (preconditions.uid && preconditions.uid !== current.metadata?.uid) {
        throw conflict(type, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata?.uid ?? ''}`);
      }
      if (preconditions.resourceVersion && preconditions.resourceVersion !== current.metadata?.resourceVersion) {
        throw conflict(type, name, `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata?.resourceVersion ?? ''}`);
      }
      const attributes: AdmissionAttributes = {
        operation: 'DELETE',
        resourceType: type,
        namespace: scoped,
        name,
        oldObject: this.present(type, current),
        dryRun: options.dryRun ?? false,
        options: this.admissionOptions('DeleteOptions', options),
        user: options.user ?? DEFAULT_USER,
      };
      await this.admit(attributes, true, options.onWarning);
      await this.admit(attributes, false, options.onWarning);
      if (bucket.objects.get(key) !== current) {
        if (attempt + 1 >= MAX_WRITE_ATTEMPTS) throw conflict(type, name, STALE_OBJECT_MESSAGE);
        continue;
      }
      return this.present(type, this.carryOutDelete(type, bucket, key, current, options));
    }
  }

  private carryOutDelete(type: ResourceType, bucket: ResourceBucket, key: string, current: KubeObject, options: DeleteOptions): KubeObject {
    const next = structuredClone(current);
    const meta = metadataOf(next);
    if (options.propagationPolicy === 'Foreground' && !(meta.finalizers ?? []).includes('foregroundDeletion')) {
      meta.finalizers = [...(meta.finalizers ?? []), 'foregroundDeletion'];
    }
    const isNamespace = type.group === '' && type.resource === 'namespaces';
    if (isNamespace) next.status = { ...(isRecord(next.status) ? next.status : {}), phase: 'Terminating' };
    if (hasPendingFinalizers(type, next)) {
      if (current.metadata?.deletionTimestamp && isDeepStrictEqual(current, next)) return current;
      if (!meta.deletionTimestamp) {
        meta.deletionTimestamp = formatTime(this.now());
        meta.deletionGracePeriodSeconds = 0;
        meta.generation = (meta.generation ?? 0) + 1;
      }
      if (options.dryRun) return next;
      const stored = this.withResourceVersion(next, this.nextResourceVersion());
      bucket.objects.set(key, stored);
      bucket.record({ resourceVersion: this.resourceVersion, type: 'MODIFIED', object: stored, previous: current });
      if (options.propagationPolicy === 'Orphan') this.orphanDependents(current);
      this.writer?.schedule();
      return stored;
    }
    if (options.dryRun) return next;
    const removed = this.withResourceVersion(next, this.nextResourceVersion());
    bucket.objects.delete(key);
    bucket.record({ resourceVersion: this.resourceVersion, type: 'DELETED', object: removed });
    if (options.propagationPolicy === 'Orphan') this.orphanDependents(current);
    this.afterRemoval(type, removed);
    this.writer?.schedule();
    return removed;
  }

  /** Removes ownerReferences to `owner` from every object (what the GC does for Orphan). */
  private orphanDependents(owner: KubeObject): void {
    const uid = owner.metadata?.uid;
    if (!uid) return;
    for (const bucket of this.buckets.values()) {
      for (const [key, object] of [...bucket.objects]) {
        const references = object.metadata?.ownerReferences;
        if (!references?.some((reference) => reference.uid === uid)) continue;
        const next = structuredClone(object);
        const remaining = references.filter((reference) => reference.uid !== uid);
        if (remaining.length > 0) metadataOf(next).ownerReferences = remaining;
        else delete metadataOf(next).ownerReferences;
        const stored = this.withResourceVersion(next, this.nextResourceVersion());
        bucket.objects.set(key, stored);
        bucket.record({ resourceVersion: this.resourceVersion, type: 'MODIFIED', object: stored, previous: object });
      }
    }
  }

  async deleteCollection(gvr: GroupVersionResource, options: ListOptions & DeleteOptions = {}): Promise<ObjectList> {
    const type = this.requireType(gvr);
    if (!type.verbs.includes('deletecollection')) throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    const { limit: _limit, continue: _continue, ...rest } = options;
    const { items } = await this.list(gvr, rest);
    const deleted: KubeObject[] = [];
    for (const item of items) {
      try {
        deleted.push(await this.delete(gvr, item.metadata?.namespace, item.metadata?.name ?? '', options));
      } catch (error) {
        if (!(error instanceof ApiError && error.code === 404)) throw error;
      }
    }
    return { items: deleted, resourceVersion: String(this.resourceVersion) };
  }
}

function hasPendingFinalizers(type: ResourceType, object: KubeObject): boolean {
  if ((object.metadata?.finalizers ?? []).length > 0) return true;
  if (type.group === '' && type.resource === 'namespaces') {
    const spec = isRecord(object.spec) ? object.spec : {};
    return Array.isArray(spec.finalizers) && spec.finalizers.length > 0;
  }
  return false;
}

function managedFieldsEntry(manager: string, operation: 'Apply' | 'Update', apiVersion: string, time: string, subresource?: string): ManagedFieldsEntry {
  return { manager, operation, apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource ? { subresource } : {}) };
}

function upsertManagedFields(existing: unknown, entry: ManagedFieldsEntry): ManagedFieldsEntry[] {
  const entries = Array.isArray(existing) ? (existing as ManagedFieldsEntry[]) : [];
  const same = (candidate: ManagedFieldsEntry) => candidate.manager === entry.manager && candidate.operation === entry.operation && candidate.subresource === entry.subresource;
  return [...entries.filter((candidate) => !same(candidate)), entry];
}

function managerKeys(object: KubeObject): string[] {
  const entries = Array.isArray(object.metadata?.managedFields) ? (object.metadata.managedFields as ManagedFieldsEntry[]) : [];
  return entries.map((entry) => `${entry.manager}/${entry.operation}/${entry.subresource ?? ''}`).sort();
}

function gainsManager(current: KubeObject, next: KubeObject): boolean {
  return !isDeepStrictEqual(managerKeys(current), managerKeys(next));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`the patch is not valid JSON: ${(error as Error).message}`);
  }
}

function parseApplyBody(text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw badRequest(`the apply body is not valid YAML or JSON: ${(error as Error).message}`);
  }
}

interface ContinueToken {
  resourceVersion: number;
  afterKey: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'autostash/1', rv: token.resourceVersion, start: token.afterKey }), 'utf8').toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { v?: unknown; rv?: unknown; start?: unknown };
    if (parsed.v === 'autostash/1' && typeof parsed.rv === 'number' && typeof parsed.start === 'string') return { resourceVersion: parsed.rv, afterKey: parsed.start };
  } catch {
    // fall through to the BadRequest below
  }
  throw badRequest('continue key is not valid: use the continue value of the previous list response');
}

/**
 * Creates the embedded API. Persisted state (when `persist` is set) is read synchronously here, and the namespaces kube-apiserver always has (default, kube-system, kube-public,
 * kube-node-lease) exist.
 */
export function createEmbeddedApi(options: EmbeddedApiOptions = {}): EmbeddedApiImplementation {
  const store = new EmbeddedStore(options);
  store.start();
  return store;
}

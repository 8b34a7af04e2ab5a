import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatApiVersion, type KubeObject } from '../../domain/kube-object.js';
import {
  ApiError,
  type DeleteOptions,
  type EmbeddedApi,
  type GroupVersionResource,
  type ListOptions,
  type PatchType,
  type ResourceType,
  type WriteOptions,
} from '../api-types.js';
import { httpErrors } from './api-errors.js';
import { negotiateShape } from './content-negotiation.js';
import { decodeBody, mediaType, readRequestBody } from './request-body.js';
import type { ResourcePath } from './resource-path.js';
import { sendJson } from './responses.js';
import { crdPrinterColumns, renderTable, type IncludeObject, type PrinterColumn } from './table.js';
import { streamWatch, watchSeconds, type OpenWatches } from './watch-stream.js';

export interface RestContext {
  api: EmbeddedApi;
  open: OpenWatches;
  now: () => number;
}

const patchTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic-merge',
  'application/apply-patch+yaml': 'apply',
};

const crdGvr: GroupVersionResource = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const optional = <K extends string, V>(key: K, value: V | undefined | null): { [P in K]?: V } =>
  (value === undefined || value === null ? {} : { [key]: value }) as { [P in K]?: V };

/** `dryRun=All` (the only value Kubernetes defines) as a boolean; anything else is a 400. */
function dryRunOf(values: readonly unknown[]): boolean {
  let dryRun = false;
  for (const value of values) {
    if (value === 'All') dryRun = true;
    else if (value !== '' && value !== undefined) throw httpErrors.badRequest(`dryRun: Unsupported value: "${String(value)}": supported values: "All"`);
  }
  return dryRun;
}

function writeOptions(query: URLSearchParams, warnings: string[]): WriteOptions {
  const fieldValidation = query.get('fieldValidation');
  if (fieldValidation !== null && !['Ignore', 'Warn', 'Strict', ''].includes(fieldValidation)) {
    throw httpErrors.badRequest(`fieldValidation: Unsupported value: "${fieldValidation}": supported values: "Ignore", "Warn", "Strict"`);
  }
  return {
    dryRun: dryRunOf(query.getAll('dryRun')),
    ...optional('fieldManager', query.get('fieldManager')),
    onWarning: (warning: string) => warnings.push(warning),
  };
}

function listOptions(query: URLSearchParams, namespace: string | undefined): ListOptions {
  const limit = query.get('limit');
  const parsedLimit = limit === null || limit === '' ? undefined : Number(limit);
  if (parsedLimit !== undefined && (!Number.isInteger(parsedLimit) || parsedLimit < 0)) throw httpErrors.badRequest(`limit: invalid value "${limit}"`);
  return {
    ...optional('namespace', namespace),
    ...optional('labelSelector', query.get('labelSelector') || undefined),
    ...optional('fieldSelector', query.get('fieldSelector') || undefined),
    ...optional('limit', parsedLimit === 0 ? undefined : parsedLimit),
    ...optional('continue', query.get('continue') || undefined),
  };
}

const groupVersion = (type: ResourceType): string => formatApiVersion(type.group, type.version);

async function readObject(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = decodeBody(await readRequestBody(request), mediaType(request.headers['content-type']));
  if (!isObject(body)) throw httpErrors.badRequest('the request body must be a JSON object');
  return body;
}

/** Routes one REST request on a resource path onto the EmbeddedApi and writes the response. */
export async function handleResourceRequest(
  context: RestContext,
  request: IncomingMessage,
  response: ServerResponse,
  path: ResourcePath,
  query: URLSearchParams,
): Promise<void> {
  const { api } = context;
  const gvr: GroupVersionResource = { group: path.group, version: path.version, resource: path.resource };
  const type = api.resourceType(gvr);
  if (type === undefined) throw httpErrors.notFound();
  if (path.namespace !== undefined && !type.namespaced) throw httpErrors.notFound();
  if (path.subresource !== undefined && !(path.subresource === 'status' && type.statusSubresource)) throw httpErrors.notFound();
  const namespace = type.namespaced ? path.namespace : undefined;
  const method = request.method ?? 'GET';
  const warnings: string[] = [];
  const what = path.name === undefined ? `${type.resource}` : `${type.resource}/${path.name}`;

  if (path.watchPrefix && method !== 'GET') throw httpErrors.methodNotAllowed(method, what);
  switch (method) {
    case 'GET':
      return get(context, request, response, type, gvr, path, namespace, query);
    case 'POST': {
      if (path.name !== undefined) throw httpErrors.methodNotAllowed(method, what);
      if (type.namespaced && namespace === undefined) throw httpErrors.notFound();
      const object = await readObject(request);
      const metadata = isObject(object.metadata) ? object.metadata : {};
      if (namespace !== undefined) {
        if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
          throw httpErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        object.metadata = { ...metadata, namespace };
      }
      const created = await api.create(gvr, namespace, object as KubeObject, writeOptions(query, warnings));
      return sendJson(response, 201, created, warnings);
    }
    case 'PUT': {
      if (path.name === undefined) throw httpErrors.methodNotAllowed(method, what);
      const object = await readObject(request);
      const metadata = isObject(object.metadata) ? object.metadata : {};
      if (metadata.name !== undefined && metadata.name !== path.name) {
        throw httpErrors.badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${path.name})`);
      }
      if (namespace !== undefined && metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
        throw httpErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      object.metadata = { ...metadata, name: path.name, ...optional('namespace', namespace) };
      const options = writeOptions(query, warnings);
      const updated =
        path.subresource === 'status'
          ? await api.updateStatus(gvr, namespace, object as KubeObject, options)
          : await api.update(gvr, namespace, object as KubeObject, options);
      return sendJson(response, 200, updated, warnings);
    }
    case 'PATCH': {
      if (path.name === undefined) throw httpErrors.methodNotAllowed(method, what);
      const contentType = mediaType(request.headers['content-type']);
      const patchType = patchTypes[contentType];
      if (patchType === undefined) throw httpErrors.unsupportedMediaType(contentType);
      const patch = decodeBody(await readRequestBody(request), contentType);
      if (patch === undefined) throw httpErrors.badRequest('the patch body is empty');
      const options = writeOptions(query, warnings);
      if (patchType === 'apply' && !options.fieldManager) {
        throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
      }
      const force = query.get('force');
      const patched = await api.patch(gvr, namespace, path.name, patchType, patch, {
        ...options,
        ...(path.subresource === 'status' ? { subresource: 'status' as const } : {}),
        ...(force === 'true' || force === '1' ? { force: true } : {}),
      });
      return sendJson(response, 200, patched, warnings);
    }
    case 'DELETE':
      return remove(context, request, response, type, gvr, path, namespace, query, warnings);
    default:
      throw httpErrors.methodNotAllowed(method, what);
  }
}

async function get(
  context: RestContext,
  request: IncomingMessage,
  response: ServerResponse,
  type: ResourceType,
  gvr: GroupVersionResource,
  path: ResourcePath,
  namespace: string | undefined,
  query: URLSearchParams,
): Promise<void> {
  const { api } = context;
  const watch = path.watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1';
  const shape = negotiateShape(request.headers.accept, path.subresource === undefined);
  const includeObject = (query.get('includeObject') ?? 'Metadata') as IncludeObject;
  const tableOf = async (objects: KubeObject[], metadata: Record<string, unknown>): Promise<KubeObject> =>
    renderTable(objects, metadata, {
      type,
      ...optional('crdColumns', await printerColumns(api, type)),
      includeObject: ['None', 'Metadata', 'Object'].includes(includeObject) ? includeObject : 'Metadata',
      apiVersion: shape.as === 'Table' ? shape.apiVersion : 'meta.k8s.io/v1',
      now: context.now(),
    });

  if (watch) {
    const base = listOptions(query, namespace);
    const nameSelector = path.name === undefined ? undefined : `metadata.name=${path.name}`;
    const fieldSelector = [base.fieldSelector, nameSelector].filter((s) => s !== undefined).join(',');
    const columns = shape.as === 'Table' ? await printerColumns(api, type) : undefined;
    streamWatch(request, response, {
      api,
      gvr,
      options: {
        ...optional('namespace', namespace),
        ...optional('labelSelector', base.labelSelector),
        ...optional('fieldSelector', fieldSelector || undefined),
        ...optional('resourceVersion', query.get('resourceVersion') ?? undefined),
        allowWatchBookmarks: query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1',
      },
      seconds: watchSeconds(query.get('timeoutSeconds')),
      open: context.open,
      ...(shape.as === 'Table'
        ? {
            transform: (object: KubeObject) =>
              renderTable([object], {}, { type, ...optional('crdColumns', columns), includeObject: 'Object', apiVersion: shape.apiVersion, now: context.now() }),
          }
        : {}),
    });
    return;
  }
  if (path.name !== undefined) {
    const object = await api.get(gvr, namespace, path.name);
    return sendJson(response, 200, shape.as === 'Table' ? await tableOf([object], { resourceVersion: object.metadata?.resourceVersion }) : object);
  }
  const list = await api.list(gvr, listOptions(query, namespace));
  const metadata = {
    resourceVersion: list.resourceVersion,
    ...optional('continue', list.continue),
    ...optional('remainingItemCount', list.remainingItemCount),
  };
  if (shape.as === 'Table') return sendJson(response, 200, await tableOf(list.items, metadata));
  return sendJson(response, 200, { apiVersion: groupVersion(type), kind: type.listKind, metadata, items: list.items });
}

/** CRD printer columns for a custom resource (undefined for built-ins or when the CRD defines none). */
async function printerColumns(api: EmbeddedApi, type: ResourceType): Promise<PrinterColumn[] | undefined> {
  if (type.schema === undefined) return undefined;
  try {
    const crd = await api.get(crdGvr, undefined, `${type.resource}.${type.group}`);
    const columns = crdPrinterColumns(crd, type.version);
    return columns.length > 0 ? columns : undefined;
  } catch {
    return undefined;
  }
}

function deleteOptions(body: unknown, query: URLSearchParams, warnings: string[]): DeleteOptions {
  const fromBody = isObject(body) ? body : {};
  const policy = query.get('propagationPolicy') ?? (fromBody.propagationPolicy as string | undefined) ?? (fromBody.orphanDependents === true ? 'Orphan' : undefined);
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw httpErrors.badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Orphan", "Background", "Foreground"`);
  }
  const grace = query.get('gracePeriodSeconds') ?? fromBody.gracePeriodSeconds;
  const preconditions = isObject(fromBody.preconditions) ? (fromBody.preconditions as DeleteOptions['preconditions']) : undefined;
  const bodyDryRun = Array.isArray(fromBody.dryRun) ? (fromBody.dryRun as unknown[]) : [];
  return {
    ...writeOptions(query, warnings),
    dryRun: dryRunOf([...query.getAll('dryRun'), ...bodyDryRun]),
    ...optional('propagationPolicy', policy as DeleteOptions['propagationPolicy']),
    ...optional('preconditions', preconditions),
    ...(grace !== undefined && grace !== null && grace !== '' ? { gracePeriodSeconds: Number(grace) } : {}),
  };
}

async function remove(
  context: RestContext,
  request: IncomingMessage,
  response: ServerResponse,
  type: ResourceType,
  gvr: GroupVersionResource,
  path: ResourcePath,
  namespace: string | undefined,
  query: URLSearchParams,
  warnings: string[],
): Promise<void> {
  const { api } = context;
  if (path.subresource !== undefined) throw httpErrors.methodNotAllowed('DELETE', `${type.resource}/${path.subresource}`);
  const body = decodeBody(await readRequestBody(request), 'application/json');
  const options = deleteOptions(body, query, warnings);
  if (path.name === undefined) {
    const deleted = await api.deleteCollection(gvr, { ...listOptions(query, namespace), ...options });
    return sendJson(response, 200, { apiVersion: groupVersion(type), kind: type.listKind, metadata: { resourceVersion: deleted.resourceVersion }, items: deleted.items }, warnings);
  }
  const result = await api.delete(gvr, namespace, path.name, options);
  const pending = Boolean(result.metadata?.deletionTimestamp) && (result.metadata?.finalizers?.length ?? 0) > 0;
  if (pending || type.resource === 'pods') return sendJson(response, pending ? 202 : 200, result, warnings);
  return sendJson(
    response,
    200,
    {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: path.name, group: type.group, kind: type.resource, ...optional('uid', result.metadata?.uid) },
    },
    warnings,
  );
}

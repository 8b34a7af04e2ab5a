import { createHash } from 'node:crypto';
import type { ResourceType } from '../api-types.js';
import { servedKubernetesVersion } from './discovery.js';
import { formatApiVersion } from '../../domain/kube-object.js';

type Json = Record<string, unknown>;


/** `api/v1` or `apis/<group>/<version>`: the key of a group/version in the `/openapi/v3` index. */
export const openapiPathKey = (group: string, version: string): string => (group === '' ? `api/${version}` : `apis/${group}/${version}`);

/** Component name in the style of kube-apiserver: `io.k8s.api.core.v1.Pod`, reversed domain for dotted groups. */
export function schemaName(type: Pick<ResourceType, 'group' | 'version' | 'kind'>): string {
  const prefix =
    type.group === '' ? 'io.k8s.api.core' : type.group.includes('.') ? type.group.split('.').reverse().join('.') : `io.k8s.api.${type.group}`;
  return `${prefix}.${type.version}.${type.kind}`;
}

const preserveUnknown = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } as const;

/**
 * The schema of a kind: the CRD's structural schema for custom resources, a permissive object for
 * built-ins (the server validates; the client only needs the kind to be known). Both carry
 * `x-kubernetes-group-version-kind`, which is how kubectl finds a kind's schema.
 */
export function kindSchema(type: ResourceType): Json {
  const gvk = [{ group: type.group, version: type.version, kind: type.kind }];
  const base: Json = type.schema !== undefined ? structuredClone(type.schema) : { ...preserveUnknown };
  const properties = (typeof base.properties === 'object' && base.properties !== null ? base.properties : {}) as Json;
  return {
    ...base,
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { ...preserveUnknown },
      ...properties,
    },
    'x-kubernetes-group-version-kind': gvk,
  };
}

const queryParameter = (name: string, type = 'string'): Json => ({ name, in: 'query', schema: { type }, uniqueItems: true });

const writeParameters = [queryParameter('dryRun'), queryParameter('fieldManager'), queryParameter('fieldValidation')];
const patchParameters = [...writeParameters, queryParameter('force', 'boolean')];
const listParameters = ['labelSelector', 'fieldSelector', 'continue', 'resourceVersion', 'resourceVersionMatch']
  .map((name) => queryParameter(name))
  .concat([queryParameter('limit', 'integer'), queryParameter('timeoutSeconds', 'integer'), queryParameter('watch', 'boolean'), queryParameter('allowWatchBookmarks', 'boolean')]);

/**
 * Media types a PATCH accepts. Strategic merge patch is deliberately not advertised: kubectl then
 * computes client-side apply patches for built-in kinds from its compiled-in types (exact patch
 * strategies and merge keys) instead of from these permissive schemas.
 */
const patchMediaTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

function operation(type: ResourceType, action: string, schemaRef: string, extra: Json = {}): Json {
  const content = { 'application/json': { schema: { $ref: schemaRef } } };
  return {
    operationId: `${action}${type.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind },
    responses: { '200': { description: 'OK', content } },
    ...extra,
  };
}

function pathsFor(type: ResourceType, ref: string): Record<string, Json> {
  const root = type.group === '' ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const collection = type.namespaced ? `${root}/namespaces/{namespace}/${type.resource}` : `${root}/${type.resource}`;
  const item = `${collection}/{name}`;
  const pathParameters = [
    { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
    ...(type.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }] : []),
  ];
  const body = { required: true, content: { '*/*': { schema: { $ref: ref } } } };
  const patchBody = { required: true, content: Object.fromEntries(patchMediaTypes.map((m) => [m, { schema: { type: 'object' } }])) };
  const paths: Record<string, Json> = {
    [collection]: {
      ...(type.namespaced ? { parameters: [pathParameters[1]] } : {}),
      get: operation(type, 'list', ref, { parameters: listParameters }),
      post: operation(type, 'post', ref, { parameters: writeParameters, requestBody: body }),
      delete: operation(type, 'deletecollection', ref, { parameters: listParameters }),
    },
    [item]: {
      parameters: pathParameters,
      get: operation(type, 'get', ref),
      put: operation(type, 'put', ref, { parameters: writeParameters, requestBody: body }),
      patch: operation(type, 'patch', ref, { parameters: patchParameters, requestBody: patchBody }),
      delete: operation(type, 'delete', ref, { parameters: [queryParameter('dryRun'), queryParameter('propagationPolicy')] }),
    },
  };
  if (type.statusSubresource) {
    paths[`${item}/status`] = {
      parameters: pathParameters,
      get: operation(type, 'get', ref),
      put: operation(type, 'put', ref, { parameters: writeParameters, requestBody: body }),
      patch: operation(type, 'patch', ref, { parameters: patchParameters, requestBody: patchBody }),
    };
  }
  return paths;
}

/** The OpenAPI v3 document of one group/version, or undefined when nothing is served there. */
export function openapiGroupVersionDocument(types: readonly ResourceType[], group: string, version: string): Json | undefined {
  const served = types.filter((t) => t.group === group && t.version === version);
  if (served.length === 0) return undefined;
  const schemas: Json = {};
  let paths: Json = {};
  for (const type of served) {
    const name = schemaName(type);
    schemas[name] = kindSchema(type);
    paths = { ...paths, ...pathsFor(type, `#/components/schemas/${name}`) };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: servedKubernetesVersion.gitVersion },
    paths,
    components: { schemas },
  };
}

interface OpenapiSnapshot {
  fingerprint: string;
  index: Json;
  documents: Map<string, { body: string; hash: string }>;
}

const sha512 = (text: string): string => createHash('sha512').update(text).digest('hex').toUpperCase();

/**
 * Serves `/openapi/v3` and its group/version documents, generated once per resource set: the cache
 * is rebuilt only when the served resource types change (a CRD registered or removed).
 */
export class OpenapiDocuments {
  private snapshot: OpenapiSnapshot | undefined;

  /** The index: each served group/version with a `serverRelativeURL` carrying its content hash. */
  index(types: readonly ResourceType[]): Json {
    return this.current(types).index;
  }

  /** The serialized document of a group/version (JSON text), or undefined when not served. */
  document(types: readonly ResourceType[], group: string, version: string): string | undefined {
    return this.current(types).documents.get(openapiPathKey(group, version))?.body;
  }

  private current(types: readonly ResourceType[]): OpenapiSnapshot {
    const fingerprint = sha512(JSON.stringify(types));
    if (this.snapshot?.fingerprint === fingerprint) return this.snapshot;
    const documents = new Map<string, { body: string; hash: string }>();
    const groupVersions = new Map<string, { group: string; version: string }>();
    for (const type of types) groupVersions.set(formatApiVersion(type.group, type.version), { group: type.group, version: type.version });
    const paths: Json = {};
    for (const { group, version } of groupVersions.values()) {
      const body = JSON.stringify(openapiGroupVersionDocument(types, group, version));
      const hash = sha512(body);
      const key = openapiPathKey(group, version);
      documents.set(key, { body, hash });
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
    this.snapshot = { fingerprint, index: { paths }, documents };
    return this.snapshot;
  }
}

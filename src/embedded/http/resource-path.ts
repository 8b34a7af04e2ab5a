/** What a request path addresses. */
export type ApiPath =
  | { kind: 'health'; check: string }
  | { kind: 'version' }
  | { kind: 'coreVersions' }
  | { kind: 'groupList' }
  | { kind: 'group'; group: string }
  | { kind: 'resourceList'; group: string; version: string }
  | { kind: 'openapiIndex' }
  | { kind: 'openapiGroupVersion'; group: string; version: string }
  | { kind: 'openapiV2' }
  | ResourcePath;

export interface ResourcePath {
  kind: 'resource';
  group: string;
  version: string;
  resource: string;
  /** Set for paths under `namespaces/<ns>/`. */
  namespace?: string;
  name?: string;
  subresource?: string;
  /** True for the legacy `/watch/` prefix. */
  watchPrefix: boolean;
}

/** Subresources of `namespaces` that share the path shape `namespaces/<ns>/<x>` with namespaced collections. */
const namespaceSubresources = new Set(['status', 'finalize']);

const decodeSegments = (path: string): string[] | undefined => {
  const raw = path.split('/').filter((segment) => segment !== '');
  try {
    return raw.map((segment) => decodeURIComponent(segment));
  } catch {
    return undefined;
  }
};

/**
 * Parses a Kubernetes API path (no query string): discovery, OpenAPI, health, and REST paths
 * `/api/v1/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]` and the same under
 * `/apis/<group>/<version>`, with an optional legacy `watch/` after the version.
 * Undefined when the path is none of these.
 */
export function parseApiPath(path: string): ApiPath | undefined {
  const segments = decodeSegments(path);
  if (segments === undefined) return undefined;
  const [first, second, third, fourth] = segments;
  if (segments.length === 1 && (first === 'healthz' || first === 'livez' || first === 'readyz')) return { kind: 'health', check: first };
  if (first === 'version' && segments.length === 1) return { kind: 'version' };
  if (first === 'openapi') {
    if (second === 'v2' && segments.length === 2) return { kind: 'openapiV2' };
    if (second !== 'v3') return undefined;
    if (segments.length === 2) return { kind: 'openapiIndex' };
    if (third === 'api' && fourth !== undefined && segments.length === 4) return { kind: 'openapiGroupVersion', group: '', version: fourth };
    if (third === 'apis' && fourth !== undefined && segments[4] !== undefined && segments.length === 5) {
      return { kind: 'openapiGroupVersion', group: fourth, version: segments[4] };
    }
    return undefined;
  }
  if (first === 'api') {
    if (second === undefined) return { kind: 'coreVersions' };
    if (segments.length === 2) return { kind: 'resourceList', group: '', version: second };
    return parseResourceSegments('', second, segments.slice(2));
  }
  if (first === 'apis') {
    if (second === undefined) return { kind: 'groupList' };
    if (third === undefined) return { kind: 'group', group: second };
    if (segments.length === 3) return { kind: 'resourceList', group: second, version: third };
    return parseResourceSegments(second, third, segments.slice(3));
  }
  return undefined;
}

function parseResourceSegments(group: string, version: string, rest: string[]): ResourcePath | undefined {
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  const isNamespaceSubresource = rest.length === 3 && namespaceSubresources.has(rest[2] ?? '');
  if (rest[0] === 'namespaces' && rest.length >= 3 && !isNamespaceSubresource) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (resource === undefined || rest.length > 3) return undefined;
  return {
    kind: 'resource',
    group,
    version,
    resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    watchPrefix,
  };
}

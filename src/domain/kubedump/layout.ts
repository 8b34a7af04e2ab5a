/**
 * The kubedump layout (SPEC §11): where one object's YAML lives inside a dump directory, and the way back
 * from such a path to the resource type and object it names. The restic snapshot of component `manifest`
 * holds exactly this layout:
 *
 *   <resource>[.<group>]/cluster/<name>.yaml
 *   <resource>[.<group>]/namespaces/<namespace>/<name>.yaml
 */

/** A listable resource type as discovery describes it. */
export interface DumpResourceType {
  /** API group; `''` for the core group. */
  group: string;
  version: string;
  /** Plural resource name, e.g. `deployments`. */
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** What a path inside a dump names. */
export interface ParsedDumpFilePath {
  /** The first segment, `resource` or `resource.group`. */
  directory: string;
  group: string;
  resource: string;
  /** Set for files under `namespaces/<namespace>/`. */
  namespace?: string;
  name: string;
}

export const CLUSTER_SEGMENT = 'cluster';
export const NAMESPACES_SEGMENT = 'namespaces';
export const DUMP_FILE_SUFFIX = '.yaml';

/** A resource plural or an API group: lowercase DNS labels joined by dots. */
const DIRECTORY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Thrown when a name cannot be a segment of a dump path (it would escape or break the layout). */
export class DumpLayoutError extends Error {
  override readonly name = 'DumpLayoutError';
}

/** Why `segment` cannot be one path segment (object or namespace name), or undefined when it can. */
export function unsafeSegmentProblem(segment: string): string | undefined {
  if (segment === '') return 'is empty';
  if (segment === '.' || segment === '..') return `"${segment}" is not a name`;
  if (segment.includes('/') || segment.includes('\\') || segment.includes('\0')) return `"${segment}" contains a path separator or NUL`;
  return undefined;
}

/** `resource` for the core group, `resource.group` otherwise (e.g. `secrets`, `deployments.apps`). */
export function dumpDirectoryName(type: Pick<DumpResourceType, 'group' | 'resource'>): string {
  return type.group === '' ? type.resource : `${type.resource}.${type.group}`;
}

/**
 * The relative POSIX path of one object's YAML: `<dir>/cluster/<name>.yaml` for a cluster-scoped type,
 * `<dir>/namespaces/<namespace>/<name>.yaml` for a namespaced one. Throws DumpLayoutError when a namespaced
 * type has no namespace or a name or namespace could not be one path segment (empty, `.`, `..`, `/`).
 */
export function dumpFilePath(type: Pick<DumpResourceType, 'group' | 'resource' | 'namespaced'>, namespace: string | undefined, name: string): string {
  const directory = dumpDirectoryName(type);
  const nameProblem = unsafeSegmentProblem(name);
  if (nameProblem !== undefined) throw new DumpLayoutError(`${directory}: object name ${nameProblem}`);
  if (!type.namespaced) return `${directory}/${CLUSTER_SEGMENT}/${name}${DUMP_FILE_SUFFIX}`;
  const namespaceProblem = unsafeSegmentProblem(namespace ?? '');
  if (namespaceProblem !== undefined) throw new DumpLayoutError(`${directory}/${name}: namespace ${namespaceProblem}`);
  return `${directory}/${NAMESPACES_SEGMENT}/${namespace}/${name}${DUMP_FILE_SUFFIX}`;
}

/**
 * The resource and object a relative POSIX path of the layout names, or undefined for anything else: an
 * absolute path, `.`/`..`/empty segments, a backslash, a directory that is not `resource[.group]`, a middle
 * segment other than `cluster`/`namespaces`, the wrong depth, or a file not ending in `.yaml`.
 */
export function parseDumpFilePath(relativePath: string): ParsedDumpFilePath | undefined {
  if (relativePath.startsWith('/') || relativePath.includes('\\') || relativePath.includes('\0')) return undefined;
  const segments = relativePath.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  const [directory = '', scope, ...rest] = segments;
  if (!DIRECTORY.test(directory)) return undefined;
  const dot = directory.indexOf('.');
  const resource = dot < 0 ? directory : directory.slice(0, dot);
  const group = dot < 0 ? '' : directory.slice(dot + 1);
  let namespace: string | undefined;
  let file: string;
  if (scope === CLUSTER_SEGMENT && rest.length === 1) {
    file = rest[0] as string;
  } else if (scope === NAMESPACES_SEGMENT && rest.length === 2) {
    namespace = rest[0] as string;
    file = rest[1] as string;
  } else {
    return undefined;
  }
  if (!file.endsWith(DUMP_FILE_SUFFIX)) return undefined;
  const name = file.slice(0, -DUMP_FILE_SUFFIX.length);
  if (unsafeSegmentProblem(name) !== undefined) return undefined;
  return { directory, group, resource, ...(namespace !== undefined ? { namespace } : {}), name };
}

/**
 * The kubedump writer: lists every selected resource page by page and writes each object, sanitized, as YAML
 * into the layout of src/domain/kubedump/layout.ts as soon as its page arrives, so memory holds one page at a
 * time whatever the object count. Object contents are never logged (the dump holds Secrets).
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import {
  andLabelSelectorQuery,
  namespaceSelected,
  namespacesToList,
  objectSelected,
  resourceSelected,
  type KubedumpFilter,
} from '../../domain/kubedump/filter.js';
import { applicationReferences, belongsToApplication, ownedClosure, ownerUids } from '../../domain/kubedump/application.js';
import { dumpDirectoryName, dumpFilePath, type DumpResourceType } from '../../domain/kubedump/layout.js';
import { sanitizeForDump } from '../../domain/kubedump/sanitize.js';
import { formatApiVersion, type KubeObject } from '../../domain/kube-object.js';
import { isNotFound, type KubeClient } from '../../kube/client.js';
import { describeFailure, ExecError } from '../context.js';
import { discoverDumpResourceTypes } from './discovery.js';

/** What a dump is narrowed to besides the filter: the whole cluster, one namespace, or one application. */
export type DumpScope =
  | { scope: 'cluster' }
  | { scope: 'namespace'; namespace: string }
  | { scope: 'application'; namespace: string; target: { group: string; kind: string; name: string } };

export interface DumpOptions {
  client: KubeClient;
  logger: Logger;
  filter: KubedumpFilter;
  /** Directory on this machine that receives the layout; created (mode 0700) when missing. */
  outputDir: string;
  /** Default: the whole cluster. */
  scope?: DumpScope;
  /** Objects per list request (`limit`); default 500, as kubectl. */
  pageSize?: number;
  /** Called after each object is written (benchmarks sample memory there). */
  onObjectWritten?: () => void;
}

export interface DumpSummary {
  /** Objects written. */
  objects: number;
  /** Resource types with at least one object written. */
  resourceTypes: number;
  /** YAML bytes written. */
  bytes: number;
  /** `group/version`s skipped because discovery failed for them. */
  unavailable: string[];
}

export const DEFAULT_PAGE_SIZE = 500;
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

const typeRef = (type: DumpResourceType) => ({ apiVersion: formatApiVersion(type.group, type.version), kind: type.kind });

/**
 * Lists one type (in one namespace, or everywhere) page by page with `limit`/`continue`, handing each page to
 * `onPage` before the next is requested. A type that vanished since discovery (404) lists as empty.
 */
async function forEachPage(
  client: KubeClient,
  type: DumpResourceType,
  options: { namespace: string | undefined; labelSelector: string; pageSize: number },
  onPage: (items: KubeObject[]) => Promise<void>,
): Promise<void> {
  let next: string | undefined;
  do {
    let page;
    try {
      page = await client.list(typeRef(type), {
        ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
        ...(options.labelSelector !== '' ? { labelSelector: options.labelSelector } : {}),
        limit: options.pageSize,
        ...(next !== undefined ? { continue: next } : {}),
      });
    } catch (error) {
      if (isNotFound(error)) return;
      throw new ExecError(`could not list ${dumpDirectoryName(type)}${options.namespace !== undefined ? ` in namespace ${options.namespace}` : ''}: ${describeFailure(error)}`);
    }
    await onPage(page.items);
    next = page.continue;
  } while (next !== undefined);
}

/** The namespaces to list a type in (`undefined` = all namespaces at once, or the type is cluster-scoped). */
function namespacesFor(type: DumpResourceType, filter: KubedumpFilter, scope: DumpScope): Array<string | undefined> {
  if (!type.namespaced) return scope.scope === 'application' ? [] : [undefined];
  if (scope.scope !== 'cluster') return namespaceSelected(filter, scope.namespace) ? [scope.namespace] : [];
  return namespacesToList(filter) ?? [undefined];
}

/**
 * For an application scope: reads the target, then lists the target's namespace once (uids and owners only) to
 * find what it owns, and answers which objects belong to it (src/domain/kubedump/application.ts). `types` are
 * every discovered type, not only the selected ones: the filters decide what is written, not what the
 * application is (IncludeResources=pods still means the Deployment's Pods, owned through ReplicaSets).
 */
async function applicationMembership(
  client: KubeClient,
  logger: Logger,
  types: readonly DumpResourceType[],
  selected: readonly DumpResourceType[],
  scope: Extract<DumpScope, { scope: 'application' }>,
  pageSize: number,
): Promise<(type: DumpResourceType, object: KubeObject) => boolean> {
  const { target, namespace } = scope;
  const targetType = types.find((t) => t.group === target.group && t.kind === target.kind && t.namespaced);
  const what = `the target ${target.kind} ${namespace}/${target.name}`;
  if (targetType === undefined) throw new ExecError(`${what} is not a namespaced kind the API server serves`);
  const root = await client.find({ ...typeRef(targetType), namespace, name: target.name });
  if (root === undefined) throw new ExecError(`${what} does not exist`);
  const ownersByUid = new Map<string, string[]>();
  for (const type of types.filter((t) => t.namespaced)) {
    try {
      await forEachPage(client, type, { namespace, labelSelector: '', pageSize }, async (items) => {
        for (const item of items) {
          const owners = ownerUids(item);
          if (owners.length > 0) ownersByUid.set(item.metadata?.uid ?? '', owners);
        }
      });
    } catch (error) {
      // A type the filters leave out is not dumped: failing to list it costs only the ownership links through it.
      if (selected.includes(type)) throw error;
      logger.warn({ resource: dumpDirectoryName(type), namespace, reason: describeFailure(error) }, 'ownership through an unselected type not followed: it could not be listed');
    }
  }
  const owned = ownedClosure(root.metadata?.uid ?? '', ownersByUid);
  const references = applicationReferences(root);
  return (type, object) => belongsToApplication(references, owned, type, object);
}

/**
 * Dumps what `filter` and `scope` select into `outputDir`: discovers the listable types, keeps those
 * resourceSelected for backup, lists each (per namespace when the filter or scope names namespaces; the AND
 * label terms go to the server), keeps the objects objectSelected and inside the scope, and writes each one
 * sanitized to dumpFilePath (files 0600, directories 0700; an existing file of the same path is replaced).
 * Throws ExecError when a type cannot be listed (other than vanished) or the application target is missing.
 */
export async function dumpResources(options: DumpOptions): Promise<DumpSummary> {
  const { client, logger, filter, outputDir } = options;
  const scope = options.scope ?? { scope: 'cluster' };
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const discovered = await discoverDumpResourceTypes(client, logger);
  const selected = discovered.types.filter((type) => resourceSelected(filter, type, 'backup'));
  const inApplication = scope.scope === 'application' ? await applicationMembership(client, logger, discovered.types, selected, scope, pageSize) : undefined;
  const inScope = (type: DumpResourceType, object: KubeObject): boolean => {
    if (inApplication !== undefined) return inApplication(type, object);
    // A namespace scope keeps its own Namespace object and no other.
    if (scope.scope === 'namespace' && dumpDirectoryName(type) === 'namespaces') return object.metadata?.name === scope.namespace;
    return true;
  };

  await mkdir(outputDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const madeDirectories = new Map<string, Promise<unknown>>();
  const summary: DumpSummary = { objects: 0, resourceTypes: 0, bytes: 0, unavailable: discovered.unavailable };
  const labelSelector = andLabelSelectorQuery(filter);
  for (const type of selected) {
    let written = 0;
    for (const namespace of namespacesFor(type, filter, scope)) {
      await forEachPage(client, type, { namespace, labelSelector, pageSize }, async (items) => {
        await Promise.all(
          items
            .filter((item) => objectSelected(filter, item, type) && inScope(type, item))
            .map(async (item) => {
              const path = join(outputDir, dumpFilePath(type, item.metadata?.namespace, item.metadata?.name ?? ''));
              const directory = dirname(path);
              // One mkdir per directory, shared by the objects of a page that wait for it at the same time.
              let made = madeDirectories.get(directory);
              if (made === undefined) {
                made = mkdir(directory, { recursive: true, mode: PRIVATE_DIR_MODE });
                madeDirectories.set(directory, made);
              }
              await made;
              const text = stringify(sanitizeForDump(type, item), { lineWidth: 0 });
              await writePrivateFile(path, text);
              summary.bytes += Buffer.byteLength(text);
              written++;
              options.onObjectWritten?.();
            }),
        );
      });
    }
    if (written > 0) {
      summary.resourceTypes++;
      summary.objects += written;
      logger.debug({ resource: dumpDirectoryName(type), objects: written }, 'resource dumped');
    }
  }
  logger.info({ objects: summary.objects, resourceTypes: summary.resourceTypes, bytes: summary.bytes }, 'manifests dumped');
  return summary;
}

/**
 * Writes `text` to `path` readable by its owner only. A file that already exists (a `--force` dump into a
 * git checkout) keeps its mode under a plain write, so it is made 0600 before Secret contents go in.
 */
async function writePrivateFile(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await chmod(path, PRIVATE_FILE_MODE);
    await writeFile(path, text);
  }
}

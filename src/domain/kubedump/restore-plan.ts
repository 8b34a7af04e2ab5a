/**
 * What a manifest restore (kubedump, SPEC §11) applies and in which order, decided from the file paths of a
 * dump and the restore parameters alone: the kubedump filters, RestorePVs, StorageClassMappings,
 * OverrideResources and the namespace to restore into. Objects come in KubeStash's priority order (CRDs and
 * namespaces first, then what workloads consume, then everything else, the cluster-api/kapp kinds last), so an
 * object's prerequisites exist before it. Label filters and owner references need the objects' contents and
 * are applied by the executor (restore-object.ts, owner-links.ts).
 */
import { ErrorCodes, fieldError, joinPath, type FieldError } from '../errors.js';
import { paramValue } from '../execution/function-args.js';
import { asArray, asObject, asString } from '../json-access.js';
import { namespaceSelected, parseKubedumpFilter, resourceSelected, type KubedumpFilter } from './filter.js';
import { parseDumpFilePath, type DumpResourceType } from './layout.js';

/** The restore-only parameter names (SPEC §11), as in the kubedump-addon `manifest-restore` task. */
export const KubedumpRestoreParams = {
  overrideResources: 'OverrideResources',
  restorePVs: 'RestorePVs',
  storageClassMappings: 'StorageClassMappings',
} as const;

export interface KubedumpRestoreOptions {
  filter: KubedumpFilter;
  /** Update objects that exist (keeping their live resourceVersion) instead of leaving them alone. */
  overrideResources: boolean;
  /** Restore PersistentVolumes (otherwise claims are provisioned anew). */
  restorePVs: boolean;
  /** Storage class old name → new name, applied to claims, volumes and StatefulSet claim templates. */
  storageClassMappings: Readonly<Record<string, string>>;
  /** Every namespaced object (and the dumped Namespace) goes into this namespace instead of its own. */
  restoreNamespace?: string;
}

/**
 * KubeStash's restore priority, first part (SPEC §11): what other objects need comes first. Entries are
 * `resource` or `resource.group`, as dump directories are named.
 */
export const RESTORE_PRIORITY_FIRST: readonly string[] = [
  'customresourcedefinitions.apiextensions.k8s.io',
  'namespaces',
  'storageclasses.storage.k8s.io',
  'volumesnapshotclasses.snapshot.storage.k8s.io',
  'volumesnapshotcontents.snapshot.storage.k8s.io',
  'volumesnapshots.snapshot.storage.k8s.io',
  'persistentvolumes',
  'persistentvolumeclaims',
  'serviceaccounts',
  'secrets',
  'configmaps',
  'limitranges',
  'pods',
  'replicasets.apps',
  'clusterclasses.cluster.x-k8s.io',
  'endpoints',
  'services',
];

/** KubeStash's restore priority, last part: kinds that reconcile whole clusters or app bundles go after everything. */
export const RESTORE_PRIORITY_LAST: readonly string[] = [
  'clusters.cluster.x-k8s.io',
  'clusterresourcesets.addons.cluster.x-k8s.io',
  'apps.kappctrl.k14s.io',
  'packageinstalls.packaging.carvel.dev',
];

const PERSISTENT_VOLUMES = 'persistentvolumes';
const NAMESPACES = 'namespaces';

/**
 * The rank of a dump directory in the restore order: its index in RESTORE_PRIORITY_FIRST, then every
 * directory not listed (one rank, ordered by name), then RESTORE_PRIORITY_LAST in its order.
 */
export function restorePriority(directory: string): number {
  const first = RESTORE_PRIORITY_FIRST.indexOf(directory);
  if (first >= 0) return first;
  const last = RESTORE_PRIORITY_LAST.indexOf(directory);
  return last >= 0 ? RESTORE_PRIORITY_FIRST.length + 1 + last : RESTORE_PRIORITY_FIRST.length;
}

/** Go's strconv.ParseBool spellings, as KubeStash reads its parameters; empty is false. */
function parseBool(value: string | undefined, param: string, errors: FieldError[]): boolean {
  const text = (value ?? '').trim();
  if (['', '0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  errors.push(fieldError(ErrorCodes.Invalid, param, `"${text}" is not true or false`));
  return false;
}

const STORAGE_CLASS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `old=new,…` into a map; each entry that is not two storage class names, or maps a class twice, is an error. */
function parseStorageClassMappings(value: string | undefined, errors: FieldError[]): Record<string, string> {
  const param = KubedumpRestoreParams.storageClassMappings;
  const mappings: Record<string, string> = {};
  for (const entry of (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const parts = entry.split('=').map((s) => s.trim());
    const [from = '', to = ''] = parts;
    if (parts.length !== 2 || !STORAGE_CLASS_NAME.test(from) || !STORAGE_CLASS_NAME.test(to)) {
      errors.push(fieldError(ErrorCodes.Invalid, param, `"${entry}" is not old=new with two storage class names`));
    } else if (Object.prototype.hasOwnProperty.call(mappings, from)) {
      errors.push(fieldError(ErrorCodes.Duplicate, param, `storage class "${from}" is mapped twice`));
    } else {
      Object.defineProperty(mappings, from, { value: to, enumerable: true });
    }
  }
  return mappings;
}

/**
 * Reads the manifest-restore parameters: the kubedump filters (parseKubedumpFilter), OverrideResources and
 * RestorePVs (booleans, empty = false) and StorageClassMappings (`old=new,…`), plus the namespace to restore
 * into (`restoreNamespace`, reported at `restoreNamespaceField`). Every bad value is an error at its parameter.
 */
export function parseKubedumpRestoreOptions(
  params: Readonly<Record<string, string | undefined>>,
  restoreNamespace?: string,
  restoreNamespaceField = 'spec.manifestOptions.workload.restoreNamespace',
): { options: KubedumpRestoreOptions } | { errors: FieldError[] } {
  const parsed = parseKubedumpFilter(params);
  const errors: FieldError[] = 'errors' in parsed ? [...parsed.errors] : [];
  const overrideResources = parseBool(params[KubedumpRestoreParams.overrideResources], KubedumpRestoreParams.overrideResources, errors);
  const restorePVs = parseBool(params[KubedumpRestoreParams.restorePVs], KubedumpRestoreParams.restorePVs, errors);
  const storageClassMappings = parseStorageClassMappings(params[KubedumpRestoreParams.storageClassMappings], errors);
  const namespace = restoreNamespace?.trim() ?? '';
  if (namespace !== '' && !NAMESPACE_NAME.test(namespace)) {
    errors.push(fieldError(ErrorCodes.Invalid, restoreNamespaceField, `"${namespace}" is not a namespace name (lowercase letters, digits and -)`));
  }
  if (errors.length > 0 || 'errors' in parsed) return { errors };
  return {
    options: { filter: parsed.filter, overrideResources, restorePVs, storageClassMappings, ...(namespace !== '' ? { restoreNamespace: namespace } : {}) },
  };
}

const KUBEDUMP_ADDON = 'kubedump-addon';
const MANIFEST_RESTORE_TASK = 'manifest-restore';

/**
 * The parameter errors of a RestoreSession's kubedump-addon `manifest-restore` tasks (none for other addons or
 * tasks), so admission refuses what the restore Job would fail on: each error at
 * `<addonPath>.tasks[i].params.<Param>`, a bad restoreNamespace at `restoreNamespacePath`. Params are read as the
 * Job gets them (paramValue: lists joined with commas, booleans as text).
 */
export function manifestRestoreParamErrors(addon: unknown, restoreNamespace: unknown, addonPath: string, restoreNamespacePath: string): FieldError[] {
  const info = asObject(addon);
  if (asString(info?.name) !== KUBEDUMP_ADDON) return [];
  const errors = asArray(info?.tasks).flatMap((task, index) => {
    const reference = asObject(task);
    if (asString(reference?.name) !== MANIFEST_RESTORE_TASK) return [];
    const params = Object.fromEntries(Object.entries(asObject(reference?.params) ?? {}).map(([name, value]) => [name, paramValue(value)]));
    const parsed = parseKubedumpRestoreOptions(params, asString(restoreNamespace), restoreNamespacePath);
    if (!('errors' in parsed)) return [];
    return parsed.errors.map((error) =>
      error.path === restoreNamespacePath ? error : { ...error, path: joinPath(addonPath, 'tasks', index, 'params', error.path) },
    );
  });
  return errors.filter((error, index) => errors.findIndex((other) => other.path === error.path && other.message === error.message) === index);
}

/** One object file of the dump that the restore applies. */
export interface PlannedObject {
  /** The relative path inside the dump. */
  path: string;
  /** `resource` or `resource.group`. */
  directory: string;
  type: Pick<DumpResourceType, 'group' | 'resource' | 'namespaced'>;
  /** The namespace the object was dumped from (namespaced objects). */
  sourceNamespace?: string;
  /** The namespace it is restored into (namespaced objects): restoreNamespace, else its own. */
  namespace?: string;
  /** The name it is restored as: its own, except a dumped Namespace restored as restoreNamespace. */
  name: string;
}

/** A file of the dump the restore leaves alone, and why. */
export interface ExcludedFile {
  path: string;
  reason: string;
}

export interface KubedumpRestorePlan {
  /** In restore order (see the module comment); ties by directory, namespace, then name. */
  objects: PlannedObject[];
  excluded: ExcludedFile[];
}

/**
 * The restore plan for the files of a dump (relative POSIX paths, in any order). A file is excluded when its
 * path is not of the layout, its resource is not restorable or filtered out (resourceSelected, restore phase),
 * its namespace is filtered out, or it is a PersistentVolume and RestorePVs is false. With RestorePVs a
 * PersistentVolume is planned even without IncludeClusterResources (the volumes belong to the claims restored);
 * the executor still checks that its claim's namespace is selected.
 */
export function planKubedumpRestore(files: readonly string[], options: KubedumpRestoreOptions): KubedumpRestorePlan {
  const objects: Array<PlannedObject & { rank: number }> = [];
  const excluded: ExcludedFile[] = [];
  const { filter, restoreNamespace } = options;
  for (const path of files) {
    const parsed = parseDumpFilePath(path);
    if (parsed === undefined) {
      excluded.push({ path, reason: 'not a file of the kubedump layout' });
      continue;
    }
    const type = { group: parsed.group, resource: parsed.resource, namespaced: parsed.namespace !== undefined, version: '', kind: '' };
    const isVolume = parsed.directory === PERSISTENT_VOLUMES;
    if (isVolume && !options.restorePVs) {
      excluded.push({ path, reason: 'PersistentVolumes are restored only with RestorePVs=true' });
      continue;
    }
    const selectable = isVolume ? { ...filter, includeClusterResources: true } : filter;
    if (!resourceSelected(selectable, type, 'restore')) {
      excluded.push({ path, reason: `resource ${parsed.directory} is not restored (filters or a non-restorable kind)` });
      continue;
    }
    const namespaceOfObject = parsed.namespace ?? (parsed.directory === NAMESPACES ? parsed.name : undefined);
    if (namespaceOfObject !== undefined && !namespaceSelected(filter, namespaceOfObject)) {
      excluded.push({ path, reason: `namespace ${namespaceOfObject} is filtered out` });
      continue;
    }
    const name = parsed.directory === NAMESPACES && restoreNamespace !== undefined ? restoreNamespace : parsed.name;
    objects.push({
      path,
      directory: parsed.directory,
      type: { group: type.group, resource: type.resource, namespaced: type.namespaced },
      ...(parsed.namespace !== undefined ? { sourceNamespace: parsed.namespace, namespace: restoreNamespace ?? parsed.namespace } : {}),
      name,
      rank: restorePriority(parsed.directory),
    });
  }
  objects.sort(
    (a, b) =>
      a.rank - b.rank ||
      compare(a.directory, b.directory) ||
      compare(a.sourceNamespace ?? '', b.sourceNamespace ?? '') ||
      compare(a.name, b.name) ||
      compare(a.path, b.path),
  );
  return { objects: objects.map(({ rank: _rank, ...object }) => object), excluded };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

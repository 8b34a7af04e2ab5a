/**
 * kubedump filters (SPEC §11): which resource types and which objects a manifest backup dumps or a manifest
 * restore applies. Parameters are KubeStash's comma-separated strings; parsing validates them once and the
 * matchers are plain functions of the parsed filter.
 */
import { ErrorCodes, fieldError, type FieldError } from '../errors.js';
import type { KubeObject } from '../kube-object.js';
import { labelKeyProblem, labelValueProblem } from '../label-selector.js';
import { dumpDirectoryName, type DumpResourceType } from './layout.js';

/** One label term: `key` alone (the label exists) or `key` with `value` (the label equals it). */
export interface LabelTerm {
  key: string;
  value?: string;
}

export interface KubedumpFilter {
  includeClusterResources: boolean;
  /** Empty or containing `*`: every namespace. */
  includeNamespaces: string[];
  /** Wins over includeNamespaces; a `*` here is ignored. */
  excludeNamespaces: string[];
  /** `resource` or `resource.group`; empty or containing `*`: every resource. */
  includeResources: string[];
  /** Wins over includeResources; a `*` here is ignored. */
  excludeResources: string[];
  /** Every term must match. */
  andLabelSelectors: LabelTerm[];
  /** At least one term must match (when any are given). */
  orLabelSelectors: LabelTerm[];
}

/** The parameter names, as in the kubedump Addon tasks and SPEC §11. */
export const KubedumpParams = {
  andLabelSelectors: 'ANDedLabelSelectors',
  orLabelSelectors: 'ORedLabelSelectors',
  includeClusterResources: 'IncludeClusterResources',
  includeNamespaces: 'IncludeNamespaces',
  excludeNamespaces: 'ExcludeNamespaces',
  includeResources: 'IncludeResources',
  excludeResources: 'ExcludeResources',
} as const;

export const WILDCARD = '*';

/** Never dumped nor restored: Nodes belong to the cluster's machines, EndpointSlices are rebuilt from Services. */
export const ALWAYS_EXCLUDED_RESOURCES: readonly string[] = ['nodes', 'endpointslices.discovery.k8s.io'];

/**
 * Dumped but never restored (KubeStash's DefaultNonRestorableResources): cluster plumbing, events, and the
 * records of backup runs, which would otherwise replay old sessions. SPEC §11 also lists a bare `storage`,
 * which names no resource and so is left out.
 */
export const NON_RESTORABLE_RESOURCES: readonly string[] = [
  'nodes',
  'events',
  'events.events.k8s.io',
  'csinodes.storage.k8s.io',
  'volumeattachments.storage.k8s.io',
  'backupsessions.core.kubestash.com',
  'backupverificationsessions.core.kubestash.com',
  'backupverifiers.core.kubestash.com',
  'restoresessions.core.kubestash.com',
  'repositories.storage.kubestash.com',
  'snapshots.storage.kubestash.com',
];

/** The Namespace objects themselves are selected by the namespace filter, like the objects in them. */
const NAMESPACES_DIRECTORY = 'namespaces';

/** A filter that selects every namespaced object of every resource (no cluster-scoped ones). */
export function emptyKubedumpFilter(): KubedumpFilter {
  return {
    includeClusterResources: false,
    includeNamespaces: [],
    excludeNamespaces: [],
    includeResources: [],
    excludeResources: [],
    andLabelSelectors: [],
    orLabelSelectors: [],
  };
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const RESOURCE_ENTRY = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const splitEntries = (value: string | undefined): string[] =>
  (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');

/** Go's strconv.ParseBool spellings, as KubeStash reads the parameter; empty is false. */
function parseBool(value: string | undefined): boolean | undefined {
  const text = (value ?? '').trim();
  if (text === '') return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function parseEntries(params: Readonly<Record<string, string | undefined>>, param: string, pattern: RegExp, what: string, errors: FieldError[]): string[] {
  const entries = splitEntries(params[param]);
  for (const entry of entries) {
    if (entry !== WILDCARD && !pattern.test(entry)) {
      errors.push(fieldError(ErrorCodes.Invalid, param, `"${entry}" is not ${what} or "${WILDCARD}"`));
    }
  }
  return entries;
}

/** Parses `key:value`, `key=value` or bare `key` terms, reporting each bad key or value at `param`. */
function parseLabelTerms(params: Readonly<Record<string, string | undefined>>, param: string, errors: FieldError[]): LabelTerm[] {
  const terms: LabelTerm[] = [];
  for (const entry of splitEntries(params[param])) {
    const separator = entry.search(/[:=]/);
    const key = (separator < 0 ? entry : entry.slice(0, separator)).trim();
    const value = separator < 0 ? undefined : entry.slice(separator + 1).trim();
    const problem = labelKeyProblem(key) ?? (value === undefined ? undefined : labelValueProblem(value));
    if (problem !== undefined) {
      errors.push(fieldError(ErrorCodes.Invalid, param, `"${entry}": ${problem} (use key:value, key=value or key)`));
      continue;
    }
    terms.push(value === undefined ? { key } : { key, value });
  }
  return terms;
}

/**
 * Reads the kubedump parameters (names in KubedumpParams; absent or empty means the default: no cluster
 * resources, every namespace, every resource, no label terms). Every bad value is reported with the parameter
 * name as the path: a boolean that is not one, a namespace that is not a DNS label, a resource that is not
 * `resource[.group]`, a label term with a bad key or value. A `*` in an exclude list is dropped.
 */
export function parseKubedumpFilter(params: Readonly<Record<string, string | undefined>>): { filter: KubedumpFilter } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const includeClusterResources = parseBool(params[KubedumpParams.includeClusterResources]);
  if (includeClusterResources === undefined) {
    errors.push(fieldError(ErrorCodes.Invalid, KubedumpParams.includeClusterResources, `"${params[KubedumpParams.includeClusterResources]}" is not true or false`));
  }
  const namespaces = (param: string): string[] => parseEntries(params, param, DNS1123_LABEL, 'a namespace name', errors);
  const resources = (param: string): string[] => parseEntries(params, param, RESOURCE_ENTRY, 'a resource (plural `resource` or `resource.group`)', errors);
  const filter: KubedumpFilter = {
    includeClusterResources: includeClusterResources ?? false,
    includeNamespaces: namespaces(KubedumpParams.includeNamespaces),
    excludeNamespaces: namespaces(KubedumpParams.excludeNamespaces).filter((n) => n !== WILDCARD),
    includeResources: resources(KubedumpParams.includeResources),
    excludeResources: resources(KubedumpParams.excludeResources).filter((r) => r !== WILDCARD),
    andLabelSelectors: parseLabelTerms(params, KubedumpParams.andLabelSelectors, errors),
    orLabelSelectors: parseLabelTerms(params, KubedumpParams.orLabelSelectors, errors),
  };
  return errors.length > 0 ? { errors } : { filter };
}

/** True when `list` names the type: its `resource.group` first, then the part before the first dot. */
function listNamesResource(list: readonly string[], directory: string): boolean {
  const dot = directory.indexOf('.');
  return list.includes(directory) || (dot >= 0 && list.includes(directory.slice(0, dot)));
}

const includesAll = (list: readonly string[]): boolean => list.length === 0 || list.includes(WILDCARD);

/**
 * Whether objects of `type` are dumped (`backup`) or applied (`restore`): never the always-excluded kinds, at
 * restore never the non-restorable ones, cluster-scoped kinds only with includeClusterResources (except
 * Namespaces, which follow the namespace filter in objectSelected), then exclude wins over include.
 */
export function resourceSelected(filter: KubedumpFilter, type: DumpResourceType, phase: 'backup' | 'restore'): boolean {
  const directory = dumpDirectoryName(type);
  if (ALWAYS_EXCLUDED_RESOURCES.includes(directory)) return false;
  if (phase === 'restore' && NON_RESTORABLE_RESOURCES.includes(directory)) return false;
  if (!type.namespaced && directory !== NAMESPACES_DIRECTORY && !filter.includeClusterResources) return false;
  const excluded = filter.excludeResources.filter((r) => r !== WILDCARD);
  if (listNamesResource(excluded, directory)) return false;
  return includesAll(filter.includeResources) || listNamesResource(filter.includeResources, directory);
}

/** Whether a namespace passes IncludeNamespaces/ExcludeNamespaces (exclude wins; empty include or `*` = all). */
export function namespaceSelected(filter: KubedumpFilter, namespace: string): boolean {
  if (filter.excludeNamespaces.includes(namespace)) return false;
  return includesAll(filter.includeNamespaces) || filter.includeNamespaces.includes(namespace);
}

const termMatches = (term: LabelTerm, labels: Readonly<Record<string, string>>): boolean =>
  Object.prototype.hasOwnProperty.call(labels, term.key) && (term.value === undefined || labels[term.key] === term.value);

/** Whether labels pass the label terms: every AND term, and at least one OR term when there are any. */
export function labelsSelected(filter: KubedumpFilter, labels: Readonly<Record<string, string>> | undefined): boolean {
  const present = labels ?? {};
  if (!filter.andLabelSelectors.every((term) => termMatches(term, present))) return false;
  return filter.orLabelSelectors.length === 0 || filter.orLabelSelectors.some((term) => termMatches(term, present));
}

/**
 * Whether one object of `type` passes the namespace and label filters. A namespaced object is judged by its
 * namespace, a Namespace by its own name; other cluster-scoped objects pass the namespace filter. The resource
 * filters are resourceSelected's job.
 */
export function objectSelected(filter: KubedumpFilter, object: KubeObject, type: DumpResourceType): boolean {
  const metadata = object.metadata ?? {};
  if (type.namespaced) {
    if (!namespaceSelected(filter, metadata.namespace ?? '')) return false;
  } else if (dumpDirectoryName(type) === NAMESPACES_DIRECTORY) {
    if (!namespaceSelected(filter, metadata.name ?? '')) return false;
  }
  return labelsSelected(filter, metadata.labels);
}

/**
 * The namespaces to list one by one, or undefined when every namespace is wanted (list cluster-wide). A list
 * of named namespaces without the excluded ones, in the order given, without duplicates.
 */
export function namespacesToList(filter: KubedumpFilter): string[] | undefined {
  if (includesAll(filter.includeNamespaces)) return undefined;
  return [...new Set(filter.includeNamespaces)].filter((n) => !filter.excludeNamespaces.includes(n));
}

/**
 * The AND terms as a Kubernetes label selector (`k=v,k`) so the API server does the first cut; empty when there
 * are none. objectSelected still checks every term (the OR terms cannot be expressed as one selector).
 */
export function andLabelSelectorQuery(filter: KubedumpFilter): string {
  return filter.andLabelSelectors.map((term) => (term.value === undefined ? term.key : `${term.key}=${term.value}`)).join(',');
}

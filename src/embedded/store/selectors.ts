/**
 * Label and field selectors in the query-string syntax kube-apiserver accepts
 * (`app=web,tier!=db,env in (a,b),!legacy`), parsed once and matched per object.
 */
import type { KubeObject } from '../../domain/kube-object.js';
import { badRequest } from './api-errors.js';

type LabelRequirement =
  | { operator: 'equals' | 'notEquals'; key: string; value: string }
  | { operator: 'in' | 'notin'; key: string; values: string[] }
  | { operator: 'exists' | 'doesNotExist'; key: string };

export type ObjectMatcher = (object: KubeObject) => boolean;

const matchEverything: ObjectMatcher = () => true;

/** Splits at top-level commas (commas inside `in (a,b)` belong to the set). */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  terms.push(current);
  return terms.map((term) => term.trim()).filter((term) => term !== '');
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function parseRequirement(term: string, selector: string): LabelRequirement {
  const fail = (): never => {
    throw badRequest(`unable to parse requirement: invalid label selector "${selector}": cannot parse "${term}"`);
  };
  const checkKey = (key: string): string => (LABEL_KEY.test(key) ? key : fail());
  const checkValue = (value: string): string => (LABEL_VALUE.test(value) ? value : fail());
  const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (setMatch) {
    const values = (setMatch[3] ?? '').split(',').map((value) => checkValue(value.trim()));
    return { operator: setMatch[2] === 'in' ? 'in' : 'notin', key: checkKey(setMatch[1] ?? ''), values };
  }
  const comparison = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (comparison) {
    const key = checkKey(comparison[1] ?? '');
    const value = checkValue(comparison[3] ?? '');
    return { operator: comparison[2] === '!=' ? 'notEquals' : 'equals', key, value };
  }
  if (term.startsWith('!')) return { operator: 'doesNotExist', key: checkKey(term.slice(1).trim()) };
  return { operator: 'exists', key: checkKey(term) };
}

function requirementMatches(requirement: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case 'equals':
      return has && value === requirement.value;
    case 'notEquals':
      return !has || value !== requirement.value;
    case 'in':
      return has && requirement.values.includes(value ?? '');
    case 'notin':
      return !has || !requirement.values.includes(value ?? '');
    case 'exists':
      return has;
    case 'doesNotExist':
      return !has;
  }
}

/** Parses a label selector; an empty or absent selector matches everything. 400 BadRequest when malformed. */
export function parseLabelSelector(selector: string | undefined): ObjectMatcher {
  if (selector === undefined || selector.trim() === '') return matchEverything;
  const requirements = splitTerms(selector).map((term) => parseRequirement(term, selector));
  return (object) => {
    const labels = object.metadata?.labels ?? {};
    return requirements.every((requirement) => requirementMatches(requirement, labels));
  };
}

/** Reads one selectable field of an object as a string ('' when absent, as kube compares). */
export type FieldReader = (object: KubeObject) => string;

function pathReader(path: string): FieldReader {
  const segments = path.split('.');
  return (object) => {
    let cursor: unknown = object;
    for (const segment of segments) {
      if (cursor === null || typeof cursor !== 'object') return '';
      cursor = (cursor as Record<string, unknown>)[segment];
    }
    if (cursor === undefined || cursor === null) return '';
    return typeof cursor === 'string' ? cursor : JSON.stringify(cursor);
  };
}

const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];

/** Selectable fields beyond metadata.name/namespace, per `group/resource` (a cheap subset of kube's). */
const EXTRA_FIELDS: Record<string, string[]> = {
  '/pods': ['spec.nodeName', 'spec.restartPolicy', 'spec.serviceAccountName', 'status.phase', 'status.podIP'],
  '/namespaces': ['status.phase'],
  '/secrets': ['type'],
  '/persistentvolumeclaims': ['status.phase'],
  '/persistentvolumes': ['status.phase'],
  '/nodes': ['spec.unschedulable'],
  '/events': ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  'batch/jobs': ['status.successful'],
};

/** The field selector labels a resource supports (`group/resource` key, '' group for core). */
export function selectableFields(group: string, resource: string): string[] {
  return [...COMMON_FIELDS, ...(EXTRA_FIELDS[`${group}/${resource}`] ?? [])];
}

/**
 * Parses a field selector (`metadata.name=x,status.phase!=Running`) against the fields this resource
 * supports; 400 BadRequest "field label not supported" for any other field, as kube-apiserver answers.
 */
export function parseFieldSelector(selector: string | undefined, group: string, resource: string): ObjectMatcher {
  if (selector === undefined || selector.trim() === '') return matchEverything;
  const supported = selectableFields(group, resource);
  const checks = splitTerms(selector).map((term) => {
    const match = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!match) throw badRequest(`invalid field selector "${selector}": cannot parse "${term}"`);
    const field = match[1] ?? '';
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    const read = field === 'source' ? pathReader('source.component') : pathReader(field);
    const expected = (match[3] ?? '').trim();
    const negate = match[2] === '!=';
    return (object: KubeObject) => (read(object) === expected) !== negate;
  });
  return (object) => checks.every((check) => check(object));
}

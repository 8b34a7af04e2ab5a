import { ErrorCodes, fieldError, joinPath, type FieldError } from './errors.js';
import { asArray, asObject, isNil } from './json-access.js';

/** metav1.LabelSelector as it appears in manifests. */
export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** A compiled selector; `nothing` for a nil selector, `everything` for an empty one (as metav1.LabelSelectorAsSelector). */
export interface CompiledSelector {
  readonly kind: 'nothing' | 'everything' | 'requirements';
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

/** A problem in a selector, with the path relative to the selector (e.g. `matchExpressions[0].values`). */
export interface SelectorProblem {
  path: string;
  message: string;
}

export type CompileResult = { ok: true; selector: CompiledSelector } | { ok: false; problems: SelectorProblem[] };

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
type Operator = (typeof OPERATORS)[number] | 'Equals';

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key (a qualified name), or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (key.split('/').length > 2) return `label key "${key}" may contain at most one "/"`;
    if (prefix === '') return `label key "${key}" has an empty prefix before "/"`;
    if (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix)) {
      return `label key prefix "${prefix}" must be a lowercase DNS subdomain of at most 253 characters`;
    }
  }
  if (name === '') return `label key "${key}" has an empty name part`;
  if (name.length > 63) return `label key name "${name}" must be at most 63 characters`;
  if (!NAME_PART.test(name)) {
    return `label key name "${name}" must consist of alphanumerics, "-", "_" or ".", and start and end with an alphanumeric`;
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is (empty is valid). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return `label value "${value}" must be at most 63 characters`;
  if (!NAME_PART.test(value)) {
    return `label value "${value}" must consist of alphanumerics, "-", "_" or ".", and start and end with an alphanumeric`;
  }
  return undefined;
}

interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

function requirementMatches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case 'Equals':
    case 'In':
      return has && requirement.values.includes(value as string);
    case 'NotIn':
      return !has || !requirement.values.includes(value as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

const NOTHING: CompiledSelector = { kind: 'nothing', matches: () => false };
const EVERYTHING: CompiledSelector = { kind: 'everything', matches: () => true };

/**
 * Compiles a selector like metav1.LabelSelectorAsSelector: nil selects nothing, `{}` selects everything,
 * otherwise every matchLabels entry and matchExpression must hold. Reports every problem found.
 */
export function compileLabelSelector(selector: unknown): CompileResult {
  if (isNil(selector)) return { ok: true, selector: NOTHING };
  const object = asObject(selector);
  if (object === undefined) return { ok: false, problems: [{ path: '', message: 'a label selector must be an object' }] };
  const matchLabels = asObject(object.matchLabels) ?? {};
  const expressions = asArray(object.matchExpressions);
  if (Object.keys(matchLabels).length + expressions.length === 0) return { ok: true, selector: EVERYTHING };

  const problems: SelectorProblem[] = [];
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(matchLabels)) {
    const path = `matchLabels[${key}]`;
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) problems.push({ path, message: keyProblem });
    if (typeof value !== 'string') {
      problems.push({ path, message: 'a matchLabels value must be a string' });
      continue;
    }
    const valueProblem = labelValueProblem(value);
    if (valueProblem) problems.push({ path, message: valueProblem });
    requirements.push({ key, operator: 'Equals', values: [value] });
  }
  expressions.forEach((raw, index) => {
    const path = joinPath('matchExpressions', index);
    const expression = asObject(raw) ?? {};
    const key = typeof expression.key === 'string' ? expression.key : '';
    const operator = expression.operator;
    const values = asArray(expression.values).map((v) => (typeof v === 'string' ? v : String(v)));
    if (!OPERATORS.includes(operator as (typeof OPERATORS)[number])) {
      problems.push({
        path: joinPath(path, 'operator'),
        message: `"${String(operator)}" is not a valid label selector operator; use In, NotIn, Exists or DoesNotExist`,
      });
      return;
    }
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) problems.push({ path: joinPath(path, 'key'), message: keyProblem });
    if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
      problems.push({ path: joinPath(path, 'values'), message: `values must be non-empty for operator ${operator}` });
    }
    if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
      problems.push({ path: joinPath(path, 'values'), message: `values must be empty for operator ${operator}` });
    }
    values.forEach((value, valueIndex) => {
      const valueProblem = labelValueProblem(value);
      if (valueProblem) problems.push({ path: joinPath(path, 'values', valueIndex), message: valueProblem });
    });
    requirements.push({ key, operator: operator as Operator, values });
  });
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    selector: { kind: 'requirements', matches: (labels) => requirements.every((r) => requirementMatches(r, labels ?? {})) },
  };
}

/** KubeStash's selectorMatches: true when the selector is valid and matches; an invalid selector matches nothing. */
export function labelSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>> | undefined): boolean {
  const compiled = compileLabelSelector(selector);
  return compiled.ok && compiled.selector.matches(labels);
}

/** Field errors for an invalid selector found at `path` (none for a valid or nil selector). */
export function labelSelectorErrors(selector: unknown, path: string): FieldError[] {
  const compiled = compileLabelSelector(selector);
  if (compiled.ok) return [];
  return compiled.problems.map((problem) =>
    fieldError(ErrorCodes.Invalid, problem.path === '' ? path : `${path}.${problem.path}`, problem.message),
  );
}

import { compileLabelSelector, type CompiledSelector } from '../../domain/label-selector.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { ApiError, type AdmissionAttributes } from '../api-types.js';
import type { MatchCondition, Webhook, WebhookRule } from './webhook-config.js';

/**
 * Objects kube-apiserver never sends to webhooks, so that a broken webhook cannot lock its own
 * configuration (or the admission policies) away.
 */
const EXEMPT_RESOURCES = new Set([
  'validatingwebhookconfigurations',
  'mutatingwebhookconfigurations',
  'validatingadmissionpolicies',
  'validatingadmissionpolicybindings',
  'mutatingadmissionpolicies',
  'mutatingadmissionpolicybindings',
]);

/** True for admission configuration objects, which no webhook is ever called for. */
export const isExemptFromWebhooks = (attributes: AdmissionAttributes): boolean =>
  attributes.resourceType.group === 'admissionregistration.k8s.io' && EXEMPT_RESOURCES.has(attributes.resourceType.resource);

const isNamespaceResource = (attributes: AdmissionAttributes): boolean =>
  attributes.resourceType.group === '' && attributes.resourceType.resource === 'namespaces';

const listed = (values: readonly string[], value: string): boolean => values.includes('*') || values.includes(value);

/** `res/sub` → [res, sub]; a bare resource has the empty subresource. */
function splitResource(entry: string): [string, string] {
  const slash = entry.indexOf('/');
  return slash < 0 ? [entry, ''] : [entry.slice(0, slash), entry.slice(slash + 1)];
}

function resourceMatches(rule: WebhookRule, attributes: AdmissionAttributes): boolean {
  const resource = attributes.resourceType.resource;
  const subresource = attributes.subresource ?? '';
  return rule.resources.some((entry) => {
    const [ruleResource, ruleSubresource] = splitResource(entry);
    return (ruleResource === '*' || ruleResource === resource) && (ruleSubresource === '*' || ruleSubresource === subresource);
  });
}

function scopeMatches(rule: WebhookRule, attributes: AdmissionAttributes): boolean {
  // Namespace objects are cluster-scoped even though their requests may carry a namespace.
  const clusterScoped = isNamespaceResource(attributes) || (attributes.namespace ?? '') === '';
  if (rule.scope === 'Namespaced') return !clusterScoped;
  if (rule.scope === 'Cluster') return clusterScoped;
  return true;
}

/**
 * True when one rule matches the request: operation, API group, version, resource (`*` is every
 * resource without a subresource, `*\/*` everything, `res/*` a resource and all its subresources),
 * and scope. Versions match exactly (matchPolicy Equivalent is read as Exact: the embedded plane
 * serves each resource at one version and converts nothing).
 */
export function ruleMatches(rule: WebhookRule, attributes: AdmissionAttributes): boolean {
  return (
    listed(rule.operations, attributes.operation) &&
    listed(rule.apiGroups, attributes.resourceType.group) &&
    listed(rule.apiVersions, attributes.resourceType.version) &&
    resourceMatches(rule, attributes) &&
    scopeMatches(rule, attributes)
  );
}

/** A selector where nil means everything (the v1 default `{}`); an invalid one is an internal error, as in kube. */
function compileWebhookSelector(webhook: Webhook, field: 'namespaceSelector' | 'objectSelector'): CompiledSelector | undefined {
  const raw = webhook[field];
  if (raw === undefined) return undefined;
  const compiled = compileLabelSelector(raw);
  if (!compiled.ok) {
    const problems = compiled.problems.map((problem) => `${problem.path === '' ? field : `${field}.${problem.path}`}: ${problem.message}`);
    throw internalError(`webhook "${webhook.name}" has an invalid ${field}: ${problems.join('; ')}`);
  }
  return compiled.selector.kind === 'everything' ? undefined : compiled.selector;
}

const labelsOf = (object: KubeObject | undefined): Record<string, string> | undefined => object?.metadata?.labels;

/**
 * The namespaceSelector check. Cluster-scoped objects other than namespaces always match; a Namespace
 * being created or updated is matched on its own (incoming) labels; anything else on the labels of
 * its namespace, which must exist (404 NotFound otherwise, as kube answers).
 */
export function namespaceSelectorMatches(
  webhook: Webhook,
  attributes: AdmissionAttributes,
  namespaceOf: (name: string) => KubeObject | undefined,
): boolean {
  const namespaceResource = isNamespaceResource(attributes);
  if ((attributes.namespace ?? '') === '' && !namespaceResource) return true;
  const selector = compileWebhookSelector(webhook, 'namespaceSelector');
  if (selector === undefined) return true;
  if (namespaceResource && (attributes.subresource ?? '') === '' && (attributes.operation === 'CREATE' || attributes.operation === 'UPDATE')) {
    return selector.matches(labelsOf(attributes.object));
  }
  const name = attributes.namespace || (namespaceResource ? attributes.name ?? '' : '');
  const namespace = namespaceOf(name) ?? (namespaceResource ? attributes.oldObject : undefined);
  if (namespace === undefined) {
    throw new ApiError(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' });
  }
  return selector.matches(labelsOf(namespace));
}

/** The objectSelector check: matches when the labels of the object or of the old object match. */
export function objectSelectorMatches(webhook: Webhook, attributes: AdmissionAttributes): boolean {
  const selector = compileWebhookSelector(webhook, 'objectSelector');
  if (selector === undefined) return true;
  return [attributes.object, attributes.oldObject].some((object) => object !== undefined && selector.matches(labelsOf(object)));
}

/** What can be decided about matchConditions without a CEL evaluator. */
export interface ConditionsOutcome {
  matches: boolean;
  /** Expressions that could not be evaluated (treated as true). */
  unevaluated: MatchCondition[];
}

/**
 * matchConditions without CEL: the literal expressions `true` and `false` are evaluated (any false
 * means no match, as in kube); every other expression is taken as true and reported as unevaluated.
 */
export function evaluateMatchConditions(conditions: readonly MatchCondition[]): ConditionsOutcome {
  const unevaluated: MatchCondition[] = [];
  let matches = true;
  for (const condition of conditions) {
    const expression = condition.expression.trim();
    if (expression === 'false') matches = false;
    else if (expression !== 'true') unevaluated.push(condition);
  }
  return { matches, unevaluated };
}

/** kube's NewInternalError shape: 500 InternalError, the cause repeated in details. */
export function internalError(cause: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] });
}

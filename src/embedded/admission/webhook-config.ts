import type { KubeObject } from '../../domain/kube-object.js';
import { asArray, asObject, asString, isNil } from '../../domain/json-access.js';

export type WebhookKind = 'mutating' | 'validating';

/** One entry of `webhooks[].rules` (RuleWithOperations). */
export interface WebhookRule {
  operations: readonly string[];
  apiGroups: readonly string[];
  apiVersions: readonly string[];
  resources: readonly string[];
  /** `Cluster`, `Namespaced` or `*` (the v1 default). */
  scope: string;
}

export interface MatchCondition {
  name: string;
  expression: string;
}

/** Where a webhook is reached. Exactly one of `url` and `service` is set by a valid configuration. */
export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path: string; port: number };
  /** PEM text decoded from `caBundle`; undefined when absent (the system roots are trusted then). */
  caPem?: string;
}

/**
 * A webhook of a Mutating- or ValidatingWebhookConfiguration with the defaults of
 * admissionregistration.k8s.io/v1 applied (a stored v1 object already carries them; the embedded
 * store may not default, so they are applied here too).
 */
export interface Webhook {
  kind: WebhookKind;
  /** `<configuration>/<webhook>/<index>`: unique within one kind, as kube-apiserver keys webhooks. */
  uid: string;
  configurationName: string;
  name: string;
  clientConfig: WebhookClientConfig;
  rules: readonly WebhookRule[];
  failurePolicy: 'Fail' | 'Ignore';
  matchPolicy: 'Exact' | 'Equivalent';
  /** Raw selectors; undefined reads as `{}` (everything), the v1 default. */
  namespaceSelector: unknown;
  objectSelector: unknown;
  /** Undefined when absent: kube refuses dry runs then (a nil sideEffects). */
  sideEffects: string | undefined;
  timeoutSeconds: number;
  admissionReviewVersions: readonly string[];
  /** Mutating only; `Never` for validating webhooks. */
  reinvocationPolicy: 'Never' | 'IfNeeded';
  matchConditions: readonly MatchCondition[];
}

export const DEFAULT_TIMEOUT_SECONDS = 10;
const MIN_TIMEOUT_SECONDS = 1;
const MAX_TIMEOUT_SECONDS = 30;

const strings = (value: unknown): string[] => asArray(value).filter((item): item is string => typeof item === 'string');

/** timeoutSeconds as kube allows it: 1–30, default 10 (out-of-range values are clamped rather than refused). */
function timeoutOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return DEFAULT_TIMEOUT_SECONDS;
  return Math.min(MAX_TIMEOUT_SECONDS, Math.max(MIN_TIMEOUT_SECONDS, Math.trunc(value)));
}

function clientConfigOf(raw: unknown): WebhookClientConfig {
  const config = asObject(raw) ?? {};
  const out: WebhookClientConfig = {};
  if (typeof config.url === 'string' && config.url !== '') out.url = config.url;
  const service = asObject(config.service);
  if (service !== undefined) {
    out.service = {
      namespace: asString(service.namespace),
      name: asString(service.name),
      path: asString(service.path),
      port: typeof service.port === 'number' ? service.port : 443,
    };
  }
  if (typeof config.caBundle === 'string' && config.caBundle !== '') out.caPem = Buffer.from(config.caBundle, 'base64').toString('utf8');
  return out;
}

function ruleOf(raw: unknown): WebhookRule {
  const rule = asObject(raw) ?? {};
  return {
    operations: strings(rule.operations),
    apiGroups: strings(rule.apiGroups),
    apiVersions: strings(rule.apiVersions),
    resources: strings(rule.resources),
    scope: typeof rule.scope === 'string' && rule.scope !== '' ? rule.scope : '*',
  };
}

/**
 * The webhooks of one configuration object, in listed order, with v1 defaults (failurePolicy Fail,
 * matchPolicy Equivalent, timeoutSeconds 10, reinvocationPolicy Never, selectors `{}`).
 */
export function webhooksOf(configuration: KubeObject, kind: WebhookKind): Webhook[] {
  const configurationName = configuration.metadata?.name ?? '';
  return asArray(configuration.webhooks).map((raw, index) => {
    const webhook = asObject(raw) ?? {};
    const name = asString(webhook.name);
    return {
      kind,
      uid: `${configurationName}/${name}/${index}`,
      configurationName,
      name,
      clientConfig: clientConfigOf(webhook.clientConfig),
      rules: asArray(webhook.rules).map(ruleOf),
      failurePolicy: webhook.failurePolicy === 'Ignore' ? 'Ignore' : 'Fail',
      matchPolicy: webhook.matchPolicy === 'Exact' ? 'Exact' : 'Equivalent',
      namespaceSelector: isNil(webhook.namespaceSelector) ? undefined : webhook.namespaceSelector,
      objectSelector: isNil(webhook.objectSelector) ? undefined : webhook.objectSelector,
      sideEffects: typeof webhook.sideEffects === 'string' ? webhook.sideEffects : undefined,
      timeoutSeconds: timeoutOf(webhook.timeoutSeconds),
      admissionReviewVersions: strings(webhook.admissionReviewVersions),
      reinvocationPolicy: kind === 'mutating' && webhook.reinvocationPolicy === 'IfNeeded' ? 'IfNeeded' : 'Never',
      matchConditions: asArray(webhook.matchConditions).map((condition) => {
        const object = asObject(condition) ?? {};
        return { name: asString(object.name), expression: asString(object.expression) };
      }),
    };
  });
}

/** Every webhook of `configurations`, configurations sorted by name and webhooks in listed order (kube's order). */
export function orderedWebhooks(configurations: readonly KubeObject[], kind: WebhookKind): Webhook[] {
  return [...configurations]
    .sort((a, b) => compareNames(a.metadata?.name ?? '', b.metadata?.name ?? ''))
    .flatMap((configuration) => webhooksOf(configuration, kind));
}

/** Byte-wise comparison, as Go's string `<` (not locale order). */
const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

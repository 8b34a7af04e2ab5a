import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import type pino from 'pino';
import type { KubeObject } from '../../domain/kube-object.js';
import { ApiError, type AdmissionAttributes, type AdmissionChain } from '../api-types.js';
import {
  evaluateMatchConditions,
  internalError,
  isExemptFromWebhooks,
  namespaceSelectorMatches,
  objectSelectorMatches,
  ruleMatches,
} from './matching.js';
import { buildAdmissionReview } from './review-request.js';
import { verifyAdmissionResponse, type VerifiedResponse } from './review-response.js';
import { postJson, resolveEndpoint, WebhookCallError, type ServiceResolver } from './webhook-client.js';
import { orderedWebhooks, type Webhook } from './webhook-config.js';

export interface AdmissionChainOptions {
  /** Current MutatingWebhookConfiguration objects (admissionregistration.k8s.io/v1), read per request. */
  mutatingConfigurations: () => readonly KubeObject[];
  /** Current ValidatingWebhookConfiguration objects, read per request. */
  validatingConfigurations: () => readonly KubeObject[];
  /** The Namespace object named `name`, for namespaceSelector matching; undefined when absent. */
  namespace: (name: string) => KubeObject | undefined;
  logger: Pick<pino.Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /**
   * Where `clientConfig.service` webhooks listen (there is no cluster DNS). Without it, or when it
   * answers undefined, such a webhook counts as unreachable and its failurePolicy decides.
   */
  serviceResolver?: ServiceResolver;
}

/** The chain plus `close()`, which drops the kept-alive connections to webhooks. */
export interface EmbeddedAdmissionChain extends AdmissionChain {
  close(): void;
}

const SIDE_EFFECT_FREE_ON_DRY_RUN = new Set(['None', 'NoneOnDryRun']);

/** A call failure subject to failurePolicy (kube's ErrCallingWebhook). */
class CallFailure {
  constructor(
    readonly webhook: Webhook,
    readonly reason: string,
  ) {}

  get message(): string {
    return `failed calling webhook "${this.webhook.name}": ${this.reason}`;
  }
}

/**
 * Builds the embedded plane's admission chain, which calls webhooks as kube-apiserver does
 * (admission.k8s.io/v1 only). `mutate` calls matching mutating webhooks one after another (configurations
 * by name, webhooks in listed order), applying each JSONPatch before the next call, then re-calls once
 * the `reinvocationPolicy: IfNeeded` webhooks that ran before a later change. `validate` calls matching
 * validating webhooks concurrently and reports the first failure in webhook order. Denials keep the
 * webhook's status (code below 400 becomes 400); a webhook that cannot be called, times out or answers
 * wrongly fails the request with 500 InternalError under failurePolicy Fail and is skipped under Ignore;
 * a dry run reaching a webhook with side effects is refused with 400 BadRequest.
 */
export function createAdmissionChain(options: AdmissionChainOptions): EmbeddedAdmissionChain {
  const { logger } = options;
  // Idle connections are dropped before a Node server's default 5 s keep-alive ends, so a reused one is not already closed.
  const agent = new Agent({ keepAlive: true, timeout: 4_000 });
  const warnedConditions = new Set<string>();

  function shouldCall(webhook: Webhook, attributes: AdmissionAttributes): boolean {
    if (!webhook.rules.some((rule) => ruleMatches(rule, attributes))) return false;
    if (!namespaceSelectorMatches(webhook, attributes, options.namespace)) return false;
    if (!objectSelectorMatches(webhook, attributes)) return false;
    const conditions = evaluateMatchConditions(webhook.matchConditions);
    for (const condition of conditions.unevaluated) {
      const key = `${webhook.kind}/${webhook.uid}/${condition.name}`;
      if (warnedConditions.has(key)) continue;
      warnedConditions.add(key);
      logger.warn(
        { webhook: webhook.name, configuration: webhook.configurationName, condition: condition.name },
        'matchCondition not evaluated (no CEL in the embedded control plane); treating it as true',
      );
    }
    return conditions.matches;
  }

  /** One call: the verified answer, or a CallFailure; ApiErrors (dry run refused) are thrown. */
  async function call(webhook: Webhook, attributes: AdmissionAttributes, object: KubeObject | undefined): Promise<VerifiedResponse | CallFailure> {
    if (attributes.dryRun) {
      if (webhook.sideEffects === undefined) return new CallFailure(webhook, 'Webhook SideEffects is nil');
      if (!SIDE_EFFECT_FREE_ON_DRY_RUN.has(webhook.sideEffects)) {
        throw new ApiError(400, 'BadRequest', `admission webhook "${webhook.name}" does not support dry run`);
      }
    }
    if (!webhook.admissionReviewVersions.includes('v1')) {
      const versions = JSON.stringify(webhook.admissionReviewVersions);
      return new CallFailure(webhook, `could not create admission objects: webhook does not accept v1 AdmissionReview (admissionReviewVersions ${versions}); the embedded control plane sends only v1`);
    }
    let endpoint;
    try {
      endpoint = resolveEndpoint(webhook.clientConfig, options.serviceResolver);
    } catch (error) {
      return new CallFailure(webhook, `could not get REST client: ${(error as Error).message}`);
    }
    const uid = randomUUID();
    const review = buildAdmissionReview(uid, attributes, object);
    logger.debug({ webhook: webhook.name, uid, operation: attributes.operation, resource: attributes.resourceType.resource }, 'calling admission webhook');
    try {
      const answer = await postJson(endpoint, review, webhook.timeoutSeconds, agent);
      return verifyAdmissionResponse(answer, uid, webhook.kind === 'mutating');
    } catch (error) {
      if (!(error instanceof WebhookCallError)) throw error;
      const stage = error.message.startsWith('received invalid webhook response') ? '' : 'failed to call webhook: ';
      return new CallFailure(webhook, `${stage}${error.message}`);
    }
  }

  /** failurePolicy: Ignore logs and skips (undefined), Fail throws 500 InternalError. */
  function settleFailure(failure: CallFailure): undefined {
    const fields = { webhook: failure.webhook.name, configuration: failure.webhook.configurationName, reason: failure.reason };
    if (failure.webhook.failurePolicy === 'Ignore') {
      logger.warn(fields, 'admission webhook failed; failurePolicy Ignore lets the request through');
      return undefined;
    }
    logger.info(fields, 'admission webhook failed; failurePolicy Fail rejects the request');
    throw internalError(failure.message);
  }

  function applyPatch(webhook: Webhook, object: KubeObject | undefined, patch: Buffer): KubeObject | undefined {
    let operations: Operation[];
    try {
      operations = JSON.parse(patch.toString('utf8')) as Operation[];
      if (!Array.isArray(operations)) throw new Error('a JSONPatch must be an array of operations');
    } catch (error) {
      throw internalError(`admission webhook "${webhook.name}" returned a patch that is not a JSONPatch: ${(error as Error).message}`);
    }
    if (operations.length === 0) return object;
    if (object === undefined) {
      throw internalError(`admission webhook "${webhook.name}" attempted to modify the object, which is not supported for this operation`);
    }
    try {
      return fastJsonPatch.applyPatch(structuredClone(object), operations, true, false).newDocument;
    } catch (error) {
      throw internalError(`admission webhook "${webhook.name}" returned a patch that does not apply: ${(error as Error).message}`);
    }
  }

  /** kube's ToStatusErr: the webhook's Status, made a failure of at least 400, its message prefixed. */
  function denial(webhook: Webhook, status: Record<string, unknown> | undefined): ApiError {
    const deniedBy = `admission webhook "${webhook.name}" denied the request`;
    const code = typeof status?.code === 'number' && status.code >= 400 ? status.code : 400;
    const reason = typeof status?.reason === 'string' ? status.reason : '';
    const message = typeof status?.message === 'string' && status.message !== '' ? status.message : reason;
    const details = status?.details !== null && typeof status?.details === 'object' ? (status.details as Record<string, unknown>) : undefined;
    return new ApiError(code, reason, message === '' ? `${deniedBy} without explanation` : `${deniedBy}: ${message}`, details);
  }

  const changed = (before: KubeObject | undefined, after: KubeObject | undefined): boolean =>
    before !== after && (before === undefined || after === undefined || fastJsonPatch.compare(before, after).length > 0);

  async function mutate(attributes: AdmissionAttributes): Promise<{ object: KubeObject | undefined; warnings: string[] }> {
    let object = attributes.object;
    const warnings: string[] = [];
    if (isExemptFromWebhooks(attributes)) return { object, warnings };
    const webhooks = orderedWebhooks(options.mutatingConfigurations(), 'mutating');
    const reinvoke = new Set<string>();
    let invokedSinceChange = new Set<string>();

    const runOne = async (webhook: Webhook): Promise<boolean> => {
      const current = { ...attributes, object };
      if (!shouldCall(webhook, current)) return false;
      const result = await call(webhook, current, object);
      if (result instanceof CallFailure) {
        settleFailure(result);
        return false;
      }
      warnings.push(...result.warnings);
      if (!result.allowed) throw denial(webhook, result.status);
      if (result.patch === undefined) return false;
      const patched = applyPatch(webhook, object, result.patch);
      const didChange = changed(object, patched);
      object = patched;
      return didChange;
    };

    for (const webhook of webhooks) {
      const madeChange = await runOne(webhook);
      if (madeChange) {
        // Every IfNeeded webhook that saw the object before this change gets one more look.
        for (const uid of invokedSinceChange) reinvoke.add(uid);
        invokedSinceChange = new Set();
      }
      if (webhook.reinvocationPolicy === 'IfNeeded') invokedSinceChange.add(webhook.uid);
    }
    for (const webhook of webhooks) {
      if (reinvoke.has(webhook.uid)) await runOne(webhook);
    }
    return { object, warnings };
  }

  async function validate(attributes: AdmissionAttributes): Promise<{ warnings: string[] }> {
    if (isExemptFromWebhooks(attributes)) return { warnings: [] };
    const relevant = orderedWebhooks(options.validatingConfigurations(), 'validating').filter((webhook) => shouldCall(webhook, attributes));
    const results = await Promise.allSettled(relevant.map((webhook) => call(webhook, attributes, attributes.object)));
    const warnings: string[] = [];
    let firstError: unknown;
    results.forEach((settled, index) => {
      const webhook = relevant[index] as Webhook;
      try {
        if (settled.status === 'rejected') throw settled.reason;
        const result = settled.value;
        if (result instanceof CallFailure) {
          settleFailure(result);
          return;
        }
        warnings.push(...result.warnings);
        if (!result.allowed) throw denial(webhook, result.status);
      } catch (error) {
        firstError ??= error;
      }
    });
    if (firstError !== undefined) throw firstError;
    return { warnings };
  }

  return { mutate, validate, close: () => agent.destroy() };
}

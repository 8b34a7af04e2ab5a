import { asObject } from '../../domain/json-access.js';
import { WebhookCallError } from './webhook-client.js';

/** A webhook answer that passed kube-apiserver's checks. */
export interface VerifiedResponse {
  allowed: boolean;
  /** `response.status` (a metav1.Status) when given. */
  status: Record<string, unknown> | undefined;
  /** The raw JSONPatch bytes (decoded from base64); undefined when there is none. */
  patch: Buffer | undefined;
  warnings: string[];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const invalid = (reason: string): WebhookCallError => new WebhookCallError(`received invalid webhook response: ${reason}`);

/**
 * Checks an AdmissionReview answer the way kube-apiserver does for v1: the envelope is
 * admission.k8s.io/v1 AdmissionReview, `response` is present with the request's uid, a mutating
 * webhook's patch comes with `patchType: JSONPatch`, and a validating webhook sends no patch.
 * Throws WebhookCallError (so failurePolicy applies) otherwise.
 */
export function verifyAdmissionResponse(review: unknown, uid: string, mutating: boolean): VerifiedResponse {
  const envelope = asObject(review);
  if (envelope === undefined) throw invalid('the body is not an AdmissionReview object');
  if (envelope.apiVersion !== 'admission.k8s.io/v1' || envelope.kind !== 'AdmissionReview') {
    throw invalid(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${String(envelope.apiVersion)}, Kind=${String(envelope.kind)}`);
  }
  const response = asObject(envelope.response);
  if (response === undefined) throw invalid('webhook response was absent');
  if (response.uid !== uid) throw invalid(`expected response.uid="${uid}", got "${String(response.uid ?? '')}"`);

  const encodedPatch = typeof response.patch === 'string' && response.patch !== '' ? response.patch : undefined;
  const patchType = response.patchType ?? undefined;
  if (!mutating && (encodedPatch !== undefined || patchType !== undefined)) {
    throw invalid('validating webhook may not return response.patch or response.patchType');
  }
  if (encodedPatch !== undefined && patchType === undefined) throw invalid('webhook returned response.patch but not response.patchType');
  if (patchType !== undefined && patchType !== 'JSONPatch') throw invalid(`webhook returned invalid response.patchType of "${String(patchType)}"`);
  if (encodedPatch !== undefined && !BASE64.test(encodedPatch)) throw invalid('response.patch is not base64');

  return {
    allowed: response.allowed === true,
    status: asObject(response.status),
    patch: encodedPatch === undefined ? undefined : Buffer.from(encodedPatch, 'base64'),
    warnings: Array.isArray(response.warnings) ? response.warnings.filter((w): w is string => typeof w === 'string') : [],
  };
}

import type { Operation } from '../domain/kind-rules.js';
import { MAX_OBJECT_DEPTH, pathBeyondDepth } from '../domain/json-depth.js';
import type { KubeObject } from '../domain/kube-object.js';
import { objectShapeProblem } from '../domain/object-shape.js';

/** The only AdmissionReview version autostash speaks; the webhook configurations register it alone. */
export const admissionApiVersion = 'admission.k8s.io/v1';
export const admissionKind = 'AdmissionReview';

const operations: ReadonlySet<string> = new Set<Operation>(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/**
 * The parts of an AdmissionRequest the webhook uses, normalised: `object` and `oldObject` are
 * `undefined` whether the API server sent them absent, `null` or `{}` (see ../shared/admission/SOURCES.md).
 */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  operation: Operation;
  name?: string;
  namespace?: string;
  subResource?: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
}

/** A Kubernetes metav1.Status as carried by a denial. */
export interface AdmissionStatus {
  status: 'Failure';
  code: number;
  reason: string;
  message: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes: Array<{ type: string; field: string; message: string }>;
  };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof admissionApiVersion;
  kind: typeof admissionKind;
  response: AdmissionResponse;
}

/** Outcome of decoding a request body: a typed request, or the reason the body is not one (answered with 400). */
export type DecodeResult = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string => {
  if (value === null) return 'JSON null';
  if (Array.isArray(value)) return 'a JSON array';
  if (value === undefined) return 'empty';
  return `a JSON ${typeof value}`;
};

/** `absent`, `null` and `{}` all mean "no object"; anything else must be an object shaped like a Kubernetes object. */
function optionalObject(value: unknown, field: string): { ok: true; value?: KubeObject } | { ok: false; message: string } {
  if (value === undefined || value === null) return { ok: true };
  if (!isRecord(value)) return { ok: false, message: `request.${field} must be an object or null, got ${describe(value)}` };
  if (Object.keys(value).length === 0) return { ok: true };
  const problem = objectShapeProblem(value);
  if (problem !== undefined) return { ok: false, message: `request.${field}.${problem}` };
  return { ok: true, value: value as KubeObject };
}

const fail = (message: string): DecodeResult => ({ ok: false, message });

/**
 * Decodes a parsed JSON body into an AdmissionRequest. Accepts only `admission.k8s.io/v1` AdmissionReview
 * envelopes with a request; every rejection message names the problem and how to fix it.
 */
export function decodeAdmissionReview(body: unknown): DecodeResult {
  if (body === undefined) return fail('body is empty: expected an AdmissionReview (admission.k8s.io/v1) as application/json');
  if (!isRecord(body)) return fail(`body is ${describe(body)}: expected an AdmissionReview object`);

  const { apiVersion, kind } = body;
  if (apiVersion === undefined && 'uid' in body && 'operation' in body) {
    return fail(
      `body is a bare AdmissionRequest: wrap it as {"apiVersion":"${admissionApiVersion}","kind":"${admissionKind}","request":{...}}`,
    );
  }
  if (apiVersion !== admissionApiVersion) {
    if (typeof apiVersion === 'string' && apiVersion.startsWith('admission.k8s.io/')) {
      return fail(`${apiVersion} is not supported: register the webhook with admissionReviewVersions: ["v1"]`);
    }
    return fail(`apiVersion must be "${admissionApiVersion}", got ${JSON.stringify(apiVersion) ?? 'nothing'}`);
  }
  if (kind !== admissionKind) {
    return fail(`kind must be "${admissionKind}", got ${JSON.stringify(kind) ?? 'nothing'}`);
  }

  const request = body.request;
  if (request === undefined || request === null) return fail('request is required: an AdmissionReview must carry a request');
  if (!isRecord(request)) return fail(`request must be an object, got ${describe(request)}`);

  const uid = request.uid;
  if (typeof uid !== 'string' || uid === '') return fail('request.uid is required: a non-empty string');

  const gvk = request.kind;
  if (!isRecord(gvk) || typeof gvk.kind !== 'string' || gvk.kind === '') {
    return fail('request.kind is required: an object {group, version, kind} with a non-empty kind');
  }
  if (gvk.group !== undefined && typeof gvk.group !== 'string') return fail('request.kind.group must be a string');
  if (gvk.version !== undefined && typeof gvk.version !== 'string') return fail('request.kind.version must be a string');

  const operation = request.operation;
  if (typeof operation !== 'string' || !operations.has(operation)) {
    return fail(`request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got ${JSON.stringify(operation) ?? 'nothing'}`);
  }

  const object = optionalObject(request.object, 'object');
  if (!object.ok) return object;
  const oldObject = optionalObject(request.oldObject, 'oldObject');
  if (!oldObject.ok) return oldObject;

  for (const [field, value] of [['object', object.value], ['oldObject', oldObject.value]] as const) {
    // The rules walk objects recursively: refuse a depth that would exhaust the stack before they run.
    const tooDeep = pathBeyondDepth(value);
    if (tooDeep !== undefined) return fail(`request.${field} nests deeper than ${MAX_OBJECT_DEPTH} levels (at ${tooDeep}): no Kubernetes object does`);
  }

  if ((operation === 'CREATE' || operation === 'UPDATE') && object.value === undefined) {
    return fail(`request.object is required for ${operation}: the object being admitted`);
  }

  if (request.dryRun !== undefined && request.dryRun !== null && typeof request.dryRun !== 'boolean') {
    return fail('request.dryRun must be a boolean');
  }

  const decoded: AdmissionRequest = {
    uid,
    kind: { group: (gvk.group as string | undefined) ?? '', version: (gvk.version as string | undefined) ?? '', kind: gvk.kind },
    operation: operation as Operation,
    dryRun: request.dryRun === true,
  };
  if (typeof request.name === 'string' && request.name !== '') decoded.name = request.name;
  if (typeof request.namespace === 'string' && request.namespace !== '') decoded.namespace = request.namespace;
  if (typeof request.subResource === 'string' && request.subResource !== '') decoded.subResource = request.subResource;
  if (object.value !== undefined) decoded.object = object.value;
  if (oldObject.value !== undefined) decoded.oldObject = oldObject.value;
  return { ok: true, request: decoded };
}

/** Wraps a response in the v1 envelope the API server expects. */
export function encodeAdmissionReview(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: admissionApiVersion, kind: admissionKind, response };
}

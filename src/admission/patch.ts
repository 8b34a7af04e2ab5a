import fastJsonPatch from 'fast-json-patch';
import type { KubeObject } from '../domain/kube-object.js';

/** The patch fields of an AdmissionResponse; empty when nothing changed. */
export interface AdmissionPatch {
  patch?: string;
  patchType?: 'JSONPatch';
}

/**
 * The JSONPatch (RFC 6902) that turns `original` into `defaulted`, base64-encoded as the API server expects.
 * Returns `{}` when the two are equal, so that an unchanged object gets no patch at all.
 */
export function admissionPatch(original: KubeObject, defaulted: KubeObject): AdmissionPatch {
  const operations = fastJsonPatch.compare(original, defaulted);
  if (operations.length === 0) return {};
  return { patch: Buffer.from(JSON.stringify(operations)).toString('base64'), patchType: 'JSONPatch' };
}

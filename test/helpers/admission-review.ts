// A minimal AdmissionReview v1 CREATE request for tests that call the webhook over HTTPS themselves.
import { parseApiVersion, type KubeObject } from '../../src/domain/kube-object.js';

export interface CreateReviewOptions {
  uid: string;
  object: KubeObject;
  /** The resource's plural name, e.g. `retentionpolicies`. */
  resource: string;
  username?: string;
}

/** The AdmissionReview an API server sends for creating `object`; group and version come from its apiVersion. */
export function createReview({ uid, object, resource, username = 'test' }: CreateReviewOptions): Record<string, unknown> {
  const { group, version } = parseApiVersion(object.apiVersion ?? '');
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group, version, kind: object.kind },
      resource: { group, version, resource },
      operation: 'CREATE',
      namespace: object.metadata?.namespace,
      name: object.metadata?.name,
      userInfo: { username },
      object,
      dryRun: false,
    },
  };
}

/** A RetentionPolicy every rule accepts, as the object of a review that must be allowed. */
export const acceptableRetentionPolicy: KubeObject = {
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'RetentionPolicy',
  metadata: { name: 'r', namespace: 'demo' },
  spec: { maxRetentionPeriod: '30d' },
};

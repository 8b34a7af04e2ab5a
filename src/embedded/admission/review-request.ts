import type { KubeObject } from '../../domain/kube-object.js';
import type { AdmissionAttributes } from '../api-types.js';

const OPTIONS_KIND: Partial<Record<AdmissionAttributes['operation'], string>> = {
  CREATE: 'CreateOptions',
  UPDATE: 'UpdateOptions',
  DELETE: 'DeleteOptions',
};

/**
 * The operation options kube-apiserver sends in `request.options`: the caller's when given,
 * otherwise the empty meta.k8s.io/v1 Create/Update/DeleteOptions (with `dryRun: ["All"]` on a dry run);
 * null for CONNECT, whose options are resource-specific.
 */
function optionsOf(attributes: AdmissionAttributes): KubeObject | null {
  if (attributes.options !== undefined) return attributes.options;
  const kind = OPTIONS_KIND[attributes.operation];
  if (kind === undefined) return null;
  return { kind, apiVersion: 'meta.k8s.io/v1', ...(attributes.dryRun ? { dryRun: ['All'] } : {}) };
}

/**
 * An AdmissionReview (admission.k8s.io/v1) for one webhook call, as kube-apiserver builds it with
 * Exact matching: requestKind/requestResource equal kind/resource. `object` is null for DELETE and
 * `oldObject` null for CREATE; empty strings are left out (Go's omitempty).
 */
export function buildAdmissionReview(uid: string, attributes: AdmissionAttributes, object: KubeObject | undefined): KubeObject {
  const { resourceType } = attributes;
  const kind = { group: resourceType.group, version: resourceType.version, kind: resourceType.kind };
  const resource = { group: resourceType.group, version: resourceType.version, resource: resourceType.resource };
  const subResource = attributes.subresource ?? '';
  const user = attributes.user;
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid,
      kind,
      resource,
      ...(subResource !== '' ? { subResource } : {}),
      requestKind: kind,
      requestResource: resource,
      ...(subResource !== '' ? { requestSubResource: subResource } : {}),
      ...(attributes.name ? { name: attributes.name } : {}),
      ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
      operation: attributes.operation,
      userInfo: {
        ...(user.username ? { username: user.username } : {}),
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.groups.length > 0 ? { groups: user.groups } : {}),
      },
      object: attributes.operation === 'DELETE' ? null : object ?? null,
      oldObject: attributes.oldObject ?? null,
      dryRun: attributes.dryRun,
      options: optionsOf(attributes),
    },
  };
}

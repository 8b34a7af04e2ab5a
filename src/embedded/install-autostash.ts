import { autostashKinds, crdFor, kinds } from '../api/index.js';
import { webhookConfigurations } from '../api/webhook-configurations.js';
import type { KubeObject } from '../domain/kube-object.js';
import { ApiError, type EmbeddedApi, type GroupVersionResource } from './api-types.js';

const CRDS: GroupVersionResource = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
const MUTATING: GroupVersionResource = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'mutatingwebhookconfigurations' };
const VALIDATING: GroupVersionResource = { group: 'admissionregistration.k8s.io', version: 'v1', resource: 'validatingwebhookconfigurations' };

/** Creates the cluster-scoped object, or replaces the stored one's content when it exists. Idempotent. */
async function createOrReplace(api: EmbeddedApi, gvr: GroupVersionResource, object: KubeObject): Promise<void> {
  const name = String(object.metadata?.name);
  try {
    await api.create(gvr, undefined, object);
  } catch (error) {
    if (!(error instanceof ApiError) || error.reason !== 'AlreadyExists') throw error;
    const existing = await api.get(gvr, undefined, name);
    await api.update(gvr, undefined, { ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion } });
  }
}

const NAMESPACES: GroupVersionResource = { group: '', version: 'v1', resource: 'namespaces' };

/** Creates the namespace autostash runs in (its Lease and Events live there); idempotent. */
export async function ensureNamespace(api: EmbeddedApi, name: string): Promise<void> {
  try {
    await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (error) {
    if (!(error instanceof ApiError) || error.reason !== 'AlreadyExists') throw error;
  }
}

/** Installs autostash's CustomResourceDefinitions (what charts/autostash/crds holds): KubeStash's kinds and our own. */
export async function installCrds(api: EmbeddedApi): Promise<void> {
  for (const info of [...kinds, ...autostashKinds]) await createOrReplace(api, CRDS, crdFor(info) as KubeObject);
}

/**
 * Registers autostash's mutating and validating webhooks at `webhookUrl`, trusting `caBundle`. The
 * same generator as a cluster install, with two differences: timeouts of 10 s (the embedded plane shares a
 * busy machine with its webhook), and no matchConditions, because the embedded admission chain has no
 * CEL (it would treat the expression as true and warn); the workload webhook ignores unannotated
 * objects itself, so the outcome is the same.
 */
export async function installWebhookConfigurations(api: EmbeddedApi, webhookUrl: string, caBundle: string): Promise<void> {
  const { mutating, validating } = webhookConfigurations({
    endpoint: { url: webhookUrl },
    caBundle,
    validateTimeoutSeconds: 10,
    mutateTimeoutSeconds: 10,
    excludedNamespaces: ['kube-system'],
    workloadMatchConditions: false,
  });
  await createOrReplace(api, MUTATING, mutating as KubeObject);
  await createOrReplace(api, VALIDATING, validating as KubeObject);
}

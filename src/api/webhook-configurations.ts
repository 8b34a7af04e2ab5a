import { autostashKinds } from './autostash/kinds.js';
import { kinds, type KindInfo } from './kinds.js';

/** Where the API server reaches the webhook: a URL, or a Service in the cluster. */
export type WebhookEndpoint =
  | { url: string }
  | { service: { namespace: string; name: string; port?: number } };

export interface WebhookConfigurationOptions {
  endpoint: WebhookEndpoint;
  /** base64 PEM of the CA that signed the webhook's serving certificate. */
  caBundle: string;
  /** Name of both configuration objects; default `autostash`. */
  name?: string;
  timeoutSeconds?: number;
}

/** Kinds KubeStash defaults on admission (SPEC §6.1 mutating list). */
const MUTATED = new Set(['BackupStorage', 'RetentionPolicy', 'BackupBlueprint', 'BackupConfiguration', 'HookTemplate']);
/** Kinds KubeStash validates on admission (SPEC §6.1 validating list). */
const VALIDATED = new Set(['BackupStorage', 'Repository', 'RetentionPolicy', 'BackupBatch', 'BackupBlueprint', 'BackupConfiguration', 'BackupSession', 'HookTemplate', 'RestoreSession']);

/** Kinds auto backup can target (SPEC §7.1). */
const AUTO_BACKUP_TARGET_RULES = [
  { operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['daemonsets', 'deployments', 'statefulsets'], scope: 'Namespaced' },
  { operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['persistentvolumeclaims'], scope: 'Namespaced' },
];

function rulesFor(selected: readonly KindInfo[]) {
  const byGroup = new Map<string, string[]>();
  for (const info of selected) byGroup.set(info.group, [...(byGroup.get(info.group) ?? []), info.plural]);
  return [...byGroup].map(([group, resources]) => ({
    operations: ['CREATE', 'UPDATE'],
    apiGroups: [group],
    apiVersions: ['v1alpha1'],
    resources: resources.sort(),
    scope: '*',
  }));
}

function clientConfig(endpoint: WebhookEndpoint, path: string, caBundle: string) {
  if ('url' in endpoint) return { url: `${endpoint.url.replace(/\/+$/, '')}${path}`, caBundle };
  return { service: { ...endpoint.service, port: endpoint.service.port ?? 443, path }, caBundle };
}

/**
 * The MutatingWebhookConfiguration and ValidatingWebhookConfiguration that route KubeStash kinds
 * (and autostash's own BackupPolicy, validated only) to autostash, as KubeStash registers them (CREATE and UPDATE, failurePolicy Fail, no side effects).
 */
export function webhookConfigurations(options: WebhookConfigurationOptions): { mutating: Record<string, unknown>; validating: Record<string, unknown> } {
  const name = options.name ?? 'autostash';
  const common = {
    failurePolicy: 'Fail',
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: options.timeoutSeconds ?? 10,
    matchPolicy: 'Equivalent',
  };
  const labels = { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/managed-by': 'autostash' };
  return {
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name, labels },
      webhooks: [{
        name: 'mutate.autostash.kubestash.com',
        clientConfig: clientConfig(options.endpoint, '/mutate', options.caBundle),
        rules: rulesFor(kinds.filter((k) => MUTATED.has(k.kind))),
        reinvocationPolicy: 'Never',
        ...common,
      }],
    },
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name, labels },
      webhooks: [
        {
          name: 'validate.autostash.kubestash.com',
          clientConfig: clientConfig(options.endpoint, '/validate', options.caBundle),
          // autostash's own kinds (BackupPolicy) are validated by the same webhook, failurePolicy Fail.
          rules: [...rulesFor(kinds.filter((k) => VALIDATED.has(k.kind))), ...rulesFor(autostashKinds)],
          ...common,
        },
        {
          // Workloads asking for auto backup get a preview of their BackupConfiguration. Ignore: an
          // unreachable autostash must never block deployments; the controller converges anyway.
          name: 'workloads.autostash.kubestash.com',
          clientConfig: clientConfig(options.endpoint, '/validate', options.caBundle),
          rules: AUTO_BACKUP_TARGET_RULES,
          ...common,
          failurePolicy: 'Ignore',
          timeoutSeconds: Math.min(options.timeoutSeconds ?? 5, 5),
        },
      ],
    },
  };
}

import { autostashKinds } from './autostash/kinds.js';
import { kinds, type KindInfo } from './kinds.js';

/** Where the API server reaches the webhook: a URL, or a Service in the cluster. */
export type WebhookEndpoint =
  | { url: string }
  | { service: { namespace: string; name: string; port?: number } };

export interface WebhookConfigurationOptions {
  endpoint: WebhookEndpoint;
  /**
   * base64 PEM of the CA that signed the webhook's serving certificate; absent when something else
   * fills it in (cert-manager's cainjector, or the leader patching it for self-managed certificates).
   */
  caBundle?: string;
  /** Name of both configuration objects; default `autostash`. */
  name?: string;
  /** timeoutSeconds of the validating webhooks (kinds and workloads); default 2. */
  validateTimeoutSeconds?: number;
  /** timeoutSeconds of the mutating webhook; default 2. */
  mutateTimeoutSeconds?: number;
  /**
   * Namespaces no webhook is called for (a namespaceSelector on `kubernetes.io/metadata.name`): kube-system
   * and autostash's own namespace, so autostash's pods never wait on autostash. Default none.
   */
  excludedNamespaces?: readonly string[];
  /**
   * Give the workload webhook WORKLOAD_MATCH_CONDITIONS (Kubernetes 1.28+), so the API server calls it only
   * for objects auto backup or a BackupPolicy can care about. Default false.
   */
  workloadMatchConditions?: boolean;
  /** Annotations of both configurations (cert-manager's `cert-manager.io/inject-ca-from`). */
  annotations?: Readonly<Record<string, string>>;
  /** Labels added to both configurations (an install's instance label). */
  labels?: Readonly<Record<string, string>>;
}

/** The annotation prefix of auto backup (SPEC §7.1); keys under it make a workload auto-backed-up. */
const AUTO_BACKUP_ANNOTATION_PREFIX = 'blueprint.kubestash.com/';

const carriesAutoBackupAnnotations = (object: 'object' | 'oldObject'): string =>
  `(${object} != null && has(${object}.metadata.annotations) && ${object}.metadata.annotations.exists(k, k.startsWith('${AUTO_BACKUP_ANNOTATION_PREFIX}')))`;

/**
 * CEL matchConditions of the workload webhook: a workload (or its previous version) that carries auto-backup
 * annotations, or one that keeps data (a PVC, a StatefulSet with claim templates, a pod template mounting a
 * claim), which a BackupPolicy requireBackup rule may demand a backup for. Stateless unannotated
 * Deployments, the bulk of the churn, never reach autostash. The embedded control plane has no CEL and
 * does not register these (src/embedded/install-autostash.ts); the webhook ignores unannotated objects itself.
 */
export const WORKLOAD_MATCH_CONDITIONS: ReadonlyArray<{ name: string; expression: string }> = [
  {
    name: 'auto-backup-or-persistent-data',
    expression: [
      carriesAutoBackupAnnotations('object'),
      carriesAutoBackupAnnotations('oldObject'),
      "(object != null && object.kind == 'PersistentVolumeClaim')",
      "(object != null && object.kind == 'StatefulSet' && has(object.spec.volumeClaimTemplates) && size(object.spec.volumeClaimTemplates) > 0)",
      "(object != null && object.kind != 'PersistentVolumeClaim' && has(object.spec.template.spec.volumes) && object.spec.template.spec.volumes.exists(v, has(v.persistentVolumeClaim)))",
    ].join(' || '),
  },
];

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

function clientConfig(endpoint: WebhookEndpoint, path: string, caBundle: string | undefined) {
  const ca = caBundle === undefined ? {} : { caBundle };
  if ('url' in endpoint) return { url: `${endpoint.url.replace(/\/+$/, '')}${path}`, ...ca };
  return { service: { ...endpoint.service, port: endpoint.service.port ?? 443, path }, ...ca };
}

/**
 * The MutatingWebhookConfiguration and ValidatingWebhookConfiguration that route KubeStash kinds
 * (and autostash's own BackupPolicy, validated only) to autostash, as KubeStash registers them (CREATE
 * and UPDATE, failurePolicy Fail, no side effects), plus the workload webhook (failurePolicy Ignore).
 * Pure: the same objects back the embedded control plane, `autostash manifests` and the chart.
 */
export function webhookConfigurations(options: WebhookConfigurationOptions): { mutating: Record<string, unknown>; validating: Record<string, unknown> } {
  const name = options.name ?? 'autostash';
  const excluded = options.excludedNamespaces ?? [];
  const common = {
    failurePolicy: 'Fail',
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    matchPolicy: 'Equivalent',
    ...(excluded.length === 0
      ? {}
      : { namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...excluded] }] } }),
  };
  const validateTimeout = options.validateTimeoutSeconds ?? 2;
  const metadata = {
    name,
    labels: { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/managed-by': 'autostash', ...options.labels },
    ...(options.annotations === undefined ? {} : { annotations: { ...options.annotations } }),
  };
  return {
    mutating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata,
      webhooks: [{
        name: 'mutate.autostash.kubestash.com',
        clientConfig: clientConfig(options.endpoint, '/mutate', options.caBundle),
        rules: rulesFor(kinds.filter((k) => MUTATED.has(k.kind))),
        reinvocationPolicy: 'Never',
        ...common,
        timeoutSeconds: options.mutateTimeoutSeconds ?? 2,
      }],
    },
    validating: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: structuredClone(metadata),
      webhooks: [
        {
          name: 'validate.autostash.kubestash.com',
          clientConfig: clientConfig(options.endpoint, '/validate', options.caBundle),
          // autostash's own kinds (BackupPolicy) are validated by the same webhook, failurePolicy Fail.
          rules: [...rulesFor(kinds.filter((k) => VALIDATED.has(k.kind))), ...rulesFor(autostashKinds)],
          ...common,
          timeoutSeconds: validateTimeout,
        },
        {
          // Workloads asking for auto backup get a preview of their BackupConfiguration. Ignore: an
          // unreachable autostash must never block deployments; the controller converges anyway.
          name: 'workloads.autostash.kubestash.com',
          clientConfig: clientConfig(options.endpoint, '/validate', options.caBundle),
          rules: AUTO_BACKUP_TARGET_RULES,
          ...common,
          failurePolicy: 'Ignore',
          timeoutSeconds: validateTimeout,
          ...(options.workloadMatchConditions === true ? { matchConditions: WORKLOAD_MATCH_CONDITIONS.map((c) => ({ ...c })) } : {}),
        },
      ],
    },
  };
}

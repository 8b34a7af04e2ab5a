/**
 * Every object of an autostash install, from validated values: what `autostash manifests` prints and
 * what the chart's templates reproduce (their static parts are generated from here into files/).
 */
import { stringify } from 'yaml';
import { allKinds, crdFor } from '../crd.js';
import { webhookConfigurations } from '../webhook-configurations.js';
import { renderDashboardJson } from './dashboard.js';
import {
  controllerDeployment,
  controllerDisruptionBudget,
  webhookService,
  type WorkloadInput,
} from './controller-workload.js';
import {
  CONTROLLER_CLUSTER_RULES,
  CONTROLLER_NAME,
  CONTROLLER_NAMESPACE_RULES,
  JOB_ROLE_RULES,
  jobClusterRoleName,
  WEBHOOK_CONFIGURATION_NAME,
} from './rbac.js';
import { JOB_ROLES, type InstallValues } from './values.js';

export interface InstallInput {
  /** The release namespace: the controller, its Service, Lease and certificate Secret live there. */
  namespace: string;
  /** Label app.kubernetes.io/instance; default `autostash`. */
  release?: string;
  /** Emit the Namespace object too (`autostash manifests`); Helm creates it with --create-namespace. */
  createNamespace?: boolean;
  values: InstallValues;
}

type KubeObject = Record<string, unknown>;

/** Name of the cert-manager serving Certificate (and of the CA Issuer that signs it) for the cert-manager source. */
export const CERT_MANAGER_CERTIFICATE = 'autostash-webhook';
/** The CA Certificate (and its Secret) that the CA Issuer signs with, and the self-signed Issuer that makes it. */
export const CERT_MANAGER_CA = 'autostash-webhook-ca';
export const CERT_MANAGER_SELF_SIGNED = 'autostash-webhook-selfsigned';
export const DASHBOARD_CONFIGMAP = 'autostash-dashboard';

/** The DNS names the API server reaches the webhook Service by. */
export const serviceDnsNames = (namespace: string): string[] => [
  `${WEBHOOK_CONFIGURATION_NAME}.${namespace}.svc`,
  `${WEBHOOK_CONFIGURATION_NAME}.${namespace}.svc.cluster.local`,
];

/** Namespaces whose Jobs get the per-role ServiceAccounts: the release namespace first, no duplicates. */
export const jobNamespaces = (input: InstallInput): string[] => [...new Set([input.namespace, ...input.values.jobServiceAccounts.namespaces])];

function rbacObjects(input: InstallInput, labels: Record<string, string>): KubeObject[] {
  const { namespace, values } = input;
  const clusterRole = (name: string, rules: unknown): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels },
    rules: structuredClone(rules),
  });
  const clusterRoleBinding = (name: string, subjects: Array<{ name: string; namespace: string }>): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: subjects.map((subject) => ({ kind: 'ServiceAccount', ...subject })),
  });
  const objects: KubeObject[] = [
    clusterRole(CONTROLLER_NAME, CONTROLLER_CLUSTER_RULES),
    clusterRoleBinding(CONTROLLER_NAME, [{ name: CONTROLLER_NAME, namespace }]),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: CONTROLLER_NAME, namespace, labels },
      rules: structuredClone(CONTROLLER_NAMESPACE_RULES),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: CONTROLLER_NAME, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CONTROLLER_NAME },
      subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace }],
    },
  ];
  // Jobs run in the namespace of their session, and a pod's ServiceAccount must live there: each job
  // namespace gets the accounts, bound cluster-wide because a session may use a BackupStorage (and its
  // credentials) in another namespace.
  for (const role of JOB_ROLES) {
    const name = jobClusterRoleName(role);
    objects.push(clusterRole(name, JOB_ROLE_RULES[role]));
    objects.push(clusterRoleBinding(name, jobNamespaces(input).map((ns) => ({ name: values.jobServiceAccounts.names[role], namespace: ns }))));
  }
  return objects;
}

function serviceAccounts(input: InstallInput, labels: Record<string, string>): KubeObject[] {
  const account = (name: string, namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, labels } });
  const accounts = [account(CONTROLLER_NAME, input.namespace)];
  for (const namespace of jobNamespaces(input)) {
    for (const role of JOB_ROLES) accounts.push(account(input.values.jobServiceAccounts.names[role], namespace));
  }
  return accounts;
}

/**
 * A CA and a serving Certificate it signs; cainjector copies the serving Secret's ca.crt (the CA) into the
 * webhook configurations. Not a self-signed serving certificate: each renewal of one is a new CA, and the
 * replicas (watching the Secret) switch to it at the moment cainjector patches the caBundle, before every
 * API server has seen the new bundle, so admissions fail for a moment at every renewal. With a CA, a
 * serving renewal leaves the caBundle unchanged; only the rarer CA renewal (caLifetime) changes it.
 */
function certManagerObjects(namespace: string, values: InstallValues, labels: Record<string, string>): KubeObject[] {
  const privateKey = { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' };
  return [
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: CERT_MANAGER_SELF_SIGNED, namespace, labels }, spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: CERT_MANAGER_CA, namespace, labels },
      spec: {
        isCA: true,
        commonName: CERT_MANAGER_CA,
        secretName: CERT_MANAGER_CA,
        duration: values.certificates.caLifetime,
        issuerRef: { kind: 'Issuer', name: CERT_MANAGER_SELF_SIGNED },
        privateKey,
      },
    },
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: CERT_MANAGER_CERTIFICATE, namespace, labels }, spec: { ca: { secretName: CERT_MANAGER_CA } } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: CERT_MANAGER_CERTIFICATE, namespace, labels },
      spec: {
        secretName: values.certificates.secretName,
        duration: values.certificates.certLifetime,
        dnsNames: serviceDnsNames(namespace),
        issuerRef: { kind: 'Issuer', name: CERT_MANAGER_CERTIFICATE },
        privateKey,
      },
    },
  ];
}

/**
 * The install, in apply order: CRDs, the Namespace (when asked), ServiceAccounts, RBAC, the Service,
 * the Deployment and its PodDisruptionBudget (with more than one replica), cert-manager objects (that
 * source only), the webhook configurations last (so nothing is admitted before the webhook can run),
 * and the Grafana dashboard ConfigMap (when switched on).
 */
export function installObjects(input: InstallInput): KubeObject[] {
  const { namespace, values } = input;
  const release = input.release ?? 'autostash';
  const labels = { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/instance': release, 'app.kubernetes.io/managed-by': 'autostash' };
  const workload: WorkloadInput = { namespace, release, labels, values };
  const certManager = values.certificates.source === 'cert-manager';
  const { mutating, validating } = webhookConfigurations({
    endpoint: { service: { namespace, name: WEBHOOK_CONFIGURATION_NAME, port: 443 } },
    name: WEBHOOK_CONFIGURATION_NAME,
    validateTimeoutSeconds: values.webhook.validateTimeoutSeconds,
    mutateTimeoutSeconds: values.webhook.mutateTimeoutSeconds,
    excludedNamespaces: [...new Set([...values.webhook.excludedNamespaces, namespace])],
    workloadMatchConditions: values.webhook.matchConditions,
    labels,
    ...(certManager ? { annotations: { 'cert-manager.io/inject-ca-from': `${namespace}/${CERT_MANAGER_CERTIFICATE}` } } : {}),
  });
  return [
    ...allKinds.map((info) => crdFor(info)),
    ...(input.createNamespace === true ? [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } }] : []),
    ...serviceAccounts(input, labels),
    ...rbacObjects(input, labels),
    webhookService(workload),
    controllerDeployment(workload),
    ...(values.replicas > 1 ? [controllerDisruptionBudget(workload)] : []),
    ...(certManager ? certManagerObjects(namespace, values, labels) : []),
    mutating,
    validating,
    ...(values.metrics.dashboard
      ? [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: DASHBOARD_CONFIGMAP, namespace, labels: { ...labels, grafana_dashboard: '1' } }, data: { 'autostash.json': renderDashboardJson() } }]
      : []),
  ];
}

/** The objects as one multi-document YAML stream. Deterministic for the same input. */
export function renderInstallYaml(objects: readonly KubeObject[]): string {
  return objects.map((object) => `---\n${stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
}

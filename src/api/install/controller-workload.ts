/**
 * The controller's Deployment, PodDisruptionBudget and Service. The static parts (container security
 * context, probes, volumes, ports) are exported on their own: the chart includes them from files/.
 */
import type { InstallValues, JobRole } from './values.js';
import { JOB_ROLES } from './values.js';
import { CONTROLLER_NAME, WEBHOOK_CONFIGURATION_NAME } from './rbac.js';

/** The port the webhook listens on in the pod; the Service maps 443 to it. */
export const WEBHOOK_PORT = 8443;
/** Where serve keeps certificate files: an in-memory emptyDir, as the root filesystem is read-only. */
export const CERT_DIR = '/var/run/autostash/certs';

export const selectorLabels = (release: string): Record<string, string> => ({ 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/instance': release });

/** Pod-level security: non-root (nobody), files group-owned by it, the runtime's default seccomp profile. */
export const POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
  fsGroup: 65534,
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** Container-level security: nothing to escalate to, no capabilities, nothing writable but the emptyDirs. */
export const CONTAINER_SECURITY_CONTEXT = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

const probe = (path: string, failureThreshold: number) => ({
  httpGet: { path, port: 'https', scheme: 'HTTPS' },
  periodSeconds: 10,
  timeoutSeconds: 3,
  failureThreshold,
});

/** /healthz answers while the process serves; /readyz only once caches synced and until shutdown begins. */
export const PROBES = {
  livenessProbe: { ...probe('/healthz', 3), initialDelaySeconds: 10 },
  readinessProbe: probe('/readyz', 1),
} as const;

export const CONTAINER_PORTS = [{ name: 'https', containerPort: WEBHOOK_PORT, protocol: 'TCP' }] as const;

export const VOLUME_MOUNTS = [
  { name: 'tmp', mountPath: '/tmp' },
  { name: 'certs', mountPath: CERT_DIR },
] as const;

export const VOLUMES = [
  { name: 'tmp', emptyDir: {} },
  { name: 'certs', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
] as const;

/**
 * The release namespace from the downward API (serve's POD_NAMESPACE: Lease, Secret and certificate
 * names), and a writable HOME on the read-only root filesystem. The Lease holder's identity is the
 * hostname, which is the pod name.
 */
export const CONTAINER_ENV = [
  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  { name: 'HOME', value: '/tmp' },
] as const;

/** The `--<role>-…-service-account` flag of a Job role (contract with src/config.ts). */
export const JOB_SERVICE_ACCOUNT_FLAGS: Readonly<Record<JobRole, string>> = {
  backup: '--backup-job-service-account',
  restore: '--restore-job-service-account',
  kubedumpBackup: '--kubedump-backup-service-account',
  kubedumpRestore: '--kubedump-restore-service-account',
  maintenance: '--maintenance-job-service-account',
};

export const imageOf = (values: InstallValues): string => `${values.image.repository}:${values.image.tag}`;

/** `autostash serve` arguments for the given values; flag names are the contracts of the brief. */
export function serveArgs(values: InstallValues): string[] {
  return [
    'serve',
    '--no-embedded',
    `--port=${WEBHOOK_PORT}`,
    `--cert-dir=${CERT_DIR}`,
    `--log-level=${values.logLevel}`,
    `--image=${imageOf(values)}`,
    `--cert-source=${values.certificates.source}`,
    `--cert-secret=${values.certificates.secretName}`,
    `--ca-lifetime=${values.certificates.caLifetime}`,
    `--cert-lifetime=${values.certificates.certLifetime}`,
    `--lease-duration=${values.leaderElection.leaseDuration}`,
    `--renew-deadline=${values.leaderElection.renewDeadline}`,
    `--retry-period=${values.leaderElection.retryPeriod}`,
    ...JOB_ROLES.map((role) => `${JOB_SERVICE_ACCOUNT_FLAGS[role]}=${values.jobServiceAccounts.names[role]}`),
  ];
}

/** Spread the replicas over nodes when possible (never required: a one-node cluster still runs them all). */
export function defaultAffinity(release: string): Record<string, unknown> {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selectorLabels(release) } } },
      ],
    },
  };
}

export interface WorkloadInput {
  namespace: string;
  release: string;
  labels: Record<string, string>;
  values: InstallValues;
}

/** The controller Deployment (webhook on every replica, controllers on the Lease holder). */
export function controllerDeployment({ namespace, release, labels, values }: WorkloadInput): Record<string, unknown> {
  const affinity = Object.keys(values.affinity).length > 0 ? values.affinity : defaultAffinity(release);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: CONTROLLER_NAME, namespace, labels },
    spec: {
      replicas: values.replicas,
      selector: { matchLabels: selectorLabels(release) },
      template: {
        metadata: { labels: { ...labels, ...selectorLabels(release) } },
        spec: {
          serviceAccountName: CONTROLLER_NAME,
          automountServiceAccountToken: true,
          terminationGracePeriodSeconds: values.terminationGracePeriodSeconds,
          securityContext: structuredClone(POD_SECURITY_CONTEXT),
          ...(Object.keys(values.nodeSelector).length > 0 ? { nodeSelector: { ...values.nodeSelector } } : {}),
          ...(values.tolerations.length > 0 ? { tolerations: structuredClone(values.tolerations) } : {}),
          affinity: structuredClone(affinity),
          containers: [
            {
              name: 'autostash',
              image: imageOf(values),
              imagePullPolicy: values.image.pullPolicy,
              args: serveArgs(values),
              env: structuredClone(CONTAINER_ENV),
              ports: structuredClone(CONTAINER_PORTS),
              ...structuredClone(PROBES),
              resources: structuredClone(values.resources),
              securityContext: structuredClone(CONTAINER_SECURITY_CONTEXT),
              volumeMounts: structuredClone(VOLUME_MOUNTS),
            },
          ],
          volumes: structuredClone(VOLUMES),
        },
      },
    },
  };
}

/** At least one replica keeps serving admissions through voluntary disruptions (drains, upgrades). */
export function controllerDisruptionBudget({ namespace, release, labels }: WorkloadInput): Record<string, unknown> {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: CONTROLLER_NAME, namespace, labels },
    spec: { minAvailable: 1, selector: { matchLabels: selectorLabels(release) } },
  };
}

/** The Service the API server calls the webhooks through (port 443 → 8443); also the metrics endpoint. */
export function webhookService({ namespace, release, labels }: WorkloadInput): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: WEBHOOK_CONFIGURATION_NAME, namespace, labels },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(release),
      ports: [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }],
    },
  };
}

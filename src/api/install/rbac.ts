/**
 * Least-privilege RBAC of an install: one ClusterRole per role (the controller and each Job role),
 * the controller's namespaced Role (Lease, certificate Secret) and their bindings. Verbs and
 * resources are listed exactly; the only wildcards are the kubedump Jobs', in WILDCARD_EXCEPTIONS.
 */
import type { JobRole } from './values.js';
import { JOB_ROLES } from './values.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const STORAGE = 'storage.kubestash.com';
const CORE = 'core.kubestash.com';
const ADDONS = 'addons.kubestash.com';
const POLICY = 'policy.autostash.dev';
const READ = ['get', 'list', 'watch'];

/** Name of both webhook configurations and of the Service (contract shared with the certificate code). */
export const WEBHOOK_CONFIGURATION_NAME = 'autostash';
/** The controller's ClusterRole, Role, bindings and ServiceAccount share this name. */
export const CONTROLLER_NAME = 'autostash';
/** The Lease the replicas compete for (config.controller.leaseName). */
export const LEASE_NAME = 'autostash-controller';

/**
 * What the controllers do cluster-wide: watch every kind they reconcile, create/update/delete what
 * they own (generated BackupConfigurations, BackupSessions, Snapshots, Repositories, Jobs, addons),
 * write statuses, read Secrets (encryption and credentials checks), record Events, and patch the
 * caBundle of the two webhook configurations (self-managed certificates).
 */
export const CONTROLLER_CLUSTER_RULES: readonly PolicyRule[] = [
  { apiGroups: [ADDONS], resources: ['addons', 'functions'], verbs: [...READ, 'create', 'update', 'patch'] },
  { apiGroups: [CORE], resources: ['backupconfigurations'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [CORE], resources: ['backupsessions'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [CORE], resources: ['restoresessions', 'backupblueprints', 'backupbatches', 'hooktemplates'], verbs: [...READ, 'update', 'patch'] },
  { apiGroups: [CORE], resources: ['backupconfigurations/status', 'backupsessions/status', 'restoresessions/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [STORAGE], resources: ['backupstorages', 'retentionpolicies'], verbs: [...READ, 'update', 'patch'] },
  { apiGroups: [STORAGE], resources: ['repositories', 'snapshots'], verbs: [...READ, 'create', 'update', 'patch', 'delete'] },
  { apiGroups: [STORAGE], resources: ['backupstorages/status', 'repositories/status', 'snapshots/status'], verbs: ['get', 'update', 'patch'] },
  // The ownerReferences the controller writes carry blockOwnerDeletion (Jobs → BackupSession, RestoreSession,
  // BackupStorage, Repository; BackupSessions → BackupConfiguration; Snapshots → Repository). Where the
  // OwnerReferencesPermissionEnforcement admission plugin is on (OpenShift), that needs update on the
  // owner's finalizers, or every such create or update is refused.
  { apiGroups: [CORE], resources: ['backupconfigurations/finalizers', 'backupsessions/finalizers', 'restoresessions/finalizers'], verbs: ['update'] },
  { apiGroups: [STORAGE], resources: ['backupstorages/finalizers', 'repositories/finalizers'], verbs: ['update'] },
  { apiGroups: [POLICY], resources: ['backuppolicies'], verbs: READ },
  { apiGroups: [POLICY], resources: ['backuppolicies/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: [...READ, 'create', 'delete'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: [''], resources: ['pods', 'nodes', 'persistentvolumeclaims', 'namespaces'], verbs: READ },
  { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: READ },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  // A session in a namespace the install did not list gets its Job's ServiceAccount and a RoleBinding
  // on demand (src/controllers/job-accounts.ts); binding a ClusterRole needs `bind` on exactly it
  // (RBAC escalation prevention), and only the namespaced Job roles are ever bound this way.
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'create'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get', 'create'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['autostash-backup-job', 'autostash-restore-job', 'autostash-maintenance-job'] },
  {
    apiGroups: ['admissionregistration.k8s.io'],
    resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
    // list/watch by name work because the certificate controller's informers select metadata.name.
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
    resourceNames: [WEBHOOK_CONFIGURATION_NAME],
  },
];

/**
 * What the controller does in its own namespace only: hold the Lease (create cannot be limited by
 * name) and keep the webhook's certificate Secret, which every replica watches for rotations. The
 * Secret rules are not limited by name: the namespace holds only autostash's own objects, and the
 * Secret's name is a value, while these rules are the chart's static part.
 */
export const CONTROLLER_NAMESPACE_RULES: readonly PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update', 'patch'], resourceNames: [LEASE_NAME] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
];

/** What every Job reads to find its repository, its backend and its keys. */
const JOB_READS: PolicyRule[] = [
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  { apiGroups: [STORAGE], resources: ['backupstorages', 'repositories', 'retentionpolicies', 'snapshots'], verbs: ['get', 'list'] },
  { apiGroups: [CORE], resources: ['backupconfigurations', 'backupsessions', 'restoresessions'], verbs: ['get', 'list'] },
  // Stale-lock detection asks whether another autostash Job still runs.
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list'] },
];

const BACKUP_JOB_RULES: PolicyRule[] = [
  ...JOB_READS,
  { apiGroups: [STORAGE], resources: ['snapshots'], verbs: ['update', 'patch'] },
  { apiGroups: [STORAGE], resources: ['snapshots/status', 'repositories/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [CORE], resources: ['backupsessions/status'], verbs: ['get', 'update', 'patch'] },
];

const RESTORE_JOB_RULES: PolicyRule[] = [
  ...JOB_READS,
  { apiGroups: [CORE], resources: ['restoresessions/status'], verbs: ['get', 'update', 'patch'] },
];

/** Retention, repository initialisation and wipe-out, snapshot deletion. */
const MAINTENANCE_JOB_RULES: PolicyRule[] = [
  ...JOB_READS,
  { apiGroups: [STORAGE], resources: ['snapshots'], verbs: ['update', 'patch', 'delete'] },
  { apiGroups: [STORAGE], resources: ['snapshots/status', 'repositories/status', 'backupstorages/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: [CORE], resources: ['backupsessions/status'], verbs: ['get', 'update', 'patch'] },
];

/**
 * The documented wildcard exceptions: a kubedump backup reads every kind the cluster serves
 * (CRDs included, unknown in advance), and a kubedump restore recreates them. Least privilege cannot
 * be expressed as a finite list here; narrow these with the filter's includeResources in your own
 * role if the cluster's policy demands it.
 */
export const WILDCARD_EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  ['autostash-kubedump-backup-job', 'a kubedump backup reads every resource kind the cluster serves, including CRDs installed later'],
  ['autostash-kubedump-restore-job', 'a kubedump restore recreates every resource kind found in the dump, including CRDs installed later'],
]);

const KUBEDUMP_BACKUP_RULES: PolicyRule[] = [
  ...BACKUP_JOB_RULES,
  { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list'] },
];

const KUBEDUMP_RESTORE_RULES: PolicyRule[] = [
  ...RESTORE_JOB_RULES,
  { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'create', 'update', 'patch'] },
];

/** Rules per Job role, in JOB_ROLES order. */
export const JOB_ROLE_RULES: Readonly<Record<JobRole, readonly PolicyRule[]>> = {
  backup: BACKUP_JOB_RULES,
  restore: RESTORE_JOB_RULES,
  kubedumpBackup: KUBEDUMP_BACKUP_RULES,
  kubedumpRestore: KUBEDUMP_RESTORE_RULES,
  maintenance: MAINTENANCE_JOB_RULES,
};

/** ClusterRole name of a Job role: `autostash-<kebab role>-job`. */
export const jobClusterRoleName = (role: JobRole): string => `autostash-${role.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-job`;

export { JOB_ROLES };

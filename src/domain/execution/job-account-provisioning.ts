/**
 * Whether the controller provides a Job's ServiceAccount in the Job's namespace before creating the
 * Job. The install creates the per-role accounts only in the namespaces its values list, yet a Job
 * runs in its session's namespace; without this a session in any other namespace gets a Job whose
 * pods can never start. The namespaced roles (backup, restore, maintenance) are provisioned: a
 * ServiceAccount and a RoleBinding to the role's ClusterRole, in that namespace only. The kubedump
 * roles are not: they are bound cluster-wide (read or write of every kind), and creating them on
 * demand would let any namespace obtain that; their Jobs fail early with the two ways to fix it.
 */
import type { KubeObject } from '../kube-object.js';
import type { JobRole } from '../../api/install/values.js';
import { JOB_ROLES } from '../../api/install/values.js';
import { jobClusterRoleName } from '../../api/install/rbac.js';

/** Roles whose accounts may be created on demand: their ClusterRoles are only ever bound per namespace. */
export const PROVISIONED_ROLES: readonly JobRole[] = ['backup', 'restore', 'maintenance'];

/** Label on every object the controller creates for a Job's account (the install's own carry the chart's labels). */
export const JOB_ACCOUNT_COMPONENT = 'job-account';
export const JOB_ACCOUNT_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'autostash',
  'app.kubernetes.io/managed-by': 'autostash',
  'app.kubernetes.io/component': JOB_ACCOUNT_COMPONENT,
};

/** What to do about one Job's ServiceAccount. */
export type JobAccountPlan =
  /** Nothing: not one of autostash's per-role accounts (an addon's own, the fallback, the namespace's default). */
  | { action: 'none' }
  /** Ensure the account and its RoleBinding in the namespace. */
  | { action: 'provision'; role: JobRole; serviceAccount: string; roleBinding: string; clusterRole: string }
  /** The account must already exist (kubedump): never created on demand. */
  | { action: 'require'; role: JobRole; serviceAccount: string };

/**
 * The per-role accounts worth provisioning: those configured for their role explicitly, i.e. set and
 * different from the fallback `--job-service-account` (a shared fallback is the operator's own).
 */
export function configuredRoleAccounts(perRole: Readonly<Partial<Record<JobRole, string | undefined>>>, fallback: string | undefined): Partial<Record<JobRole, string>> {
  const accounts: Partial<Record<JobRole, string>> = {};
  for (const role of JOB_ROLES) {
    const name = perRole[role];
    if (name !== undefined && name !== fallback) accounts[role] = name;
  }
  return accounts;
}

/**
 * The plan for a Job that may be of any of `roles` (a backup Job is `backup` or `kubedumpBackup`) and
 * runs as `jobAccount` (undefined: the namespace's default), given the configured per-role accounts
 * (see {@link configuredRoleAccounts}). The Job's role is the first of `roles` whose configured
 * account it runs as; a Job running as anything else (an addon's own account, the fallback) is left
 * to whoever chose that account.
 */
export function planJobAccount(roles: readonly JobRole[], jobAccount: string | undefined, configured: Readonly<Partial<Record<JobRole, string>>>): JobAccountPlan {
  const role = roles.find((candidate) => configured[candidate] !== undefined && configured[candidate] === jobAccount);
  if (role === undefined || jobAccount === undefined) return { action: 'none' };
  if (!PROVISIONED_ROLES.includes(role)) return { action: 'require', serviceAccount: jobAccount, role };
  const clusterRole = jobClusterRoleName(role);
  return { action: 'provision', serviceAccount: jobAccount, roleBinding: clusterRole, clusterRole, role };
}

/** Who owns an existing object of the account's (or binding's) name. */
export type AccountOwner = 'missing' | 'controller' | 'install' | 'foreign';

/**
 * `controller`: created on demand by autostash (the managed and component labels); `install`: one of
 * the chart's or `autostash manifests`' objects (name label autostash, bound by the install itself);
 * `foreign`: anybody else's, never changed.
 */
export function accountOwner(existing: KubeObject | undefined): AccountOwner {
  if (existing === undefined) return 'missing';
  const labels = existing.metadata?.labels ?? {};
  if (labels['app.kubernetes.io/managed-by'] === 'autostash' && labels['app.kubernetes.io/component'] === JOB_ACCOUNT_COMPONENT) return 'controller';
  if (labels['app.kubernetes.io/name'] === 'autostash') return 'install';
  return 'foreign';
}

/** The ServiceAccount created on demand. */
export function jobServiceAccountObject(namespace: string, plan: Extract<JobAccountPlan, { action: 'provision' }>): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: plan.serviceAccount, namespace, labels: { ...JOB_ACCOUNT_LABELS, 'autostash.dev/job-role': plan.role } } };
}

/** The RoleBinding granting `clusterRole` to the account, in its namespace only. */
export function jobRoleBindingObject(namespace: string, plan: Extract<JobAccountPlan, { action: 'provision' }>): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: plan.roleBinding, namespace, labels: { ...JOB_ACCOUNT_LABELS, 'autostash.dev/job-role': plan.role } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: plan.clusterRole },
    subjects: [{ kind: 'ServiceAccount', name: plan.serviceAccount, namespace }],
  };
}

/** True when an existing RoleBinding grants `plan`'s ClusterRole to the account (roleRef is immutable, so a wrong one stays wrong). */
export function roleBindingGrants(binding: KubeObject, namespace: string, plan: Extract<JobAccountPlan, { action: 'provision' }>): boolean {
  const roleRef = binding.roleRef as { kind?: string; name?: string } | undefined;
  const subjects = (binding.subjects as Array<{ kind?: string; name?: string; namespace?: string }> | undefined) ?? [];
  return (
    roleRef?.kind === 'ClusterRole' &&
    roleRef.name === plan.clusterRole &&
    subjects.some((subject) => subject.kind === 'ServiceAccount' && subject.name === plan.serviceAccount && (subject.namespace ?? namespace) === namespace)
  );
}

/** The message of a kubedump Job whose account is missing: what is missing, where, and the two fixes. */
export function missingKubedumpAccountMessage(role: JobRole, namespace: string, serviceAccount: string): string {
  return (
    `ServiceAccount ${namespace}/${serviceAccount} of ${role} Jobs does not exist and is not created on demand (it is bound cluster-wide); ` +
    `list ${namespace} in the install's jobServiceAccounts.namespaces, or set the addon's jobTemplate.spec.serviceAccountName to an account of your own in ${namespace}`
  );
}

import t from 'tap';
import { CONTROLLER_CLUSTER_RULES, jobClusterRoleName } from '../../../src/api/install/rbac.js';
import {
  accountOwner,
  configuredRoleAccounts,
  jobRoleBindingObject,
  jobServiceAccountObject,
  missingKubedumpAccountMessage,
  planJobAccount,
  PROVISIONED_ROLES,
  roleBindingGrants,
  type JobAccountPlan,
} from '../../../src/domain/execution/job-account-provisioning.js';
import type { JobRole } from '../../../src/domain/execution/job-service-accounts.js';

const CONFIGURED: Partial<Record<JobRole, string>> = {
  backup: 'sa-backup',
  restore: 'sa-restore',
  kubedumpBackup: 'sa-kd-backup',
  kubedumpRestore: 'sa-kd-restore',
  maintenance: 'sa-maintenance',
};

t.test('configuredRoleAccounts keeps only roles set explicitly and different from the fallback', async (t) => {
  const rows: Array<[string, Partial<Record<JobRole, string | undefined>>, string | undefined, Partial<Record<JobRole, string>>]> = [
    ['no flags', {}, undefined, {}],
    ['fallback only (config copies it into every role)', { backup: 'shared', restore: 'shared', kubedumpBackup: 'shared', kubedumpRestore: 'shared', maintenance: 'shared' }, 'shared', {}],
    ['per-role flags as the chart passes them', CONFIGURED, undefined, CONFIGURED],
    ['per-role flag besides a fallback', { backup: 'own', restore: 'shared' }, 'shared', { backup: 'own' }],
    ['undefined role', { backup: undefined }, undefined, {}],
  ];
  for (const [name, perRole, fallback, expected] of rows) t.same(configuredRoleAccounts(perRole, fallback), expected, name);
});

t.test('planJobAccount: one row per role and per kind of account', async (t) => {
  const provision = (role: JobRole, serviceAccount: string): JobAccountPlan => ({ action: 'provision', role, serviceAccount, roleBinding: jobClusterRoleName(role), clusterRole: jobClusterRoleName(role) });
  const rows: Array<[string, JobRole[], string | undefined, Partial<Record<JobRole, string>>, JobAccountPlan]> = [
    ['backup account', ['backup', 'kubedumpBackup'], 'sa-backup', CONFIGURED, provision('backup', 'sa-backup')],
    ['restore account', ['restore', 'kubedumpRestore'], 'sa-restore', CONFIGURED, provision('restore', 'sa-restore')],
    ['maintenance account', ['maintenance'], 'sa-maintenance', CONFIGURED, provision('maintenance', 'sa-maintenance')],
    ['kubedump backup account: required, never created', ['backup', 'kubedumpBackup'], 'sa-kd-backup', CONFIGURED, { action: 'require', role: 'kubedumpBackup', serviceAccount: 'sa-kd-backup' }],
    ['kubedump restore account: required, never created', ['restore', 'kubedumpRestore'], 'sa-kd-restore', CONFIGURED, { action: 'require', role: 'kubedumpRestore', serviceAccount: 'sa-kd-restore' }],
    ["an addon's own account", ['backup', 'kubedumpBackup'], 'users-own', CONFIGURED, { action: 'none' }],
    ["another role's account is not this Job's", ['maintenance'], 'sa-backup', CONFIGURED, { action: 'none' }],
    ["the namespace's default account", ['backup'], undefined, CONFIGURED, { action: 'none' }],
    ['no configured accounts (embedded plane, local runs)', ['backup', 'kubedumpBackup'], 'sa-backup', {}, { action: 'none' }],
  ];
  for (const [name, roles, account, configured, expected] of rows) t.same(planJobAccount(roles, account, configured), expected, name);
});

t.test('accountOwner tells the controller, the install and anybody else apart', async (t) => {
  const rows: Array<[string, Record<string, string> | undefined | null, string]> = [
    ['missing', null, 'missing'],
    ['created on demand', { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/managed-by': 'autostash', 'app.kubernetes.io/component': 'job-account' }, 'controller'],
    ['helm install', { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/managed-by': 'Helm' }, 'install'],
    ['autostash manifests', { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/managed-by': 'autostash' }, 'install'],
    ["a user's, with a copied managed-by but no component", { 'app.kubernetes.io/managed-by': 'autostash' }, 'foreign'],
    ["a user's, no labels", undefined, 'foreign'],
  ];
  for (const [name, labels, expected] of rows) {
    const object = labels === null ? undefined : { metadata: { name: 'x', ...(labels === undefined ? {} : { labels }) } };
    t.equal(accountOwner(object), expected, name);
  }
});

t.test('the objects created on demand are labelled as ours and grant exactly the role in the namespace', async (t) => {
  const plan = planJobAccount(['backup'], 'sa-backup', CONFIGURED);
  if (plan.action !== 'provision') throw new Error('expected a provision plan');
  const account = jobServiceAccountObject('team-a', plan);
  t.same(account.metadata?.name, 'sa-backup');
  t.equal(accountOwner(account), 'controller');
  const binding = jobRoleBindingObject('team-a', plan);
  t.equal(accountOwner(binding), 'controller');
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'autostash-backup-job' });
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'sa-backup', namespace: 'team-a' }]);
  t.ok(roleBindingGrants(binding, 'team-a', plan));
  const rows: Array<[string, Record<string, unknown>, boolean]> = [
    ['subject without namespace means the binding one', { roleRef: binding.roleRef, subjects: [{ kind: 'ServiceAccount', name: 'sa-backup' }] }, true],
    ['other ClusterRole', { roleRef: { kind: 'ClusterRole', name: 'admin' }, subjects: binding.subjects }, false],
    ['a Role of the same name', { roleRef: { kind: 'Role', name: 'autostash-backup-job' }, subjects: binding.subjects }, false],
    ['another subject', { roleRef: binding.roleRef, subjects: [{ kind: 'ServiceAccount', name: 'other', namespace: 'team-a' }] }, false],
    ['subject in another namespace', { roleRef: binding.roleRef, subjects: [{ kind: 'ServiceAccount', name: 'sa-backup', namespace: 'team-b' }] }, false],
    ['a user subject', { roleRef: binding.roleRef, subjects: [{ kind: 'User', name: 'sa-backup' }] }, false],
    ['no subjects, no roleRef', {}, false],
  ];
  for (const [name, fields, expected] of rows) t.equal(roleBindingGrants({ metadata: { name: 'b' }, ...fields }, 'team-a', plan), expected, name);
});

t.test('the kubedump message names the account, the namespace and both fixes', async (t) => {
  const message = missingKubedumpAccountMessage('kubedumpBackup', 'team-a', 'sa-kd-backup');
  t.match(message, 'team-a/sa-kd-backup');
  t.match(message, 'jobServiceAccounts.namespaces');
  t.match(message, 'jobTemplate.spec.serviceAccountName');
});

t.test('the controller may bind exactly the ClusterRoles of the roles it provisions', async (t) => {
  const bind = CONTROLLER_CLUSTER_RULES.filter((rule) => rule.verbs.includes('bind'));
  t.equal(bind.length, 1);
  t.same(bind[0]?.resources, ['clusterroles']);
  t.same([...(bind[0]?.resourceNames ?? [])].sort(), PROVISIONED_ROLES.map(jobClusterRoleName).sort());
  const verbsOn = (resource: string) => CONTROLLER_CLUSTER_RULES.filter((rule) => rule.resources.includes(resource)).flatMap((rule) => rule.verbs).sort();
  t.same(verbsOn('serviceaccounts'), ['create', 'get']);
  t.same(verbsOn('rolebindings'), ['create', 'get']);
});

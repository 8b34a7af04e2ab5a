// Walks the RBAC of a generated install: no wildcard outside the documented kubedump exceptions, and
// the grants the controller, the certificate code and the Jobs rely on are there.
import t from 'tap';
import { DEFAULT_VALUES, installObjects, WILDCARD_EXCEPTIONS, type PolicyRule } from '../../../src/api/install/index.js';

type Obj = { kind: string; metadata: { name: string; namespace?: string }; rules?: PolicyRule[]; subjects?: Array<{ name: string; namespace: string }> };
const objects = installObjects({ namespace: 'backup-system', values: { ...DEFAULT_VALUES, jobServiceAccounts: { ...DEFAULT_VALUES.jobServiceAccounts, namespaces: ['apps', 'backup-system'] } } }) as unknown as Obj[];
const roles = objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
const roleNamed = (kind: string, name: string) => roles.find((r) => r.kind === kind && r.metadata.name === name);

/** Every (group, resource, verb, name) tuple a role grants. */
function grants(role: Obj | undefined): Set<string> {
  const out = new Set<string>();
  for (const rule of role?.rules ?? []) {
    for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) {
      for (const name of rule.resourceNames ?? ['']) out.add(`${group}/${resource}:${verb}${name === '' ? '' : `@${name}`}`);
    }
  }
  return out;
}

t.test('no undocumented wildcard in any generated role', async (t) => {
  t.ok(roles.length >= 7, 'the controller ClusterRole and Role and the five Job ClusterRoles');
  for (const role of roles) {
    const wildcards = (role.rules ?? []).filter((rule) => [...rule.apiGroups, ...rule.resources, ...rule.verbs].some((entry) => entry.includes('*')));
    if (WILDCARD_EXCEPTIONS.has(role.metadata.name)) {
      t.equal(wildcards.length, 1, `${role.metadata.name}: exactly one documented wildcard rule (${WILDCARD_EXCEPTIONS.get(role.metadata.name)})`);
      t.notOk(wildcards[0]?.verbs.includes('*'), `${role.metadata.name}: verbs are still listed`);
      t.notOk(wildcards[0]?.verbs.includes('delete'), `${role.metadata.name}: never deletes arbitrary objects`);
    } else {
      t.same(wildcards, [], `${role.metadata.name}: no wildcard`);
    }
    for (const rule of role.rules ?? []) {
      t.notOk(rule.verbs.some((verb) => ['escalate', 'impersonate'].includes(verb)), `${role.metadata.name}: no privilege-granting verbs`);
      // The controller binds the namespaced Job roles in a session's namespace (job accounts on demand): bind on exactly those, nothing else.
      if (rule.verbs.includes('bind')) {
        t.equal(`${role.kind}/${role.metadata.name}`, 'ClusterRole/autostash', 'only the controller may bind');
        t.same({ ...rule, resourceNames: [...(rule.resourceNames ?? [])].sort() }, { apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['autostash-backup-job', 'autostash-maintenance-job', 'autostash-restore-job'] }, 'bind only the three namespaced Job ClusterRoles');
      }
    }
  }
  const exceptions = [...WILDCARD_EXCEPTIONS.keys()].sort();
  t.same(roles.filter((r) => WILDCARD_EXCEPTIONS.has(r.metadata.name)).map((r) => r.metadata.name).sort(), exceptions, 'each exception is a generated role');
});

t.test('the controller can do what its controllers and the certificate code do', async (t) => {
  const cluster = grants(roleNamed('ClusterRole', 'autostash'));
  const expected = [
    'addons.kubestash.com/addons:list', 'addons.kubestash.com/addons:watch', 'addons.kubestash.com/addons:create', 'addons.kubestash.com/addons:update',
    'addons.kubestash.com/functions:create', 'addons.kubestash.com/functions:update',
    'batch/jobs:create', 'batch/jobs:delete', 'batch/jobs:list', 'batch/jobs:watch',
    'core.kubestash.com/backupsessions:create', 'core.kubestash.com/backupsessions:delete',
    'core.kubestash.com/backupconfigurations:create', 'core.kubestash.com/backupconfigurations:update', 'core.kubestash.com/backupconfigurations:delete',
    'core.kubestash.com/backupconfigurations/status:update', 'core.kubestash.com/backupsessions/status:update', 'core.kubestash.com/restoresessions/status:update',
    'storage.kubestash.com/snapshots:create', 'storage.kubestash.com/snapshots:update', 'storage.kubestash.com/repositories:create',
    'storage.kubestash.com/backupstorages:update', 'storage.kubestash.com/backupstorages/status:update', 'storage.kubestash.com/repositories/status:update', 'storage.kubestash.com/snapshots/status:update',
    'policy.autostash.dev/backuppolicies:watch', 'policy.autostash.dev/backuppolicies/status:update',
    '/secrets:get', '/events:create', '/events:patch',
    '/pods:watch', '/nodes:watch', '/persistentvolumeclaims:watch', '/namespaces:watch',
    'apps/deployments:watch', 'apps/statefulsets:watch', 'apps/daemonsets:watch',
    'admissionregistration.k8s.io/mutatingwebhookconfigurations:get@autostash', 'admissionregistration.k8s.io/mutatingwebhookconfigurations:patch@autostash',
    'admissionregistration.k8s.io/validatingwebhookconfigurations:get@autostash', 'admissionregistration.k8s.io/validatingwebhookconfigurations:patch@autostash',
    'admissionregistration.k8s.io/validatingwebhookconfigurations:watch@autostash', 'admissionregistration.k8s.io/mutatingwebhookconfigurations:list@autostash',
  ];
  for (const grant of expected) t.ok(cluster.has(grant), grant);
  // blockOwnerDeletion on an ownerReference needs update on the owner's finalizers where
  // OwnerReferencesPermissionEnforcement is on: the owners of the Jobs (job-skeleton.ts), BackupSessions
  // (schedule/backup-session.ts, the session controller) and Snapshots (the session controller).
  const owners = ['core.kubestash.com/backupsessions', 'core.kubestash.com/restoresessions', 'core.kubestash.com/backupconfigurations', 'storage.kubestash.com/backupstorages', 'storage.kubestash.com/repositories'];
  for (const owner of owners) t.ok(cluster.has(`${owner}/finalizers:update`), `may set blockOwnerDeletion on ownerReferences to ${owner}`);
  t.notOk(cluster.has('/secrets:list'), 'Secrets are read one by one, never listed cluster-wide');
  t.notOk(cluster.has('/secrets:update'), 'no Secret is written outside the release namespace');
  t.notOk(cluster.has('admissionregistration.k8s.io/validatingwebhookconfigurations:patch'), 'webhook configurations only by name');

  const namespaced = roleNamed('Role', 'autostash');
  t.equal(namespaced?.metadata.namespace, 'backup-system');
  const inNamespace = grants(namespaced);
  for (const grant of ['coordination.k8s.io/leases:create', 'coordination.k8s.io/leases:get@autostash-controller', 'coordination.k8s.io/leases:update@autostash-controller', '/secrets:get', '/secrets:create', '/secrets:update', '/secrets:watch']) {
    t.ok(inNamespace.has(grant), `release namespace: ${grant}`);
  }
});

t.test('Job roles: reads for every Job, writes only where the role writes', async (t) => {
  const backup = grants(roleNamed('ClusterRole', 'autostash-backup-job'));
  const restore = grants(roleNamed('ClusterRole', 'autostash-restore-job'));
  const maintenance = grants(roleNamed('ClusterRole', 'autostash-maintenance-job'));
  const kubedumpBackup = grants(roleNamed('ClusterRole', 'autostash-kubedump-backup-job'));
  const kubedumpRestore = grants(roleNamed('ClusterRole', 'autostash-kubedump-restore-job'));
  for (const [name, role] of Object.entries({ backup, restore, maintenance, kubedumpBackup, kubedumpRestore })) {
    for (const read of ['/secrets:get', 'storage.kubestash.com/repositories:get', 'storage.kubestash.com/backupstorages:get', 'storage.kubestash.com/retentionpolicies:get', 'core.kubestash.com/backupconfigurations:get', 'core.kubestash.com/backupsessions:get', 'core.kubestash.com/restoresessions:get', 'batch/jobs:list']) {
      t.ok(role.has(read), `${name}: ${read}`);
    }
    t.notOk(role.has('batch/jobs:create'), `${name}: Jobs never start Jobs`);
  }
  t.ok(backup.has('storage.kubestash.com/snapshots:update') && backup.has('storage.kubestash.com/snapshots/status:update'), 'backup writes its Snapshots');
  t.notOk(backup.has('storage.kubestash.com/snapshots:delete'), 'backup never deletes Snapshots');
  t.ok(maintenance.has('storage.kubestash.com/snapshots:delete'), 'retention deletes Snapshots');
  t.ok(maintenance.has('storage.kubestash.com/backupstorages/status:update'), 'initialisation reports on the BackupStorage');
  t.ok(restore.has('core.kubestash.com/restoresessions/status:update'), 'restore reports its progress');
  t.notOk(restore.has('storage.kubestash.com/snapshots:update'), 'restore leaves Snapshots alone');
  t.ok(kubedumpBackup.has('*/*:list') && !kubedumpBackup.has('*/*:create'), 'kubedump backup reads everything, writes nothing else');
  t.ok(kubedumpRestore.has('*/*:create') && kubedumpRestore.has('*/*:update') && kubedumpRestore.has('*/*:get'), 'kubedump restore recreates objects');
});

t.test('bindings: every role bound, Job accounts in every job namespace', async (t) => {
  const bindings = objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding');
  for (const role of roles) t.ok(bindings.some((b) => b.metadata.name === role.metadata.name && b.kind.startsWith(role.kind)), `${role.kind} ${role.metadata.name} is bound`);
  const backupBinding = bindings.find((b) => b.metadata.name === 'autostash-backup-job');
  t.same(backupBinding?.subjects, [
    { kind: 'ServiceAccount', name: 'autostash-backup-job', namespace: 'backup-system' },
    { kind: 'ServiceAccount', name: 'autostash-backup-job', namespace: 'apps' },
  ], 'the release namespace first, duplicates dropped');
  const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  t.equal(accounts.length, 1 + 5 * 2);
  t.ok(accounts.includes('apps/autostash-kubedump-restore-job'));
  t.ok(accounts.includes('backup-system/autostash'));
});

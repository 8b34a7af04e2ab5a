// Job ServiceAccounts on demand, against the embedded control plane's real serviceaccounts and
// rolebindings: created when missing, never changed when present, foreign ones reported, kubedump
// accounts required, races and API errors handled.
import t from 'tap';
import { createEventRecorder } from '../../src/controllers/event-recorder.js';
import { createJobAccounts } from '../../src/controllers/job-accounts.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { createKubeClient, type KubeClient, type ObjectRef } from '../../src/kube/client.js';
import { silentLogger, startTestControlPlane } from '../helpers/control-plane.js';

const SA = { apiVersion: 'v1', kind: 'ServiceAccount' };
const RB = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' };
const CONFIGURED = { backup: 'autostash-backup-job', restore: 'autostash-restore-job', maintenance: 'autostash-maintenance-job', kubedumpBackup: 'autostash-kubedump-backup-job' };

const jobAs = (serviceAccountName?: string): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'j' },
  spec: { template: { spec: { ...(serviceAccountName === undefined ? {} : { serviceAccountName }), containers: [] } } },
});

const { kubeConfig } = await startTestControlPlane(t);
const client = createKubeClient(kubeConfig);
t.teardown(() => client.close());
const logger = silentLogger();
const recorder = createEventRecorder({ client, logger });
const accounts = createJobAccounts({ client, recorder, logger, configured: CONFIGURED });

let namespaces = 0;
async function freshNamespace(): Promise<{ namespace: string; about: KubeObject }> {
  const namespace = `team-${++namespaces}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const about = await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'session', namespace } });
  return { namespace, about };
}
const warnings = async (namespace: string): Promise<Array<{ reason: string; message: string }>> => {
  await recorder.flush();
  return (await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace })).items
    .map((event) => event as unknown as { reason: string; message: string; type: string })
    .filter((event) => event.type === 'Warning')
    .map(({ reason, message }) => ({ reason, message }));
};
const names = async (type: typeof SA, namespace: string): Promise<string[]> => (await client.list(type, { namespace })).items.map((o) => o.metadata?.name ?? '').sort();

t.test('a missing account and binding are created, labelled and bound to the role in the namespace only', async (t) => {
  const { namespace, about } = await freshNamespace();
  t.same(await accounts.ensure(jobAs('autostash-backup-job'), ['backup', 'kubedumpBackup'], namespace, about), { ready: true });
  const account = await client.get({ ...SA, namespace, name: 'autostash-backup-job' });
  t.match(account.metadata?.labels, { 'app.kubernetes.io/managed-by': 'autostash', 'app.kubernetes.io/component': 'job-account', 'autostash.dev/job-role': 'backup' });
  const binding = await client.get({ ...RB, namespace, name: 'autostash-backup-job' });
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'autostash-backup-job' });
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'autostash-backup-job', namespace }]);

  // Again, and for another Job of the same role: nothing changes.
  const versions = [account.metadata?.resourceVersion, binding.metadata?.resourceVersion];
  t.same(await accounts.ensure(jobAs('autostash-backup-job'), ['backup'], namespace, about), { ready: true });
  t.same([(await client.get({ ...SA, namespace, name: 'autostash-backup-job' })).metadata?.resourceVersion, (await client.get({ ...RB, namespace, name: 'autostash-backup-job' })).metadata?.resourceVersion], versions);
  t.same(await warnings(namespace), []);

  // Restore and maintenance get their own.
  await accounts.ensure(jobAs('autostash-restore-job'), ['restore', 'kubedumpRestore'], namespace, about);
  await accounts.ensure(jobAs('autostash-maintenance-job'), ['maintenance'], namespace, about);
  t.same(await names(RB, namespace), ['autostash-backup-job', 'autostash-maintenance-job', 'autostash-restore-job']);
  t.same((await client.get({ ...RB, namespace, name: 'autostash-maintenance-job' })).roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'autostash-maintenance-job' });
});

t.test("Jobs running as anything but the role's configured account are left alone", async (t) => {
  const { namespace, about } = await freshNamespace();
  for (const account of [undefined, 'users-own', 'autostash-restore-job']) {
    t.same(await accounts.ensure(jobAs(account), ['backup', 'kubedumpBackup'], namespace, about), { ready: true }, `as ${account ?? 'the default account'}`);
  }
  const none = createJobAccounts({ client, recorder, logger, configured: {} });
  t.same(await none.ensure(jobAs('autostash-backup-job'), ['backup'], namespace, about), { ready: true }, 'nothing configured (no flags)');
  t.same((await names(SA, namespace)).filter((name) => name.startsWith('autostash-')), [], 'no account created');
  t.same(await names(RB, namespace), []);
});

t.test("a foreign account of the same name is not touched, not bound, and reported", async (t) => {
  const { namespace, about } = await freshNamespace();
  const foreign = await client.create<KubeObject>({ ...SA, metadata: { name: 'autostash-backup-job', namespace, labels: { team: 'a' } } });
  t.same(await accounts.ensure(jobAs('autostash-backup-job'), ['backup'], namespace, about), { ready: true }, 'the Job may still run as it');
  const after = await client.get({ ...SA, namespace, name: 'autostash-backup-job' });
  t.equal(after.metadata?.resourceVersion, foreign.metadata?.resourceVersion);
  t.same(after.metadata?.labels, { team: 'a' });
  t.same(await names(RB, namespace), []);
  const [warning] = await warnings(namespace);
  t.equal(warning?.reason, 'JobServiceAccountNotManaged');
  t.match(warning?.message, `ServiceAccount ${namespace}/autostash-backup-job exists and is not managed by autostash`);
});

t.test("the install's own account (the chart's labels) is its business: no RoleBinding added", async (t) => {
  const { namespace, about } = await freshNamespace();
  await client.create({ ...SA, metadata: { name: 'autostash-backup-job', namespace, labels: { 'app.kubernetes.io/name': 'autostash', 'app.kubernetes.io/managed-by': 'Helm' } } });
  t.same(await accounts.ensure(jobAs('autostash-backup-job'), ['backup'], namespace, about), { ready: true });
  t.same(await names(RB, namespace), []);
  t.same(await warnings(namespace), []);
});

t.test('a foreign RoleBinding of the same name is not touched and is reported', async (t) => {
  const { namespace, about } = await freshNamespace();
  const foreign = await client.create<KubeObject>({
    ...RB,
    metadata: { name: 'autostash-backup-job', namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'someone', namespace }],
  });
  t.same(await accounts.ensure(jobAs('autostash-backup-job'), ['backup'], namespace, about), { ready: true });
  t.ok(await client.find({ ...SA, namespace, name: 'autostash-backup-job' }), 'the account itself is created');
  const after = await client.get({ ...RB, namespace, name: 'autostash-backup-job' });
  t.equal(after.metadata?.resourceVersion, foreign.metadata?.resourceVersion);
  const [warning] = await warnings(namespace);
  t.equal(warning?.reason, 'JobRoleBindingNotManaged');
  t.match(warning?.message, `RoleBinding ${namespace}/autostash-backup-job`);
});

t.test('kubedump accounts are required, never created', async (t) => {
  const { namespace, about } = await freshNamespace();
  const outcome = await accounts.ensure(jobAs('autostash-kubedump-backup-job'), ['backup', 'kubedumpBackup'], namespace, about);
  t.same(outcome.ready, false);
  if (!outcome.ready) {
    t.equal(outcome.reason, 'JobServiceAccountMissing');
    t.match(outcome.message, `ServiceAccount ${namespace}/autostash-kubedump-backup-job`);
    t.match(outcome.message, 'jobServiceAccounts.namespaces');
    t.match(outcome.message, 'jobTemplate.spec.serviceAccountName');
  }
  t.notOk((await names(SA, namespace)).includes('autostash-kubedump-backup-job'), 'the kubedump account is not created');
  t.same(await names(RB, namespace), []);
  await client.create({ ...SA, metadata: { name: 'autostash-kubedump-backup-job', namespace } });
  t.same(await accounts.ensure(jobAs('autostash-kubedump-backup-job'), ['backup', 'kubedumpBackup'], namespace, about), { ready: true }, 'present (listed namespace, or made by hand): ready');
});

/** The real client, except that the first lookup of each kind lets `racer` create the object right after it answered "missing". */
function racingClient(racer: (ref: ObjectRef) => Promise<void>): KubeClient {
  const raced = new Set<string>();
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'find') return Reflect.get(target, property, receiver) as unknown;
      return async (ref: ObjectRef) => {
        const found = await target.find(ref);
        if (found === undefined && !raced.has(ref.kind)) {
          raced.add(ref.kind);
          await racer(ref);
        }
        return found;
      };
    },
  });
}

t.test('another replica creating the same objects meanwhile (409 AlreadyExists) is fine', async (t) => {
  const { namespace, about } = await freshNamespace();
  const other = createJobAccounts({ client, recorder, logger, configured: CONFIGURED });
  const racer = racingClient(async () => {
    // A second controller ensures the same account in between this one's lookup and its create.
    await other.ensure(jobAs('autostash-backup-job'), ['backup'], namespace, about);
  });
  const racing = createJobAccounts({ client: racer, recorder, logger, configured: CONFIGURED });
  t.same(await racing.ensure(jobAs('autostash-backup-job'), ['backup'], namespace, about), { ready: true });
  t.same(await names(RB, namespace), ['autostash-backup-job']);
  t.same(await warnings(namespace), [], 'the objects the other replica made are recognised as autostash’s');
});

t.test('an API error other than AlreadyExists rejects, so the reconcile retries', async (t) => {
  const { namespace, about } = await freshNamespace();
  const invalid = createJobAccounts({ client, recorder, logger, configured: { backup: 'Not_A_Valid_Name' } });
  await t.rejects(invalid.ensure(jobAs('Not_A_Valid_Name'), ['backup'], namespace, about));
});

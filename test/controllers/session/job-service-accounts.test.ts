// The session planners pick the Job role's ServiceAccount: backup (kubedumpBackup for manifest backups)
// and maintenance for retention; an addon jobTemplate's serviceAccountName still wins.
import t from 'tap';
import { planBackup } from '../../../src/controllers/session/execution-planner.js';
import type { ClusterObjects } from '../../../src/controllers/session/plan.js';
import { planRetention } from '../../../src/controllers/session/retention-plan.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { addons, backupSession, configuration, functions, localStorage } from '../../helpers/execution-fixtures.js';

const accounts = { backup: 'backer', restore: 'restorer', kubedumpBackup: 'dumper', kubedumpRestore: 'undumper', maintenance: 'janitor' };

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { namespace: 'demo', name: 'web', uid: 'web-uid' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web', volumeMounts: [{ name: 'data', mountPath: '/source/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'web-data' } }] } },
  },
};

function objectsFor(session: Record<string, unknown>, extra: Partial<ClusterObjects> = {}): ClusterObjects {
  const config = configuration(session);
  return {
    backupSession: backupSession(),
    configuration: config,
    session: config.spec!.sessions![1]!,
    repositories: [],
    storages: [localStorage('local')],
    addons,
    functions,
    target: deployment,
    pods: [],
    claims: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { namespace: 'demo', name: 'web-data' }, spec: {}, status: { phase: 'Bound' } }],
    nodes: [],
    image: 'autostash:test',
    serviceAccountName: 'fallback',
    serviceAccounts: accounts,
    ...extra,
  };
}

const accountOf = (job: KubeObject | undefined): unknown => (job?.spec as { template: { spec: { serviceAccountName?: string } } } | undefined)?.template.spec.serviceAccountName;

t.test('workload backup Jobs run as the backup account', async (t) => {
  const plan = planBackup(objectsFor({}));
  t.ok(plan.ok, JSON.stringify(plan));
  if (plan.ok) for (const job of plan.jobs) t.equal(accountOf(job), 'backer');
});

t.test('manifest backup Jobs run as the kubedump backup account', async (t) => {
  const plan = planBackup(objectsFor({ addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-backup' }] } }));
  t.ok(plan.ok, JSON.stringify(plan));
  if (plan.ok) {
    t.ok(plan.jobs.length > 0);
    for (const job of plan.jobs) t.equal(accountOf(job), 'dumper');
  }
});

t.test('without a role account the fallback is used', async (t) => {
  const plan = planBackup(objectsFor({}, { serviceAccounts: { restore: 'restorer' } }));
  t.ok(plan.ok);
  if (plan.ok) for (const job of plan.jobs) t.equal(accountOf(job), 'fallback');
});

t.test("the session addon's jobTemplate serviceAccountName wins", async (t) => {
  const addon = { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/source/data' } }], jobTemplate: { spec: { serviceAccountName: 'addon-sa' } } };
  const plan = planBackup(objectsFor({ addon }));
  t.ok(plan.ok, JSON.stringify(plan));
  if (plan.ok) for (const job of plan.jobs) t.equal(accountOf(job), 'addon-sa');
});

t.test('the retention Job runs as the maintenance account', async (t) => {
  const plan = planRetention(objectsFor({}));
  t.ok(plan.ok, JSON.stringify(plan));
  if (plan.ok) t.equal(accountOf(plan.job), 'janitor');
});

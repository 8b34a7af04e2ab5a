/**
 * Targets and the objects a session creates, beyond the common paths of jobs.test.ts: a DaemonSet (a
 * Job per node), a target that does not exist, a Snapshot name already used by another session, and a
 * backup Job that completes without the executor reporting its component.
 */
import t from 'tap';
import type { Snapshot } from '../../../src/api/index.js';
import { eventually } from '../../helpers/control-plane.js';
import { backupSession, conditionOf, configuration, installAddons, NS, realPlanner, REPOSITORY, repository, SNAPSHOT, startHarness, succeededComponent, writeComponent } from '../../helpers/session-harness.js';

const SLEEP = 'sleep 60';

t.test('a DaemonSet: one Job per node, pinned to it; the session succeeds when every node reported', async (t) => {
  const h = await startHarness(t, { readyRepositories: [] });
  await installAddons(h, SLEEP);
  const nodes = await eventually('the embedded node', async () => {
    const list = (await h.client.list({ apiVersion: 'v1', kind: 'Node' })).items;
    return list.length > 0 ? list : undefined;
  });
  await h.client.create({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: NS },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: { containers: [{ name: 'c', image: 'agent', volumeMounts: [{ name: 'logs', mountPath: '/var/log/agent' }] }], volumes: [{ name: 'logs', hostPath: { path: `${h.dataDir}/agent-logs` } }] },
      },
    },
  });
  await h.client.create(repository('agent-repo', { apiGroup: 'apps', kind: 'DaemonSet', name: 'agent' }));
  await h.setStatus(REPOSITORY, 'agent-repo', { phase: 'Ready' });
  await h.client.create(configuration({ name: 'agent-backup', target: { kind: 'DaemonSet', name: 'agent', apiGroup: 'apps' }, repositories: ['agent-repo'], retention: false }));
  await h.start({ planner: realPlanner(), serviceAccountName: 'backup-runner' });
  const name = 'agent-backup-nightly-1700000200';
  await h.client.create(backupSession(name, { configuration: 'agent-backup' }));

  const components = nodes.map((node) => `dump-${node.metadata?.name}`).sort();
  const jobs = await eventually('a Job per node', async () => {
    const list = await h.jobsOf(name);
    return list.length === nodes.length ? list : undefined;
  });
  t.same(jobs.map((job) => job.metadata?.labels?.['autostash.dev/component']).sort(), components);
  for (const job of jobs) {
    const node = job.metadata?.labels?.['autostash.dev/component']?.slice('dump-'.length);
    const pod = (job.spec as { template: { spec: { nodeName?: string; serviceAccountName?: string } } }).template.spec;
    t.equal(pod.nodeName, node, `Job ${job.metadata?.name} runs on its node`);
    t.equal(pod.serviceAccountName, 'backup-runner', 'the controller’s ServiceAccount when the addon names none');
  }
  const snapshotName = `agent-repo-${name}`;
  t.match((await h.snapshot(snapshotName))?.spec?.appRef, { kind: 'DaemonSet', name: 'agent' });
  t.equal((await h.snapshot(snapshotName))?.status?.totalComponents, nodes.length);
  for (const component of components) await writeComponent(h, snapshotName, component, succeededComponent(component, '3 KiB'));
  await h.phase(name, 'Succeeded');
});

t.test('a target that does not exist fails the session at planning, naming spec.target', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, SLEEP);
  await h.client.create(configuration({ target: { kind: 'Deployment', name: 'ghost', apiGroup: 'apps' } }));
  await h.start({ planner: realPlanner() });
  const name = 'web-backup-nightly-1700000201';
  await h.client.create(backupSession(name));
  const failed = await h.phase(name, 'Failed');
  t.match(conditionOf(failed, 'BackupExecutorEnsured'), { status: 'False', reason: 'TargetNotReady', message: /spec\.target.*not found/ });
  t.same(await h.jobsOf(name), []);
  t.same(await h.snapshotsOf(name), []);
  const event = await eventually('BackupFailed', async () => (await h.events(name)).find((e) => e.reason === 'BackupFailed'));
  t.match(event.message, /BackupExecutorEnsured: .*spec\.target/);
});

t.test('a Snapshot name already used by another session fails the session and leaves that Snapshot alone', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, SLEEP);
  await h.client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'web-data', namespace: NS }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } });
  await h.client.create(configuration({ retention: false }));
  const name = 'web-backup-nightly-1700000202';
  const taken = await h.client.create({
    ...SNAPSHOT,
    metadata: { name: `web-repo-${name}`, namespace: NS },
    spec: { repository: 'web-repo', session: 'nightly', backupSession: 'someone-else', version: 'v1', type: 'FullBackup', deletionPolicy: 'Delete' },
  } as Snapshot);
  await h.start({ planner: realPlanner() });
  await h.client.create(backupSession(name));
  const failed = await h.phase(name, 'Failed');
  t.match(conditionOf(failed, 'SnapshotsEnsured'), {
    status: 'False',
    reason: 'SnapshotConflict',
    message: `Snapshot demo/web-repo-${name} exists and belongs to BackupSession someone-else`,
  });
  t.same(await h.jobsOf(name), [], 'no Job writes into a Snapshot of another session');
  t.equal((await h.snapshot(`web-repo-${name}`))?.metadata?.resourceVersion, taken.metadata?.resourceVersion, 'the other Snapshot is untouched');
});

t.test('a backup Job that completes without the executor reporting fails its component', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, 'exit 0');
  await h.client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'web-data', namespace: NS }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } });
  await h.client.create(configuration({ retention: false }));
  await h.start({ planner: realPlanner() });
  const name = 'web-backup-nightly-1700000203';
  await h.client.create(backupSession(name));
  const failed = await h.phase(name, 'Failed', 30_000);
  const snapshot = await h.snapshot(`web-repo-${name}`);
  t.match(snapshot?.status?.components?.dump, {
    phase: 'Failed',
    path: 'repository/v1/nightly/dump',
    error: `Job ${name}-dump completed without the executor reporting component dump`,
  });
  t.match(snapshot?.status, { phase: 'Failed', integrity: false });
  t.match(conditionOf(snapshot, 'BackupIncomplete'), { status: 'True', message: /dump: Job .* completed without the executor reporting/ });
  t.same(failed.status?.snapshots?.map((s) => s.phase), ['Failed']);
  const event = await eventually('BackupFailed', async () => (await h.events(name)).find((e) => e.reason === 'BackupFailed'));
  t.match(event.message, new RegExp(`web-repo-${name}/dump: Job .* completed without`));
});

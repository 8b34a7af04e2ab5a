/**
 * Snapshots and Jobs: what the controller creates for a Deployment, a 3-replica StatefulSet and a
 * standalone PVC, how it follows components (written here, as the executor would), Job failures,
 * retention, timeouts and resolution errors. The Functions run deterministic shell commands instead of
 * the executor, so the test does not depend on it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { eventually } from '../../helpers/control-plane.js';
import { backupSession, conditionOf, configuration, installAddons, NS, realPlanner, repository, REPOSITORY, startHarness, succeededComponent, writeComponent } from '../../helpers/session-harness.js';

const SLEEP = 'sleep 60';

t.test('a Deployment: one Snapshot per repository, one Job, followed to Succeeded', async (t) => {
  const h = await startHarness(t, { readyRepositories: ['web-repo', 'web-repo-2'] });
  await installAddons(h, SLEEP);
  await h.client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'web-data', namespace: NS }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } });
  await h.client.create(configuration({ retention: false, repositories: ['web-repo', 'web-repo-2'] }));
  await h.start({ planner: realPlanner() });
  const name = 'web-backup-nightly-1700000001';
  await h.client.create(backupSession(name));

  const running = await h.phase(name, 'Running');
  t.equal(running.status?.totalSnapshots, 2);
  t.match(running.status?.snapshots, [
    { name: 'web-repo-web-backup-nightly-1700000001', phase: 'Pending', repository: 'web-repo', appRef: { kind: 'Deployment', name: 'web' } },
    { name: 'web-repo-2-web-backup-nightly-1700000001', repository: 'web-repo-2' },
  ]);
  t.match(conditionOf(running, 'SnapshotsEnsured'), { status: 'True' });
  t.match(conditionOf(running, 'BackupExecutorEnsured'), { status: 'True', message: /1 backup Job\(s\) created for component\(s\) dump/ });
  t.ok(running.status?.backupDeadline === undefined, 'no timeout, no deadline');

  const snapshotName = 'web-repo-web-backup-nightly-1700000001';
  const snapshot = await h.snapshot(snapshotName);
  const repo = await h.client.get({ ...REPOSITORY, namespace: NS, name: 'web-repo' });
  t.match(snapshot?.metadata?.labels, {
    'kubestash.com/repo-name': 'web-repo',
    'kubestash.com/app-ref-kind': 'Deployment',
    'kubestash.com/app-ref-name': 'web',
    'kubestash.com/app-ref-namespace': NS,
    'autostash.dev/backup-session': name,
    'app.kubernetes.io/managed-by': 'autostash',
  });
  t.same(snapshot?.metadata?.finalizers, ['kubestash.com/cleanup']);
  t.match(snapshot?.metadata?.ownerReferences, [{ kind: 'Repository', name: 'web-repo', uid: repo.metadata?.uid, controller: true }]);
  t.match(snapshot?.spec, { type: 'FullBackup', repository: 'web-repo', session: 'nightly', backupSession: name, version: 'v1', deletionPolicy: 'Delete', appRef: { kind: 'Deployment', name: 'web' } });
  t.match(snapshot?.spec?.snapshotID, /^[0-9A-HJKMNP-TV-Z]{26}$/, 'a ULID');
  t.match(snapshot?.status, { phase: 'Pending', totalComponents: 1 });

  const jobs = await h.jobsOf(name);
  t.equal(jobs.length, 1, 'one Job for one component');
  t.equal(jobs[0]?.metadata?.name, `${name}-dump`);
  t.match(jobs[0]?.metadata?.labels, { 'autostash.dev/component': 'dump', 'autostash.dev/job-component': 'backup', 'kubestash.com/invoker-name': 'web-backup' });
  t.match(jobs[0]?.metadata?.ownerReferences, [{ kind: 'BackupSession', name, controller: true }]);

  await writeComponent(h, snapshotName, 'dump', succeededComponent('dump', '2 MiB'));
  await eventually('the first snapshot to succeed', async () => (await h.snapshot(snapshotName))?.status?.phase === 'Succeeded');
  t.equal((await h.session(name))?.status?.phase, 'Running', 'one of two snapshots finished: still Running');
  await writeComponent(h, 'web-repo-2-web-backup-nightly-1700000001', 'dump', succeededComponent('dump', '2 MiB'));
  const done = await h.phase(name, 'Succeeded');
  const finished = await h.snapshot(snapshotName);
  t.match(finished?.status, { phase: 'Succeeded', size: '2 MiB', integrity: true, snapshotTime: '2026-01-01T10:00:00Z' });
  t.match(conditionOf(finished, 'BackupIncomplete'), { status: 'False' });
  t.match(conditionOf(done, 'RetentionPolicyExecutorEnsured'), { status: 'True', reason: 'NoRetentionPolicy' });
  t.match(conditionOf(done, 'MetricsPushed'), { status: 'True' });
  t.same(done.status?.snapshots?.map((s) => s.phase), ['Succeeded', 'Succeeded']);
  t.match(done.status?.duration, /^\d+(\.\d+)?s$|^\d+m/);

  const metrics = await h.registry.metrics();
  t.match(metrics, /autostash_backup_sessions_total\{phase="Succeeded"\} 1/);
  t.match(metrics, new RegExp(`autostash_backup_bytes_processed_total\\{namespace="demo",configuration="web-backup",session="nightly"\\} ${4 * 2 ** 20}`));
  t.match(metrics, /autostash_backup_bytes_added_total\{namespace="demo",configuration="web-backup",session="nightly"\} 2048/);
  t.match(metrics, /autostash_backup_last_success_timestamp_seconds\{namespace="demo",configuration="web-backup",session="nightly"\} \d+/);
  t.match(metrics, /autostash_backup_session_duration_seconds_count\{namespace="demo",configuration="web-backup",session="nightly",phase="Succeeded"\} 1/);
  await eventually('BackupSucceeded on the session', async () => (await h.events(name)).some((e) => e.reason === 'BackupSucceeded' && e.type === 'Normal'));

  // Nothing changed: nothing is written again.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = [(await h.session(name))?.metadata?.resourceVersion, (await h.snapshot(snapshotName))?.metadata?.resourceVersion];
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.same([(await h.session(name))?.metadata?.resourceVersion, (await h.snapshot(snapshotName))?.metadata?.resourceVersion], before, 'no writes without news');
});

t.test('a StatefulSet with 3 replicas: a Job per pod; a failed Job fails its component with its message; retention runs after', async (t) => {
  const h = await startHarness(t);
  // dump-pod-1 fails at once; the others wait until the test has written their components (as the executor would before exiting).
  const release = join(h.dataDir, 'release');
  await installAddons(h, `if [ "$1" = dump-pod-1 ]; then echo "disk quota exceeded" >&2; exit 3; fi; until [ -e ${release} ]; do sleep 0.1; done`);
  await h.client.create({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: NS },
    spec: {
      replicas: 3,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'postgres', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  await h.client.delete({ ...REPOSITORY, namespace: NS, name: 'web-repo' });
  await h.client.create({ ...repository('db-repo', { apiGroup: 'apps', kind: 'StatefulSet', name: 'db' }) });
  await h.setStatus(REPOSITORY, 'db-repo', { phase: 'Ready' });
  await h.client.create(configuration({ name: 'db-backup', target: { kind: 'StatefulSet', name: 'db', apiGroup: 'apps' }, repositories: ['db-repo'] }));
  await h.start({ planner: realPlanner('echo "repository locked" >&2; exit 1') });
  const name = 'db-backup-nightly-1700000002';
  await h.client.create(backupSession(name, { configuration: 'db-backup' }));

  const jobs = await eventually('three Jobs', async () => {
    const list = await h.jobsOf(name);
    return list.length === 3 ? list : undefined;
  });
  t.same(jobs.map((j) => j.metadata?.labels?.['autostash.dev/component']).sort(), ['dump-pod-0', 'dump-pod-1', 'dump-pod-2']);
  const snapshotName = 'db-repo-db-backup-nightly-1700000002';
  t.equal((await h.snapshot(snapshotName))?.status?.totalComponents, 3);

  const failedComponent = await eventually('dump-pod-1 to be marked Failed', async () => {
    const component = (await h.snapshot(snapshotName))?.status?.components?.['dump-pod-1'];
    return component?.phase === 'Failed' ? component : undefined;
  }, 30_000);
  t.match(failedComponent.error, /Job db-backup-nightly-1700000002-dump-pod-1 failed: .*disk quota exceeded/s);
  t.equal(failedComponent.path, 'repository/v1/nightly/dump-pod-1');
  t.equal((await h.session(name))?.status?.phase, 'Running');

  await writeComponent(h, snapshotName, 'dump-pod-0', succeededComponent('dump-pod-0', '1 KiB'));
  await writeComponent(h, snapshotName, 'dump-pod-2', succeededComponent('dump-pod-2', '1 KiB'));
  await eventually('the snapshot to fail', async () => (await h.snapshot(snapshotName))?.status?.phase === 'Failed');
  await writeFile(release, '');
  const snapshot = await h.snapshot(snapshotName);
  t.match(conditionOf(snapshot, 'BackupIncomplete'), { status: 'True', message: /dump-pod-1: Job .* failed/ });
  t.equal(snapshot?.status?.integrity, false);

  const retentionJob = await eventually('the retention Job', async () => (await h.jobsOf(name)).find((j) => j.metadata?.labels?.['autostash.dev/job-component'] === 'retention-policy'));
  t.equal(retentionJob.metadata?.name, `retentionpolicy-${name}`);
  const failed = await h.phase(name, 'Failed', 30_000);
  t.match(failed.status?.retentionPolicy, [{ repository: 'db-repo', ref: { name: 'keep', namespace: NS }, phase: 'FailedToApply', error: /retention Job .* failed: .*repository locked/s }]);
  t.match(conditionOf(failed, 'RetentionPolicyExecutorEnsured'), { status: 'True' });
  const events = await eventually('BackupFailed', async () => (await h.events(name)).find((e) => e.reason === 'BackupFailed'));
  t.match(events.message, /dump-pod-1: Job .* failed/);
  t.equal((await h.jobsOf(name)).filter((j) => j.metadata?.labels?.['autostash.dev/job-component'] === 'backup').length, 3, 'never a second Job for a component');
});

t.test('a standalone PVC with pvc-addon; the backup timeout stops the Jobs and fails the session', async (t) => {
  const h = await startHarness(t, { readyRepositories: [] });
  await installAddons(h, SLEEP);
  await h.client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'files', namespace: NS }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
  await h.client.create(repository('files-repo', { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'files' }));
  await h.setStatus(REPOSITORY, 'files-repo', { phase: 'Ready' });
  await h.client.create(configuration({ name: 'files-backup', target: { kind: 'PersistentVolumeClaim', name: 'files' }, repositories: ['files-repo'], backupTimeout: '3s', retention: false }));
  await h.start({ planner: realPlanner() });
  const name = 'files-backup-nightly-1700000003';
  await h.client.create(backupSession(name, { configuration: 'files-backup' }));
  const running = await h.phase(name, 'Running');
  t.ok(running.status?.backupDeadline, 'the deadline is in the status');
  const [job] = await h.jobsOf(name);
  t.equal(job?.metadata?.name, `${name}-dump`);
  const volumes = (job?.spec as { template: { spec: { volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }> } } }).template.spec.volumes;
  t.ok(volumes.some((v) => v.persistentVolumeClaim?.claimName === 'files'), 'the claim is mounted');

  const failed = await h.phase(name, 'Failed', 30_000);
  const snapshot = await h.snapshot(`files-repo-${name}`);
  t.equal(snapshot?.status?.phase, 'Failed');
  t.match(JSON.stringify(snapshot?.status), /backupTimeout exceeded/);
  t.match(conditionOf(snapshot, 'BackupIncomplete'), { status: 'True' });
  t.ok(failed.status?.snapshots?.every((s) => s.phase === 'Failed'));
  await eventually('the running Job to be gone or finished', async () => {
    const current = await h.job(`${name}-dump`);
    return current === undefined || (current.status as { conditions?: unknown[] } | undefined)?.conditions !== undefined;
  });
});

t.test('an unknown addon or task fails the session with the resolver message', async (t) => {
  const h = await startHarness(t);
  await installAddons(h, SLEEP);
  await h.client.create(configuration({ addon: 'nope-addon' }));
  await h.client.create(configuration({ name: 'bad-task', task: 'volume-dance' }));
  await h.start({ planner: realPlanner() });
  await h.client.create(backupSession('web-backup-nightly-1', {}));
  await h.client.create(backupSession('bad-task-nightly-2', { configuration: 'bad-task' }));
  const addon = await h.phase('web-backup-nightly-1', 'Failed');
  t.match(conditionOf(addon, 'BackupExecutorEnsured'), { status: 'False', reason: 'AddonNotFound', message: /Addon nope-addon is not installed; installed Addons: .*workload-addon/ });
  const task = await h.phase('bad-task-nightly-2', 'Failed');
  t.match(conditionOf(task, 'BackupExecutorEnsured'), { status: 'False', reason: 'TaskNotFound', message: /Addon workload-addon has no backup task volume-dance/ });
  t.same(await h.jobsOf('web-backup-nightly-1'), [], 'no Job');
  t.same(await h.snapshotsOf('web-backup-nightly-1'), [], 'no Snapshot');
  const unused: KubeObject | undefined = undefined;
  t.notOk(unused);
});

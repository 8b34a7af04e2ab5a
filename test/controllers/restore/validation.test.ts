/**
 * Step 1 of a restore: `latest` resolution (kept once resolved), and every RestoreSession that names
 * something missing or wrong ends Invalid with a message naming the field — without a Job, a pause or
 * a finalizer.
 */
import t from 'tap';
import { eventually } from '../../helpers/control-plane.js';
import { BC_TYPE, conditionOf, configuration, createSnapshot, NS, restoreSession, snapshot, startHarness } from './harness.js';

t.test('latest is the newest Succeeded Snapshot of the repository, and stays what it was', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-old', { time: '2026-01-01T00:00:00Z' }));
  await createSnapshot(h, snapshot('web-repo-new', { time: '2026-01-02T00:00:00Z' }));
  await createSnapshot(h, snapshot('web-repo-newest-failed', { time: '2026-01-03T00:00:00Z', phase: 'Failed' }));
  await createSnapshot(h, snapshot('other-repo-newest', { time: '2026-01-04T00:00:00Z', repository: 'other-repo' }));
  await h.start();
  await h.client.create(restoreSession('latest-1'));
  const running = await h.phase('latest-1', 'Running');
  t.equal(running.metadata?.annotations?.['autostash.dev/resolved-snapshot'], 'web-repo-new', 'the newest Succeeded Snapshot of web-repo');
  t.equal(running.metadata?.annotations?.['autostash.dev/restore-components'], 'dump');
  t.match(conditionOf(running, 'ValidationPassed'), { status: 'True', message: /restoring Snapshot demo\/web-repo-new \(components dump\) into PersistentVolumeClaim demo\/restored-data/ });
  t.match(conditionOf(running, 'RestoreTargetFound'), { status: 'True' });
  t.equal(running.status?.targetFound, true);
  t.equal(running.status?.totalComponents, 1);
  t.ok(running.metadata?.finalizers?.includes('kubestash.com/cleanup'), 'the finalizer is held while the restore runs');

  // A newer backup does not change which Snapshot this restore restores.
  await createSnapshot(h, snapshot('web-repo-newer', { time: '2026-01-05T00:00:00Z' }));
  const jobs = await eventually('the restore Job', async () => {
    const list = await h.jobsOf('latest-1');
    return list.length === 1 ? list : undefined;
  });
  const args = (jobs[0]?.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]?.args;
  t.ok(args?.includes('--snapshot=web-repo-new'), `the Job restores the resolved Snapshot (${args?.join(' ')})`);
  await h.reportComponent('latest-1', 'dump', { phase: 'Running' });
  await eventually('a reconcile after the newer Snapshot', async () => (await h.restore('latest-1'))?.status?.components?.dump?.phase === 'Running');
  t.equal((await h.restore('latest-1'))?.metadata?.annotations?.['autostash.dev/resolved-snapshot'], 'web-repo-new');
});

t.test('latest without a Succeeded Snapshot fails with a clear message', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-failed', { phase: 'Failed' }));
  await h.start();
  await h.client.create(restoreSession('nothing-1'));
  const failed = await h.phase('nothing-1', 'Failed');
  t.match(conditionOf(failed, 'RestoreExecutorEnsured'), {
    status: 'False',
    reason: 'NoSnapshotToRestore',
    message: 'spec.dataSource.snapshot is latest, but Repository demo/web-repo has no Succeeded Snapshot to restore',
  });
  t.match(conditionOf(failed, 'MetricsPushed'), { status: 'True' });
  t.match(failed.status?.duration, /^\d/);
  t.same(await h.jobsOf('nothing-1'), [], 'no Job');
  t.notOk(failed.metadata?.finalizers?.includes('kubestash.com/cleanup'), 'no finalizer left');
  const events = await eventually('the RestoreFailed event', async () => {
    const list = await h.events('nothing-1');
    return list.some((e) => e.reason === 'RestoreFailed') ? list : undefined;
  });
  t.match(events.find((e) => e.reason === 'RestoreFailed'), { type: 'Warning', message: /no Succeeded Snapshot/ });
  t.match(await h.registry.getSingleMetricAsString('autostash_restore_sessions_total'), /autostash_restore_sessions_total\{phase="Failed"\} 1/);
});

t.test('what a RestoreSession names must exist: Invalid with the field, nothing paused or run', async (t) => {
  const h = await startHarness(t);
  await createSnapshot(h, snapshot('web-repo-1', { components: ['dump-pod-0', 'dump-pod-1'] }));
  await createSnapshot(h, snapshot('web-repo-running', { phase: 'Running' }));
  await createSnapshot(h, snapshot('other-repo-1', { repository: 'other-repo' }));
  await h.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'no-password', namespace: NS }, stringData: { OTHER: 'x' } });
  await h.client.create(configuration('restored-backup', { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'restored-data', namespace: NS }));
  await h.start();

  const cases: Array<{ name: string; rs: ReturnType<typeof restoreSession>; field: string; message: RegExp }> = [
    { name: 'no-repo', rs: restoreSession('no-repo', { repository: 'nope' }), field: 'spec.dataSource.repository', message: /^Repository demo\/nope \(spec.dataSource.repository\) not found$/ },
    { name: 'no-snapshot', rs: restoreSession('no-snapshot', { snapshot: 'web-repo-404' }), field: 'spec.dataSource.snapshot', message: /Snapshot demo\/web-repo-404 \(spec.dataSource.snapshot\) not found/ },
    { name: 'foreign-snapshot', rs: restoreSession('foreign-snapshot', { snapshot: 'other-repo-1' }), field: 'spec.dataSource.snapshot', message: /belongs to Repository other-repo, not web-repo/ },
    { name: 'unfinished-snapshot', rs: restoreSession('unfinished-snapshot', { snapshot: 'web-repo-running' }), field: 'spec.dataSource.snapshot', message: /is Running, not Succeeded/ },
    {
      name: 'unknown-component',
      rs: restoreSession('unknown-component', { snapshot: 'web-repo-1', components: ['dump-pod-0', 'dump-pod-7'] }),
      field: 'spec.dataSource.components',
      message: /names dump-pod-7, which Snapshot demo\/web-repo-1 does not have; its components: dump-pod-0, dump-pod-1/,
    },
    { name: 'no-secret', rs: restoreSession('no-secret', { snapshot: 'web-repo-1', encryptionSecret: { name: 'gone' } }), field: 'spec.dataSource.encryptionSecret', message: /encryption Secret demo\/gone \(spec.dataSource.encryptionSecret\) not found/ },
    { name: 'no-key', rs: restoreSession('no-key', { snapshot: 'web-repo-1', encryptionSecret: { name: 'no-password' } }), field: 'spec.dataSource.encryptionSecret', message: /has no key RESTIC_PASSWORD/ },
    { name: 'no-addon', rs: restoreSession('no-addon', { snapshot: 'web-repo-1', addon: 'mystery-addon' }), field: 'spec.addon.name', message: /^spec.addon.name: Addon mystery-addon is not installed/ },
    { name: 'no-task', rs: restoreSession('no-task', { snapshot: 'web-repo-1', task: 'volume-clone' }), field: 'spec.addon.tasks[0].name', message: /Addon pvc-addon has no restore task volume-clone; its restore tasks: logical-backup-restore/ },
    { name: 'two-tasks', rs: restoreSession('two-tasks', { snapshot: 'web-repo-1', tasks: [{ name: 'logical-backup-restore' }, { name: 'logical-backup-restore' }] }), field: 'spec.addon.tasks', message: /one restore task per RestoreSession/ },
    {
      name: 'no-target',
      rs: restoreSession('no-target', { snapshot: 'web-repo-1', target: { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'not-yet', namespace: NS } }),
      field: 'spec.target',
      message: /PersistentVolumeClaim demo\/not-yet \(spec.target\) not found: create the target/,
    },
    { name: 'bad-timeout', rs: restoreSession('bad-timeout', { snapshot: 'web-repo-1', timeout: 'soon' }), field: 'spec.restoreTimeout', message: /spec.restoreTimeout: time: invalid syntax in duration "soon"/ },
    { name: 'no-snapshot-field', rs: restoreSession('no-snapshot-field', { snapshot: '' }), field: 'spec.dataSource.snapshot', message: /spec.dataSource.snapshot is required/ },
  ];
  for (const c of cases) await h.client.create(c.rs);
  for (const c of cases) {
    const invalid = await h.phase(c.name, 'Invalid');
    const condition = conditionOf(invalid, 'ValidationPassed');
    t.equal(condition?.status, 'False', `${c.name}: ValidationPassed False`);
    t.match(condition?.message, c.message, `${c.name}: the message names ${c.field}`);
    t.ok(condition?.message?.includes(c.field), `${c.name}: names the field ${c.field}`);
    t.match(conditionOf(invalid, 'MetricsPushed'), { status: 'True' }, `${c.name}: final`);
    t.notOk(invalid.metadata?.finalizers?.includes('kubestash.com/cleanup'), `${c.name}: no finalizer`);
    t.same(await h.jobsOf(c.name), [], `${c.name}: no Job`);
  }
  const bc = await h.client.get({ ...BC_TYPE, namespace: NS, name: 'restored-backup' });
  t.notOk((bc.spec as { paused?: boolean }).paused, 'an invalid restore pauses nothing');
  t.match(await h.registry.getSingleMetricAsString('autostash_restore_sessions_total'), new RegExp(`phase="Invalid"\\} ${cases.length}`));
  const events = await eventually('a RestoreFailed event on an invalid restore', async () => {
    const list = await h.events('no-repo');
    return list.some((e) => e.reason === 'RestoreFailed') ? list : undefined;
  });
  t.match(events.find((e) => e.reason === 'RestoreFailed'), { type: 'Warning', message: /is invalid .*Repository demo\/nope/ });
});

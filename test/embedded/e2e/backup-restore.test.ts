/**
 * The whole story on the embedded control plane with the real executor and real restic: storage,
 * retention, encryption secret, blueprint, annotated workloads with data -> trigger -> Snapshot
 * Succeeded -> restore into new volumes -> byte-identical (sha256, modes, symlinks).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { builtCliMissing } from '../../helpers/control-plane.js';
import { eventually } from '../../helpers/eventually.js';
import { describeTree, writeSampleTree } from '../../helpers/file-tree.js';
import {
  annotationsFor,
  blueprint,
  claim,
  commonObjects,
  deployment,
  LONG,
  onlyConfigurationFor,
  resticMissing,
  restoreSession,
  startHarness,
  statefulSet,
  triggerAndWait,
  waitPhase,
  type Phased,
} from '../../helpers/story-harness.js';

t.test('the whole story on the embedded control plane with restic', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) {
    t.comment(missing);
    return;
  }
  const h = await startHarness(t);
  const ns = 'story';
  await h.apply(commonObjects(ns, h.backendDir));
  await h.apply([
    blueprint(ns, 'workload-backup', { name: 'workload-addon', task: 'logical-backup', params: { paths: '${paths}' } }),
    blueprint(ns, 'pvc-backup', { name: 'pvc-addon', task: 'logical-backup' }),
  ]);
  await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'BackupStorage', ns, 'local-storage', ['Ready']);

  t.test('Deployment with a PVC -> restore into a new PVC, byte-identical', async (t) => {
    await h.apply([claim(ns, 'web-data'), deployment(ns, 'web', 'web-data', annotationsFor('workload-backup', ns, 'web', { 'variables.kubestash.com/paths': '/data' }))]);
    const source = await h.claimDir(ns, 'web-data');
    await writeSampleTree(source);
    const expected = await describeTree(source);
    await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'web-repo', ['Ready']);
    const configuration = await onlyConfigurationFor(h, ns, 'Deployment', 'web');

    const { session, snapshots } = await triggerAndWait(t, h, ns, configuration);
    t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
    t.equal(snapshots.length, 1);
    t.equal(snapshots[0]?.status?.phase, 'Succeeded');
    const component = (snapshots[0]?.status as { components?: Record<string, { phase?: string; resticStats?: Array<{ summary?: { id?: string; hostPath?: string } }> }> }).components?.dump;
    t.equal(component?.phase, 'Succeeded');
    t.ok(component?.resticStats?.[0]?.summary?.id, 'the restic snapshot id is recorded');
    t.equal(component?.resticStats?.[0]?.summary?.hostPath, '/data');
    const repository = await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'web-repo', ['Ready']);
    t.ok(await eventually('the Repository counts the snapshot', async () => ((await h.get<Phased & { status?: { snapshotCount?: number } }>('storage.kubestash.com/v1alpha1', 'Repository', ns, 'web-repo'))?.status?.snapshotCount ?? 0) >= 1, LONG));
    t.ok(repository);

    await h.apply([claim(ns, 'web-restored')]);
    const restoredDir = await h.claimDir(ns, 'web-restored');
    await h.apply([restoreSession(ns, 'restore-web', 'web-repo', { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'web-restored' }, 'pvc-addon')]);
    const restore = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'RestoreSession', ns, 'restore-web', ['Succeeded', 'Failed', 'Invalid']);
    t.equal(restore.status?.phase, 'Succeeded', JSON.stringify(restore.status));
    t.same(await describeTree(restoredDir), expected, 'every file, mode and symlink is back');
  });

  t.test('StatefulSet with 3 replicas -> one component per replica -> restore into a new StatefulSet', async (t) => {
    await h.apply([statefulSet(ns, 'db', 3, annotationsFor('workload-backup', ns, 'db', { 'variables.kubestash.com/paths': '/var/lib/db' }))]);
    const expected: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3; i++) {
      const dir = await h.claimDir(ns, `data-db-${i}`);
      await writeSampleTree(dir, { largeBytes: (i + 1) * 1024 * 1024 });
      await writeFile(join(dir, 'replica.txt'), `replica ${i}\n`);
      expected.push(await describeTree(dir));
    }
    await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'db-repo', ['Ready']);
    const configuration = await onlyConfigurationFor(h, ns, 'StatefulSet', 'db');
    const { session, snapshots } = await triggerAndWait(t, h, ns, configuration);
    t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
    const components = (snapshots[0]?.status as { components?: Record<string, { phase?: string }> } | undefined)?.components ?? {};
    t.same(Object.keys(components).sort(), ['dump-pod-0', 'dump-pod-1', 'dump-pod-2']);
    t.ok(Object.values(components).every((c) => c.phase === 'Succeeded'));

    await h.apply([statefulSet(ns, 'db-copy', 3)]);
    const dirs: string[] = [];
    for (let i = 0; i < 3; i++) dirs.push(await h.claimDir(ns, `data-db-copy-${i}`));
    await h.apply([restoreSession(ns, 'restore-db', 'db-repo', { apiGroup: 'apps', kind: 'StatefulSet', name: 'db-copy' }, 'workload-addon')]);
    const restore = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'RestoreSession', ns, 'restore-db', ['Succeeded', 'Failed', 'Invalid']);
    t.equal(restore.status?.phase, 'Succeeded', JSON.stringify(restore.status));
    for (let i = 0; i < 3; i++) t.same(await describeTree(dirs[i] ?? ''), expected[i], `replica ${i} restored into its own claim`);
  });

  t.test('standalone PVC (pvc-addon) -> restore into a new PVC', async (t) => {
    await h.apply([claim(ns, 'files', annotationsFor('pvc-backup', ns, 'files'))]);
    const source = await h.claimDir(ns, 'files');
    await writeSampleTree(source, { largeBytes: 2 * 1024 * 1024 });
    const expected = await describeTree(source);
    await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', ns, 'files-repo', ['Ready']);
    const configuration = await onlyConfigurationFor(h, ns, 'PersistentVolumeClaim', 'files');
    const { session } = await triggerAndWait(t, h, ns, configuration);
    t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
    await h.apply([claim(ns, 'files-restored')]);
    const restoredDir = await h.claimDir(ns, 'files-restored');
    await h.apply([restoreSession(ns, 'restore-files', 'files-repo', { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'files-restored' }, 'pvc-addon')]);
    const restore = await waitPhase(h, 'core.kubestash.com/v1alpha1', 'RestoreSession', ns, 'restore-files', ['Succeeded', 'Failed', 'Invalid']);
    t.equal(restore.status?.phase, 'Succeeded', JSON.stringify(restore.status));
    t.same(await describeTree(restoredDir), expected);
  });
});

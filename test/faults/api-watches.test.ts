/**
 * Fault: the API server drops every watch, and later restarts its HTTPS listener on the same port, while
 * autostash's informers are connected. Objects written while the watches were gone (an annotated PVC, a
 * BackupSession) must still be reconciled: the informers re-list and resync, the auto-backup
 * configuration appears and the session runs a backup that restic checks and restores byte-identical.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { builtCliMissing } from '../helpers/control-plane.js';
import { describeTree } from '../helpers/file-tree.js';
import { CORE, createAll, dataVerified, retryShed, restic, resticIdsOf, restoredTree, snapshotsOfSession, STORAGE, waitFor, writeRandomFiles } from '../helpers/faults.js';
import { annotationsFor, blueprint, claim, commonObjects, onlyConfigurationFor, resticMissing, startHarness, type Harness } from '../helpers/story-harness.js';

const ns = 'fault-watch';
/** commonObjects' encryption password. */
const PASSWORD = 'correct horse battery staple';
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const SESSIONS = { group: 'core.kubestash.com', version: 'v1alpha1', resource: 'backupsessions' };

const session = (name: string, configuration: string) => ({
  apiVersion: CORE,
  kind: 'BackupSession',
  metadata: { name, namespace: ns },
  spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: configuration }, session: 'nightly' },
});

/** Waits for session `name` to succeed, then proves its data: restic check and a byte-identical restore of `source`. */
async function backupVerified(t: Test, h: Harness, name: string, target: string, source: string): Promise<void> {
  const finished = await waitFor(h.client, CORE, 'BackupSession', ns, name, ['Succeeded', 'Failed', 'Skipped']);
  t.equal(finished.status?.phase, 'Succeeded', `${name} succeeds: ${JSON.stringify(finished.status)}`);
  const [snapshot] = await snapshotsOfSession(h.client, ns, finished);
  const [id] = resticIdsOf(snapshot);
  const repository = join(h.backendDir, ns, target, 'repository', 'v1', 'nightly', 'dump');
  await t.resolves(restic(repository, ['check'], PASSWORD), `restic check of ${target}`);
  t.same(await restoredTree(repository, id ?? '', PASSWORD), await describeTree(source), `${name} restores byte-identical`);
}

// Minutes of Jobs and restic on a machine shared with other work; the default 180 s file timeout is tight.
t.setTimeout(400_000);

t.test('the API server drops every watch, then restarts its listener', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const h = await startHarness(t);
  const plane = h.server.controlPlane!;
  await createAll(h.client, commonObjects(ns, h.backendDir));
  await createAll(h.client, [blueprint(ns, 'pvc-backup', { name: 'pvc-addon', task: 'logical-backup' })]);
  await waitFor(h.client, STORAGE, 'BackupStorage', ns, 'local-storage', ['Ready']);

  // 1. Every watch stream ends; the annotated PVC is created before the informers have watched again.
  plane.server.endWatches();
  await createAll(h.client, [claim(ns, 'first', annotationsFor('pvc-backup', ns, 'first'))]);
  const firstSource = await h.claimDir(ns, 'first');
  await writeRandomFiles(firstSource, 3, 256 * 1024);
  const firstConfiguration = await onlyConfigurationFor(h, ns, 'PersistentVolumeClaim', 'first');
  await waitFor(h.client, STORAGE, 'Repository', ns, 'first-repo', ['Ready']);
  plane.server.endWatches();
  await createAll(h.client, [session('first-after-drop', firstConfiguration)]);
  await backupVerified(t, h, 'first-after-drop', 'first', firstSource);

  // 2. The listener goes away and comes back on the same port; in between, objects are written straight into
  // the store, where no watch of autostash's can see them.
  await plane.restartApiServer(async () => {
    await retryShed(() => plane.api.create(PVCS, ns, claim(ns, 'second', annotationsFor('pvc-backup', ns, 'second'))));
    await retryShed(() => plane.api.create(SESSIONS, ns, session('first-while-down', firstConfiguration)));
  });
  await backupVerified(t, h, 'first-while-down', 'first', firstSource);
  const secondSource = await h.claimDir(ns, 'second');
  await writeRandomFiles(secondSource, 2, 256 * 1024);
  const secondConfiguration = await onlyConfigurationFor(h, ns, 'PersistentVolumeClaim', 'second');
  await waitFor(h.client, STORAGE, 'Repository', ns, 'second-repo', ['Ready']);
  await createAll(h.client, [session('second-after-restart', secondConfiguration)]);
  await backupVerified(t, h, 'second-after-restart', 'second', secondSource);

  const configurations = await h.client.list({ apiVersion: CORE, kind: 'BackupConfiguration' }, { namespace: ns });
  t.equal(configurations.items.length, 2, 'exactly one BackupConfiguration per annotated PVC');
  dataVerified(t, 'API server drops every watch / restarts its listener', 'objects written while unwatched reconciled; restic check ok; 3 restores byte-identical');
});

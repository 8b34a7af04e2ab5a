/**
 * Faults of the autostash process itself, run as a child `autostash serve --no-embedded` against an embedded
 * test plane (whose Jobs keep running in this process while autostash is gone):
 *   - the webhook and controllers are down (SIGKILL): with the workload webhook's failurePolicy Ignore an
 *     annotated PVC is still admitted; once autostash is back it converges (the BackupConfiguration appears)
 *     and a backup of it succeeds and restores byte-identical;
 *   - the controller is killed while a BackupSession is Running: its Job finishes meanwhile; after the restart
 *     the session is picked up and finished (not left Running, no second Job or Snapshot, no second session),
 *     and the next backup succeeds; restic checks clean and restores byte-identical.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { ensureNamespace, installWebhookConfigurations } from '../../src/embedded/install-autostash.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { builtCliMissing, builtCliPath, startTestControlPlane } from '../helpers/control-plane.js';
import { eventually } from '../helpers/eventually.js';
import { describeTree } from '../helpers/file-tree.js';
import {
  childController,
  CORE,
  createAll,
  createSession,
  dataVerified,
  freePort,
  LONG,
  pvcScenario,
  restic,
  resticIdsOf,
  resticRepository,
  restoredTree,
  snapshotsOfSession,
  STORAGE,
  waitFor,
  writeRandomFiles,
  type ChildController,
} from '../helpers/faults.js';
import { annotationsFor, blueprint, claim, commonObjects, resticMissing } from '../helpers/story-harness.js';

const ns = 'fault-controller';
/** commonObjects' encryption password. */
const STORY_PASSWORD = 'correct horse battery staple';

async function claimDir(client: KubeClient, name: string): Promise<string> {
  return eventually(`claim ${name} bound`, async () => {
    const pvc = await client.find({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name });
    const volumeName = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName;
    if (!volumeName) return undefined;
    const pv = await client.find({ apiVersion: 'v1', kind: 'PersistentVolume', name: volumeName });
    return (pv?.spec as { hostPath?: { path?: string } } | undefined)?.hostPath?.path || undefined;
  }, LONG);
}

async function configurationFor(client: KubeClient, target: string): Promise<string> {
  return eventually(`the BackupConfiguration generated for PVC ${target}`, async () => {
    const list = await client.list<KubeObject & { spec?: { target?: { kind?: string; name?: string } } }>({ apiVersion: CORE, kind: 'BackupConfiguration' }, { namespace: ns });
    return list.items.find((bc) => bc.spec?.target?.kind === 'PersistentVolumeClaim' && bc.spec.target.name === target)?.metadata?.name;
  }, LONG);
}

async function succeedsAndRestores(t: Test, client: KubeClient, session: string, repository: string, source: string, password?: string): Promise<void> {
  const finished = await waitFor(client, CORE, 'BackupSession', ns, session, ['Succeeded', 'Failed', 'Skipped']);
  t.equal(finished.status?.phase, 'Succeeded', `${session} succeeds: ${JSON.stringify(finished.status)}`);
  const [snapshot] = await snapshotsOfSession(client, ns, finished);
  await t.resolves(restic(repository, ['check'], password), 'restic check passes');
  t.same(await restoredTree(repository, resticIdsOf(snapshot)[0] ?? '', password), await describeTree(source), `${session} restores byte-identical`);
}

t.setTimeout(400_000);

t.test('autostash itself goes down', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const { plane, kubeConfig, dataDir } = await startTestControlPlane(t, { jobBackoffBaseMs: 50 });
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  await ensureNamespace(plane.api, 'autostash');
  const autostash: ChildController = childController(t, { cliPath: builtCliPath, kubeconfig: plane.kubeconfigPath, dir: join(dataDir, 'autostash'), port: await freePort(), args: ['--no-initial-backup'] });
  await autostash.start();
  const caBundle = Buffer.from(await readFile(join(autostash.certDir, 'ca.crt'))).toString('base64');
  await installWebhookConfigurations(plane.api, `https://127.0.0.1:${autostash.port}`, caBundle);
  const backendDir = join(dataDir, 'backend');
  await mkdir(backendDir, { recursive: true });
  await createAll(client, commonObjects(ns, backendDir));
  await createAll(client, [blueprint(ns, 'pvc-backup', { name: 'pvc-addon', task: 'logical-backup' })]);
  await waitFor(client, STORAGE, 'BackupStorage', ns, 'local-storage', ['Ready']);

  await t.test('webhook and controllers down, failurePolicy Ignore: the annotated PVC is admitted; autostash converges when back', async (t) => {
    await autostash.kill();
    await client.create(claim(ns, 'late', annotationsFor('pvc-backup', ns, 'late')));
    t.ok(await client.find({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: ns, name: 'late' }), 'the annotated PVC was admitted while the webhook was down');
    const source = await claimDir(client, 'late');
    await writeRandomFiles(source, 3, 256 * 1024);
    const none = await client.list({ apiVersion: CORE, kind: 'BackupConfiguration' }, { namespace: ns });
    t.equal(none.items.length, 0, 'no BackupConfiguration while autostash is down');

    await autostash.start();
    const configuration = await configurationFor(client, 'late');
    await waitFor(client, STORAGE, 'Repository', ns, 'late-repo', ['Ready']);
    const sessions = await client.list({ apiVersion: CORE, kind: 'BackupSession' }, { namespace: ns });
    t.equal(sessions.items.length, 0, '--no-initial-backup: no session yet');
    await createAll(client, [
      { apiVersion: CORE, kind: 'BackupSession', metadata: { name: 'late-first', namespace: ns }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: configuration }, session: 'nightly' } },
    ]);
    await succeedsAndRestores(t, client, 'late-first', join(backendDir, ns, 'late', 'repository', 'v1', 'nightly', 'dump'), source, STORY_PASSWORD);
    dataVerified(t, 'webhook down (failurePolicy Ignore), then back', 'workload admitted while down; BackupConfiguration generated after return; restic check ok; restore byte-identical');
  });

  await t.test('the controller is killed while a BackupSession runs; after the restart the session is finished, once', async (t) => {
    const name = 'mid';
    const hostDir = join(backendDir, name);
    await mkdir(hostDir, { recursive: true });
    await createAll(client, pvcScenario(ns, name, hostDir));
    const source = await claimDir(client, `${name}-data`);
    // Enough that the Job is still running when autostash is killed right after it started.
    await writeRandomFiles(source, 4, 16 * 1024 * 1024);
    await waitFor(client, STORAGE, 'Repository', ns, `${name}-repo`, ['Ready']);
    const repository = resticRepository(hostDir, name);

    await createSession(client, ns, `${name}-backup`, 'mid-1');
    await waitFor(client, CORE, 'BackupSession', ns, 'mid-1', ['Running']);
    await eventually('the backup Job running', () => plane.controllers.runningJobProcesses().some((p) => p.namespace === ns && p.job.startsWith('mid-1-')), LONG);
    await autostash.kill();
    t.comment('autostash killed while mid-1 was Running');
    const jobs = async () => (await client.list({ apiVersion: 'batch/v1', kind: 'Job' }, { namespace: ns, labelSelector: 'autostash.dev/backup-session=mid-1' })).items;
    await eventually('the backup Job finished while autostash is down', async () => {
      const conditions = (await jobs()).flatMap((job) => (job.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []);
      return conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    }, LONG);
    t.equal((await waitFor(client, CORE, 'BackupSession', ns, 'mid-1', ['Running'])).status?.phase, 'Running', 'nobody finished the session while autostash was down');

    await autostash.start();
    await succeedsAndRestores(t, client, 'mid-1', repository, source);
    const backupJobs = (await jobs()).filter((job) => job.metadata?.labels?.['autostash.dev/job-component'] === 'backup');
    t.equal(backupJobs.length, 1, 'one backup Job for the session (not started again)');
    const snapshots = await client.list({ apiVersion: STORAGE, kind: 'Snapshot' }, { namespace: ns, labelSelector: 'autostash.dev/backup-session=mid-1' });
    t.equal(snapshots.items.length, 1, 'one Snapshot for the session');
    const sessions = await client.list<KubeObject & { spec?: { invoker?: { name?: string } } }>({ apiVersion: CORE, kind: 'BackupSession' }, { namespace: ns });
    t.same(sessions.items.filter((s) => s.spec?.invoker?.name === `${name}-backup`).map((s) => s.metadata?.name), ['mid-1'], 'no second session was created for it');

    await createSession(client, ns, `${name}-backup`, 'mid-2');
    await succeedsAndRestores(t, client, 'mid-2', repository, source);
    await t.resolves(restic(repository, ['check', '--read-data']), 'restic check --read-data passes at the end');
    dataVerified(t, 'controller killed mid-session, restarted', 'session finished once after restart (1 Job, 1 Snapshot, no duplicate session); next backup ok; restic check --read-data ok; restores byte-identical');
  });
});

/**
 * Concurrency on the embedded plane with the real controllers and restic:
 *   - 50 parallel creates and 50 parallel updates of one annotated Deployment: exactly one generated
 *     BackupConfiguration, whose content follows the last update;
 *   - 20 BackupSessions of one BackupConfiguration created at once (concurrencyPolicy Forbid, the default):
 *     no two of them back up at the same time (the others are Skipped, naming the running one), restic
 *     checks clean, and every Succeeded Snapshot's restic snapshot exists and restores byte-identical.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { builtCliMissing } from '../helpers/control-plane.js';
import { eventually } from '../helpers/eventually.js';
import { describeTree } from '../helpers/file-tree.js';
import {
  CORE,
  createAll,
  dataVerified,
  LONG,
  pvcScenario,
  restic,
  resticIdsOf,
  resticRepository,
  resticSnapshots,
  restoredTree,
  retryShed,
  snapshotsOfSession,
  STORAGE,
  waitFor,
  writeRandomFiles,
  type Phased,
} from '../helpers/faults.js';
import { annotationsFor, blueprint, claim, commonObjects, deployment, resticMissing, startHarness } from '../helpers/story-harness.js';

const ns = 'fault-concurrency';

type Configuration = KubeObject & {
  spec?: { target?: { kind?: string; name?: string }; sessions?: Array<{ addon?: { tasks?: Array<{ params?: Record<string, string> }> }; repositories?: Array<{ name?: string }> }> };
};

t.setTimeout(400_000);

t.test('concurrency', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const h = await startHarness(t);
  await createAll(h.client, commonObjects(ns, h.backendDir));
  await createAll(h.client, [blueprint(ns, 'workload-backup', { name: 'workload-addon', task: 'logical-backup', params: { paths: '${paths}' } })]);

  await t.test('50 parallel creates and 50 parallel updates of one annotated workload -> exactly one BackupConfiguration', async (t) => {
    await createAll(h.client, [claim(ns, 'busy-data')]);
    const workload = deployment(ns, 'busy', 'busy-data', annotationsFor('workload-backup', ns, 'busy', { 'variables.kubestash.com/paths': '/data' }));
    const creates = await Promise.allSettled(Array.from({ length: 50 }, () => retryShed(() => h.client.create(workload))));
    t.equal(creates.filter((r) => r.status === 'fulfilled').length, 1, 'one create wins');
    for (const r of creates) if (r.status === 'rejected') t.match((r.reason as Error).message, /already exists/i);

    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'busy' };
    // Each writer retries a 409 as kubectl and controllers do: the embedded API retries a patch a few times
    // itself when other writes land during its admission, then answers 409 (kube-apiserver also bounds this).
    let conflicts = 0;
    const patchRetrying = async (patch: Record<string, unknown>): Promise<void> => {
      for (;;) {
        try {
          await retryShed(() => h.client.patch(ref, { type: 'merge', patch }));
          return;
        } catch (error) {
          if ((error as { code?: number }).code !== 409) throw error;
          conflicts++;
        }
      }
    };
    const updates = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => patchRetrying({ metadata: { labels: { revision: String(i) }, annotations: { 'variables.kubestash.com/paths': `/data/v${i}` } } })),
    );
    t.equal(updates.filter((r) => r.status === 'rejected').length, 0, `every update is admitted: ${updates.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason).join('; ')}`);
    t.comment(`409 conflicts answered to the 50 parallel patches (each retried): ${conflicts}`);
    await retryShed(() => h.client.patch(ref, { type: 'merge', patch: { metadata: { annotations: { 'variables.kubestash.com/paths': '/data/final' } } } }));

    const list = async () => (await h.client.list<Configuration>({ apiVersion: CORE, kind: 'BackupConfiguration' }, { namespace: ns })).items.filter((bc) => bc.spec?.target?.name === 'busy');
    const converged = await eventually('the generated configuration follows the last update', async () => {
      const items = await list();
      return items.length === 1 && items[0]?.spec?.sessions?.[0]?.addon?.tasks?.[0]?.params?.paths === '/data/final' ? items[0] : undefined;
    }, LONG);
    t.equal(converged.spec?.target?.kind, 'Deployment');
    t.equal(converged.spec?.sessions?.[0]?.repositories?.[0]?.name, 'busy-repo', 'the blueprint variables are expanded for the workload');
    // Stays one: nothing still queued creates a second.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    t.equal((await list()).length, 1, 'still exactly one BackupConfiguration');
    dataVerified(t, '50 parallel creates + 50 updates of one workload', 'exactly one BackupConfiguration, content from the last update');
  });

  await t.test('20 BackupSessions of one configuration at once, concurrencyPolicy Forbid', async (t) => {
    const name = 'crowd';
    const hostDir = join(h.backendDir, name);
    await mkdir(hostDir, { recursive: true });
    await createAll(h.client, pvcScenario(ns, name, hostDir));
    const source = await h.claimDir(ns, `${name}-data`);
    await writeRandomFiles(source, 4, 4 * 1024 * 1024);
    await waitFor(h.client, STORAGE, 'Repository', ns, `${name}-repo`, ['Ready']);
    const names = Array.from({ length: 20 }, (_, i) => `crowd-${String.fromCharCode(122 - i)}${i}`);
    await Promise.all(
      names.map((session) =>
        createAll(h.client, [{ apiVersion: CORE, kind: 'BackupSession', metadata: { name: session, namespace: ns }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: `${name}-backup` }, session: 'manual' } }]),
      ),
    );
    const finished: Phased[] = [];
    for (const session of names) finished.push(await waitFor(h.client, CORE, 'BackupSession', ns, session, ['Succeeded', 'Failed', 'Skipped']));
    const byPhase = (phase: string) => finished.filter((s) => s.status?.phase === phase);
    t.comment(`phases: ${finished.map((s) => `${s.metadata?.name}=${s.status?.phase}`).join(' ')}`);
    t.equal(byPhase('Failed').length, 0, 'none failed');
    t.ok(byPhase('Succeeded').length >= 1, 'at least one ran');
    for (const skipped of byPhase('Skipped')) {
      const message = skipped.status?.conditions?.find((c) => c.type === 'BackupSkipped')?.message ?? '';
      t.match(message, /concurrencyPolicy Forbid/, `${skipped.metadata?.name} names the policy: ${message}`);
    }

    // No two backup Jobs of these sessions ran at the same time (Job start/completion from their status).
    const jobs = (await h.client.list({ apiVersion: 'batch/v1', kind: 'Job' }, { namespace: ns, labelSelector: 'autostash.dev/job-component=backup' })).items.filter((job) =>
      names.includes(job.metadata?.labels?.['autostash.dev/backup-session'] ?? ''),
    );
    t.equal(jobs.length, byPhase('Succeeded').length, 'one backup Job per session that ran, none for a skipped one');
    const spans = jobs
      .map((job) => job.status as { startTime?: string; completionTime?: string })
      .map((s) => [Date.parse(s.startTime ?? ''), Date.parse(s.completionTime ?? '')] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) t.ok(spans[i]![0] >= spans[i - 1]![1], `backup ${i + 1} started after backup ${i} completed`);

    const repository = resticRepository(hostDir, name);
    await t.resolves(restic(repository, ['check', '--read-data']), 'restic check --read-data passes');
    const inRestic = (await resticSnapshots(repository)).map((s) => s.short_id);
    const recorded = (await Promise.all(byPhase('Succeeded').map((s) => snapshotsOfSession(h.client, ns, s)))).flat();
    t.ok(recorded.every((snapshot) => snapshot.status?.phase === 'Succeeded'), 'every Snapshot of a Succeeded session is Succeeded');
    const ids = recorded.flatMap((snapshot) => resticIdsOf(snapshot));
    t.same([...ids].sort(), [...inRestic].sort(), 'restic holds exactly the snapshots the Snapshot objects record');
    const expected = await describeTree(source);
    for (const id of ids) t.same(await restoredTree(repository, id), expected, `restic snapshot ${id} restores byte-identical`);
    dataVerified(t, '20 BackupSessions at once (Forbid)', `${byPhase('Succeeded').length} ran without overlap, ${byPhase('Skipped').length} Skipped; restic check --read-data ok; every snapshot restores byte-identical`);
  });
});

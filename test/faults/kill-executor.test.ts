/**
 * Fault: the backup executor is killed with SIGKILL in the middle of a restic backup (as the OOM killer
 * or a node loss would). The session must end Failed saying the Job was killed, the restic repository
 * must still pass `restic check`, the lock the dead restic left behind must not block the next run
 * (the retention Job and the next backup clear it through the executor's stale-lock rule), and the next
 * backup must succeed and restore byte-identical.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { builtCliMissing } from '../helpers/control-plane.js';
import { eventually } from '../helpers/eventually.js';
import { describeTree } from '../helpers/file-tree.js';
import {
  createAll,
  createSession,
  CORE,
  dataVerified,
  failureText,
  pvcScenario,
  restic,
  resticIdsOf,
  resticRepository,
  resticSnapshots,
  restoredTree,
  snapshotsOfSession,
  STORAGE,
  waitFor,
  writeRandomFiles,
} from '../helpers/faults.js';
import { namespaceObject, resticMissing, startHarness } from '../helpers/story-harness.js';

const ns = 'fault-kill';
const name = 'victim';

// Minutes of Jobs and restic on a machine shared with other work; the default 180 s file timeout is tight.
t.setTimeout(400_000);

t.test('kill -9 the executor mid-backup', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const h = await startHarness(t);
  const hostDir = join(h.backendDir, name);
  await mkdir(hostDir, { recursive: true });
  await createAll(h.client, [namespaceObject(ns)]);
  // Keeping one snapshot makes the next run's retention forget the baseline: forget and prune need restic's
  // exclusive lock, which the killed restic's leftover lock refuses until the stale-lock rule removes it.
  await createAll(h.client, pvcScenario(ns, name, hostDir, { keepLast: 1 }));
  const source = await h.claimDir(ns, `${name}-data`);
  await writeRandomFiles(source, 2, 1024 * 1024);
  await waitFor(h.client, STORAGE, 'Repository', ns, `${name}-repo`, ['Ready']);
  const repository = resticRepository(hostDir, name);

  await createSession(h.client, ns, `${name}-backup`, 'baseline');
  const baseline = await waitFor(h.client, CORE, 'BackupSession', ns, 'baseline', ['Succeeded', 'Failed', 'Skipped']);
  t.equal(baseline.status?.phase, 'Succeeded', `the baseline backup succeeds: ${JSON.stringify(baseline.status)}`);

  // Enough incompressible data that restic is still reading when the kill lands (it holds its lock the whole run).
  await writeRandomFiles(source, 12, 32 * 1024 * 1024);
  await createSession(h.client, ns, `${name}-backup`, 'killed');
  const plane = h.server.controlPlane!;
  const locksDir = join(repository, 'locks');
  const victim = await eventually('the backup Job running restic with its lock taken', async () => {
    const running = plane.controllers.runningJobProcesses().find((p) => p.namespace === ns && p.job.startsWith('killed-') && p.pid !== undefined);
    if (running === undefined) return undefined;
    const locks = await readdir(locksDir).catch(() => []);
    return locks.length > 0 ? running : undefined;
  }, 120_000);
  // The whole process group: the executor and the restic it runs, as a container's processes die together.
  process.kill(-victim.pid!, 'SIGKILL');
  t.comment(`killed process group ${victim.pid} of Job ${victim.job}`);

  const killed = await waitFor(h.client, CORE, 'BackupSession', ns, 'killed', ['Succeeded', 'Failed', 'Skipped']);
  t.equal(killed.status?.phase, 'Failed', `the killed session ends Failed: ${JSON.stringify(killed.status)}`);
  const killedSnapshots = await snapshotsOfSession(h.client, ns, killed);
  t.equal(killedSnapshots.length, 1);
  t.equal(killedSnapshots[0]?.status?.phase, 'Failed', 'its Snapshot is Failed, not Succeeded');
  const message = failureText(killed, killedSnapshots);
  t.match(message, /killed by SIGKILL/, `the message says the Job was killed: ${message}`);

  t.comment(`restic locks left by the kill: ${(await restic(repository, ['list', 'locks', '--no-lock'])).trim().split('\n').filter(Boolean).length}`);
  await t.resolves(restic(repository, ['--no-lock', 'check']), 'restic check passes right after the kill');

  await createSession(h.client, ns, `${name}-backup`, 'after');
  const after = await waitFor(h.client, CORE, 'BackupSession', ns, 'after', ['Succeeded', 'Failed', 'Skipped']);
  t.equal(after.status?.phase, 'Succeeded', `the next backup succeeds: ${JSON.stringify(after.status)}`);
  const [snapshot] = await snapshotsOfSession(h.client, ns, after);
  const [id] = resticIdsOf(snapshot);
  t.ok(id, 'the next backup recorded its restic snapshot');
  t.same(await restoredTree(repository, id ?? ''), await describeTree(source), 'the next backup restores byte-identical');
  const retention = (after.status as { retentionPolicy?: Array<{ phase?: string; error?: string }> }).retentionPolicy ?? [];
  t.ok(retention.length > 0 && retention.every((entry) => entry.phase === 'Applied'), `the next run's retention (exclusive lock) was not blocked: ${JSON.stringify(retention)}`);
  // The dead restic may leave a half-written `<id>-tmp-<n>` upload in locks/ (the local backend writes, then
  // renames); restic ignores such files, so the locks that count are the ones restic lists.
  t.equal((await restic(repository, ['list', 'locks', '--no-lock'])).trim(), '', 'no restic lock is left behind');
  await t.resolves(restic(repository, ['check', '--read-data']), 'restic check --read-data passes at the end');
  const ids = (await resticSnapshots(repository)).map((s) => s.short_id);
  t.same(ids, [id], 'restic holds exactly the next run\'s snapshot (retention forgot the baseline under the exclusive lock)');
  dataVerified(t, 'kill -9 the executor mid-backup', 'restic check --read-data ok; stale lock removed, retention not blocked; next backup restores byte-identical');
});

/**
 * Fault: the backend directory becomes read-only, or disappears, while restic is writing a backup into it.
 * The session must fail with a message naming the cause, its Snapshot must be Failed (never a partial
 * Snapshot marked Succeeded), no restic snapshot may be recorded for the broken run, and after the backend
 * is repaired `restic check` passes and the next backup succeeds and restores byte-identical.
 *
 * How "read-only" is made: the tests run as root (chmod -w does not stop root), so the directory is
 * bind-mounted onto itself and remounted read-only (`mount --bind`, `mount -o remount,ro,bind`); where
 * mounting is not permitted that scenario is skipped with a comment. "Disappears" renames the directory
 * away (and back for the repair), which needs no privilege.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
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
import { namespaceObject, resticMissing, startHarness, type Harness } from '../helpers/story-harness.js';

const run = promisify(execFile);
const ns = 'fault-backend';

interface Scenario {
  name: string;
  hostDir: string;
  source: string;
  repository: string;
}

async function setUp(h: Harness, name: string): Promise<Scenario> {
  const hostDir = join(h.backendDir, name);
  await mkdir(hostDir, { recursive: true });
  // Keeping one snapshot makes the run after the repair forget the baseline under restic's exclusive lock, which
  // also clears the lock the broken run could not remove (the stale-lock rule runs before every forget).
  await createAll(h.client, pvcScenario(ns, name, hostDir, { keepLast: 1 }));
  const source = await h.claimDir(ns, `${name}-data`);
  await writeRandomFiles(source, 2, 512 * 1024);
  await waitFor(h.client, STORAGE, 'Repository', ns, `${name}-repo`, ['Ready']);
  const scenario = { name, hostDir, source, repository: resticRepository(hostDir, name) };
  const baseline = await backup(h, scenario, `${name}-baseline`);
  if (baseline.status?.phase !== 'Succeeded') throw new Error(`the baseline backup of ${name} did not succeed: ${JSON.stringify(baseline.status)}`);
  return scenario;
}

async function backup(h: Harness, scenario: Scenario, session: string) {
  await createSession(h.client, ns, `${scenario.name}-backup`, session);
  return waitFor(h.client, CORE, 'BackupSession', ns, session, ['Succeeded', 'Failed', 'Skipped']);
}

/** Starts a large backup and runs `fault` once restic holds its lock in the repository (mid-run). */
async function breakMidRun(h: Harness, scenario: Scenario, session: string, fault: () => Promise<void>) {
  await writeRandomFiles(scenario.source, 4, 32 * 1024 * 1024);
  await createSession(h.client, ns, `${scenario.name}-backup`, session);
  await eventually('restic holding its lock mid-backup', async () => (await readdir(join(scenario.repository, 'locks')).catch(() => [])).length > 0, 120_000);
  await fault();
  return waitFor(h.client, CORE, 'BackupSession', ns, session, ['Succeeded', 'Failed', 'Skipped']);
}

/** The broken run's checks, then the repair and the next run's. */
async function failedCleanlyThenRecovers(t: Test, h: Harness, scenario: Scenario, broken: Awaited<ReturnType<typeof backup>>, cause: RegExp, repair: () => Promise<void>): Promise<void> {
  t.equal(broken.status?.phase, 'Failed', `the broken run fails: ${JSON.stringify(broken.status)}`);
  const snapshots = await snapshotsOfSession(h.client, ns, broken);
  t.equal(snapshots.length, 1);
  t.equal(snapshots[0]?.status?.phase, 'Failed', 'its Snapshot is Failed, not Succeeded');
  t.same(resticIdsOf(snapshots[0]), [], 'no restic id is recorded for the broken run');
  const message = failureText(broken, snapshots);
  t.match(message, cause, `the message names the cause: ${message}`);
  await repair();
  const tags = (await resticSnapshots(scenario.repository)).flatMap((s) => s.tags ?? []);
  t.notOk(tags.includes(`session=${broken.metadata?.name}`), 'restic holds no snapshot of the broken run');
  // --no-lock: the broken run's restic could not remove its lock from the broken backend.
  await t.resolves(restic(scenario.repository, ['--no-lock', 'check']), 'restic check passes after the repair');
  const next = await backup(h, scenario, `${scenario.name}-repaired`);
  t.equal(next.status?.phase, 'Succeeded', `the run after the repair succeeds: ${JSON.stringify(next.status)}`);
  const [snapshot] = await snapshotsOfSession(h.client, ns, next);
  t.same(await restoredTree(scenario.repository, resticIdsOf(snapshot)[0] ?? ''), await describeTree(scenario.source), 'it restores byte-identical');
  t.equal((await restic(scenario.repository, ['list', 'locks', '--no-lock'])).trim(), '', 'no lock is left');
  await t.resolves(restic(scenario.repository, ['check', '--read-data']), 'restic check --read-data passes at the end');
}

t.setTimeout(400_000);

t.test('the backend breaks mid-run', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const h = await startHarness(t);
  await createAll(h.client, [namespaceObject(ns)]);

  t.test('the backend directory becomes read-only', async (t) => {
    const scenario = await setUp(h, 'readonly');
    const { hostDir } = scenario;
    try {
      await run('mount', ['--bind', hostDir, hostDir]);
    } catch (error) {
      t.comment(`cannot bind-mount here (${(error as Error).message.split('\n')[0]}): read-only backend not tested`);
      return;
    }
    const unmount = () => void spawnSync('umount', ['-l', hostDir]);
    process.once('exit', unmount);
    t.teardown(() => {
      process.off('exit', unmount);
      unmount();
    });
    const broken = await breakMidRun(h, scenario, 'readonly-broken', () => run('mount', ['-o', 'remount,ro,bind', hostDir]).then(() => undefined));
    await failedCleanlyThenRecovers(t, h, scenario, broken, /cannot be written.*read-only file system/i, async () => {
      await run('umount', [hostDir]);
    });
    dataVerified(t, 'backend becomes read-only mid-run', 'Snapshot Failed, no restic snapshot of the run; after repair restic check --read-data ok, restore byte-identical');
  });

  t.test('the backend directory disappears', async (t) => {
    const scenario = await setUp(h, 'vanished');
    const { hostDir } = scenario;
    const broken = await breakMidRun(h, scenario, 'vanished-broken', () => rename(hostDir, `${hostDir}.gone`));
    // restic recreates the directories it writes into, so the repair first removes what it left at the old place.
    await failedCleanlyThenRecovers(t, h, scenario, broken, /backend changed during the backup|no such file or directory/i, async () => {
      await rm(hostDir, { recursive: true, force: true });
      await rename(`${hostDir}.gone`, hostDir);
    });
    dataVerified(t, 'backend directory disappears mid-run', 'Snapshot Failed, no restic snapshot of the run; after repair restic check --read-data ok, restore byte-identical');
  });
});

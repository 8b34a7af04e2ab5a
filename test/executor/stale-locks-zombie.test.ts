/**
 * A restic killed with SIGKILL whose parent has not reaped it yet (a zombie) still "exists" for restic's own
 * `unlock`, so its lock stayed and blocked exclusive operations (forget, prune, check) on the embedded plane,
 * where every Job shares this host. The stale-lock rule counts a same-host zombie's lock as stale at once;
 * a live process's young lock is still kept. Found by test/faults/kill-executor.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createRestic } from '../../src/executor/restic.js';
import { isZombieProcess, removeStaleLocks } from '../../src/executor/stale-locks.js';
import { createKubeClient } from '../../src/kube/client.js';
import { eventually, silentLogger, startTestControlPlane } from '../helpers/control-plane.js';
import { resticMissing } from '../helpers/story-harness.js';

const PASSWORD = 'zombie-lock-password';

t.test('isZombieProcess: a running process and a missing pid are not zombies', async (t) => {
  t.equal(await isZombieProcess(process.pid), false);
  t.equal(await isZombieProcess(2 ** 22 + 1), false, 'above pid_max: no such process');
});

t.test('a lock of a killed, unreaped restic on this host is removed; a live young lock is kept', async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const dir = await mkdtemp(join(tmpdir(), 'autostash-zombie-lock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const repository = join(dir, 'repo');
  const restic = createRestic({ repository, password: PASSWORD, logger: silentLogger() });
  await restic.init();
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const options = { restic, client, namespaces: ['default'], repository: 'repo', podName: 'me-abcde', staleAfterMs: 3_600_000, logger: silentLogger() };

  // restic reads its stdin (our open pipe, via fd 3) and holds its lock; its parent then becomes `sleep`,
  // which never waits for children, so a killed restic stays a zombie.
  const holder = spawn('sh', ['-c', 'exec 3<&0; restic backup --stdin --host crashed <&3 & exec sleep 600'], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, RESTIC_REPOSITORY: repository, RESTIC_PASSWORD: PASSWORD },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  t.teardown(() => void holder.kill('SIGKILL'));
  const [lock] = await eventually('restic holding its lock', async () => {
    const locks = await restic.listLocks();
    return locks.length > 0 ? locks : undefined;
  }, 30_000);

  const live = await removeStaleLocks({ ...options, now: new Date() });
  t.match(live, { removedAll: false, remaining: 1, keptBecause: /younger than/ }, 'a live restic keeps its lock');

  process.kill(lock!.pid, 'SIGKILL');
  await eventually('the killed restic is a zombie', () => isZombieProcess(lock!.pid), 10_000);
  const other = await removeStaleLocks({ ...options, hostName: 'another-host', now: new Date() });
  t.match(other, { removedAll: false, keptBecause: /younger than/ }, 'a lock of another host is not judged by our /proc');
  t.equal((await restic.listLocks()).length, 1, "restic's own unlock keeps a zombie's lock");

  const removed = await removeStaleLocks({ ...options, now: new Date() });
  t.match(removed, { removedAll: true, remaining: 1 });
  t.same(await restic.listLocks(), [], 'the zombie lock is gone');
});

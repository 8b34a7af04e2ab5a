/**
 * restic retries a refused write for up to 15 minutes, so a backup into a local backend that became
 * read-only or vanished hung that long (found by test/faults/backend-lost.test.ts). The wrapper stops restic
 * at its first refused write of that kind and fails with BackendUnwritable, naming the cause.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { describeFailure } from '../../src/executor/context.js';
import { classifyResticFailure, createRestic, ResticError } from '../../src/executor/restic.js';
import { silentLogger } from '../helpers/control-plane.js';
import { resticMissing } from '../helpers/story-harness.js';

const run = promisify(execFile);

t.test('classification of refused writes (one row per cause) and what the status says', async (t) => {
  const rows: Array<[string, string]> = [
    ['Save(<data/3a1f>) returned error, retrying after 552ms: open /b/repo/data/3a/3a1f-tmp-1: read-only file system', 'read-only file system'],
    ['Save(<lock/d430>) returned error, retrying after 1.08s: open /b/repo/locks/d430-tmp-2: no such file or directory', 'no such file or directory'],
    ['Save(<index/77>) returned error, retrying after 2s: open /b/repo/index/77-tmp-3: permission denied', 'permission denied'],
  ];
  for (const [stderr, cause] of rows) {
    t.equal(classifyResticFailure(stderr), 'BackendUnwritable', cause);
    t.match(describeFailure(new ResticError('BackendUnwritable', 130, stderr, 'x')), new RegExp(`cannot be written.*: ${cause}$`));
  }
  t.equal(classifyResticFailure('Load(<data/3a1f>) returned error, retrying after 1s: no such file or directory'), 'Failed', 'a refused read is left to restic');
  t.match(describeFailure(new ResticError('BackendUnwritable', 1, '', 'x')), /: the write was refused$/);
});

t.test('a run stopped for refused writes stays BackendUnwritable when its last words push the retry line out of the tail', async (t) => {
  const binary = join(t.testdir(), 'retrying.sh');
  // Prints restic's retry line, then, once told to stop, 8 KiB of something else (more than the kept tail).
  await writeFile(
    binary,
    [
      '#!/bin/sh',
      "trap 'i=0; while [ $i -lt 128 ]; do echo \"cleanup message $i: unable to remove lock, 64 bytes of noise\" >&2; i=$((i+1)); done; exit 130' TERM",
      "echo 'Save(<lock/d430>) returned error, retrying after 1.08s: open /b/repo/locks/d430-tmp: read-only file system' >&2",
      'while :; do sleep 0.1; done',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const error = await createRestic({ repository: '/b/repo', password: 'unwritable-test', binary, logger: silentLogger() }).backup(['.'], { host: 'h' }).then(() => undefined, (e: unknown) => e);
  t.ok(error instanceof ResticError, String(error));
  t.equal((error as ResticError).code, 'BackendUnwritable');
  t.notMatch((error as ResticError).stderrTail, /read-only/, 'the retry line is no longer in the tail');
});

t.test('a backup into a backend that turned read-only fails at once with BackendUnwritable', async (t) => {
  const missing = await resticMissing;
  if (missing) return void t.comment(missing);
  const dir = await mkdtemp(join(tmpdir(), 'autostash-ro-backend-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const backend = join(dir, 'backend');
  const data = join(dir, 'data');
  await mkdir(backend);
  await mkdir(data);
  await writeFile(join(data, 'file.bin'), randomBytes(1024 * 1024));
  const restic = createRestic({ repository: join(backend, 'repo'), password: 'unwritable-test', logger: silentLogger() });
  await restic.init();
  try {
    await run('mount', ['--bind', backend, backend]);
    await run('mount', ['-o', 'remount,ro,bind', backend]);
  } catch (error) {
    spawnSync('umount', [backend]);
    t.comment(`cannot make a read-only bind mount here (${(error as Error).message.split('\n')[0]}): not tested`);
    return;
  }
  const unmount = () => void spawnSync('umount', ['-l', backend]);
  process.once('exit', unmount);
  t.teardown(() => {
    process.off('exit', unmount);
    unmount();
  });
  // Without the stop this would retry for 15 minutes and hit the test timeout.
  const error = await restic.backup(['.'], { cwd: data, host: 'ro' }).then(() => undefined, (e: unknown) => e);
  t.ok(error instanceof ResticError, String(error));
  t.equal((error as ResticError).code, 'BackendUnwritable');
  t.match(describeFailure(error), /the backend cannot be written .*: read-only file system/);
});

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classifyResticFailure,
  createProgressThrottle,
  createRestic,
  ResticAbortError,
  ResticError,
  type ResticOptions,
} from '../../src/executor/restic.js';
import { memoryLogger } from '../helpers/logging.js';

const PASSWORD = 'Pa55-w0rd-never-logged-7f3a';

// Pure parts first: they need no restic binary.
t.test('classifyResticFailure maps each stderr signature to its code', async (t) => {
  const rows: Array<[string, string]> = [
    ['Fatal: wrong password or no key found', 'WrongPassword'],
    ['Fatal: unable to open config file: stat /x/config: no such file or directory\nIs there a repository at the following location?', 'RepositoryNotFound'],
    ['Fatal: unable to create lock in backend: repository is already locked exclusively by PID 12', 'RepositoryLocked'],
    ['Fatal: unable to save snapshot: write /repo/data/x: no space left on device', 'NoSpace'],
    ['write failed: ENOSPC', 'NoSpace'],
    ['Fatal: unable to open config file: client.Head: dial tcp 127.0.0.1:1: connect: connection refused\nIs there a repository at the following location?', 'Unreachable'],
    ['dial tcp: lookup minio.invalid: no such host', 'Unreachable'],
    ['Fatal: unable to open config file: Stat: The specified key does not exist.\nIs there a repository at the following location?', 'RepositoryNotFound'],
    ['Fatal: unable to open config file: Stat: Bucket name cannot be shorter than 3 characters\nIs there a repository at the following location?', 'Failed'],
    ['Fatal: unable to open config file: Stat: Access Denied.\nIs there a repository at the following location?', 'Failed'],
    ['Fatal: something else entirely', 'Failed'],
  ];
  for (const [stderr, code] of rows) t.equal(classifyResticFailure(stderr), code, stderr.split('\n')[0] ?? '');
});

t.test('createProgressThrottle passes the first report, then at most one per interval', async (t) => {
  let now = 0;
  const pass = createProgressThrottle(500, () => now);
  const seen: number[] = [];
  for (now = 0; now <= 2000; now += 100) if (pass()) seen.push(now);
  t.same(seen, [0, 500, 1000, 1500, 2000]);
});

t.test('a failure is classified before redaction: a password that is an ordinary word does not hide the cause', async (t) => {
  const dir = t.testdir();
  const cases: Array<[password: string, stderr: string, code: string]> = [
    ['password', 'Fatal: wrong password or no key found', 'WrongPassword'],
    ['locked', 'Fatal: unable to create lock in backend: repository is already locked by PID 12', 'RepositoryLocked'],
    ['refused', 'Fatal: unable to open config file: dial tcp 10.0.0.1:9000: connect: connection refused', 'Unreachable'],
  ];
  for (const [index, [password, stderr, code]] of cases.entries()) {
    const binary = join(dir, `fails-${index}.sh`);
    await writeFile(binary, `#!/bin/sh\necho '${stderr}' >&2\nexit 1\n`, { mode: 0o755 });
    const error = (await createRestic({ repository: '/nowhere', password, binary, logger: memoryLogger('info').logger }).snapshots().catch((e: unknown) => e)) as ResticError;
    t.equal(error.code, code, `password ${JSON.stringify(password)}: ${code}`);
    t.notOk(error.stderrTail.includes(password), 'the password is still redacted from the tail');
  }
});

const resticAvailable = spawnSync('restic', ['version']).status === 0;

t.test('against real restic repositories', { skip: resticAvailable ? false : 'restic is not on PATH (CI installs it)' }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'autostash-restic-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const cacheDir = join(root, 'cache');
  const { logger, lines } = memoryLogger('debug');
  const options = (repo: string, extra: Partial<ResticOptions> = {}): ResticOptions => ({
    repository: join(root, repo),
    password: PASSWORD,
    cacheDir,
    logger,
    ...extra,
  });

  // Source tree: empty files, 5 MB random file, unicode names, symlinks, a 0640 file.
  const source = join(root, 'source');
  await mkdir(join(source, 'nested', 'ünïcødé-目录'), { recursive: true });
  await writeFile(join(source, 'empty-1'), '');
  await writeFile(join(source, 'nested', 'empty-2'), '');
  await writeFile(join(source, 'big.bin'), randomBytes(5 * 1024 * 1024));
  await writeFile(join(source, 'nested', 'ünïcødé-目录', 'файл 🎉.txt'), 'hello unicode\n');
  await writeFile(join(source, 'private.conf'), 'mode 0640\n');
  await chmod(join(source, 'private.conf'), 0o640);
  await symlink('big.bin', join(source, 'link-relative'));
  await symlink('/nonexistent/target', join(source, 'nested', 'link-dangling'));
  await writeFile(join(source, 'skip.tmp'), 'excluded\n');

  const restic = createRestic(options('repo'));

  t.test('init is idempotent and verifies the password of an existing repository', async (t) => {
    t.same(await restic.init(), { created: true });
    t.same(await restic.init(), { created: false });
    const wrong = createRestic(options('repo', { password: 'not-the-password' }));
    const error = await wrong.init().catch((e: unknown) => e);
    t.type(error, ResticError);
    t.equal((error as ResticError).code, 'WrongPassword');
  });

  let firstSnapshot = '';
  t.test('backup, restore byte-for-byte with modes and symlinks, unchanged backup adds ~0 bytes', async (t) => {
    const progress: Array<{ percentDone: number; bytesDone: number; totalBytes: number }> = [];
    const first = await restic.backup([source], { host: 'node-a', tags: ['daily', 'app=web'], exclude: ['*.tmp'], onProgress: (p) => progress.push(p) });
    firstSnapshot = first.snapshotId;
    t.match(first.snapshotId, /^[0-9a-f]{8,64}$/);
    t.equal(first.filesNew, 5, 'every regular file except the excluded *.tmp is new (symlinks are not counted as files)');
    t.ok(first.dataAdded >= 5 * 1024 * 1024, 'the random file is stored');
    t.ok(first.totalBytesProcessed >= 5 * 1024 * 1024);
    t.equal(first.incomplete, false);
    // restic prints a status line when the scan starts, so at least one report arrives even for a fast backup.
    t.ok(progress.length >= 1, 'progress reported');
    t.ok(progress.every((p) => p.percentDone >= 0 && p.percentDone <= 1 && p.totalBytes >= 0));

    const second = await restic.backup([source], { host: 'node-a', exclude: ['*.tmp'] });
    t.not(second.snapshotId, first.snapshotId);
    t.equal(second.filesNew, 0);
    t.equal(second.filesUnmodified, 5);
    t.ok(second.dataAdded < 16 * 1024, `unchanged backup adds ~0 bytes (added ${second.dataAdded})`);

    const target = join(root, 'restored');
    await restic.restore(first.snapshotId, target);
    const restoredRoot = join(target, source); // restic restores the absolute source path under the target
    t.same(await describeTree(restoredRoot), await describeTree(source).then((tree) => tree.filter((e) => !e.path.endsWith('skip.tmp'))));
    t.equal((await lstat(join(restoredRoot, 'private.conf'))).mode & 0o777, 0o640);
    t.equal(await readlink(join(restoredRoot, 'nested', 'link-dangling')), '/nonexistent/target');

    const partial = join(root, 'restored-partial');
    await restic.restore(first.snapshotId, partial, { include: ['private.conf'] });
    t.same(await readdir(join(partial, source)), ['private.conf']);
  });

  t.test('snapshots filter by host and tags; forget with prune removes one', async (t) => {
    await restic.backup([join(source, 'nested')], { host: 'node-b', tags: ['weekly'] });
    t.equal((await restic.snapshots()).length, 3);
    const nodeB = await restic.snapshots({ host: 'node-b' });
    t.equal(nodeB.length, 1);
    t.same(nodeB[0]?.tags, ['weekly']);
    t.same(nodeB[0]?.paths, [join(source, 'nested')]);
    t.equal(nodeB[0]?.host, 'node-b');
    const tagged = await restic.snapshots({ tags: ['daily', 'app=web'] });
    t.same(tagged.map((s) => s.id.slice(0, 8)), [firstSnapshot.slice(0, 8)]);
    t.same(await restic.snapshots({ host: 'node-a', tags: ['weekly'] }), []);

    await restic.forget([firstSnapshot], { prune: true });
    const left = await restic.snapshots();
    t.equal(left.length, 2);
    t.notOk(left.some((s) => s.id.startsWith(firstSnapshot)));
    await restic.forget([]); // nothing to do
    t.same(await restic.check(), { ok: true });
  });

  t.test('unlockStale succeeds on an unlocked repository', async (t) => {
    await t.resolves(restic.unlockStale());
  });

  t.test('failures map to codes and never leak the password', async (t) => {
    const wrong = createRestic(options('repo', { password: 'wrong-' + PASSWORD.slice(0, 3) }));
    const wrongErr = await wrong.snapshots().catch((e: unknown) => e);
    t.type(wrongErr, ResticError);
    t.equal((wrongErr as ResticError).code, 'WrongPassword');
    t.equal((wrongErr as ResticError).exitCode, 1);

    const missing = createRestic(options('no-such-repo'));
    const missingErr = (await missing.backup([source], { host: 'h' }).catch((e: unknown) => e)) as ResticError;
    t.type(missingErr, ResticError);
    t.equal(missingErr.code, 'RepositoryNotFound');
    t.match(missingErr.message, /initialise it/);
    t.match(missingErr.stderrTail, /Is there a repository/);

    // A binary that echoes the environment (and the password) to stderr, as a misbehaving backend might.
    // The secrets are echoed last too, so they sit inside the kept 4 KiB tail however large the
    // environment of the machine running the tests is.
    const echo = join(root, 'echo-env.sh');
    await writeFile(
      echo,
      '#!/bin/sh\nenv >&2\necho "RESTIC_PASSWORD=$RESTIC_PASSWORD AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY" >&2\necho "Fatal: wrong password or no key found ($RESTIC_PASSWORD)" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const leaky = createRestic(options('repo', { binary: echo, env: { AWS_SECRET_ACCESS_KEY: 'aws-secret-value-123' } }));
    const leakErr = (await leaky.snapshots().catch((e: unknown) => e)) as ResticError;
    t.equal(leakErr.code, 'WrongPassword');
    t.match(leakErr.stderrTail, /RESTIC_PASSWORD=\[REDACTED\]/);
    for (const text of [leakErr.message, leakErr.stderrTail, JSON.stringify(lines)]) {
      t.notOk(text.includes(PASSWORD), 'password absent');
      t.notOk(text.includes('aws-secret-value-123'), 'backend secret absent');
    }
    t.ok(lines.some((l) => l.msg === 'restic failed'), 'failures are logged');

    const noBinary = createRestic(options('repo', { binary: join(root, 'does-not-exist') }));
    const spawnErr = (await noBinary.unlockStale().catch((e: unknown) => e)) as ResticError;
    t.equal(spawnErr.code, 'Failed');
  });

  t.test('stderrTail keeps only the last 4 KiB', async (t) => {
    const noisy = join(root, 'noisy.sh');
    await writeFile(noisy, `#!/bin/sh\ni=0\nwhile [ $i -lt 500 ]; do echo "line $i ${PASSWORD}" >&2; i=$((i+1)); done\necho "Fatal: repository is already locked by PID 1" >&2\nexit 1\n`, { mode: 0o755 });
    const err = (await createRestic(options('repo', { binary: noisy })).unlockStale().catch((e: unknown) => e)) as ResticError;
    t.equal(err.code, 'RepositoryLocked');
    t.ok(err.stderrTail.length <= 4096);
    t.notOk(err.stderrTail.includes(PASSWORD.slice(4)), 'no partial password at the cut');
  });

  t.test('exit 3 (unreadable files) still yields the snapshot, marked incomplete', async (t) => {
    const partial = join(root, 'partial.sh');
    await writeFile(partial, '#!/bin/sh\necho \'{"message_type":"summary","files_new":1,"snapshot_id":"abcdef12","total_duration":0.5}\'\nexit 3\n', { mode: 0o755 });
    const result = await createRestic(options('repo', { binary: partial })).backup(['/x'], { host: 'h' });
    t.equal(result.snapshotId, 'abcdef12');
    t.equal(result.incomplete, true);
    t.equal(result.filesNew, 1);
    t.equal(result.durationSeconds, 0.5);
  });

  t.test('outcomes real restic produces only on broken backends, from a scripted stand-in', async (t) => {
    // Each subcommand reproduces restic 0.14's output for the case (check on a damaged repository takes minutes of retries).
    const script = join(root, 'scripted.sh');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        'case "$1" in',
        '  init) echo "Fatal: create repository at rest:http://127.0.0.1:1/ failed: dial tcp 127.0.0.1:1: connect: connection refused" >&2; exit 1;;',
        '  backup) echo "not json"; echo "{broken"; echo \'{"message_type":"status","percent_done":0.5}\'; exit 0;;',
        '  check) if [ -n "$BROKEN" ]; then echo "pack 5e3c: does not exist" >&2; echo "Fatal: repository contains errors" >&2; else echo "Fatal: wrong password or no key found" >&2; fi; exit 1;;',
        'esac',
        'exit 2',
      ].join('\n') + '\n',
      { mode: 0o755 },
    );
    const scripted = createRestic(options('repo', { binary: script }));
    const initErr = (await scripted.init().catch((e: unknown) => e)) as ResticError;
    t.equal(initErr.code, 'Unreachable');
    t.match(initErr.message, /connection refused/);

    const reports: number[] = [];
    const noSummary = (await scripted.backup(['/x'], { host: 'h', onProgress: (p) => reports.push(p.percentDone) }).catch((e: unknown) => e)) as ResticError;
    t.equal(noSummary.code, 'Failed');
    t.match(noSummary.message, /no summary/);
    t.same(reports, [0.5], 'non-JSON lines are ignored, status lines still reported');

    t.same(await createRestic(options('repo', { binary: script, env: { BROKEN: '1' } })).check(), { ok: false });
    const checkErr = (await scripted.check().catch((e: unknown) => e)) as ResticError;
    t.equal(checkErr.code, 'WrongPassword');
  });

  t.test('abort sends SIGTERM to restic and rejects with an AbortError', async (t) => {
    const pidFile = join(root, 'sleeper.pid');
    const sleeper = join(root, 'sleeper.sh');
    await writeFile(sleeper, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 30\n`, { mode: 0o755 });
    const controller = new AbortController();
    const running = createRestic(options('repo', { binary: sleeper })).backup([source], { host: 'h', signal: controller.signal });
    await waitFor(async () => (await readFile(pidFile, 'utf8').catch(() => '')).trim() !== '');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    controller.abort();
    const error = await running.catch((e: unknown) => e);
    t.type(error, ResticAbortError);
    t.equal((error as Error).name, 'AbortError');
    t.throws(() => process.kill(pid, 0), 'the child is gone');

    const already = new AbortController();
    already.abort();
    await t.rejects(restic.restore(firstSnapshot || 'latest', join(root, 'never'), { signal: already.signal }), { name: 'AbortError' });
  });

  t.test('abort of a real restic backup', async (t) => {
    const controller = new AbortController();
    const running = restic.backup([source], { host: 'abort', signal: controller.signal });
    controller.abort();
    await t.rejects(running, { name: 'AbortError' });
    await t.resolves(restic.unlockStale(), 'the repository is usable afterwards');
  });
});

interface TreeEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  sha256?: string;
  target?: string;
}

async function describeTree(dir: string, prefix = ''): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const full = join(dir, name);
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    const st = await lstat(full);
    if (st.isSymbolicLink()) out.push({ path: rel, type: 'symlink', mode: 0, target: await readlink(full) });
    else if (st.isDirectory()) {
      out.push({ path: rel, type: 'dir', mode: st.mode & 0o7777 });
      out.push(...(await describeTree(full, rel)));
    } else out.push({ path: rel, type: 'file', mode: st.mode & 0o7777, sha256: createHash('sha256').update(await readFile(full)).digest('hex') });
  }
  return out;
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in 5 s');
}

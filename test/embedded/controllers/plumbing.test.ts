import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { ApiError, type EmbeddedApi, type WatchEvent } from '../../../src/embedded/api-types.js';
import { retryOnConflict } from '../../../src/embedded/controllers/api-errors.js';
import { BoundedLog } from '../../../src/embedded/controllers/bounded-log.js';
import { startLocalProcess } from '../../../src/embedded/controllers/local-process.js';
import { objectKey, splitKey, watchResource } from '../../../src/embedded/controllers/watch-resource.js';
import { WorkQueue } from '../../../src/embedded/controllers/work-queue.js';

const logger = pino({ level: 'silent' });

async function eventually(probe: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

t.test('WorkQueue: deduplicates, retries failures with backoff, conflicts at once, requeues on request', async (t) => {
  const calls: string[] = [];
  let failures = 2;
  const queue = new WorkQueue({
    name: 'test',
    logger,
    retryBaseMs: 5,
    retryMaxMs: 20,
    async reconcile(key) {
      calls.push(key);
      if (key === 'flaky' && failures-- > 0) throw new Error('not yet');
      if (key === 'conflict' && calls.filter((call) => call === 'conflict').length === 1) throw new ApiError(409, 'Conflict', 'stale');
      if (key === 'again' && calls.filter((call) => call === 'again').length < 3) return { requeueAfterMs: 5 };
      return undefined;
    },
  });
  queue.enqueue('a');
  queue.enqueue('a');
  queue.enqueue('flaky');
  queue.enqueue('conflict');
  queue.enqueue('again');
  queue.enqueue('late', 10_000);
  queue.enqueue('late', 5);
  queue.enqueue('late', 10_000);
  await eventually(() => calls.filter((call) => call === 'flaky').length === 3 && calls.filter((call) => call === 'again').length === 3 && calls.includes('late') && calls.filter((call) => call === 'conflict').length === 2, 'all keys to settle');
  t.equal(calls.filter((call) => call === 'a').length, 1, 'a key enqueued twice runs once');
  t.equal(calls.filter((call) => call === 'late').length, 1, 'the earliest delayed schedule wins');
  await queue.stop();
  queue.enqueue('after-stop');
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.notOk(calls.includes('after-stop'), 'a stopped queue runs nothing');
});

t.test('retryOnConflict retries conflicts only, and gives up after the attempts', async (t) => {
  let tries = 0;
  t.equal(await retryOnConflict(async () => (++tries < 3 ? Promise.reject(new ApiError(409, 'Conflict', 'stale')) : 'done')), 'done');
  await t.rejects(retryOnConflict(async () => Promise.reject(new ApiError(409, 'Conflict', 'stale')), 2), /stale/);
  await t.rejects(retryOnConflict(async () => Promise.reject(new ApiError(409, 'AlreadyExists', 'exists'))), /exists/);
});

t.test('watchResource starts over after an ERROR event or a failed start; keys round-trip', async (t) => {
  let opened = 0;
  const handlers: Array<(event: WatchEvent) => void> = [];
  const api = {
    watch(_gvr: unknown, _options: unknown, onEvent: (event: WatchEvent) => void) {
      opened++;
      if (opened === 1) throw new ApiError(404, 'NotFound', 'not served yet');
      handlers.push(onEvent);
      return { stop() {} };
    },
  } as unknown as EmbeddedApi;
  const seen: string[] = [];
  const watch = watchResource(api, { group: '', version: 'v1', resource: 'configmaps' }, (event) => seen.push(event.type), logger, 5);
  await eventually(() => handlers.length === 1, 'the second open');
  handlers[0]!({ type: 'ADDED', object: {} });
  handlers[0]!({ type: 'BOOKMARK', object: {} });
  handlers[0]!({ type: 'ERROR', object: { code: 410 } });
  await eventually(() => handlers.length === 2, 'a fresh watch after ERROR');
  handlers[0]!({ type: 'MODIFIED', object: {} });
  watch.stop();
  handlers[1]!({ type: 'DELETED', object: {} });
  t.same(seen, ['ADDED'], 'bookmarks, errors, a stale watch and a stopped watch pass nothing on');
  t.same(splitKey(objectKey('ns', 'n')), { namespace: 'ns', name: 'n' });
  t.same(splitKey(objectKey(undefined, 'n')), { namespace: undefined, name: 'n' });
});

t.test('BoundedLog keeps the last bytes and mirrors them to its file', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'autostash-log-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const log = new BoundedLog(join(directory, 'sub', 'a.log'), 10);
  log.write('0123456789');
  log.write(Buffer.from('abcd'));
  log.write('\nlast line\n');
  t.equal(log.text(), 'last line\n');
  t.equal(log.tail(5), 'last line');
  await log.flush();
  await log.flush();
  t.equal(await readFile(join(directory, 'sub', 'a.log'), 'utf8'), 'last line\n');
});

t.test('a process that ignores SIGTERM is killed with SIGKILL after the grace period', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'autostash-proc-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const log = new BoundedLog(join(directory, 'p.log'));
  const child = startLocalProcess({ executable: 'sh', args: ['-c', 'trap "" TERM; echo ready; while true; do sleep 0.05; done'], env: { PATH: process.env.PATH ?? '' }, cwd: directory, log, killGraceMs: 100 });
  await eventually(() => log.text().includes('ready'), 'the process to start');
  child.terminate();
  child.terminate();
  const outcome = await child.done;
  t.equal(outcome.signal, 'SIGKILL');
  t.equal(outcome.exitCode, undefined);
});

import t from 'tap';
import { backoffDelay, createWorkQueue, systemClock, TerminalError, type QueueClock, type Reconcile } from '../../src/controllers/work-queue.js';

/** A clock whose time moves only when the test says so. */
class FakeClock implements QueueClock {
  private time = 0;
  private timers: Array<{ due: number; callback: () => void; handle: number }> = [];
  private nextHandle = 1;
  now = (): number => this.time;
  setTimeout = (callback: () => void, ms: number): unknown => {
    const handle = this.nextHandle++;
    this.timers.push({ due: this.time + ms, callback, handle });
    return handle;
  };
  clearTimeout = (handle: unknown): void => {
    this.timers = this.timers.filter((timer) => timer.handle !== handle);
  };
  pending(): number {
    return this.timers.length;
  }
  /** Moves time forward, firing due timers in order and letting promise callbacks run after each. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due);
      const timer = this.timers[0];
      if (timer === undefined || timer.due > target) break;
      this.timers.shift();
      this.time = timer.due;
      timer.callback();
      await flush();
    }
    this.time = target;
    await flush();
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function memoryLog() {
  const lines: Array<{ level: 'warn' | 'error'; fields: Record<string, unknown>; message: string }> = [];
  return {
    lines,
    logger: {
      warn: (fields: object, message: string) => lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message }),
      error: (fields: object, message: string) => lines.push({ level: 'error', fields: fields as Record<string, unknown>, message }),
    },
  };
}

t.test('backoffDelay doubles from the base and stops at the cap', async (t) => {
  const rows: Array<[failures: number, expected: number]> = [
    [0, 0],
    [1, 100],
    [2, 200],
    [3, 400],
    [10, 51_200],
    [11, 60_000],
    [1000, 60_000],
  ];
  for (const [failures, expected] of rows) t.equal(backoffDelay(failures, 100, 60_000), expected, `${failures} failures -> ${expected} ms`);
});

t.test('a key queued many times is handled once', async (t) => {
  const handled: string[] = [];
  const gate = deferred();
  const queue = createWorkQueue(
    async (key) => {
      handled.push(key);
      if (key === 'blocker') await gate.promise;
    },
    { name: 'dedupe', concurrency: 1, clock: new FakeClock() },
  );
  queue.add('blocker');
  for (let i = 0; i < 5; i += 1) queue.add('a');
  queue.add('b');
  t.same(queue.stats(), { queued: 2, processing: 1, delayed: 0 }, 'a waits once');
  gate.resolve();
  await queue.whenIdle();
  t.same(handled, ['blocker', 'a', 'b']);
  await queue.shutdown();
});

t.test('a key is never handled by two workers at once; added while in progress, it runs once more', async (t) => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const gates = [deferred(), deferred()];
  const queue = createWorkQueue(
    async () => {
      const gate = gates[runs];
      runs += 1;
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await gate?.promise;
      running -= 1;
    },
    { name: 'exclusive', concurrency: 4, clock: new FakeClock() },
  );
  queue.add('a');
  await flush();
  queue.add('a');
  queue.add('a');
  await flush();
  t.same(queue.stats(), { queued: 0, processing: 1, delayed: 0 }, 'the re-added key waits for the one in progress');
  gates[0]?.resolve();
  await flush();
  t.equal(runs, 2, 'handled again after the first run');
  gates[1]?.resolve();
  await queue.whenIdle();
  t.equal(runs, 2, 'three adds during one run make one more run');
  t.equal(maxRunning, 1);
  await queue.shutdown();
});

t.test('concurrency bounds the keys handled at the same time (default 2)', async (t) => {
  let running = 0;
  let maxRunning = 0;
  const gate = deferred();
  const queue = createWorkQueue(
    async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await gate.promise;
      running -= 1;
    },
    { name: 'bounded', clock: new FakeClock() },
  );
  for (let i = 0; i < 10; i += 1) queue.add(`key-${i}`);
  await flush();
  t.same(queue.stats(), { queued: 8, processing: 2, delayed: 0 });
  gate.resolve();
  await queue.whenIdle();
  t.equal(maxRunning, 2);
  await queue.shutdown();
});

t.test('failures retry with per-key exponential backoff, reset on success', async (t) => {
  const clock = new FakeClock();
  const { logger, lines } = memoryLog();
  let failUntil = 4;
  const attempts: Array<{ at: number; failures: number }> = [];
  const queue = createWorkQueue(
    (key, context) => {
      attempts.push({ at: clock.now(), failures: context.failures });
      if (attempts.length < failUntil) throw new Error(`boom ${key}`);
    },
    { name: 'backoff', baseBackoffMs: 100, maxBackoffMs: 250, clock, logger },
  );
  queue.add('a');
  await flush();
  t.equal(queue.failures('a'), 1);
  t.same(queue.stats(), { queued: 0, processing: 0, delayed: 1 });
  await clock.advance(99);
  t.equal(attempts.length, 1, 'not before the backoff');
  await clock.advance(1);
  t.equal(attempts.length, 2, 'retried after 100 ms');
  await clock.advance(200);
  t.equal(attempts.length, 3, 'then after 200 ms');
  await clock.advance(249);
  t.equal(attempts.length, 3);
  await clock.advance(1);
  t.equal(attempts.length, 4, 'then capped at 250 ms');
  t.same(attempts.map((a) => a.failures), [0, 1, 2, 3], 'the reconcile sees the failure count');
  t.equal(queue.failures('a'), 0, 'success resets the backoff');
  t.same(queue.stats(), { queued: 0, processing: 0, delayed: 0 }, 'and nothing is retried after success');
  t.match(lines, [
    { level: 'warn', message: 'reconcile failed; retrying after backoff', fields: { queue: 'backoff', key: 'a', err: 'boom a', failures: 1, retryInMs: 100 } },
    { fields: { failures: 2, retryInMs: 200 } },
    { fields: { failures: 3, retryInMs: 250 } },
  ]);

  failUntil = 6;
  queue.add('a');
  await flush();
  t.equal(queue.failures('a'), 1, 'a later failure starts from the base again');
  await queue.shutdown();
});

t.test('requeueAfter comes back after the delay; requeue uses the backoff', async (t) => {
  const clock = new FakeClock();
  const results = new Map<string, Array<{ requeueAfterMs?: number; requeue?: boolean }>>([
    ['scheduled', [{ requeueAfterMs: 5_000 }, {}]],
    ['waiting', [{ requeue: true }, { requeue: true }, {}]],
  ]);
  const runs: Array<[string, number]> = [];
  const queue = createWorkQueue(
    (key) => {
      runs.push([key, clock.now()]);
      return results.get(key)?.shift();
    },
    { name: 'requeue', baseBackoffMs: 10, clock },
  );
  queue.add('scheduled');
  queue.add('waiting');
  await flush();
  t.equal(queue.failures('waiting'), 1, 'requeue counts toward the backoff');
  await clock.advance(10_000);
  t.same(runs, [
    ['scheduled', 0],
    ['waiting', 0],
    ['waiting', 10],
    ['waiting', 30],
    ['scheduled', 5_000],
  ]);
  t.equal(queue.failures('waiting'), 0);
  t.same(queue.stats(), { queued: 0, processing: 0, delayed: 0 });
  await queue.shutdown();
});

t.test('addAfter keeps the earliest pending delay per key', async (t) => {
  const clock = new FakeClock();
  const runs: Array<[string, number]> = [];
  const queue = createWorkQueue((key) => void runs.push([key, clock.now()]), { name: 'after', clock });
  queue.addAfter('later-first', 1_000);
  queue.addAfter('later-first', 100);
  queue.addAfter('sooner-first', 100);
  queue.addAfter('sooner-first', 1_000);
  queue.addAfter('now', 0);
  t.equal(clock.pending(), 2, 'the replaced timer is cleared');
  await clock.advance(2_000);
  t.same(runs, [
    ['now', 0],
    ['later-first', 100],
    ['sooner-first', 100],
  ]);
  await queue.shutdown();
});

t.test('terminal errors are logged and not retried', async (t) => {
  const clock = new FakeClock();
  const { logger, lines } = memoryLog();
  let runs = 0;
  const queue = createWorkQueue(
    () => {
      runs += 1;
      throw new TerminalError('spec.target is missing');
    },
    { name: 'terminal', clock, logger },
  );
  queue.add('bad');
  await queue.whenIdle();
  await clock.advance(120_000);
  t.equal(runs, 1);
  t.equal(queue.failures('bad'), 0);
  t.same(queue.stats(), { queued: 0, processing: 0, delayed: 0 });
  t.match(lines, [{ level: 'error', message: 'reconcile failed permanently; not retrying', fields: { key: 'bad', err: 'spec.target is missing' } }]);
  queue.add('bad');
  await queue.whenIdle();
  t.equal(runs, 2, 'adding the key again handles it again');
  await queue.shutdown();
});

t.test('shutdown aborts and waits for in-flight work, drops the rest, and takes no more keys', async (t) => {
  const clock = new FakeClock();
  const gate = deferred();
  const seen: string[] = [];
  let signal: AbortSignal | undefined;
  const reconcile: Reconcile = async (key, context) => {
    seen.push(key);
    signal = context.signal;
    await gate.promise;
    if (key === 'fails-after-abort') throw new Error('aborted');
  };
  const queue = createWorkQueue(reconcile, { name: 'shutdown', concurrency: 2, clock });
  queue.add('in-flight');
  queue.add('fails-after-abort');
  queue.add('waiting');
  queue.addAfter('delayed', 1_000);
  await flush();
  let finished = false;
  const done = queue.shutdown().then(() => (finished = true));
  await flush();
  t.equal(signal?.aborted, true, 'reconciles see the abort');
  t.equal(finished, false, 'shutdown waits for in-flight reconciles');
  queue.add('late');
  gate.resolve();
  await done;
  await clock.advance(5_000);
  t.same(seen, ['in-flight', 'fails-after-abort'], 'waiting, delayed and late keys are dropped');
  t.same(queue.stats(), { queued: 0, processing: 0, delayed: 0 });
  t.equal(clock.pending(), 0, 'timers cleared');
  queue.addAfter('late', 10);
  t.equal(clock.pending(), 0);
  await queue.shutdown(); // idempotent
});

t.test('the system clock runs real timers', async (t) => {
  const runs: string[] = [];
  const queue = createWorkQueue((key) => void runs.push(key), { name: 'real', clock: systemClock });
  const done = new Promise<void>((resolve) => {
    const poll = () => (runs.length > 0 ? resolve() : setTimeout(poll, 5));
    poll();
  });
  queue.addAfter('x', 5);
  await done;
  t.same(runs, ['x']);
  queue.addAfter('y', 60_000);
  await queue.shutdown(); // clears the long timer, so the test process can exit
});

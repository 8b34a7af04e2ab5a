import t from 'tap';
import { Registry } from 'prom-client';
import { formatGoDuration } from '../../../src/domain/go-duration.js';
import { createBackupSessionMetrics } from '../../../src/controllers/session/metrics.js';
import { findCondition, withCondition } from '../../../src/controllers/session/session-conditions.js';
import { ulid } from '../../../src/controllers/session/ulid.js';

t.test('ulid: 10 time characters then 16 of randomness, Crockford base32', async (t) => {
  t.equal(ulid(0, new Uint8Array(10)), '0'.repeat(26), 'zero time, zero randomness');
  t.equal(ulid(2 ** 48 - 1, new Uint8Array(10).fill(255)), '7ZZZZZZZZZ' + 'Z'.repeat(16), 'the largest');
  // Known value from the ULID spec's example time (1469918176385 ms → 01ARYZ6S41).
  t.equal(ulid(1469918176385, new Uint8Array(10)).slice(0, 10), '01ARYZ6S41');
  t.ok(ulid(1000, new Uint8Array(10)) < ulid(1001, new Uint8Array(10)), 'sorts by time');
  t.equal(ulid(0, Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 1])).slice(10), '000000000000000' + '1');
  t.throws(() => ulid(-1, new Uint8Array(10)), /timeMs must be an integer/);
  t.throws(() => ulid(1.5, new Uint8Array(10)), /timeMs must be an integer/);
  t.throws(() => ulid(2 ** 48, new Uint8Array(10)), /timeMs must be an integer/);
  t.throws(() => ulid(0, new Uint8Array(9)), /random must be 10 bytes, got 9/);
});

t.test('durations as Go prints them', async (t) => {
  const rows: Array<[number, string]> = [
    [0, '0s'],
    [-5, '0s'],
    [250, '250ms'],
    [1000, '1s'],
    [2500, '2.5s'],
    [62_000, '1m2s'],
    [62_345, '1m2.345s'],
    [3_600_000, '1h0m0s'],
    [3_605_000, '1h0m5s'],
  ];
  for (const [ms, text] of rows) t.equal(formatGoDuration(ms), text, `${ms} ms`);
});

t.test('conditions: set, replace, keep the transition time when the status stays', async (t) => {
  const first = new Date('2026-01-01T00:00:00Z');
  const later = new Date('2026-01-01T01:00:00Z');
  const one = withCondition(undefined, { type: 'A', status: 'False', reason: 'Waiting', message: 'x' }, first);
  t.same(one, [{ type: 'A', status: 'False', reason: 'Waiting', message: 'x', lastTransitionTime: '2026-01-01T00:00:00Z' }]);
  t.equal(withCondition(one, { type: 'A', status: 'False', reason: 'Waiting', message: 'x' }, later)[0], one[0], 'unchanged: the same condition');
  t.equal(withCondition(one, { type: 'A', status: 'False', reason: 'Waiting', message: 'y' }, later)[0]?.lastTransitionTime, '2026-01-01T00:00:00Z', 'same status: transition time kept');
  t.equal(withCondition(one, { type: 'A', status: 'True', reason: 'Done', message: 'y' }, later)[0]?.lastTransitionTime, '2026-01-01T01:00:00Z', 'new status: new time');
  const two = withCondition(one, { type: 'B', status: 'True', reason: 'R', message: 'm' }, later);
  t.same(two.map((c) => c.type), ['A', 'B']);
  t.equal(findCondition(two, 'B')?.reason, 'R');
  t.equal(findCondition(undefined, 'B'), undefined);
});

t.test('metrics: a finished session updates every series', async (t) => {
  const registry = new Registry();
  const metrics = createBackupSessionMetrics(registry);
  t.equal(metrics.registry, registry);
  const base = { namespace: 'demo', configuration: 'c', session: 's', durationSeconds: 12, finishedAtSeconds: 1_700_000_000, bytesProcessed: 100, bytesAdded: 10 };
  metrics.observe({ ...base, phase: 'Succeeded' });
  metrics.observe({ ...base, phase: 'Failed', finishedAtSeconds: 1_800_000_000 });
  metrics.observe({ ...base, phase: 'Skipped' });
  const text = await registry.metrics();
  t.match(text, /autostash_backup_last_success_timestamp_seconds\{namespace="demo",configuration="c",session="s"\} 1700000000/, 'only a success moves the last-success gauge');
  t.match(text, /autostash_backup_bytes_processed_total\{namespace="demo",configuration="c",session="s"\} 200/, 'skipped sessions process nothing');
  t.match(text, /autostash_backup_bytes_added_total\{namespace="demo",configuration="c",session="s"\} 20/);
  t.match(text, /autostash_backup_sessions_total\{phase="Skipped"\} 1/);
  t.match(text, /autostash_backup_session_duration_seconds_count\{namespace="demo",configuration="c",session="s",phase="Failed"\} 1/);
  t.ok(createBackupSessionMetrics().registry instanceof Registry, 'a registry of its own by default');
});

import t from 'tap';
import type { RetentionPolicy } from '../../../src/api/index.js';
import {
  isoWeek,
  selectSnapshots,
  type SnapshotForRetention,
} from '../../../src/domain/retention/select-snapshots.js';

type Spec = NonNullable<RetentionPolicy['spec']>;
type Phase = SnapshotForRetention['phase'];

const snap = (name: string, iso: string, phase: Phase = 'Succeeded'): SnapshotForRetention => ({ name, time: new Date(iso), phase });
const NOW = new Date('2026-03-01T00:00:00Z');

interface Row {
  rule: string;
  policy: Spec;
  snapshots: SnapshotForRetention[];
  kept: Record<string, string[]>;
  now?: Date;
}

const rows: Row[] = [
  {
    rule: 'last keeps the N newest, whatever their bucket',
    policy: { successfulSnapshots: { last: 2 } },
    snapshots: [snap('a', '2026-02-01T10:00:00Z'), snap('b', '2026-02-01T10:05:00Z'), snap('c', '2026-02-01T10:10:00Z')],
    kept: { c: ['last'], b: ['last'] },
  },
  {
    rule: 'hourly: newest of each UTC hour; ties in the same hour keep only the newest',
    policy: { successfulSnapshots: { hourly: 2 } },
    snapshots: [
      snap('h1-early', '2026-02-01T09:10:00Z'),
      snap('h1-late', '2026-02-01T09:50:00Z'),
      snap('h2', '2026-02-01T10:00:00Z'),
      snap('h3-early', '2026-02-01T11:00:00Z'),
      snap('h3-late', '2026-02-01T11:59:59Z'),
    ],
    kept: { 'h3-late': ['hourly'], h2: ['hourly'] },
  },
  {
    rule: 'daily: buckets are UTC days (23:59:59 and 00:00:00 are different days)',
    policy: { successfulSnapshots: { daily: 3 } },
    snapshots: [
      snap('d1', '2026-02-01T23:59:59Z'),
      snap('d2-a', '2026-02-02T00:00:00Z'),
      snap('d2-b', '2026-02-02T18:00:00Z'),
      snap('d3', '2026-02-03T01:00:00Z'),
      snap('d0', '2026-01-31T12:00:00Z'),
    ],
    kept: { d3: ['daily'], 'd2-b': ['daily'], d1: ['daily'] },
  },
  {
    rule: 'daily: a gap of days does not count as buckets (only days that have snapshots)',
    policy: { successfulSnapshots: { daily: 2 } },
    snapshots: [snap('jan', '2026-01-01T00:00:00Z'), snap('feb', '2026-02-20T00:00:00Z'), snap('dec', '2025-12-01T00:00:00Z')],
    kept: { feb: ['daily'], jan: ['daily'] },
  },
  {
    rule: 'weekly: ISO weeks start on Monday (Sun 2026-02-01 and Mon 2026-02-02 differ)',
    policy: { successfulSnapshots: { weekly: 5 } },
    snapshots: [
      snap('w05-mon', '2026-01-26T00:00:00Z'),
      snap('w05-sun', '2026-02-01T23:00:00Z'),
      snap('w06-mon', '2026-02-02T01:00:00Z'),
      snap('w06-sat', '2026-02-07T01:00:00Z'),
    ],
    kept: { 'w06-sat': ['weekly'], 'w05-sun': ['weekly'] },
  },
  {
    rule: 'weekly: ISO week across a year boundary (2020-12-31 and 2021-01-03 are both 2020-W53)',
    policy: { successfulSnapshots: { weekly: 2 } },
    snapshots: [
      snap('2020-12-28', '2020-12-28T00:00:00Z'),
      snap('2020-12-31', '2020-12-31T00:00:00Z'),
      snap('2021-01-03', '2021-01-03T00:00:00Z'),
      snap('2021-01-04', '2021-01-04T00:00:00Z'),
    ],
    kept: { '2021-01-04': ['weekly'], '2021-01-03': ['weekly'] },
    now: new Date('2021-02-01T00:00:00Z'),
  },
  {
    rule: 'monthly: month boundary (Jan 31 23:59 and Feb 1 00:00 differ)',
    policy: { successfulSnapshots: { monthly: 2 } },
    snapshots: [
      snap('dec', '2025-12-15T00:00:00Z'),
      snap('jan-a', '2026-01-01T00:00:00Z'),
      snap('jan-b', '2026-01-31T23:59:00Z'),
      snap('feb', '2026-02-01T00:00:00Z'),
    ],
    kept: { feb: ['monthly'], 'jan-b': ['monthly'] },
  },
  {
    rule: 'yearly: year boundary',
    policy: { successfulSnapshots: { yearly: 2 } },
    snapshots: [
      snap('2024', '2024-06-01T00:00:00Z'),
      snap('2025-a', '2025-01-01T00:00:00Z'),
      snap('2025-b', '2025-12-31T23:59:59Z'),
      snap('2026', '2026-01-01T00:00:00Z'),
    ],
    kept: { '2026': ['yearly'], '2025-b': ['yearly'] },
  },
  {
    rule: 'several rules keep the same snapshot and every reason is listed',
    policy: { successfulSnapshots: { last: 1, daily: 2, monthly: 2, yearly: 1 } },
    snapshots: [snap('jan', '2026-01-20T00:00:00Z'), snap('feb-1', '2026-02-01T00:00:00Z'), snap('feb-2', '2026-02-02T00:00:00Z')],
    kept: { 'feb-2': ['last', 'daily', 'monthly', 'yearly'], 'feb-1': ['daily'], jan: ['monthly'] },
  },
  {
    rule: 'a negative count keeps every bucket (restic -1 = unlimited)',
    policy: { successfulSnapshots: { daily: -1 } },
    snapshots: [snap('a', '2026-02-01T01:00:00Z'), snap('b', '2026-02-01T02:00:00Z'), snap('c', '2026-02-02T01:00:00Z')],
    kept: { c: ['daily'], b: ['daily'] },
  },
  {
    rule: 'equal times: the larger name counts as newer',
    policy: { successfulSnapshots: { daily: 1 } },
    snapshots: [snap('s-1', '2026-02-01T00:00:00Z'), snap('s-2', '2026-02-01T00:00:00Z')],
    kept: { 's-2': ['daily'] },
  },
  {
    rule: 'maxRetentionPeriod removes old snapshots even when a rule keeps them',
    policy: { maxRetentionPeriod: '30d', successfulSnapshots: { monthly: 12 } },
    snapshots: [snap('old', '2026-01-15T00:00:00Z'), snap('new', '2026-02-15T00:00:00Z'), snap('edge', '2026-01-30T00:00:00Z')],
    kept: { new: ['monthly'], edge: ['monthly'] },
  },
  {
    rule: 'maxRetentionPeriod alone keeps every successful snapshot younger than the period (1mo = 30d)',
    policy: { maxRetentionPeriod: '1mo' },
    snapshots: [snap('a', '2026-02-28T00:00:00Z'), snap('b', '2026-02-27T00:00:00Z'), snap('c', '2026-01-29T23:59:59Z')],
    kept: { a: ['no successfulSnapshots rule'], b: ['no successfulSnapshots rule'] },
  },
  {
    rule: 'maxRetentionPeriod also removes old failed snapshots',
    policy: { maxRetentionPeriod: '1d' },
    snapshots: [snap('f-old', '2026-02-20T00:00:00Z', 'Failed')],
    kept: {},
  },
  {
    rule: 'failed snapshots: default keeps the newest one',
    policy: { successfulSnapshots: { last: 5 } },
    snapshots: [snap('f1', '2026-02-01T00:00:00Z', 'Failed'), snap('f2', '2026-02-02T00:00:00Z', 'Failed'), snap('ok', '2026-01-01T00:00:00Z')],
    kept: { f2: ['failedSnapshots.last'], ok: ['last'] },
  },
  {
    rule: 'failed snapshots: failedSnapshots.last = 2; failed ones do not use successful slots',
    policy: { successfulSnapshots: { last: 1 }, failedSnapshots: { last: 2 } },
    snapshots: [
      snap('f1', '2026-02-01T00:00:00Z', 'Failed'),
      snap('f2', '2026-02-02T00:00:00Z', 'Failed'),
      snap('f3', '2026-02-03T00:00:00Z', 'Failed'),
      snap('ok', '2026-01-01T00:00:00Z'),
    ],
    kept: { f3: ['failedSnapshots.last'], f2: ['failedSnapshots.last'], ok: ['last'] },
  },
  {
    rule: 'failed snapshots: failedSnapshots.last = 0 removes them all',
    policy: { failedSnapshots: { last: 0 } },
    snapshots: [snap('f1', '2026-02-01T00:00:00Z', 'Failed'), snap('ok', '2026-02-01T00:00:00Z')],
    kept: { ok: ['no successfulSnapshots rule'] },
  },
  {
    rule: 'failed snapshots: a negative failedSnapshots.last keeps them all',
    policy: { failedSnapshots: { last: -1 } },
    snapshots: [snap('f1', '2026-02-01T00:00:00Z', 'Failed'), snap('f2', '2026-02-02T00:00:00Z', 'Failed')],
    kept: { f2: ['failedSnapshots.last'], f1: ['failedSnapshots.last'] },
  },
  {
    rule: 'running and pending snapshots are never removed, not even by maxRetentionPeriod',
    policy: { maxRetentionPeriod: '1h', successfulSnapshots: { last: 1 } },
    snapshots: [snap('run', '2025-01-01T00:00:00Z', 'Running'), snap('pend', '2025-01-02T00:00:00Z', 'Pending')],
    kept: { pend: ['in progress (Pending)'], run: ['in progress (Running)'] },
  },
  {
    rule: 'running snapshots do not take a successful slot',
    policy: { successfulSnapshots: { last: 1 } },
    snapshots: [snap('ok', '2026-02-01T00:00:00Z'), snap('run', '2026-02-02T00:00:00Z', 'Running')],
    kept: { run: ['in progress (Running)'], ok: ['last'] },
  },
  {
    rule: 'an empty policy keeps everything, failed ones included',
    policy: {},
    snapshots: [
      snap('f1', '2026-02-01T00:00:00Z', 'Failed'),
      snap('f2', '2026-02-02T00:00:00Z', 'Failed'),
      snap('ok', '2020-01-01T00:00:00Z'),
    ],
    kept: { f2: ['retention policy has no rules'], f1: ['retention policy has no rules'], ok: ['retention policy has no rules'] },
  },
  {
    rule: 'zero counts count as no rule',
    policy: { successfulSnapshots: { last: 0, daily: 0 }, maxRetentionPeriod: '2y' },
    snapshots: [snap('a', '2026-01-01T00:00:00Z'), snap('b', '2025-01-01T00:00:00Z')],
    kept: { a: ['no successfulSnapshots rule'], b: ['no successfulSnapshots rule'] },
  },
];

t.test('selectSnapshots: one row per rule and edge case', async (t) => {
  for (const row of rows) {
    const decision = selectSnapshots(row.snapshots, row.policy, row.now ?? NOW);
    const kept = Object.fromEntries(decision.keep.map((k) => [k.name, k.reasons]));
    t.same(kept, row.kept, `${row.rule}: kept`);
    const expectedRemoved = row.snapshots.map((s) => s.name).filter((n) => !(n in row.kept)).sort();
    t.same(decision.remove.map((r) => r.name).sort(), expectedRemoved, `${row.rule}: removed`);
    t.same(decision.warnings, [], `${row.rule}: no warnings`);
  }
});

t.test('selectSnapshots: removal reasons and output order', async (t) => {
  const decision = selectSnapshots(
    [
      snap('old', '2025-01-01T00:00:00Z'),
      snap('unselected', '2026-02-27T00:00:00Z'),
      snap('f-old', '2026-02-25T00:00:00Z', 'Failed'),
      snap('f-new', '2026-02-26T00:00:00Z', 'Failed'),
      snap('kept', '2026-02-28T00:00:00Z'),
    ],
    { maxRetentionPeriod: '30d', successfulSnapshots: { last: 1 } },
    NOW,
  );
  t.same(decision.keep, [
    { name: 'kept', reasons: ['last'] },
    { name: 'f-new', reasons: ['failedSnapshots.last'] },
  ]);
  t.same(decision.remove, [
    { name: 'unselected', reason: 'not selected by any successfulSnapshots rule' },
    { name: 'f-old', reason: 'beyond failedSnapshots.last (1)' },
    { name: 'old', reason: 'older than maxRetentionPeriod (30d)' },
  ]);
});

t.test('selectSnapshots: a bad or non-positive maxRetentionPeriod is ignored with a warning', async (t) => {
  const snapshots = [snap('ancient', '2000-01-01T00:00:00Z')];
  for (const period of ['30', '5s', '0d', '-1d']) {
    const decision = selectSnapshots(snapshots, { maxRetentionPeriod: period }, NOW);
    t.same(decision.keep, [{ name: 'ancient', reasons: ['no successfulSnapshots rule'] }], `${period}: kept`);
    t.same(decision.remove, [], `${period}: nothing removed`);
    t.equal(decision.warnings.length, 1, `${period}: one warning`);
    t.match(decision.warnings[0], /^maxRetentionPeriod is ignored: /, `${period}: warning names the field`);
  }
});

t.test('selectSnapshots: an undefined spec keeps everything; input is not mutated', async (t) => {
  const snapshots = [snap('b', '2026-01-01T00:00:00Z'), snap('a', '2026-02-01T00:00:00Z')];
  const decision = selectSnapshots(snapshots, undefined, NOW);
  t.same(decision.keep.map((k) => k.name), ['a', 'b']);
  t.same(snapshots.map((s) => s.name), ['b', 'a']);
});

t.test('isoWeek matches Go Time.ISOWeek', async (t) => {
  const rows: Array<[string, number, number]> = [
    ['2020-12-31T12:00:00Z', 2020, 53],
    ['2021-01-03T23:59:59Z', 2020, 53],
    ['2021-01-04T00:00:00Z', 2021, 1],
    ['2024-12-30T00:00:00Z', 2025, 1],
    ['2026-01-01T00:00:00Z', 2026, 1],
    ['2027-01-01T00:00:00Z', 2026, 53],
    ['2026-06-15T00:00:00Z', 2026, 25],
  ];
  for (const [iso, year, week] of rows) t.same(isoWeek(new Date(iso)), { year, week }, iso);
});

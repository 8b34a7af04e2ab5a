import t from 'tap';
import type { BackupConfiguration, BackupSession } from '../../../src/api/core.js';
import type { Repository } from '../../../src/api/storage.js';
import { buildOverview, formatAge, overviewCells, OVERVIEW_COLUMNS, type OverviewInput, type OverviewRow } from '../../../src/domain/status/overview.js';

const now = new Date('2026-01-10T12:00:30Z');
const minutesAgo = (minutes: number): string => new Date(now.getTime() - minutes * 60_000).toISOString().replace(/\.000Z$/, 'Z');

function configuration(overrides: { name?: string; namespace?: string; created?: string; spec?: Record<string, unknown>; status?: Record<string, unknown> } = {}): BackupConfiguration {
  return {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupConfiguration',
    metadata: { name: overrides.name ?? 'app', namespace: overrides.namespace ?? 'demo', creationTimestamp: overrides.created ?? minutesAgo(30) },
    spec: {
      target: { apiGroup: 'apps', kind: 'Deployment', name: 'web', namespace: 'demo' },
      sessions: [{ name: 'hourly', scheduler: { schedule: '0 * * * *' }, repositories: [{ name: 'web-repo' }] }],
      ...overrides.spec,
    },
    status: { phase: 'Ready', sessions: [{ name: 'hourly', nextSchedule: '2026-01-10T13:00:00Z' }], ...overrides.status },
  } as BackupConfiguration;
}

function backupSession(name: string, phase: string | undefined, time: { scheduled?: string; created?: string }, labels: Record<string, string> = {}): BackupSession {
  return {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupSession',
    metadata: {
      name,
      namespace: 'demo',
      creationTimestamp: time.created,
      labels: { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': 'app', 'kubestash.com/session-name': 'hourly', ...labels },
      annotations: time.scheduled === undefined ? {} : { 'autostash.dev/scheduled-at': time.scheduled },
    },
    spec: { session: 'hourly' },
    ...(phase === undefined ? {} : { status: { phase } }),
  } as BackupSession;
}

const repository = (name: string, status: Record<string, unknown> | undefined, namespace = 'demo'): Repository =>
  ({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository', metadata: { name, namespace }, ...(status ? { status } : {}) }) as Repository;

const overview = (input: Partial<OverviewInput>): OverviewRow[] => buildOverview({ configurations: [configuration()], backupSessions: [], repositories: [], now, ...input });

t.test('one row per rule: state and reasons', async (t) => {
  const rows: Array<{ rule: string; input: Partial<OverviewInput>; state: OverviewRow['state']; reasons: RegExp[] }> = [
    { rule: 'new configuration, nothing run yet, within the window: Ok', input: {}, state: 'Ok', reasons: [] },
    {
      rule: 'latest session Succeeded within factor × interval: Ok',
      input: { backupSessions: [backupSession('app-hourly-1', 'Succeeded', { scheduled: '2026-01-10T12:00:00Z' })] },
      state: 'Ok',
      reasons: [],
    },
    {
      rule: "a session's latest BackupSession Failed: Failing, naming session and BackupSession",
      input: { backupSessions: [backupSession('app-hourly-1', 'Succeeded', { scheduled: '2026-01-10T11:00:00Z' }), backupSession('app-hourly-2', 'Failed', { scheduled: '2026-01-10T12:00:00Z' })] },
      state: 'Failing',
      reasons: [/^session hourly: the last BackupSession app-hourly-2 Failed 30s ago$/],
    },
    {
      rule: 'an older failure followed by a success: Ok',
      input: { backupSessions: [backupSession('app-hourly-1', 'Failed', { scheduled: '2026-01-10T11:00:00Z' }), backupSession('app-hourly-2', 'Succeeded', { scheduled: '2026-01-10T12:00:00Z' })] },
      state: 'Ok',
      reasons: [],
    },
    {
      rule: 'phase Invalid with the validation message: Failing',
      input: { configurations: [configuration({ status: { phase: 'Invalid', conditions: [{ type: 'ValidationPassed', status: 'False', reason: 'R', message: 'spec.backends: missing' }] } })] },
      state: 'Failing',
      reasons: [/^the configuration is Invalid: spec\.backends: missing$/],
    },
    { rule: 'phase Invalid without a message', input: { configurations: [configuration({ status: { phase: 'Invalid' } })] }, state: 'Failing', reasons: [/^the configuration is Invalid$/] },
    {
      rule: 'phase NotReady: the missing target and unready backends are named',
      input: { configurations: [configuration({ status: { phase: 'NotReady', targetFound: false, backends: [{ name: 'gcs', ready: false }, { name: 'ok', ready: true }] } })] },
      state: 'Failing',
      reasons: [/^the configuration is NotReady: its target was not found; backend gcs is not ready$/],
    },
    {
      rule: 'phase NotReady without a known cause (no target needed)',
      input: { configurations: [configuration({ spec: { target: undefined }, status: { phase: 'NotReady' } })] },
      state: 'Failing',
      reasons: [/^the configuration is NotReady$/],
    },
    {
      rule: 'last success older than factor × interval: Overdue',
      input: { backupSessions: [backupSession('app-hourly-1', 'Succeeded', { scheduled: '2026-01-10T09:00:00Z' })], configurations: [configuration({ created: minutesAgo(600) })] },
      state: 'Overdue',
      reasons: [/^session hourly: the last successful backup was 3h ago, more than 2 × its schedule interval \(60m\)$/],
    },
    {
      rule: 'a larger factor tolerates it: Ok',
      input: { overdueFactor: 4, backupSessions: [backupSession('app-hourly-1', 'Succeeded', { scheduled: '2026-01-10T09:00:00Z' })], configurations: [configuration({ created: minutesAgo(600) })] },
      state: 'Ok',
      reasons: [],
    },
    {
      rule: 'never succeeded, created longer ago than the window: Overdue since creation',
      input: { configurations: [configuration({ created: minutesAgo(180) })], backupSessions: [backupSession('app-hourly-1', 'Running', { created: minutesAgo(1) })] },
      state: 'Overdue',
      reasons: [/^session hourly: no successful backup since the configuration was created 3h ago, more than 2 × its schedule interval \(60m\)$/],
    },
    {
      rule: 'no creation time and no success: the window has no start, not overdue',
      input: { configurations: [{ ...configuration(), metadata: { name: 'app', namespace: 'demo' } } as BackupConfiguration] },
      state: 'Ok',
      reasons: [],
    },
    {
      rule: 'nextSchedule past by more than the grace: Overdue (scheduler stalled)',
      input: { configurations: [configuration({ status: { sessions: [{ name: 'hourly', nextSchedule: '2026-01-10T11:50:00Z' }] } })] },
      state: 'Overdue',
      reasons: [/^session hourly: its next schedule passed 10m ago and was not run; is autostash running \(and holding its Lease\)\?$/],
    },
    {
      rule: 'nextSchedule past within the grace: Ok',
      input: { configurations: [configuration({ status: { sessions: [{ name: 'hourly', nextSchedule: '2026-01-10T12:00:00Z' }] } })] },
      state: 'Ok',
      reasons: [],
    },
    {
      rule: 'a shorter grace catches it',
      input: { scheduleGraceMs: 10_000, configurations: [configuration({ status: { sessions: [{ name: 'hourly', nextSchedule: '2026-01-10T12:00:00Z' }] } })] },
      state: 'Overdue',
      reasons: [/^session hourly: its next schedule passed 30s ago/],
    },
    {
      rule: 'paused: never overdue',
      input: { configurations: [configuration({ created: minutesAgo(600), spec: { paused: true }, status: { sessions: [{ name: 'hourly', nextSchedule: minutesAgo(300) }] } })] },
      state: 'Paused',
      reasons: [],
    },
    {
      rule: 'paused with a failed last session: still Failing',
      input: { configurations: [configuration({ spec: { paused: true } })], backupSessions: [backupSession('app-hourly-1', 'Failed', { scheduled: '2026-01-10T12:00:00Z' })] },
      state: 'Failing',
      reasons: [/Failed/],
    },
    {
      rule: 'suspended session: not overdue',
      input: { configurations: [configuration({ created: minutesAgo(600), spec: { sessions: [{ name: 'hourly', scheduler: { schedule: '0 * * * *', suspend: true } }] } })] },
      state: 'Ok',
      reasons: [],
    },
    {
      rule: 'unparseable schedule: left to the configuration phase, not overdue',
      input: { configurations: [configuration({ created: minutesAgo(600), spec: { sessions: [{ name: 'hourly', scheduler: { schedule: 'often' } }] } })] },
      state: 'Ok',
      reasons: [],
    },
    {
      rule: 'failing and overdue together: Failing, both reasons',
      input: {
        configurations: [configuration({ created: minutesAgo(600), status: { phase: 'Invalid' } })],
        backupSessions: [backupSession('app-hourly-1', 'Failed', { scheduled: '2026-01-10T12:00:00Z' })],
      },
      state: 'Failing',
      reasons: [/Invalid/, /app-hourly-1 Failed/, /no successful backup since the configuration was created/],
    },
  ];
  for (const row of rows) {
    const [result] = overview(row.input);
    t.equal(result?.state, row.state, `${row.rule}: state`);
    t.equal(result?.problems.length, row.reasons.length, `${row.rule}: ${JSON.stringify(result?.problems)}`);
    row.reasons.forEach((reason, index) => t.match(result?.problems[index]?.reason, reason, `${row.rule}: reason ${index}`));
    for (const problem of result?.problems ?? []) t.equal(problem.kind, /Invalid|NotReady|Failed/.test(problem.reason) ? 'failing' : 'overdue', `${row.rule}: kind`);
  }
});

t.test('which BackupSessions count for a configuration', async (t) => {
  const rows: Array<{ rule: string; sessions: BackupSession[]; last: string | undefined }> = [
    { rule: 'none', sessions: [], last: undefined },
    {
      rule: 'the latest by scheduled slot, not by creation',
      sessions: [backupSession('late-created', 'Succeeded', { scheduled: '2026-01-10T11:00:00Z', created: '2026-01-10T12:00:10Z' }), backupSession('newest-slot', 'Running', { scheduled: '2026-01-10T12:00:00Z', created: '2026-01-10T12:00:01Z' })],
      last: 'newest-slot',
    },
    { rule: 'a triggered session counts by its creation', sessions: [backupSession('scheduled', 'Succeeded', { scheduled: '2026-01-10T11:00:00Z' }), backupSession('triggered', 'Succeeded', { created: minutesAgo(5) })], last: 'triggered' },
    { rule: 'another configuration of that name elsewhere is not ours', sessions: [{ ...backupSession('elsewhere', 'Failed', { created: minutesAgo(1) }), metadata: { ...backupSession('x', 'Failed', { created: minutesAgo(1) }).metadata, namespace: 'other' } } as BackupSession], last: undefined },
    { rule: 'another configuration', sessions: [backupSession('other-config', 'Failed', { created: minutesAgo(1) }, { 'kubestash.com/invoker-name': 'other' })], last: undefined },
    { rule: 'not invoked by a BackupConfiguration', sessions: [backupSession('by-policy', 'Failed', { created: minutesAgo(1) }, { 'kubestash.com/invoker-kind': 'BackupBatch' })], last: undefined },
    { rule: 'no time at all', sessions: [backupSession('timeless', 'Failed', {})], last: undefined },
    {
      rule: 'no session label: spec.session names it',
      sessions: [{ ...backupSession('unlabelled', 'Failed', { created: minutesAgo(1) }), metadata: { name: 'unlabelled', namespace: 'demo', creationTimestamp: minutesAgo(1), labels: { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': 'app' } } } as BackupSession],
      last: 'unlabelled',
    },
  ];
  for (const row of rows) {
    const [result] = overview({ backupSessions: row.sessions });
    t.equal(result?.lastBackup?.name, row.last, row.rule);
  }
  const [unlabelled] = overview({ backupSessions: rows.at(-1)?.sessions ?? [] });
  t.equal(unlabelled?.state, 'Failing', 'the unlabelled failure counts for session hourly');
  const [timeless] = overview({ backupSessions: [backupSession('nameless', undefined, { created: minutesAgo(2) })] });
  t.same(timeless?.lastBackup, { name: 'nameless', phase: 'Pending', time: new Date(minutesAgo(2)) }, 'no phase yet reads Pending');
});

t.test('repository totals', async (t) => {
  const rows: Array<{ rule: string; repositories: Repository[]; sizeBytes: number | undefined; snapshots: number | undefined }> = [
    { rule: 'no repositories', repositories: [], sizeBytes: undefined, snapshots: undefined },
    { rule: 'one reporting', repositories: [repository('web-repo', { size: '1.5 KiB', snapshotCount: 3 })], sizeBytes: 1536, snapshots: 3 },
    { rule: 'not yet summarised', repositories: [repository('web-repo', undefined)], sizeBytes: undefined, snapshots: undefined },
    { rule: 'unreadable size', repositories: [repository('web-repo', { size: 'lots', snapshotCount: 0 })], sizeBytes: undefined, snapshots: 0 },
    { rule: 'same name in another namespace, or a repository nobody names', repositories: [repository('web-repo', { size: '1 KiB', snapshotCount: 1 }, 'other'), repository('stray', { size: '1 KiB', snapshotCount: 1 })], sizeBytes: undefined, snapshots: undefined },
  ];
  for (const row of rows) {
    const [result] = overview({ repositories: row.repositories });
    t.same([result?.sizeBytes, result?.snapshots], [row.sizeBytes, row.snapshots], row.rule);
  }
  const two = configuration({ spec: { sessions: [{ name: 'a', repositories: [{ name: 'r1' }, { name: 'r2' }] }, { name: 'b', repositories: [{ name: 'r1' }] }, { name: 'c' }] } });
  const [summed] = overview({ configurations: [two], repositories: [repository('r1', { size: '1 MiB', snapshotCount: 2 }), repository('r2', { size: '1 MiB', snapshotCount: 1 })] });
  t.same([summed?.sizeBytes, summed?.snapshots], [2 * 2 ** 20, 3], 'every repository of every session, each once');
});

t.test('rows: target, sessions, next schedule, order', async (t) => {
  const configurations = [
    configuration({ name: 'zeta' }),
    configuration({ name: 'alpha', namespace: 'z-ns' }),
    configuration({ name: 'beta', spec: { target: undefined, sessions: [{ name: 'a', scheduler: { schedule: '0 * * * *' } }, { name: 'b', scheduler: { schedule: '0 * * * *', suspend: true } }] }, status: { sessions: [{ name: 'a', nextSchedule: '2026-01-10T14:00:00Z' }, { name: 'b', nextSchedule: '2026-01-10T12:30:00Z' }, { name: 'gone', nextSchedule: '2026-01-10T12:10:00Z' }] } }),
    configuration({ name: 'gamma', spec: { sessions: undefined }, status: { sessions: [{ name: 'x', nextSchedule: 'soon' }] } }),
  ];
  const rows = buildOverview({ configurations, backupSessions: [], repositories: [], now });
  t.same(rows.map((row) => `${row.namespace}/${row.name}`), ['demo/beta', 'demo/gamma', 'demo/zeta', 'z-ns/alpha'], 'sorted by namespace then name');
  const beta = rows[0] as OverviewRow;
  t.equal(beta.target, 'cluster', 'no target: a cluster-wide configuration');
  t.same(beta.sessions, ['a', 'b']);
  t.same(beta.nextSchedule, new Date('2026-01-10T14:00:00Z'), 'suspended and removed sessions do not count for NEXT');
  t.equal(rows[1]?.nextSchedule, undefined, 'an unreadable nextSchedule is left out');
  t.equal(rows[2]?.target, 'Deployment/web');
  t.throws(() => buildOverview({ configurations, backupSessions: [], repositories: [], now, overdueFactor: 0.5 }), RangeError);
  t.throws(() => buildOverview({ configurations, backupSessions: [], repositories: [], now, overdueFactor: Number.NaN }), /at least 1/);
});

t.test('cells', async (t) => {
  t.equal(OVERVIEW_COLUMNS.length, 9);
  const base: OverviewRow = { namespace: 'demo', name: 'app', target: 'Deployment/web', sessions: ['a', 'b'], lastBackup: { name: 's', phase: 'Succeeded', time: new Date(minutesAgo(3)) }, nextSchedule: new Date('2026-01-10T12:05:30Z'), paused: false, sizeBytes: 1536, snapshots: 4, state: 'Ok', problems: [] };
  const rows: Array<{ rule: string; row: OverviewRow; cells: string[] }> = [
    { rule: 'everything known', row: base, cells: ['demo', 'app', 'Deployment/web', 'a,b', 'Succeeded 3m', 'in 5m', '1.5 KiB', '4', 'Ok'] },
    { rule: 'nothing known', row: { ...base, sessions: [], lastBackup: undefined, nextSchedule: undefined, sizeBytes: undefined, snapshots: undefined }, cells: ['demo', 'app', 'Deployment/web', '-', '-', '-', '-', '-', 'Ok'] },
    { rule: 'next schedule in the past', row: { ...base, nextSchedule: new Date(minutesAgo(10)), state: 'Overdue' }, cells: ['demo', 'app', 'Deployment/web', 'a,b', 'Succeeded 3m', '10m ago', '1.5 KiB', '4', 'Overdue'] },
    { rule: 'paused', row: { ...base, paused: true, state: 'Paused' }, cells: ['demo', 'app', 'Deployment/web', 'a,b', 'Succeeded 3m', 'paused', '1.5 KiB', '4', 'Paused'] },
  ];
  for (const row of rows) t.same(overviewCells(row.row, now), row.cells, row.rule);
});

t.test('formatAge', async (t) => {
  const rows: Array<[number, string]> = [
    [-5000, '0s'],
    [0, '0s'],
    [45_000, '45s'],
    [119_999, '119s'],
    [120_000, '2m'],
    [179 * 60_000, '179m'],
    [180 * 60_000, '3h'],
    [47 * 3_600_000, '47h'],
    [48 * 3_600_000, '2d'],
    [400 * 86_400_000, '400d'],
  ];
  for (const [ms, text] of rows) t.equal(formatAge(ms), text, `${ms} ms`);
});

t.test('objects with every optional field missing still make a row', async (t) => {
  const bare = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' } as BackupConfiguration;
  t.same(buildOverview({ configurations: [bare], backupSessions: [], repositories: [], now }), [
    { namespace: '', name: '', target: 'cluster', sessions: [], lastBackup: undefined, nextSchedule: undefined, paused: false, sizeBytes: undefined, snapshots: undefined, state: 'Ok', problems: [] },
  ]);

  const nameless = {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupConfiguration',
    metadata: {},
    spec: { target: {}, sessions: [{ scheduler: { schedule: '0 * * * *' }, repositories: [{}] }] },
    status: { phase: 'NotReady', targetFound: true, backends: [{}], sessions: [{}, { nextSchedule: 'later' }] },
  } as BackupConfiguration;
  const failedSession = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', metadata: { creationTimestamp: minutesAgo(1), labels: { 'kubestash.com/invoker-kind': 'BackupConfiguration' } }, status: { phase: 'Failed' } } as BackupSession;
  const olderSession = { ...failedSession, metadata: { ...failedSession.metadata, creationTimestamp: minutesAgo(2) }, status: { phase: 'Succeeded' } } as BackupSession;
  const unlabelled = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', metadata: { creationTimestamp: minutesAgo(1) } } as BackupSession;
  const [row] = buildOverview({ configurations: [nameless], backupSessions: [failedSession, olderSession, unlabelled], repositories: [{ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' } as Repository], now });
  t.equal(row?.target, '/', 'a target without kind and name');
  t.same(row?.sessions, ['']);
  t.same(row?.lastBackup, { name: '', phase: 'Failed', time: new Date(minutesAgo(1)) }, 'the newest, though listed first');
  t.same(row?.problems.map((problem) => problem.reason), ['the configuration is NotReady: backend  is not ready', 'session : the last BackupSession  Failed 60s ago']);
  t.same([row?.sizeBytes, row?.snapshots], [undefined, undefined], 'a repository without metadata belongs to nobody');
});

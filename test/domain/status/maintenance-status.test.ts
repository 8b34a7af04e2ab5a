import t from 'tap';
import type { Condition } from '../../../src/api/common.js';
import type { Repository, Snapshot } from '../../../src/api/storage.js';
import { configurationPhase } from '../../../src/domain/status/configuration-phase.js';
import { repositoryInitFailureCondition, repositoryPhase, summarizeRepositorySnapshots } from '../../../src/domain/status/repository-phase.js';
import { initFailureCondition, storagePhase, storageRepositories } from '../../../src/domain/status/storage-phase.js';

const c = (type: string, status: string): Condition => ({ type, status, lastTransitionTime: '2025-01-01T00:00:00Z' });

t.test('storagePhase: one row per rule', async (t) => {
  const rows: Array<[string, Condition[] | undefined, string]> = [
    ['no conditions', undefined, 'NotReady'],
    ['initialized, no secret condition (credential-less / local)', [c('BackendInitialized', 'True')], 'Ready'],
    ['initialized, secret found', [c('BackendInitialized', 'True'), c('BackendSecretFound', 'True')], 'Ready'],
    ['initialized, secret missing', [c('BackendInitialized', 'True'), c('BackendSecretFound', 'False')], 'NotReady'],
    ['initialization failed', [c('BackendInitialized', 'False'), c('BackendSecretFound', 'True')], 'NotReady'],
    ['initialization unknown', [c('BackendInitialized', 'Unknown')], 'NotReady'],
  ];
  for (const [rule, conditions, phase] of rows) t.equal(storagePhase(conditions), phase, rule);
});

t.test('init failure conditions: one row per rule', async (t) => {
  for (const [name, fn, type, reason] of [
    ['storage', initFailureCondition, 'BackendInitialized', 'BackendInitializationFailed'],
    ['repository', repositoryInitFailureCondition, 'RepositoryInitialized', 'RepositoryInitializationFailed'],
  ] as const) {
    t.equal(fn([], undefined), undefined, `${name}: no failed Job, nothing to write`);
    t.equal(fn([c(type, 'False')], 'boom'), undefined, `${name}: the executor already said why`);
    t.match(fn([c(type, 'True')], 'boom'), { type, status: 'False', reason, message: /Job failed: boom$/ }, `${name}: a stale True is overruled`);
    t.match(fn(undefined, 'boom'), { type, status: 'False', reason }, `${name}: no condition yet`);
  }
});

t.test('storageRepositories: sorted, sizes summed, unsized left out', async (t) => {
  const repo = (namespace: string, name: string, size?: string): Repository => ({ metadata: { name, namespace }, spec: { path: `p/${name}` }, ...(size ? { status: { size } } : {}) });
  t.same(storageRepositories([]), { repositories: [] }, 'none: no totalSize');
  const result = storageRepositories([repo('b', 'x', '1 MiB'), repo('a', 'y'), repo('a', 'x', '512 KiB'), repo('a', 'z', 'garbage')]);
  t.same(result.repositories.map((r) => `${r.namespace}/${r.name}`), ['a/x', 'a/y', 'a/z', 'b/x']);
  t.equal(result.totalSize, '1.5 MiB');
  t.same(result.repositories[1], { name: 'y', namespace: 'a', path: 'p/y', synced: true });
  t.same(storageRepositories([{}]).repositories, [{ name: '', namespace: '', path: '', synced: true }], 'empty objects do not throw');
});

t.test('repositoryPhase: one row per rule', async (t) => {
  t.equal(repositoryPhase(undefined), 'NotReady', 'no condition');
  t.equal(repositoryPhase([c('RepositoryInitialized', 'True')]), 'Ready', 'initialized');
  t.equal(repositoryPhase([c('RepositoryInitialized', 'False')]), 'NotReady', 'initialization failed');
});

t.test('summarizeRepositorySnapshots: one row per rule', async (t) => {
  const snap = (name: string, phase: string | undefined, time: string | undefined, extra: Record<string, unknown> = {}, created?: string): Snapshot =>
    ({ metadata: { name, ...(created ? { creationTimestamp: created } : {}) }, spec: { session: 'nightly' }, status: { ...(phase ? { phase } : {}), ...(time ? { snapshotTime: time } : {}), ...extra } }) as Snapshot;
  t.same(summarizeRepositorySnapshots([]), { snapshotCount: 0 }, 'no Snapshots: a count of 0, nothing else');
  const many = [
    snap('s1', 'Succeeded', '2025-01-01T01:00:00Z', { size: '1 MiB', integrity: true, components: { dump: { path: 'repository/v1/nightly/dump' } } }),
    snap('s2', 'Succeeded', '2025-01-01T02:00:00Z', { size: '2 MiB', integrity: true, components: { 'dump-pod-0': { path: 'repository/v1/nightly/dump-pod-0' }, x: {} } }),
    snap('s3', 'Failed', '2025-01-01T03:00:00Z', { integrity: true }),
    snap('s4', 'Running', undefined, {}, '2025-01-01T04:00:00Z'),
    snap('s5', 'Succeeded', '2025-01-01T00:30:00Z'),
    snap('s6', 'Succeeded', '2025-01-01T00:10:00Z'),
    snap('a0', undefined, undefined),
    { ...snap('gone', 'Succeeded', '2025-01-02T00:00:00Z'), metadata: { name: 'gone', deletionTimestamp: '2025-01-02T00:00:00Z' } },
  ];
  const summary = summarizeRepositorySnapshots(many);
  t.equal(summary.snapshotCount, 7, 'Snapshots being deleted do not count');
  t.equal(summary.lastBackupTime, '2025-01-01T02:00:00Z', 'newest Succeeded');
  t.equal(summary.size, '2 MiB', "newest Succeeded Snapshot's size");
  t.equal(summary.integrity, true, 'all finished Snapshots with integrity say true');
  t.same(summary.recentSnapshots?.map((s) => s.name), ['s4', 's3', 's2', 's1', 's5'], 'five, newest first (creation time when not taken yet)');
  t.same(summary.recentSnapshots?.[2], { name: 's2', phase: 'Succeeded', session: 'nightly', size: '2 MiB', snapshotTime: '2025-01-01T02:00:00Z' });
  t.same(summary.componentPaths, ['repository/v1/nightly/dump', 'repository/v1/nightly/dump-pod-0']);
  t.equal(summarizeRepositorySnapshots([snap('f', 'Failed', '2025-01-01T00:00:00Z', { integrity: false }), ...many]).integrity, false, 'one false integrity wins');
  t.same(summarizeRepositorySnapshots([snap('b', undefined, undefined), snap('a', undefined, undefined)]).recentSnapshots?.map((s) => s.name), ['a', 'b'], 'ties by name');
});

t.test('configurationPhase: one row per rule', async (t) => {
  const ensured = { name: 's', conditions: [c('SchedulerEnsured', 'True')] };
  const spec = { target: { kind: 'Deployment', name: 'app' }, backends: [{ name: 'b' }], sessions: [{ name: 's' }] };
  const ready = { targetFound: true, backends: [{ name: 'b', ready: true }], sessions: [ensured] };
  const rows: Array<[string, Parameters<typeof configurationPhase>[0], string]> = [
    ['validation failed wins', { spec, status: { ...ready, conditions: [c('ValidationPassed', 'False')] } }, 'Invalid'],
    ['everything ready', { spec, status: { ...ready, conditions: [c('ValidationPassed', 'True')] } }, 'Ready'],
    ['target not found', { spec, status: { ...ready, targetFound: false } }, 'NotReady'],
    ['no target (cluster kubedump) needs none', { spec: { ...spec, target: undefined }, status: { ...ready, targetFound: undefined } } as never, 'Ready'],
    ['a backend not ready', { spec, status: { ...ready, backends: [{ name: 'b', ready: false }] } }, 'NotReady'],
    ['backend statuses missing', { spec, status: { ...ready, backends: [] } }, 'NotReady'],
    ['a session not ensured', { spec, status: { ...ready, sessions: [{ name: 's', conditions: [c('SchedulerEnsured', 'False')] }] } }, 'NotReady'],
    ['session statuses missing', { spec, status: { ...ready, sessions: [] } }, 'NotReady'],
    ['no status at all', { spec }, 'NotReady'],
    ['empty configuration', {}, 'Ready'],
  ];
  for (const [rule, configuration, phase] of rows) t.equal(configurationPhase(configuration), phase, rule);
});

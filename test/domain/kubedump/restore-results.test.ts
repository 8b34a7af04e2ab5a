import t from 'tap';
import { createRestoreTally, describeManifestRestore, type ObjectRestoreResult } from '../../../src/domain/kubedump/restore-results.js';

const result = (name: string, outcome: ObjectRestoreResult['result'], extra: Partial<ObjectRestoreResult> = {}): ObjectRestoreResult => ({
  apiGroup: 'apps',
  kind: 'Deployment',
  namespace: 'demo',
  name,
  result: outcome,
  ...extra,
});

t.test('counts every outcome and lists what was not simply created', async (t) => {
  const tally = createRestoreTally();
  tally.add(result('a', 'Created'));
  tally.add(result('b', 'Updated', { reason: 'exists; overridden' }));
  tally.add(result('c', 'Skipped', { reason: 'exists' }));
  tally.add(result('d', 'Failed', { reason: 'refused' }));
  tally.add(result('ns', 'Skipped', { apiGroup: '', kind: 'Namespace', namespace: undefined, reason: 'exists' }));
  t.same(tally.summary(4), {
    total: 5,
    created: 1,
    updated: 1,
    skipped: 2,
    failed: 1,
    excluded: 4,
    resources: [
      { apiGroup: 'apps', kind: 'Deployment', namespace: 'demo', name: 'd', result: 'Failed', reason: 'refused' },
      { apiGroup: 'apps', kind: 'Deployment', namespace: 'demo', name: 'c', result: 'Skipped', reason: 'exists' },
      { kind: 'Namespace', name: 'ns', result: 'Skipped', reason: 'exists' },
      { apiGroup: 'apps', kind: 'Deployment', namespace: 'demo', name: 'b', result: 'Updated', reason: 'exists; overridden' },
    ],
    unlisted: 0,
  });
});

t.test('the list is capped, failures first, and the rest is counted', async (t) => {
  const tally = createRestoreTally(3);
  for (let i = 0; i < 1000; i++) tally.add(result(`s${i}`, 'Skipped'));
  tally.add(result('f1', 'Failed'));
  tally.add(result('f2', 'Failed'));
  for (let i = 0; i < 10; i++) tally.add(result(`u${i}`, 'Updated'));
  const summary = tally.summary(0);
  t.same(summary.resources?.map((r) => r.name), ['f1', 'f2', 's0'], 'failures first, then the first skipped');
  t.equal(summary.unlisted, 1012 - 3, 'everything else is counted');
  t.equal(summary.total, 1012);
  t.notOk('reason' in (summary.resources?.[0] ?? {}), 'no reason given, none written');
});

t.test('one line for Events', async (t) => {
  t.equal(describeManifestRestore({ created: 2, updated: 1, skipped: 3, failed: 0, excluded: 5 }), '2 created, 1 updated, 3 skipped (exist), 0 failed, 5 excluded by filters');
  t.equal(describeManifestRestore({}), '0 created, 0 updated, 0 skipped (exist), 0 failed, 0 excluded by filters', 'missing counts read as 0');
});

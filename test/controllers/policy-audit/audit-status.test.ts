import t from 'tap';
import {
  AUDITED_CONDITION,
  MAX_LISTED_MESSAGE,
  auditStatus,
  compareViolations,
  countByRuleAndAction,
  groupByPolicy,
  needsWrite,
  storedViolationCount,
  type AuditedViolation,
} from '../../../src/controllers/policy-audit/audit-status.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';

const violation = (policy: string, kind: string, namespace: string | undefined, name: string, rule = 'requireBackup', action = 'Audit', path = 'spec'): AuditedViolation => ({
  policy,
  rule,
  action,
  object: { apiVersion: kind === 'PersistentVolumeClaim' ? 'v1' : 'apps/v1', kind, ...(namespace ? { namespace } : {}), name },
  path,
  message: `${kind} ${name} breaks ${rule}`,
});

const policy = (status?: unknown, generation = 3): KubeObject => ({
  apiVersion: 'policy.autostash.dev/v1alpha1',
  kind: 'BackupPolicy',
  metadata: { name: 'prod', generation },
  spec: {},
  ...(status === undefined ? {} : { status }),
});

const NOW = new Date('2026-01-02T03:04:05.678Z');

t.test('compareViolations orders by kind, namespace, name, rule, path, message', async (t) => {
  const rows: Array<[string, AuditedViolation, AuditedViolation]> = [
    ['kind', violation('p', 'Deployment', 'b', 'x'), violation('p', 'StatefulSet', 'a', 'a')],
    ['namespace', violation('p', 'Deployment', 'a', 'z'), violation('p', 'Deployment', 'b', 'a')],
    ['no namespace first', violation('p', 'BackupStorage', undefined, 'z'), violation('p', 'BackupStorage', 'a', 'a')],
    ['name', violation('p', 'Deployment', 'a', 'a'), violation('p', 'Deployment', 'a', 'b')],
    ['rule', violation('p', 'Deployment', 'a', 'a', 'allowedStorage'), violation('p', 'Deployment', 'a', 'a', 'requireBackup')],
    ['path', violation('p', 'Deployment', 'a', 'a', 'r', 'Deny', 'spec.a'), violation('p', 'Deployment', 'a', 'a', 'r', 'Deny', 'spec.b')],
    ['message', { ...violation('p', 'Deployment', 'a', 'a'), message: 'a' }, { ...violation('p', 'Deployment', 'a', 'a'), message: 'b' }],
  ];
  for (const [what, first, second] of rows) {
    t.ok(compareViolations(first, second) < 0, `${what}: first before second`);
    t.ok(compareViolations(second, first) > 0, `${what}: second after first`);
  }
  t.equal(compareViolations(violation('p', 'Deployment', 'a', 'a'), violation('q', 'Deployment', 'a', 'a')), 0, 'the policy does not order');
});

t.test('groupByPolicy groups and sorts; countByRuleAndAction counts label sets in order', async (t) => {
  const groups = groupByPolicy([
    violation('prod', 'StatefulSet', 'demo', 'db'),
    violation('dev', 'Deployment', 'demo', 'web'),
    violation('prod', 'Deployment', 'demo', 'web'),
  ]);
  t.same([...groups.keys()].sort(), ['dev', 'prod']);
  t.same(groups.get('prod')?.map((v) => v.object.kind), ['Deployment', 'StatefulSet']);
  t.same(
    countByRuleAndAction([
      violation('p', 'Deployment', 'a', 'a', 'retention', 'Warn'),
      violation('p', 'Deployment', 'a', 'b', 'requireBackup', 'Deny'),
      violation('p', 'Deployment', 'a', 'c', 'retention', 'Warn'),
    ]),
    [
      { rule: 'requireBackup', action: 'Deny', count: 1 },
      { rule: 'retention', action: 'Warn', count: 2 },
    ],
  );
  t.same(countByRuleAndAction([]), []);
});

t.test('auditStatus: counts, first N, condition', async (t) => {
  const found = groupByPolicy([
    violation('prod', 'StatefulSet', 'demo', 'db', 'requireBackup', 'Deny'),
    violation('prod', 'Deployment', 'demo', 'web', 'requireBackup', 'Deny'),
    { ...violation('prod', 'RetentionPolicy', 'demo', 'keep', 'retention', 'Warn'), message: 'x'.repeat(MAX_LISTED_MESSAGE + 10) },
  ]).get('prod') ?? [];
  const status = auditStatus(policy(), found, NOW, 2);
  t.equal(status.observedGeneration, 3);
  t.equal(status.lastAuditTime, '2026-01-02T03:04:05Z');
  t.equal(status.violationCount, 3);
  t.same(status.violations, { requireBackup: 2, retention: 1 });
  t.same(Object.keys(status.violations), ['requireBackup', 'retention'], 'rules in name order');
  t.same(status.objects, [
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'demo', name: 'web', rule: 'requireBackup', action: 'Deny', message: 'Deployment web breaks requireBackup' },
    { apiVersion: 'apps/v1', kind: 'RetentionPolicy', namespace: 'demo', name: 'keep', rule: 'retention', action: 'Warn', message: `${'x'.repeat(MAX_LISTED_MESSAGE - 1)}…` },
  ]);
  t.equal(status.objects[1]?.message.length, MAX_LISTED_MESSAGE, 'long messages are cut');
  t.same(status.conditions, [
    { type: AUDITED_CONDITION, status: 'True', reason: 'ViolationsFound', message: '3 violations by existing objects (requireBackup: 2, retention: 1)', lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 3 },
  ]);

  const one = auditStatus(policy(), found.slice(0, 1), NOW, 20);
  t.match(one.conditions[0]?.message, /^1 violation by/);
  const clean = auditStatus(policy(), [], NOW, 20);
  t.same(clean.violations, {});
  t.same(clean.objects, []);
  t.equal(clean.conditions[0]?.reason, 'NoViolations');
  const cluster = auditStatus(policy(), [violation('prod', 'BackupStorage', undefined, 's3', 'allowedStorage')], NOW, 20);
  t.notOk('namespace' in (cluster.objects[0] ?? {}), 'no namespace field for objects without one');
  t.same(auditStatus(policy(), found, NOW, -1).objects, [], 'a negative limit lists nothing');
});

t.test('auditStatus keeps other conditions and the transition time while the status stays True', async (t) => {
  const other = { type: 'Other', status: 'False', reason: 'R', message: 'm', lastTransitionTime: '2020-01-01T00:00:00Z' };
  const audited = { type: AUDITED_CONDITION, status: 'True', reason: 'NoViolations', message: 'old', lastTransitionTime: '2025-01-01T00:00:00Z' };
  const status = auditStatus(policy({ conditions: [other, audited] }), [], NOW, 20);
  t.same(status.conditions.map((c) => c.type), ['Other', AUDITED_CONDITION]);
  t.equal(status.conditions[1]?.lastTransitionTime, '2025-01-01T00:00:00Z');
  const wasFalse = auditStatus(policy({ conditions: [{ ...audited, status: 'False' }] }), [], NOW, 20);
  t.equal(wasFalse.conditions[0]?.lastTransitionTime, '2026-01-02T03:04:05Z', 'a transition gets the pass time');
  const noGeneration: KubeObject = { ...policy(), metadata: { name: 'prod' } };
  const bare = auditStatus(noGeneration, [], NOW, 20);
  t.notOk('observedGeneration' in bare);
  t.notOk('observedGeneration' in (bare.conditions[0] ?? {}));
});

t.test('needsWrite: only news, or an audit time older than the refresh period', async (t) => {
  const found = [violation('prod', 'Deployment', 'demo', 'web')];
  const stored = auditStatus(policy(), found, NOW, 20);
  const later = (ms: number) => new Date(NOW.getTime() + ms);
  const again = (ms: number) => auditStatus(policy(stored), found, later(ms), 20);
  const rows: Array<[string, unknown, ReturnType<typeof auditStatus>, Date, boolean]> = [
    ['nothing stored yet', undefined, stored, NOW, true],
    ['same result, audit time fresh', stored, again(60_000), later(60_000), false],
    ['same result, audit time stale', stored, again(600_000), later(600_000), true],
    ['stored audit time unreadable', { ...stored, lastAuditTime: 'yesterday' }, again(1000), later(1000), true],
    ['count changed', stored, auditStatus(policy(stored), [...found, violation('prod', 'Deployment', 'demo', 'api')], later(1000), 20), later(1000), true],
    ['generation changed', stored, auditStatus(policy(stored, 4), found, later(1000), 20), later(1000), true],
    ['message changed', stored, auditStatus(policy(stored), [{ ...violation('prod', 'Deployment', 'demo', 'web'), message: 'other' }], later(1000), 20), later(1000), true],
  ];
  for (const [what, current, desired, now, expected] of rows) t.equal(needsWrite(current, desired, now, 600_000), expected, what);
});

t.test('storedViolationCount', async (t) => {
  t.equal(storedViolationCount(policy()), 0);
  t.equal(storedViolationCount(policy({ violationCount: 7 })), 7);
  t.equal(storedViolationCount(policy({ violationCount: 'x' })), 0);
});

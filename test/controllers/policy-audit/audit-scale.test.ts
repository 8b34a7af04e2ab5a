import t from 'tap';
import { auditStatus, countByRuleAndAction, groupByPolicy, type AuditedViolation } from '../../../src/controllers/policy-audit/audit-status.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createMemoryView } from '../../../src/domain/memory-view.js';
import { evaluatePolicies } from '../../../src/domain/policy/evaluate.js';

// What one audit pass computes (evaluation of every object, grouping, status and metric counts),
// over 1,000 workloads and 3 policies. The time is reported, not asserted.
t.test('one pass over 1,000 objects', async (t) => {
  const policies: KubeObject[] = ['a', 'b', 'c'].map((name) => ({
    apiVersion: 'policy.autostash.dev/v1alpha1',
    kind: 'BackupPolicy',
    metadata: { name, generation: 1 },
    spec: { rules: { requireBackup: { action: 'Audit' }, retention: { action: 'Warn', minimumKept: { daily: 7 } } } },
  }));
  const objects: KubeObject[] = Array.from({ length: 1000 }, (_, i) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `web-${i}`, namespace: `team-${i % 20}`, ...(i % 2 === 0 ? { annotations: { 'blueprint.kubestash.com/name': 'b', 'blueprint.kubestash.com/namespace': 'demo' } } : {}) },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `data-${i}` } }] } } },
  }));
  const view = createMemoryView(policies);
  const pass = () => {
    const started = performance.now();
    const violations: AuditedViolation[] = objects.flatMap((object) => evaluatePolicies(object, view));
    const byPolicy = groupByPolicy(violations);
    const now = new Date();
    const statuses = policies.map((policy) => auditStatus(policy, byPolicy.get(policy.metadata?.name ?? '') ?? [], now, 20));
    const counts = policies.map((policy) => countByRuleAndAction(byPolicy.get(policy.metadata?.name ?? '') ?? []));
    return { violations, statuses, counts, elapsed: performance.now() - started };
  };
  const cold = pass();
  const { violations, statuses, counts, elapsed } = pass();
  t.comment(`one pass over ${objects.length} objects and ${policies.length} policies: ${cold.elapsed.toFixed(1)} ms cold, ${elapsed.toFixed(1)} ms warm`);
  t.equal(violations.length, 1500, 'every unannotated workload violates every policy');
  t.same(statuses.map((s) => s.violationCount), [500, 500, 500]);
  t.equal(statuses[0]?.objects.length, 20);
  t.same(counts[0], [{ rule: 'requireBackup', action: 'Audit', count: 500 }]);
});

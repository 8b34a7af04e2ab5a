import { Registry } from 'prom-client';
import t from 'tap';
import { createPolicyViolationMetrics, POLICY_VIOLATIONS_METRIC } from '../../../src/controllers/policy-audit/metrics.js';

const lines = async (registry: Registry): Promise<string[]> =>
  (await registry.metrics()).split('\n').filter((line) => line.startsWith(`${POLICY_VIOLATIONS_METRIC}{`));

t.test('label sets follow the last audit; deleted policies disappear', async (t) => {
  const registry = new Registry();
  const metrics = createPolicyViolationMetrics(registry);
  t.equal(metrics.registry, registry);
  metrics.publish(new Map([
    ['prod', [{ rule: 'requireBackup', action: 'Deny', count: 3 }, { rule: 'retention', action: 'Warn', count: 1 }]],
    ['dev', [{ rule: 'schedule', action: 'Audit', count: 2 }]],
  ]));
  t.same((await lines(registry)).sort(), [
    'autostash_policy_violations{policy="dev",rule="schedule",action="Audit"} 2',
    'autostash_policy_violations{policy="prod",rule="requireBackup",action="Deny"} 3',
    'autostash_policy_violations{policy="prod",rule="retention",action="Warn"} 1',
  ]);

  metrics.publish(new Map([['prod', [{ rule: 'requireBackup', action: 'Deny', count: 2 }]]]));
  t.same((await lines(registry)).sort(), [
    'autostash_policy_violations{policy="prod",rule="requireBackup",action="Deny"} 2',
    'autostash_policy_violations{policy="prod",rule="retention",action="Warn"} 0',
  ], 'a fixed rule drops to 0; the deleted policy dev is gone');

  metrics.clear();
  t.same(await lines(registry), [], 'clear drops everything');
  metrics.publish(new Map([['prod', []]]));
  t.same(await lines(registry), [], 'a policy without violations has no label sets yet');
});

t.test('a registry of its own by default', async (t) => {
  const metrics = createPolicyViolationMetrics();
  t.ok(metrics.registry instanceof Registry);
  t.throws(() => createPolicyViolationMetrics(metrics.registry), 'one gauge per registry');
});

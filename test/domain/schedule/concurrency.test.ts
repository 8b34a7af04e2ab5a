import t from 'tap';
import { concurrencyPolicyValues } from '../../../src/api/core.js';
import { concurrencyDecision, DEFAULT_CONCURRENCY_POLICY, effectiveConcurrencyPolicy, isTerminalSessionPhase } from '../../../src/domain/schedule/index.js';
import { backupSessionPhaseValues } from '../../../src/api/core.js';

t.test('concurrencyDecision: one row per policy, with and without running sessions', async (t) => {
  const rows: Array<{ policy: string | undefined; running: string[]; expected: unknown }> = [
    { policy: 'Allow', running: [], expected: { action: 'create' } },
    { policy: 'Allow', running: ['a'], expected: { action: 'create' } },
    { policy: 'Forbid', running: [], expected: { action: 'create' } },
    { policy: 'Forbid', running: ['a', 'b'], expected: { action: 'skip', running: ['a', 'b'] } },
    { policy: 'Replace', running: [], expected: { action: 'create' } },
    { policy: 'Replace', running: ['a'], expected: { action: 'replace', delete: ['a'] } },
    { policy: undefined, running: ['a'], expected: { action: 'skip', running: ['a'] } },
    { policy: 'Bogus', running: ['a'], expected: { action: 'skip', running: ['a'] } },
  ];
  t.same([...new Set(rows.map((row) => row.policy).filter((p) => p !== undefined && p !== 'Bogus'))].sort(), [...concurrencyPolicyValues].sort(), 'every policy has rows');
  for (const row of rows) t.same(concurrencyDecision(row.policy, row.running), row.expected, `${row.policy} with ${row.running.length} running`);
});

t.test('the default policy is Forbid; unknown values act as it', async (t) => {
  t.equal(DEFAULT_CONCURRENCY_POLICY, 'Forbid');
  t.equal(effectiveConcurrencyPolicy(undefined), 'Forbid');
  t.equal(effectiveConcurrencyPolicy('allow'), 'Forbid', 'values are case-sensitive, as in a CronJob');
  for (const policy of concurrencyPolicyValues) t.equal(effectiveConcurrencyPolicy(policy), policy);
});

t.test('isTerminalSessionPhase: one row per BackupSession phase', async (t) => {
  const terminal: Record<string, boolean> = { Pending: false, Running: false, Succeeded: true, Failed: true, Skipped: true };
  t.same(Object.keys(terminal).sort(), [...backupSessionPhaseValues].sort());
  for (const phase of backupSessionPhaseValues) t.equal(isTerminalSessionPhase(phase), terminal[phase], phase);
  t.equal(isTerminalSessionPhase(undefined), false, 'no phase yet: pending');
});

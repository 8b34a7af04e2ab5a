import t from 'tap';
import type { RestoreSessionStatus } from '../../../src/api/core.js';
import { isTerminalRestorePhase, restoreComponentsPhase, restoreSessionPhase } from '../../../src/domain/status/restore-session-phase.js';

const at = '2026-01-01T00:00:00Z';
type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
const cond = (type: string, status: 'True' | 'False') => ({ type, status, lastTransitionTime: at });
const comps = (...phases: Array<Phase | undefined>) => Object.fromEntries(phases.map((phase, i) => [`dump-pod-${i}`, phase ? { phase } : {}]));
const pushed = cond('MetricsPushed', 'True');

const rows: Array<{ rule: string; status: RestoreSessionStatus | undefined; phase: string }> = [
  { rule: 'no status at all: Pending', status: undefined, phase: 'Pending' },
  { rule: '1. MetricsPushed False fails, whatever else', status: { conditions: [cond('MetricsPushed', 'False'), cond('ValidationPassed', 'False')], totalComponents: 1, components: comps('Succeeded') }, phase: 'Failed' },
  { rule: '2. ValidationPassed False: Invalid (before or after MetricsPushed)', status: { conditions: [cond('ValidationPassed', 'False'), pushed] }, phase: 'Invalid' },
  { rule: '2. ValidationPassed False without MetricsPushed: Invalid', status: { conditions: [cond('ValidationPassed', 'False')] }, phase: 'Invalid' },
  { rule: '3. RestoreExecutorEnsured False fails a finished restore', status: { conditions: [cond('ValidationPassed', 'True'), cond('RestoreExecutorEnsured', 'False'), pushed] }, phase: 'Failed' },
  { rule: '3. PreRestoreHooksExecutionSucceeded False fails', status: { conditions: [pushed, cond('PreRestoreHooksExecutionSucceeded', 'False')], totalComponents: 1, components: comps('Succeeded') }, phase: 'Failed' },
  { rule: '3. PostRestoreHooksExecutionSucceeded False fails', status: { conditions: [pushed, cond('PostRestoreHooksExecutionSucceeded', 'False')], totalComponents: 1, components: comps('Succeeded') }, phase: 'Failed' },
  { rule: '3. RestoreIncomplete True fails', status: { conditions: [pushed, cond('RestoreIncomplete', 'True')], totalComponents: 1, components: comps('Succeeded') }, phase: 'Failed' },
  { rule: '3. failing conditions do not count before MetricsPushed', status: { conditions: [cond('RestoreExecutorEnsured', 'False')] }, phase: 'Pending' },
  { rule: '4. no components: Pending', status: { conditions: [pushed] }, phase: 'Pending' },
  { rule: '4. all Succeeded and MetricsPushed: Succeeded', status: { conditions: [pushed], totalComponents: 2, components: comps('Succeeded', 'Succeeded') }, phase: 'Succeeded' },
  { rule: '4. all terminal, one Failed, MetricsPushed: Failed', status: { conditions: [pushed], totalComponents: 2, components: comps('Succeeded', 'Failed') }, phase: 'Failed' },
  { rule: '4. some still running, MetricsPushed: Running', status: { conditions: [pushed], totalComponents: 2, components: comps('Succeeded', 'Running') }, phase: 'Running' },
  { rule: '5. all terminal without Failed but Unknown: Unknown even before MetricsPushed', status: { totalComponents: 2, components: comps('Succeeded', 'Unknown') }, phase: 'Unknown' },
  { rule: '6. finished components without MetricsPushed: still Running', status: { totalComponents: 1, components: comps('Succeeded') }, phase: 'Running' },
  { rule: '6. a Failed component without MetricsPushed: still Running', status: { totalComponents: 2, components: comps('Failed', 'Running') }, phase: 'Running' },
  { rule: '7. no component yet but RestoreExecutorEnsured True: Running', status: { conditions: [cond('RestoreExecutorEnsured', 'True')] }, phase: 'Running' },
  { rule: '7. RestoreExecutorEnsured True after MetricsPushed with no component: Pending', status: { conditions: [cond('RestoreExecutorEnsured', 'True'), pushed] }, phase: 'Pending' },
];

for (const row of rows) {
  t.equal(restoreSessionPhase(row.status), row.phase, row.rule);
}

t.test('components phase, one row per rule', async (t) => {
  const cases: Array<{ rule: string; status: RestoreSessionStatus; phase: string }> = [
    { rule: 'none written: Pending', status: { totalComponents: 2 }, phase: 'Pending' },
    { rule: 'all Succeeded: Succeeded', status: { totalComponents: 2, components: comps('Succeeded', 'Succeeded') }, phase: 'Succeeded' },
    { rule: 'all terminal with a Failed: Failed', status: { totalComponents: 3, components: comps('Succeeded', 'Failed', 'Unknown') }, phase: 'Failed' },
    { rule: 'all terminal with Unknown and no Failed: Unknown', status: { totalComponents: 2, components: comps('Unknown', 'Succeeded') }, phase: 'Unknown' },
    { rule: 'a Failed while others run: Failed', status: { totalComponents: 2, components: comps('Failed', 'Running') }, phase: 'Failed' },
    { rule: 'a Failed while others are not written yet: Failed', status: { totalComponents: 3, components: comps('Failed') }, phase: 'Failed' },
    { rule: 'Succeeded but fewer than totalComponents: Running', status: { totalComponents: 2, components: comps('Succeeded') }, phase: 'Running' },
    { rule: 'Pending and Running: Running', status: { totalComponents: 2, components: comps('Pending', undefined) }, phase: 'Running' },
    { rule: 'totalComponents unset: the components written count', status: { components: comps('Succeeded') }, phase: 'Succeeded' },
    { rule: 'totalComponents 0: the components written count', status: { totalComponents: 0, components: comps('Succeeded', 'Failed') }, phase: 'Failed' },
  ];
  for (const row of cases) t.equal(restoreComponentsPhase(row.status), row.phase, row.rule);
  t.equal(restoreComponentsPhase(undefined), 'Pending', 'no status');
});

t.test('terminal phases', async (t) => {
  for (const [phase, terminal] of [['Succeeded', true], ['Failed', true], ['Invalid', true], ['Unknown', true], ['Running', false], ['Pending', false], [undefined, false]] as const) {
    t.equal(isTerminalRestorePhase(phase), terminal, String(phase));
  }
});

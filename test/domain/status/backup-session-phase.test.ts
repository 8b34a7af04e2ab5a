import t from 'tap';
import type { BackupSessionStatus } from '../../../src/api/core.js';
import { backupSessionPhase, isTerminalSessionPhase } from '../../../src/domain/status/backup-session-phase.js';

const at = '2026-01-01T00:00:00Z';
const cond = (type: string, status: 'True' | 'False') => ({ type, status, lastTransitionTime: at });
const snaps = (...phases: Array<'Pending' | 'Running' | 'Succeeded' | 'Failed' | undefined>) =>
  phases.map((phase, i) => ({ name: `s${i}`, ...(phase ? { phase } : {}) }));
const pushed = cond('MetricsPushed', 'True');

const rows: Array<{ rule: string; status: BackupSessionStatus | undefined; phase: string }> = [
  { rule: 'no status at all: Pending', status: undefined, phase: 'Pending' },
  { rule: '1. MetricsPushed False fails, whatever else', status: { conditions: [cond('MetricsPushed', 'False'), cond('BackupSkipped', 'True')], snapshots: snaps('Succeeded') }, phase: 'Failed' },
  { rule: '2. BackupSkipped True skips', status: { conditions: [cond('BackupSkipped', 'True'), pushed] }, phase: 'Skipped' },
  { rule: '2. BackupSkipped False does not skip', status: { conditions: [cond('BackupSkipped', 'False'), pushed], snapshots: snaps('Succeeded') }, phase: 'Succeeded' },
  { rule: '3. BackupExecutorEnsured False fails a finished session', status: { conditions: [pushed, cond('BackupExecutorEnsured', 'False')] }, phase: 'Failed' },
  { rule: '3. SnapshotsEnsured False fails', status: { conditions: [pushed, cond('SnapshotsEnsured', 'False')], snapshots: snaps('Succeeded') }, phase: 'Failed' },
  { rule: '3. PreBackupHooksExecutionSucceeded False fails', status: { conditions: [pushed, cond('PreBackupHooksExecutionSucceeded', 'False')], snapshots: snaps('Succeeded') }, phase: 'Failed' },
  { rule: '3. PostBackupHooksExecutionSucceeded False fails', status: { conditions: [pushed, cond('PostBackupHooksExecutionSucceeded', 'False')], snapshots: snaps('Succeeded') }, phase: 'Failed' },
  { rule: '3. SessionHistoryCleaned False fails', status: { conditions: [pushed, cond('SessionHistoryCleaned', 'False')], snapshots: snaps('Succeeded') }, phase: 'Failed' },
  { rule: '3. InvokerFound False fails (autostash)', status: { conditions: [pushed, cond('InvokerFound', 'False')] }, phase: 'Failed' },
  { rule: '3. PrerequisitesReady False fails (autostash)', status: { conditions: [pushed, cond('PrerequisitesReady', 'False')] }, phase: 'Failed' },
  { rule: '3. SnapshotCleanupIncomplete True fails', status: { conditions: [pushed, cond('SnapshotCleanupIncomplete', 'True')], snapshots: snaps('Succeeded') }, phase: 'Failed' },
  { rule: '3. a retention policy FailedToApply fails', status: { conditions: [pushed], snapshots: snaps('Succeeded'), retentionPolicy: [{ repository: 'r', phase: 'Applied' }, { repository: 'q', phase: 'FailedToApply' }] }, phase: 'Failed' },
  { rule: '3. failing conditions do not count before MetricsPushed', status: { conditions: [cond('PrerequisitesReady', 'False')] }, phase: 'Pending' },
  { rule: '4. no snapshots: Pending', status: { conditions: [pushed] }, phase: 'Pending' },
  { rule: '4. all snapshots Pending (or without phase): Pending', status: { snapshots: snaps('Pending', undefined) }, phase: 'Pending' },
  { rule: '4. some not terminal: Running', status: { snapshots: snaps('Succeeded', 'Pending') }, phase: 'Running' },
  { rule: '4. all terminal, one Failed: Failed', status: { conditions: [pushed], snapshots: snaps('Succeeded', 'Failed') }, phase: 'Failed' },
  { rule: '4. all Succeeded: Succeeded', status: { conditions: [pushed], snapshots: snaps('Succeeded', 'Succeeded') }, phase: 'Succeeded' },
  { rule: '5. finished snapshots without MetricsPushed: still Running', status: { snapshots: snaps('Succeeded', 'Failed') }, phase: 'Running' },
  { rule: '6. Pending snapshots with BackupExecutorEnsured True: Running', status: { conditions: [cond('BackupExecutorEnsured', 'True')], snapshots: snaps('Pending') }, phase: 'Running' },
];

for (const row of rows) {
  t.equal(backupSessionPhase(row.status), row.phase, row.rule);
}

t.test('terminal phases', async (t) => {
  for (const [phase, terminal] of [['Succeeded', true], ['Failed', true], ['Skipped', true], ['Running', false], ['Pending', false], [undefined, false]] as const) {
    t.equal(isTerminalSessionPhase(phase), terminal, String(phase));
  }
});

import t from 'tap';
import type { BackupConfiguration, SessionStatus } from '../../../src/api/core.js';
import { buildBackupSession, buildSessionStatuses, findCondition, sessionStatusesEqual, setCondition } from '../../../src/domain/schedule/index.js';

const NOW = new Date('2025-01-01T10:00:00.123Z');
const LATER = new Date('2025-01-01T11:00:00Z');
const configuration = {
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'BackupConfiguration',
  metadata: { name: 'web', namespace: 'demo', uid: 'uid-1' },
  spec: { sessions: [] },
} as unknown as BackupConfiguration;

t.test('buildBackupSession: owner, labels, annotations and spec', async (t) => {
  const scheduled = buildBackupSession({ configuration, session: { name: 'nightly', backupTimeout: '2h' }, name: 'web-nightly-1735725600', triggeredBy: 'scheduler', scheduledAt: NOW, retryLeft: 2 });
  t.same(scheduled, {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupSession',
    metadata: {
      name: 'web-nightly-1735725600',
      namespace: 'demo',
      labels: { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': 'web', 'kubestash.com/session-name': 'nightly', 'app.kubernetes.io/managed-by': 'autostash' },
      annotations: { 'autostash.dev/triggered-by': 'scheduler', 'autostash.dev/scheduled-at': '2025-01-01T10:00:00Z' },
      ownerReferences: [{ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration', name: 'web', uid: 'uid-1', controller: true, blockOwnerDeletion: true }],
    },
    spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'web' }, session: 'nightly', retryLeft: 2, backupTimeout: '2h' },
  });
  const manual = buildBackupSession({ configuration, session: { name: 'nightly' }, name: 'x', triggeredBy: 'trigger', retryLeft: 0 });
  t.same(manual.metadata?.annotations, { 'autostash.dev/triggered-by': 'trigger' }, 'no scheduled-at without a slot');
  t.notOk('backupTimeout' in (manual.spec ?? {}), 'no backupTimeout when the session has none');
});

t.test('setCondition: one row per kind of change', async (t) => {
  const base = [{ type: 'A', status: 'True', reason: 'R', message: 'm', lastTransitionTime: '2024-01-01T00:00:00Z' }];
  const same = setCondition(base, { type: 'A', status: 'True', reason: 'R', message: 'm' }, NOW);
  t.equal(same, base, 'no change: the same array');
  const newMessage = setCondition(base, { type: 'A', status: 'True', reason: 'R', message: 'other' }, NOW);
  t.equal(newMessage[0]?.lastTransitionTime, '2024-01-01T00:00:00Z', 'same status: transition time kept');
  t.equal(newMessage[0]?.message, 'other');
  const flipped = setCondition(base, { type: 'A', status: 'False', reason: 'Bad', message: 'why' }, NOW);
  t.equal(flipped[0]?.lastTransitionTime, '2025-01-01T10:00:00Z', 'status change: now, without milliseconds');
  const added = setCondition(base, { type: 'B', status: 'True', reason: 'R' }, NOW);
  t.equal(added.length, 2, 'a new type is appended');
  t.notOk('message' in (added[1] ?? {}), 'no message key when none is given');
  t.equal(setCondition(undefined, { type: 'C', status: 'True', reason: 'R' }, NOW).length, 1, 'from no conditions');
  t.equal(base.length, 1, 'the input is not modified');
  t.equal(findCondition(added, 'B')?.reason, 'R');
  t.equal(findCondition(undefined, 'B'), undefined);
});

t.test('buildSessionStatuses: one row per session state', async (t) => {
  const previous: SessionStatus[] = [
    { name: 'kept', nextSchedule: '2025-01-01T09:00:00Z', conditions: [{ type: 'Other', status: 'True', reason: 'X', lastTransitionTime: '2024-01-01T00:00:00Z' }, { type: 'InitialBackupTriggered', status: 'True', reason: 'SuccessfullyTriggeredInitialBackup', message: 'earlier', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
    { name: 'gone', nextSchedule: '2025-01-01T09:00:00Z', conditions: [] },
  ];
  const result = buildSessionStatuses(
    previous,
    [
      { name: 'kept', nextSchedule: LATER },
      { name: 'invalid', scheduleError: 'spec.sessions[1].scheduler.schedule: bad' },
      { name: 'paused', note: 'the BackupConfiguration is paused' },
      { name: 'fresh', nextSchedule: LATER, initialBackupTriggered: { message: 'created BackupSession x' } },
    ],
    NOW,
  );
  t.same(result.map((entry) => entry.name), ['kept', 'invalid', 'paused', 'fresh'], 'spec order; sessions gone from the spec are dropped');
  const [kept, invalid, paused, fresh] = result;
  t.equal(kept?.nextSchedule, '2025-01-01T11:00:00Z');
  t.same(kept?.conditions?.map((c) => c.type), ['Other', 'InitialBackupTriggered', 'SchedulerEnsured'], 'other conditions and the stored InitialBackupTriggered are kept');
  t.equal(findCondition(kept?.conditions, 'InitialBackupTriggered')?.message, 'earlier');
  t.match(findCondition(invalid?.conditions, 'SchedulerEnsured'), { status: 'False', reason: 'InvalidSchedule', message: 'spec.sessions[1].scheduler.schedule: bad' });
  t.notOk('nextSchedule' in (invalid ?? {}), 'no next schedule for an invalid schedule');
  t.match(findCondition(paused?.conditions, 'SchedulerEnsured'), { status: 'True', reason: 'SchedulerEnsured', message: 'the BackupConfiguration is paused' });
  t.notOk('nextSchedule' in (paused ?? {}), 'no next schedule while paused');
  t.match(findCondition(fresh?.conditions, 'InitialBackupTriggered'), { status: 'True', reason: 'SuccessfullyTriggeredInitialBackup', message: 'created BackupSession x' });
  t.ok(sessionStatusesEqual(result, buildSessionStatuses(result, [{ name: 'kept', nextSchedule: LATER }, { name: 'invalid', scheduleError: 'spec.sessions[1].scheduler.schedule: bad' }, { name: 'paused', note: 'the BackupConfiguration is paused' }, { name: 'fresh', nextSchedule: LATER }], LATER)), 'recomputing the same states changes nothing');
  t.notOk(sessionStatusesEqual(undefined, result));
  t.ok(sessionStatusesEqual(undefined, []));
});

/**
 * What a session waits for before planning, one prerequisite at a time, each named in the
 * PrerequisitesReady message: a BackupStorage that is not Ready, a missing encryption Secret, a
 * Repository that is not Ready, a BackupStorage that does not exist. When everything is there the
 * session goes on to planning (here a planner that refuses, so the test ends at the plan).
 */
import t from 'tap';
import type { BackupSession } from '../../../src/api/index.js';
import type { ExecutionPlanner } from '../../../src/controllers/session/plan.js';
import { eventually } from '../../helpers/control-plane.js';
import { backupSession, conditionOf, configuration, NS, REPOSITORY, repository, startHarness, STORAGE, type Harness } from '../../helpers/session-harness.js';

/** Records that planning was reached and refuses, so the session ends right after its prerequisites. */
const refusingPlanner = (planned: string[]): ExecutionPlanner => ({
  planBackup: (objects) => {
    planned.push(objects.backupSession.metadata?.name ?? '');
    return { ok: false, reason: 'PlanRefusedByTest', message: 'planning was reached' };
  },
  planRetention: () => ({ ok: false, reason: 'PlanRefusedByTest', message: 'retention is not reached in these tests' }),
});

const waitingFor = (h: Harness, name: string, message: string | RegExp) =>
  eventually(`${name} to wait with ${String(message)}`, async () => {
    const bs = await h.session(name);
    const condition = conditionOf(bs, 'PrerequisitesReady');
    if (condition?.reason !== 'WaitingForPrerequisites') return undefined;
    const matches = typeof message === 'string' ? condition.message === message : message.test(condition.message ?? '');
    return matches ? (bs as BackupSession) : undefined;
  });

t.test('a BackupStorage that is not Ready, then a missing encryption Secret, hold the session Pending until they come', async (t) => {
  const h = await startHarness(t);
  await h.client.delete({ apiVersion: 'v1', kind: 'Secret', namespace: NS, name: 'encrypt' });
  await h.setStatus(STORAGE, 'local', {
    phase: 'NotReady',
    conditions: [{ type: 'BackendInitialized', status: 'False', reason: 'BackendUnreachable', message: 'mount point missing', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  });
  await h.client.create(configuration());
  const planned: string[] = [];
  await h.start({ planner: refusingPlanner(planned), prerequisitesTimeoutMs: 60_000 });
  const name = 'web-backup-nightly-1700000100';
  await h.client.create(backupSession(name));

  const notReady = await waitingFor(h, name, 'BackupStorage demo/local is not Ready (BackendUnreachable: mount point missing)');
  t.equal(notReady.status?.phase, 'Pending');

  await h.setStatus(STORAGE, 'local', { phase: 'Ready', conditions: [] });
  // The Secret has no informer: the session looks again every pollMs.
  await waitingFor(h, name, 'encryption Secret demo/encrypt of Repository demo/web-repo does not exist');
  t.same(planned, [], 'nothing is planned while a prerequisite is missing');

  await h.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, stringData: { RESTIC_PASSWORD: 'not-a-real-password' } });
  const failed = await h.phase(name, 'Failed');
  t.match(conditionOf(failed, 'PrerequisitesReady'), { status: 'True', reason: 'PrerequisitesReady' });
  t.match(conditionOf(failed, 'BackupExecutorEnsured'), { status: 'False', reason: 'PlanRefusedByTest', message: 'planning was reached' });
  t.same(planned, [name], 'planned once, when everything was there');
});

t.test('a Repository that is not Ready (no condition to quote), then its BackupStorage missing', async (t) => {
  const h = await startHarness(t, { readyRepositories: [] });
  // storageRef without a namespace: the Repository's namespace.
  const repo = repository('web-repo');
  await h.client.create({ ...repo, spec: { ...(repo.spec as object), storageRef: { name: 'elsewhere' } } });
  await h.client.create(configuration());
  const planned: string[] = [];
  await h.start({ planner: refusingPlanner(planned), prerequisitesTimeoutMs: 60_000 });
  const name = 'web-backup-nightly-1700000101';
  await h.client.create(backupSession(name));

  await waitingFor(h, name, 'Repository demo/web-repo is not Ready');
  await h.setStatus(REPOSITORY, 'web-repo', { phase: 'Ready' });
  await waitingFor(h, name, 'BackupStorage demo/elsewhere of Repository demo/web-repo does not exist');
  t.same(planned, []);

  const storage = await h.client.get({ ...STORAGE, namespace: NS, name: 'local' });
  await h.client.create({ ...STORAGE, metadata: { name: 'elsewhere', namespace: NS }, spec: storage.spec });
  await h.setStatus(STORAGE, 'elsewhere', { phase: 'Ready' });
  await h.phase(name, 'Failed');
  t.same(planned, [name], 'the new BackupStorage lets the session go on');
});

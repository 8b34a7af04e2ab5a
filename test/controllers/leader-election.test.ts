import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { defaultIdentity, microTime, startLeaderElection, type LeaderElector } from '../../src/controllers/leader-election.js';
import { startControlPlane } from '../../src/embedded/control-plane.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { eventually } from '../helpers/eventually.js';

const dataDir = await mkdtemp(join(tmpdir(), 'autostash-election-'));
const plane = await startControlPlane({ dataDir, port: 0, logger: pino({ level: 'silent' }) });
t.teardown(async () => {
  await plane.close();
  await rm(dataDir, { recursive: true, force: true });
});
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(plane.kubeconfigPath);
const client = createKubeClient(kubeConfig);
t.teardown(() => client.close());

// Short timings so handovers happen within the test; the ratios match the defaults (15/10/2).
const FAST = { leaseDurationSeconds: 1.5, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.1 };

function memoryLog() {
  const lines: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const push = (fields: object, message: string) => void lines.push({ message, fields: fields as Record<string, unknown> });
  return { lines, logger: { info: push, warn: push, error: push } };
}

/** Candidates on one Lease, with a record of who led when. */
function candidates(leaseName: string, count: number, extra: { releaseOnStop?: boolean; kubeClient?: KubeClient } = {}) {
  const log = memoryLog();
  const leading = new Set<string>();
  let maxLeading = 0;
  const history: string[] = [];
  const signals = new Map<string, AbortSignal>();
  const electors: LeaderElector[] = [];
  for (let i = 0; i < count; i += 1) {
    const identity = `candidate-${i}`;
    electors.push(
      startLeaderElection({
        client: extra.kubeClient ?? client,
        namespace: 'default',
        name: leaseName,
        identity,
        ...FAST,
        ...(extra.releaseOnStop !== undefined ? { releaseOnStop: extra.releaseOnStop } : {}),
        logger: log.logger,
        onStartedLeading: (signal) => {
          leading.add(identity);
          maxLeading = Math.max(maxLeading, leading.size);
          history.push(`start ${identity}`);
          signals.set(identity, signal);
        },
        onStoppedLeading: () => {
          leading.delete(identity);
          history.push(`stop ${identity}`);
        },
      }),
    );
  }
  return { electors, leading, history, signals, log, maxLeading: () => maxLeading, leader: () => electors.find((e) => e.isLeader()) };
}

const leaseOf = async (name: string) => (await client.get({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'default', name })) as { spec: Record<string, unknown> };

t.test('of two candidates exactly one leads; when it stops, it releases and the other takes over', async (t) => {
  const group = candidates('handover', 2);
  t.teardown(() => Promise.all(group.electors.map((e) => e.stop())));
  const first = await eventually('a leader', () => group.leader());
  // Let the leader renew: the other never leads meanwhile.
  const acquired = (await leaseOf('handover')).spec.renewTime;
  for (let round = 0; (await leaseOf('handover')).spec.renewTime === acquired; round += 1) {
    if (round > 500) throw new Error('the leader never renewed');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.equal(group.electors.filter((e) => e.isLeader()).length, 1, 'exactly one leader');
  const lease = await leaseOf('handover');
  t.match(lease.spec, { holderIdentity: first.identity, leaseDurationSeconds: 2, leaseTransitions: 0, renewTime: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/ });

  const other = group.electors.find((e) => e !== first) as LeaderElector;
  await first.stop();
  t.equal(first.isLeader(), false);
  t.equal(group.signals.get(first.identity)?.aborted, true, 'the old leader’s signal is aborted');
  await eventually('the other to take over', () => other.isLeader());
  t.match((await leaseOf('handover')).spec, { holderIdentity: other.identity, leaseTransitions: 1 });
  t.equal(group.maxLeading(), 1, 'never two leaders at once');
  t.same(group.history, [`start ${first.identity}`, `stop ${first.identity}`, `start ${other.identity}`]);
  t.ok(group.log.lines.some((l) => l.message === 'released the lease'));
  t.ok(group.log.lines.some((l) => l.message === 'new leader observed' && l.fields.leader === first.identity), 'the candidate saw the first leader');
  await first.stop(); // idempotent
});

t.test('a leader that vanishes without releasing is replaced once the lease expires', async (t) => {
  const group = candidates('crash', 2, { releaseOnStop: false });
  t.teardown(() => Promise.all(group.electors.map((e) => e.stop())));
  const first = await eventually('a leader', () => group.leader());
  const other = group.electors.find((e) => e !== first) as LeaderElector;
  await first.stop();
  t.equal((await leaseOf('crash')).spec.holderIdentity, first.identity, 'not released');
  await eventually('the other to take over after expiry', () => other.isLeader());
  t.match((await leaseOf('crash')).spec, { holderIdentity: other.identity, leaseTransitions: 1 });
  t.equal(group.maxLeading(), 1);
});

t.test('a leader whose lease is taken steps down', async (t) => {
  const group = candidates('stolen', 1);
  t.teardown(() => Promise.all(group.electors.map((e) => e.stop())));
  const leader = await eventually('a leader', () => group.leader());
  const lease = await leaseOf('stolen');
  await client.update({ ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 3600, renewTime: microTime(new Date()) } });
  await eventually('the leader to step down', () => !leader.isLeader());
  t.equal(group.signals.get(leader.identity)?.aborted, true);
  t.same(group.history, [`start ${leader.identity}`, `stop ${leader.identity}`]);
  t.ok(group.log.lines.some((l) => l.message === 'lease taken by another holder; stepping down' && l.fields.leader === 'intruder'));
  await leader.stop();
  t.equal((await leaseOf('stolen')).spec.holderIdentity, 'intruder', 'stop() does not release a lease held by someone else');
});

t.test('a leader that cannot reach the API server steps down after the renew deadline', async (t) => {
  // A client whose requests fail once told to, standing in for a partition.
  let partitioned = false;
  const flaky: KubeClient = {
    ...client,
    find: (ref, options) => (partitioned ? Promise.reject(new Error('connect ECONNREFUSED')) : client.find(ref, options)),
    get: (ref, options) => (partitioned ? Promise.reject(new Error('connect ECONNREFUSED')) : client.get(ref, options)),
  };
  const group = candidates('partition', 1, { kubeClient: flaky });
  t.teardown(() => Promise.all(group.electors.map((e) => e.stop())));
  const leader = await eventually('a leader', () => group.leader());
  partitioned = true;
  await eventually('the leader to step down', () => !leader.isLeader());
  t.ok(group.log.lines.some((l) => l.message === 'lease request failed' && /ECONNREFUSED/.test(String(l.fields.err))));
  t.ok(group.log.lines.some((l) => l.message === 'could not renew the lease in time; stepping down'));
  await leader.stop();
  t.notOk(group.log.lines.some((l) => l.message === 'could not release the lease' || l.message === 'released the lease'), 'no release attempted when not leading');
  partitioned = false;
});

t.test('callback failures are logged; bad timings are refused; identities and MicroTimes', async (t) => {
  const log = memoryLog();
  const elector = startLeaderElection({
    client,
    namespace: 'default',
    name: 'failing-callbacks',
    ...FAST,
    logger: log.logger,
    onStartedLeading: () => {
      throw new Error('start failed');
    },
    onStoppedLeading: () => {
      throw new Error('stop failed');
    },
  });
  await eventually('leading', () => elector.isLeader());
  await eventually('the start failure to be logged', () => log.lines.find((l) => l.message === 'onStartedLeading failed'));
  await elector.stop();
  t.ok(log.lines.some((l) => l.message === 'onStoppedLeading failed' && l.fields.err === 'stop failed'));
  t.match(elector.identity, new RegExp(`^${hostname()}_[0-9a-f]{8}$`), 'identity = hostname + random suffix');
  t.not(defaultIdentity(), defaultIdentity());
  t.equal(microTime(new Date('2024-05-06T07:08:09.123Z')), '2024-05-06T07:08:09.123000Z');
  const base = { client, namespace: 'default', name: 'x', logger: log.logger, onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
  t.throws(() => startLeaderElection({ ...base, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 }), /leaseDuration > renewDeadline > retryPeriod/);
  t.throws(() => startLeaderElection({ ...base, retryPeriodSeconds: 0 }), /retryPeriod > 0/);
});

t.test('a leader whose renewal hangs steps down at the renew deadline, before its Lease expires', async (t) => {
  // Requests that never answer (a dead keep-alive connection) and end only when their signal aborts.
  let hanging = false;
  const hang = (signal: AbortSignal | undefined): Promise<never> =>
    new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new Error('request aborted')), { once: true }));
  const stuck: KubeClient = {
    ...client,
    find: (ref, options) => (hanging ? hang(options?.signal) : client.find(ref, options)),
    update: (object, options) => (hanging ? hang(options?.signal) : client.update(object, options)),
  };
  const group = candidates('hung-renewal', 1, { kubeClient: stuck });
  t.teardown(() => Promise.all(group.electors.map((e) => e.stop())));
  const leader = await eventually('a leader', () => group.leader());
  hanging = true;
  const since = performance.now();
  await eventually('the leader to step down', () => !leader.isLeader());
  const tookMs = performance.now() - since;
  t.ok(tookMs < 5_000, `stepped down after ${Math.round(tookMs)} ms, about the 1 s renew deadline, not after the client's 30 s timeout`);
  t.ok(group.log.lines.some((l) => l.message === 'could not renew the lease in time; stepping down'), 'it says why');
  hanging = false;
});

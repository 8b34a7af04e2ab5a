/**
 * Two `autostash serve` processes against one embedded control plane, as two replicas against a
 * cluster: only the Lease holder schedules (the initial backup, then a minute slot); after the holder
 * is killed with SIGKILL right after that slot (no release of the Lease, its status write possibly
 * lost) the other takes the Lease over once it expired, schedules the next slot, repeats neither the
 * initial backup nor a slot. The webhook keeps answering on the survivor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { SCHEDULED_AT_ANNOTATION, TRIGGERED_BY_ANNOTATION } from '../../../src/domain/execution/labels.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { builtCliMissing, builtCliPath, startTestControlPlane } from '../../helpers/control-plane.js';
import { eventually } from '../../helpers/eventually.js';
import { createReview } from '../../helpers/admission-review.js';

const LEASE_DURATION_SECONDS = 3;
const NAMESPACE = 'ha-demo';
const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'autostash', name: 'autostash-controller' };
/** Longer than a minute slot plus start-up on a loaded machine. */
const SLOT_WAIT_MS = 100_000;

interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

interface LogLine {
  msg?: string;
  identity?: string;
  leader?: string;
  url?: string;
  backupSession?: string;
}

/** One `autostash serve` process and what it has logged so far (pino JSON lines on stdout). */
interface Instance {
  label: string;
  child: ChildProcess;
  lines: LogLine[];
  certDir: string;
  exited: Promise<void>;
}

function startInstance(label: string, dir: string, kubeconfig: string): Instance {
  const certDir = join(dir, `certs-${label}`);
  const child = spawn(
    process.execPath,
    [
      builtCliPath,
      'serve',
      '--no-embedded',
      '--kubeconfig',
      kubeconfig,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--cert-source',
      'files',
      '--cert-dir',
      certDir,
      '--namespace',
      'autostash',
      '--lease-duration',
      `${LEASE_DURATION_SECONDS}s`,
      '--renew-deadline',
      '2s',
      '--retry-period',
      '500ms',
    ],
    { env: { PATH: process.env.PATH ?? '', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: LogLine[] = [];
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => lines.push({ msg: chunk }));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { label, child, lines, certDir, exited };
}

const logged = (instance: Instance, message: string): LogLine[] => instance.lines.filter((line) => line.msg === message);
/** The leader-election identity of an instance: every leader-election log line carries it. */
const identityOf = (instance: Instance): string | undefined => instance.lines.find((line) => line.identity !== undefined)?.identity;

/** POSTs an AdmissionReview to the instance's /validate, trusting its own CA. */
async function validate(instance: Instance, object: KubeObject): Promise<{ status: number; body: { response?: { allowed?: boolean; status?: { message?: string } } } }> {
  const url = logged(instance, 'webhook serving')[0]?.url;
  if (url === undefined) throw new Error(`instance ${instance.label} has not logged its URL`);
  const ca = await readFile(join(instance.certDir, 'ca.crt'));
  const review = createReview({ uid: 'ha-review', object, resource: 'backupconfigurations', username: 'ha-test' });
  return new Promise((resolve, reject) => {
    const outgoing = request(`${url}/validate`, { method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(body) }));
    });
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify(review));
  });
}

/** GETs a path of the instance's HTTPS server and returns the status code. */
async function fetchStatus(instance: Instance, path: string): Promise<number> {
  const url = logged(instance, 'webhook serving')[0]?.url as string;
  const ca = await readFile(join(instance.certDir, 'ca.crt'));
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, { ca, servername: 'localhost' }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

function configuration(name: string, schedule: string): KubeObject {
  return {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupConfiguration',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      target: { apiGroup: '', kind: 'PersistentVolumeClaim', name: 'data', namespace: NAMESPACE },
      backends: [{ name: 'local', storageRef: { name: 'storage', namespace: NAMESPACE }, retentionPolicy: { name: 'keep', namespace: NAMESPACE } }],
      sessions: [
        {
          name: 'every-minute',
          // Allow: a still-running session of the previous slot must not make the next slot skip.
          scheduler: { schedule, concurrencyPolicy: 'Allow', jobTemplate: {} },
          addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] },
          repositories: [{ name: 'data-repo', backend: 'local', directory: '/ha-demo/data', encryptionSecret: { name: 'encrypt-secret', namespace: NAMESPACE } }],
        },
      ],
    },
  };
}

t.test('two instances: one schedules; after SIGKILL of the leader the other takes over and no slot runs twice', { skip: builtCliMissing, timeout: 240_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-ha-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { plane, kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  for (const name of ['autostash', NAMESPACE]) await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  await client.create(configuration('nightly', '* * * * *'));

  const instances = [startInstance('a', dir, plane.kubeconfigPath), startInstance('b', dir, plane.kubeconfigPath)];
  t.teardown(async () => {
    for (const instance of instances) {
      if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGTERM');
      await instance.exited;
    }
  });
  const describe = (): string => instances.map((i) => `${i.label}: ${i.lines.slice(-5).map((l) => JSON.stringify(l)).join(' | ')}`).join('\n');

  // Who leads: the Lease holder, matched to the instance whose election log lines carry that identity.
  const [leader, standby] = await eventually(
    'one instance to hold the Lease and the other to see it',
    async () => {
      const holder = (await client.find<LeaseObject>(LEASE))?.spec?.holderIdentity;
      const first = instances.find((i) => holder !== undefined && identityOf(i) === holder && logged(i, 'started leading').length > 0);
      const second = instances.find((i) => i !== first && logged(i, 'new leader observed').some((line) => line.leader === holder));
      return first !== undefined && second !== undefined ? ([first, second] as const) : undefined;
    },
    60_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${describe()}`);
  });
  const leaderIdentity = identityOf(leader) as string;
  const standbyIdentity = identityOf(standby) as string;
  t.not(leaderIdentity, standbyIdentity, 'two distinct identities');
  t.same(logged(standby, 'started leading'), [], 'the standby never led');
  for (const instance of instances) {
    await eventually(`instance ${instance.label} serving the webhook`, () => logged(instance, 'webhook serving').length > 0, 30_000);
  }

  const listSessions = async (): Promise<KubeObject[]> =>
    (await client.list<KubeObject>({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession' }, { namespace: NAMESPACE })).items;
  /** BackupSession names by the slot they stand for (the scheduler's; the initial backup has no slot). */
  const slotsOf = async (): Promise<Map<string, string[]>> => {
    const bySlot = new Map<string, string[]>();
    for (const session of await listSessions()) {
      const slot = session.metadata?.annotations?.[SCHEDULED_AT_ANNOTATION];
      if (slot !== undefined) bySlot.set(slot, [...(bySlot.get(slot) ?? []), session.metadata?.name as string]);
    }
    return bySlot;
  };
  const initialSessions = async (): Promise<string[]> =>
    (await listSessions()).filter((session) => session.metadata?.annotations?.[TRIGGERED_BY_ANNOTATION] === 'initial').map((session) => session.metadata?.name as string);

  // The initial backup, by the leader alone (its name comes from the configuration: the survivor must not make another).
  const initial = await eventually('the initial BackupSession', async () => {
    const names = await initialSessions();
    return names.length > 0 ? names : undefined;
  }, 60_000);
  t.equal(initial.length, 1, 'one initial BackupSession');
  await eventually('the leader to log the initial BackupSession', () => logged(leader, 'initial backup session created').length > 0, 30_000);
  t.same(logged(leader, 'initial backup session created').map((line) => line.backupSession), initial, 'created by the leader');

  // The first slot, scheduled by the leader alone.
  const firstSlot = await eventually('the first scheduled BackupSession', async () => [...(await slotsOf()).keys()][0], SLOT_WAIT_MS);
  const firstSessions = (await slotsOf()).get(firstSlot) ?? [];
  t.equal(firstSessions.length, 1, `one BackupSession for slot ${firstSlot}`);
  await eventually('the leader to log the BackupSession it created', () => logged(leader, 'scheduled backup session created').length > 0, 30_000);
  t.same(logged(leader, 'scheduled backup session created').map((line) => line.backupSession), firstSessions, 'created by the leader');
  t.same([...logged(standby, 'scheduled backup session created'), ...logged(standby, 'initial backup session created')], [], 'the standby created nothing');

  // Kill the leader without a chance to release the Lease.
  const before = (await client.find<LeaseObject>(LEASE))?.spec ?? {};
  t.equal(before.leaseDurationSeconds, LEASE_DURATION_SECONDS, '--lease-duration reached the Lease');
  leader.child.kill('SIGKILL');
  await leader.exited;
  const lastRenew = Date.parse((await client.find<LeaseObject>(LEASE))?.spec?.renewTime ?? '');
  const after = await eventually(
    'the standby to take the Lease over',
    async () => {
      const spec = (await client.find<LeaseObject>(LEASE))?.spec;
      return spec?.holderIdentity === standbyIdentity ? spec : undefined;
    },
    60_000,
  );
  const takeoverMs = Date.parse(after.acquireTime ?? '') - lastRenew;
  t.comment(`takeover: ${takeoverMs} ms from the killed leader's last renewal to the new holder's acquireTime (lease duration ${LEASE_DURATION_SECONDS} s, retry period 0.5 s)`);
  t.equal(after.leaseTransitions, (before.leaseTransitions ?? 0) + 1, 'one leader transition');
  t.ok(takeoverMs >= LEASE_DURATION_SECONDS * 1000, 'the standby waited for the Lease to expire before taking it');
  await eventually('the survivor to log that it leads', () => logged(standby, 'started leading').length === 1, 30_000);
  await eventually('the survivor to be ready (its controllers synced)', async () => (await fetchStatus(standby, '/readyz')) === 200, 60_000);

  // The survivor's webhook answers admissions (it did all along; now it is also the leader).
  // Load shedding may answer 503 (Retry-After) while the new leader's informers sync: the API server retries those.
  const answered = (object: KubeObject) =>
    eventually('an admission answer that is not shed', async () => {
      const answer = await validate(standby, object);
      return answer.status === 503 ? undefined : answer;
    }, 30_000);
  const denied = await answered({ ...configuration('broken', '0 2 * * *'), spec: { sessions: [] } });
  t.equal(denied.status, 200, 'the survivor answers', { body: denied.body });
  t.equal(denied.body.response?.allowed, false, 'a configuration without sessions is refused by the survivor');
  t.match(denied.body.response?.status?.message ?? '', /sessions can not be empty/);
  const allowed = await answered(configuration('fine', '0 2 * * *'));
  t.equal(allowed.status, 200, 'the survivor answers', { body: allowed.body });
  t.equal(allowed.body.response?.allowed, true, 'a valid configuration is admitted');

  // The next slot, scheduled by the survivor; every slot has exactly one BackupSession.
  const secondSlot = await eventually('a BackupSession for a later slot', async () => [...(await slotsOf()).keys()].find((slot) => slot !== firstSlot), SLOT_WAIT_MS);
  const slots = await slotsOf();
  t.equal(Date.parse(secondSlot) - Date.parse(firstSlot), 60_000, 'the next minute, none missed');
  t.same([...slots.keys()].sort(), [firstSlot, secondSlot], 'no other slot ran');
  for (const [slot, names] of slots) t.equal(names.length, 1, `one BackupSession for slot ${slot}`);
  t.same(await initialSessions(), initial, 'the survivor did not repeat the initial backup');
  t.same(logged(standby, 'initial backup session created'), [], 'nor tried to');
  await eventually('the new leader to log the BackupSession it created', () => logged(standby, 'scheduled backup session created').length > 0, 30_000);
  t.same(logged(standby, 'scheduled backup session created').map((line) => line.backupSession), slots.get(secondSlot), 'created by the new leader');
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { createEventRecorder } from '../../src/controllers/event-recorder.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { startControlPlane } from '../../src/embedded/control-plane.js';
import { createKubeClient, KubeApiError, type CoreEvent, type KubeClient } from '../../src/kube/client.js';

const dataDir = await mkdtemp(join(tmpdir(), 'autostash-events-'));
const plane = await startControlPlane({ dataDir, port: 0, logger: pino({ level: 'silent' }) });
t.teardown(async () => {
  await plane.close();
  await rm(dataDir, { recursive: true, force: true });
});
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(plane.kubeconfigPath);
const client = createKubeClient(kubeConfig);
t.teardown(() => client.close());

function memoryLog() {
  const lines: Array<{ message: string; fields: Record<string, unknown> }> = [];
  return { lines, logger: { warn: (fields: object, message: string) => void lines.push({ message, fields: fields as Record<string, unknown> }) } };
}

/** A clock the test moves. */
function clock(start = Date.parse('2024-03-01T10:00:00Z')) {
  let time = start;
  return { now: () => new Date(time), advance: (ms: number) => void (time += ms) };
}

let objects = 0;
async function workload(namespace = 'default'): Promise<KubeObject> {
  objects += 1;
  return client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name: `workload-${objects}` } });
}

const eventsFor = async (object: KubeObject): Promise<CoreEvent[]> =>
  (await client.list<CoreEvent>({ apiVersion: 'v1', kind: 'Event' }, { namespace: object.metadata?.namespace ?? 'default' })).items.filter(
    (event) => event.involvedObject.name === object.metadata?.name,
  );

t.test('records an Event with the involved object, source and counts; repeats aggregate', async (t) => {
  const time = clock();
  const { logger, lines } = memoryLog();
  const recorder = createEventRecorder({ client, logger, instance: 'pod-a_1234', now: time.now, aggregationWindowMs: 60_000 });
  const target = await workload();
  recorder.normal(target, 'BackupConfigurationCreated', 'created BackupConfiguration deployment-web');
  await recorder.flush();
  const [created] = await eventsFor(target);
  t.match(created, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { namespace: 'default', name: new RegExp(`^${target.metadata?.name}\\.[0-9a-f]{16}$`) },
    involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: target.metadata?.name, uid: target.metadata?.uid },
    reason: 'BackupConfigurationCreated',
    message: 'created BackupConfiguration deployment-web',
    type: 'Normal',
    source: { component: 'autostash', host: 'pod-a_1234' },
    reportingComponent: 'autostash',
    reportingInstance: 'pod-a_1234',
    count: 1,
    firstTimestamp: '2024-03-01T10:00:00Z',
    lastTimestamp: '2024-03-01T10:00:00Z',
  });

  // Back-to-back repeats (not awaited in between) still land on the one Event.
  for (let i = 0; i < 3; i += 1) {
    time.advance(1000);
    recorder.normal(target, 'BackupConfigurationCreated', 'created BackupConfiguration deployment-web');
  }
  await recorder.flush();
  let events = await eventsFor(target);
  t.equal(events.length, 1, 'repeats within the window share one Event');
  t.match(events[0], { count: 4, firstTimestamp: '2024-03-01T10:00:00Z', lastTimestamp: '2024-03-01T10:00:03Z' });

  recorder.warning(target, 'VariableMissing', 'variable ${schedule} has no value and no default');
  await recorder.flush();
  events = await eventsFor(target);
  t.equal(events.length, 2, 'another reason or message is another Event');
  t.ok(events.some((event) => event.type === 'Warning' && event.reason === 'VariableMissing' && event.count === 1));

  time.advance(61_000);
  recorder.normal(target, 'BackupConfigurationCreated', 'created BackupConfiguration deployment-web');
  await recorder.flush();
  events = await eventsFor(target);
  t.equal(events.filter((event) => event.reason === 'BackupConfigurationCreated').length, 2, 'after the window a new Event starts');
  t.same(lines, [], 'nothing logged');
});

t.test('an aggregated Event that disappeared is created again', async (t) => {
  const { logger } = memoryLog();
  const recorder = createEventRecorder({ client, logger });
  const target = await workload();
  recorder.normal(target, 'Synced', 'in sync');
  await recorder.flush();
  const [first] = await eventsFor(target);
  await client.delete({ apiVersion: 'v1', kind: 'Event', namespace: 'default', name: first?.metadata.name as string });
  recorder.normal(target, 'Synced', 'in sync');
  await recorder.flush();
  const events = await eventsFor(target);
  t.equal(events.length, 1);
  t.not(events[0]?.metadata.name, first?.metadata.name);
  t.equal(events[0]?.count, 1);
});

t.test('cluster-scoped objects get their Events in default; long messages are cut; forgotten keys start over', async (t) => {
  const { logger } = memoryLog();
  const recorder = createEventRecorder({ client, logger, component: 'autostash-test', maxRemembered: 1 });
  const namespace = await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'events-cluster-scoped' } });
  recorder.normal(namespace, 'Seen', 'x'.repeat(5000));
  await recorder.flush();
  const [event] = await eventsFor(namespace);
  t.match(event, { metadata: { namespace: 'default' }, involvedObject: { kind: 'Namespace', name: 'events-cluster-scoped' }, source: { component: 'autostash-test' } });
  t.equal(event?.message.length, 1024);
  t.match(event?.message, /\.\.\.$/);
  t.notOk('namespace' in (event?.involvedObject ?? {}), 'no namespace on a cluster-scoped involvedObject');

  const other = await workload();
  recorder.normal(other, 'Seen', 'y');
  await recorder.flush();
  recorder.normal(namespace, 'Seen', 'x'.repeat(5000));
  await recorder.flush();
  t.equal((await eventsFor(namespace)).length, 2, 'with room for one key, the evicted one starts a new Event');
});

t.test('failures are logged without the message and never thrown', async (t) => {
  const { logger, lines } = memoryLog();
  const failing: KubeClient = {
    ...client,
    createEvent: () => Promise.reject(new KubeApiError(422, 'Invalid', 'Event "x" is invalid: message: "secret-token-123"')),
  };
  const recorder = createEventRecorder({ client: failing, logger });
  recorder.warning({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'default', name: 'creds' } }, 'Rejected', 'secret-token-123');
  await recorder.flush();
  t.equal(lines.length, 1);
  t.match(lines[0], { message: 'event not recorded', fields: { kind: 'Secret', namespace: 'default', name: 'creds', reason: 'Rejected', status: 422, statusReason: 'Invalid' } });
  t.notMatch(JSON.stringify(lines), /secret-token-123/, 'neither the message nor an error quoting it is logged');

  const unreachable: KubeClient = { ...client, createEvent: () => Promise.reject(new Error('connect ECONNREFUSED')) };
  const offline = createEventRecorder({ client: unreachable, logger });
  offline.normal({ metadata: {} }, 'Any', 'thing');
  await offline.flush();
  t.match(lines[1], { message: 'event not recorded', fields: { err: 'connect ECONNREFUSED' } });

  // A patch failure other than 404 is logged too.
  const time = clock();
  let creates = 0;
  const flaky: KubeClient = {
    ...client,
    createEvent: (event) => ((creates += 1), client.createEvent(event)),
    patch: () => Promise.reject(new KubeApiError(500, 'InternalError', 'boom')),
  };
  const repeated = createEventRecorder({ client: flaky, logger, now: time.now });
  const target = await workload();
  repeated.normal(target, 'Again', 'again');
  repeated.normal(target, 'Again', 'again');
  await repeated.flush();
  t.equal(creates, 1);
  t.match(lines[2], { message: 'event not recorded', fields: { status: 500 } });
});

import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { defaultLoadShedding, pressureOf } from '../../src/server/load-shedding.js';
import { eventually } from '../helpers/eventually.js';
import { httpsRequest, throwawayCertificates } from '../helpers/tls-fixtures.js';
import { backupStorage, backupStorageKind, fakeRegistry } from '../fixtures/admission/fake-rules.js';

const pems = await throwawayCertificates();

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'shed-1', kind: backupStorageKind, operation: 'CREATE', namespace: 'demo', object: backupStorage() },
});

async function listening(t: Test, options: Partial<AppOptions>) {
  const app = buildApp({ rules: fakeRegistry(), https: { key: pems.key, cert: pems.cert }, logger: false, ...options });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    post: (path: string) => httpsRequest(port, pems.ca, 'POST', path, { body: review }),
    get: (path: string) => httpsRequest(port, pems.ca, 'GET', path),
  };
}

/** Keeps the event loop busy ~150 ms out of every ~160 ms, as a starved or CPU-bound process would be. */
function blockEventLoop(): () => void {
  const timer = setInterval(() => {
    const end = Date.now() + 150;
    while (Date.now() < end) {
      // busy on purpose
    }
  }, 10);
  return () => clearInterval(timer);
}

t.test('defaults: a 1 s event-loop delay limit, 90 % of the heap limit, 1 s samples, Retry-After 5 s', async (t) => {
  const defaults = defaultLoadShedding();
  t.equal(defaults.maxEventLoopDelayMs, 1000);
  t.equal(defaults.sampleIntervalMs, 1000);
  t.equal(defaults.retryAfterSeconds, 5);
  t.ok(defaults.maxHeapUsedBytes > 64 * 1024 * 1024, 'a heap limit far above what the webhook uses');
});

t.test('a blocked event loop makes /validate and /mutate answer 503 with Retry-After instead of stalling; /healthz stays 200; /readyz reports the pressure', async (t) => {
  const server = await listening(t, { loadShedding: { maxEventLoopDelayMs: 40, sampleIntervalMs: 50, retryAfterSeconds: 3 } });
  // On a busy shared machine a 40 ms limit can trip on its own: wait for a calm sample first.
  await eventually('/validate admitted before the load', async () => (await server.post('/validate')).status === 200, 60_000);
  t.pass('admitted before the load');

  const unblock = blockEventLoop();
  let unblocked = false;
  t.teardown(() => {
    if (!unblocked) unblock();
  });
  const shed = await eventually('a shed /validate', async () => {
    const reply = await server.post('/validate');
    return reply.status === 503 ? reply : undefined;
  }, 60_000);
  t.equal(shed.headers['retry-after'], '3');
  const body = JSON.parse(shed.body) as { statusCode: number; error: string; message: string };
  t.equal(body.statusCode, 503);
  t.equal(body.error, 'Service Unavailable');
  t.match(body.message, /^autostash is overloaded \(event loop delay (\d+ ms|over 50 ms \(blocked for a whole sample\)) is over the 40 ms limit\): retry in 3 s$/);
  const shedMutate = await eventually('a shed /mutate', async () => {
    const reply = await server.post('/mutate');
    return reply.status === 503 ? reply : undefined;
  }, 60_000);
  t.equal(shedMutate.headers['content-type'], 'application/json; charset=utf-8');

  const health = await server.get('/healthz');
  t.equal(health.status, 200, '/healthz is never shed (a liveness probe must not restart a busy pod)');
  const metrics = await server.get('/metrics');
  t.equal(metrics.status, 200, '/metrics is never shed');
  const ready = await eventually('/readyz reporting pressure', async () => {
    const reply = await server.get('/readyz');
    return reply.status === 503 ? reply : undefined;
  }, 60_000);
  t.match(JSON.parse(ready.body), { status: 'under pressure', reason: /event loop delay (\d+ ms|over 50 ms \(blocked for a whole sample\)) is over the 40 ms limit/ });

  unblock();
  unblocked = true;
  await eventually('/validate admitted again after the load', async () => (await server.post('/validate')).status === 200, 60_000);
  await eventually('/readyz ready again', async () => (await server.get('/readyz')).status === 200, 60_000);
});

t.test('a heap over its limit sheds admission with a reason naming the heap', async (t) => {
  const server = await listening(t, { loadShedding: { maxHeapUsedBytes: 1, maxEventLoopDelayMs: 60_000, sampleIntervalMs: 100 } });
  const shed = await eventually('a shed /validate', async () => {
    const reply = await server.post('/validate');
    return reply.status === 503 ? reply : undefined;
  }, 30_000);
  t.match(JSON.parse(shed.body).message, /heap in use \d+ MiB is over the 0 MiB limit\): retry in 5 s/);
  t.equal(shed.headers['retry-after'], '5');
});

t.test('the reasons, one row per reading', async (t) => {
  const limits = { ...defaultLoadShedding(), maxEventLoopDelayMs: 100, maxHeapUsedBytes: 64 * 1024 * 1024, sampleIntervalMs: 500 };
  const appReading = (eventLoopDelay: number, heapUsed: number, underPressure: boolean) =>
    ({ memoryUsage: () => ({ eventLoopDelay, heapUsed, rssBytes: 0, eventLoopUtilized: 0 }), isUnderPressure: () => underPressure }) as unknown as Parameters<typeof pressureOf>[0];
  t.same(pressureOf(appReading(12.4, 1, false), limits), { underPressure: false, eventLoopDelayMs: 12, heapUsedBytes: 1 });
  t.equal(pressureOf(appReading(250.2, 1, true), limits).reason, 'event loop delay 250 ms is over the 100 ms limit');
  t.equal(pressureOf(appReading(Number.POSITIVE_INFINITY, 1, true), limits).reason, 'event loop delay over 500 ms (blocked for a whole sample) is over the 100 ms limit');
  t.equal(pressureOf(appReading(3, 100 * 1024 * 1024, true), limits).reason, 'heap in use 100 MiB is over the 64 MiB limit');
});

t.test('loadShedding false: no limit applies, however low', async (t) => {
  const server = await listening(t, { loadShedding: false });
  // Give a sampler (were there one) time to see the blocked loop, then check that nothing is shed.
  const unblock = blockEventLoop();
  await new Promise((resolve) => setTimeout(resolve, 400));
  const replies = [await server.post('/validate'), await server.post('/mutate'), await server.get('/readyz')];
  unblock();
  t.same(replies.map((r) => r.status), [200, 200, 200]);
});

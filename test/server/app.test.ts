import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fastJsonPatch from 'fast-json-patch';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { buildApp, defaultBodyLimit, MAX_REASON_LENGTH, type AdmissionEvent, type AppOptions, type AutostashApp } from '../../src/server/app.js';
import { emptyClusterView, type ClusterView } from '../../src/domain/cluster-view.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { webhookLoggerOptions } from '../../src/server/logger.js';
import { backupStorage, backupStorageKind, fakeRegistry, throwingKind, viewWithStorages } from '../fixtures/admission/fake-rules.js';
import { sharedDir } from '../helpers/paths.js';
import { throwawayCertificates } from '../helpers/tls-fixtures.js';

const pems = await throwawayCertificates();

/** Log lines as parsed JSON objects, plus the raw text for "never appears" checks. */
function memoryLog() {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString('utf8'));
      callback();
    },
  });
  return {
    logger: pino(webhookLoggerOptions('debug'), stream),
    text: () => raw.join(''),
    lines: () =>
      raw
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function makeApp(t: Test, options: Partial<AppOptions> = {}) {
  const log = memoryLog();
  const registry = new Registry();
  const app = buildApp({ rules: fakeRegistry(), https: { key: pems.key, cert: pems.cert }, logger: log.logger, registry, ...options });
  t.teardown(() => app.close());
  return { app, log, registry };
}

const admissionDir = join(sharedDir, 'admission');
const samples = readdirSync(admissionDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, text: readFileSync(join(admissionDir, name), 'utf8') }));

const envelope = (request: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

function storageReview(overrides: Record<string, unknown> = {}) {
  return envelope({
    uid: 'bs-uid',
    kind: backupStorageKind,
    resource: { group: 'storage.kubestash.com', version: 'v1alpha1', resource: 'backupstorages' },
    name: 's3-storage',
    namespace: 'demo',
    operation: 'CREATE',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object: backupStorage(),
    oldObject: null,
    dryRun: false,
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    ...overrides,
  });
}

type Json = Record<string, any>;
const json = 'application/json';

async function post(app: AutostashApp, url: string, body: unknown, headers: Record<string, string> = { 'content-type': json }) {
  const response = await app.inject({ method: 'POST', url, headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: response.statusCode, body: response.json() as Json };
}

const applyPatch = (object: unknown, patch: string) =>
  fastJsonPatch.applyPatch(structuredClone(object), JSON.parse(Buffer.from(patch, 'base64').toString('utf8')), true, false).newDocument as Json;

t.test('the real AdmissionReview samples get answers that echo their uid', async (t) => {
  const { app } = makeApp(t);
  for (const { name, text } of samples) {
    const parsed = JSON.parse(text) as Json | null;
    if (parsed === null) {
      const answer = await post(app, '/validate', text);
      t.same(answer, { status: 400, body: { statusCode: 400, error: 'Bad Request', message: 'body is JSON null: expected an AdmissionReview object' } }, name);
      continue;
    }
    if (parsed.apiVersion === 'admission.k8s.io/v1beta1') {
      for (const webhook of ['/mutate', '/validate']) {
        const answer = await post(app, webhook, text);
        t.equal(answer.status, 400, `${name} ${webhook}`);
        t.equal(answer.body.message, 'admission.k8s.io/v1beta1 is not supported: register the webhook with admissionReviewVersions: ["v1"]', name);
      }
      continue;
    }
    const review = parsed.request ? parsed : envelope(parsed);
    const request = review.request as Json;
    for (const webhook of ['mutate', 'validate']) {
      const answer = await post(app, `/${webhook}`, review);
      t.equal(answer.status, 200, `${name} ${webhook}`);
      t.equal(answer.body.apiVersion, 'admission.k8s.io/v1', name);
      t.equal(answer.body.kind, 'AdmissionReview', name);
      t.equal(answer.body.response.uid, request.uid, `${name} ${webhook}: uid echoed`);
      t.equal(answer.body.response.allowed, true, name);
      const isDeployment = request.kind.group === 'apps' && request.kind.kind === 'Deployment';
      if (!isDeployment) {
        t.match(answer.body.response.warnings, [/^autostash has no rules for kind /], `${name}: unknown kind warned`);
      } else if (webhook === 'mutate' && request.operation !== 'DELETE') {
        t.equal(answer.body.response.patchType, 'JSONPatch', name);
        t.equal(applyPatch(request.object, answer.body.response.patch).metadata.annotations['autostash.dev/seen'], 'true', `${name}: patch applies`);
      } else {
        t.equal(answer.body.response.patch, undefined, `${name} ${webhook}: no patch`);
      }
    }
  }
});

t.test('mutate patches what defaulting changes and nothing when it changes nothing', async (t) => {
  const { app } = makeApp(t);
  const review = storageReview();
  const patched = await post(app, '/mutate', review);
  t.equal(patched.status, 200);
  const defaulted = applyPatch(review.request.object, patched.body.response.patch);
  t.same(defaulted.spec.usagePolicy, { allowedNamespaces: { from: 'Same' } });
  t.equal(defaulted.spec.storage.s3.bucket, 'backups');

  const again = await post(app, '/mutate', storageReview({ object: defaulted }));
  t.same(again.body.response, { uid: 'bs-uid', allowed: true }, 'an already defaulted object gets no patch');
});

t.test('validate allows, warns and denies with 403 and causes', async (t) => {
  const { app } = makeApp(t);
  const allowed = await post(app, '/validate', storageReview({ object: backupStorage({ deletionPolicy: 'WipeOut' }) }));
  t.same(allowed.body.response, {
    uid: 'bs-uid',
    allowed: true,
    warnings: ['spec.deletionPolicy: WipeOut deletes the backed up data with the BackupStorage'],
  });

  const denied = await post(app, '/validate', storageReview({ object: backupStorage({ usagePolicy: { allowedNamespaces: { from: 'Selector' } } }) }));
  t.equal(denied.status, 200, 'a denial is a successful answer');
  t.same(denied.body.response, {
    uid: 'bs-uid',
    allowed: false,
    status: {
      status: 'Failure',
      code: 403,
      reason: 'Invalid',
      message:
        'BackupStorage "demo/s3-storage" is invalid: spec.usagePolicy.allowedNamespaces.selector: selector cannot be empty for usage policy of type "Selector"',
      details: {
        name: 's3-storage',
        group: 'storage.kubestash.com',
        kind: 'BackupStorage',
        causes: [
          {
            type: 'FieldValueRequired',
            field: 'spec.usagePolicy.allowedNamespaces.selector',
            message: 'selector cannot be empty for usage policy of type "Selector"',
          },
        ],
      },
    },
  });
});

t.test('UPDATE sees oldObject, DELETE with a null object is allowed', async (t) => {
  const { app } = makeApp(t);
  const stored = {
    ...backupStorage({ storage: { provider: 's3', s3: { bucket: 'backups', region: 'us-east-1' } } }),
    status: { repositories: [{ name: 'r' }] },
  };
  const update = await post(
    app,
    '/validate',
    storageReview({ operation: 'UPDATE', oldObject: stored, object: backupStorage({ storage: { provider: 's3', s3: { bucket: 'moved' } } }) }),
  );
  t.equal(update.body.response.allowed, false);
  t.equal(update.body.response.status.details.causes[0].field, 'spec.storage');

  const deletion = await post(app, '/validate', storageReview({ operation: 'DELETE', object: null, oldObject: stored }));
  t.same(deletion.body.response, { uid: 'bs-uid', allowed: true });
});

t.test('dryRun is answered the same and reported to the listener', async (t) => {
  const events: AdmissionEvent[] = [];
  const { app } = makeApp(t, { onAdmitted: (event) => events.push(event) });
  const wet = await post(app, '/mutate', storageReview());
  const dry = await post(app, '/mutate', storageReview({ dryRun: true }));
  t.same(dry.body, wet.body);
  t.same(
    events.map((event) => [event.webhook, event.request.uid, event.outcome.dryRun, event.outcome.result]),
    [
      ['mutate', 'bs-uid', false, 'patched'],
      ['mutate', 'bs-uid', true, 'patched'],
    ],
  );
});

t.test('a throwing listener does not change the answer', async (t) => {
  const { app, log } = makeApp(t, {
    onAdmitted: () => {
      throw new Error('queue full');
    },
  });
  const answer = await post(app, '/validate', storageReview());
  t.same(answer.body.response, { uid: 'bs-uid', allowed: true });
  t.ok(log.lines().some((line) => line.msg === 'admission listener threw' && line.uid === 'bs-uid'));
});

t.test('a rule that throws answers allowed:false with 500, and the server keeps serving', async (t) => {
  const { app, log } = makeApp(t);
  for (const webhook of ['mutate', 'validate']) {
    const answer = await post(app, `/${webhook}`, storageReview({ uid: `boom-${webhook}`, kind: throwingKind, object: { metadata: { name: 'x' } } }));
    t.equal(answer.status, 200, webhook);
    t.match(answer.body.response, { uid: `boom-${webhook}`, allowed: false, status: { code: 500, reason: 'InternalError' } }, webhook);
    t.notMatch(answer.body.response.status.message, /exploded/, 'no internals in the answer');
  }
  t.ok(log.lines().some((line) => line.msg === 'admission rule threw' && line.uid === 'boom-validate' && line.level === 'error'), 'logged');
  t.equal((await post(app, '/validate', storageReview())).body.response.allowed, true, 'still serving');
});

t.test('the cluster view is read per request, so it can be swapped at runtime', async (t) => {
  let view: ClusterView = emptyClusterView;
  const { app } = makeApp(t, { clusterView: () => view });
  const review = storageReview({ object: backupStorage({ default: true }) });
  t.equal((await post(app, '/validate', review)).body.response.allowed, true);
  const otherDefault: KubeObject = { ...backupStorage({ default: true }), metadata: { name: 'other', namespace: 'demo' } };
  view = viewWithStorages([otherDefault]);
  const denied = await post(app, '/validate', review);
  t.equal(denied.body.response.allowed, false);
  t.equal(denied.body.response.status.reason, 'Forbidden');
});

t.test('per-kind paths under /mutate/ and /validate/ dispatch on request.kind', async (t) => {
  const { app } = makeApp(t);
  const mutated = await post(app, '/mutate/mutate-storage-kubestash-com-v1alpha1-backupstorage', storageReview());
  t.equal(mutated.body.response.patchType, 'JSONPatch');
  const validated = await post(app, '/validate/anything', storageReview({ object: backupStorage({ usagePolicy: { allowedNamespaces: { from: 'Selector' } } }) }));
  t.equal(validated.body.response.allowed, false);
});

t.test('malformed requests get 400 with a clear message', async (t) => {
  const { app } = makeApp(t);
  const valid = JSON.stringify(storageReview());
  const cases: Array<[string, string | undefined, Record<string, string>, string | RegExp]> = [
    ['text/plain', valid, { 'content-type': 'text/plain' }, 'content type "text/plain" is not supported: send the AdmissionReview as application/json'],
    ['form', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }, /^content type "application\/x-www-form-urlencoded" is not supported/],
    ['merge patch', valid, { 'content-type': 'application/merge-patch+json' }, /^content type "application\/merge-patch\+json" is not supported/],
    ['no content type', valid, {}, 'content type is missing: send the AdmissionReview as application/json'],
    ['empty JSON body', '', { 'content-type': json }, 'body is empty: expected an AdmissionReview (admission.k8s.io/v1) as application/json'],
    ['no body at all', undefined, {}, 'body is empty: expected an AdmissionReview (admission.k8s.io/v1) as application/json'],
    ['not JSON', '{"apiVersion": ', { 'content-type': json }, /^body is not valid JSON: /],
    ['YAML', 'apiVersion: admission.k8s.io/v1', { 'content-type': json }, /^body is not valid JSON: /],
    ['JSON null', 'null', { 'content-type': json }, 'body is JSON null: expected an AdmissionReview object'],
    ['JSON array', '[]', { 'content-type': json }, 'body is a JSON array: expected an AdmissionReview object'],
    ['JSON string', '"hello"', { 'content-type': json }, 'body is a JSON string: expected an AdmissionReview object'],
    ['no request', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', { 'content-type': json }, 'request is required: an AdmissionReview must carry a request'],
    ['no uid', JSON.stringify(storageReview({ uid: undefined })), { 'content-type': json }, 'request.uid is required: a non-empty string'],
    ['wrong apiVersion', valid.replace('admission.k8s.io/v1"', 'admission.k8s.io/v1beta1"'), { 'content-type': json }, /^admission.k8s.io\/v1beta1 is not supported/],
    ['wrong kind', valid.replace('"kind":"AdmissionReview"', '"kind":"Review"'), { 'content-type': json }, 'kind must be "AdmissionReview", got "Review"'],
    ['proto poisoning', '{"__proto__":{"allowed":true}}', { 'content-type': json }, 'body contains a "__proto__" or "constructor.prototype" key: an AdmissionReview never does'],
    ['constructor poisoning', '{"constructor":{"prototype":{"allowed":true}}}', { 'content-type': json }, /^body contains a "__proto__"/],
    ['a huge wrong kind is quoted clipped', valid.replace('"kind":"AdmissionReview"', `"kind":"${'K'.repeat(2_000_000)}"`), { 'content-type': json }, new RegExp(`^kind must be "AdmissionReview", got "K{${MAX_REASON_LENGTH - 'kind must be "AdmissionReview", got "'.length}}… \\(\\d+ more characters cut\\)$`)],
  ];
  for (const webhook of ['/mutate', '/validate']) {
    for (const [name, payload, headers, message] of cases) {
      const response = await app.inject({ method: 'POST', url: webhook, headers, ...(payload === undefined ? {} : { payload }) });
      t.equal(response.statusCode, 400, `${webhook} ${name}`);
      t.equal(response.headers['content-type'], 'application/json; charset=utf-8', `${webhook} ${name}: JSON answer`);
      const body = response.json() as Json;
      t.equal(body.error, 'Bad Request', name);
      if (typeof message === 'string') t.equal(body.message, message, `${webhook} ${name}`);
      else t.match(body.message, message, `${webhook} ${name}`);
    }
  }
});

t.test('content type parameters are accepted', async (t) => {
  const { app } = makeApp(t);
  const answer = await post(app, '/validate', storageReview(), { 'content-type': 'application/json; charset=utf-8' });
  t.equal(answer.status, 200);
});

t.test('wrong methods on the webhook paths get 405, unknown paths 404', async (t) => {
  const { app } = makeApp(t);
  for (const [method, url] of [['GET', '/mutate'], ['GET', '/validate'], ['PUT', '/validate/x'], ['DELETE', '/mutate']] as const) {
    const response = await app.inject({ method, url });
    t.equal(response.statusCode, 405, `${method} ${url}`);
    t.equal(response.headers.allow, 'POST');
    t.equal((response.json() as Json).message, `${method} is not allowed on ${url}: send an AdmissionReview with POST`);
  }
  const missing = await app.inject({ method: 'GET', url: '/mutatex' });
  t.equal(missing.statusCode, 404);
  t.equal((missing.json() as Json).message, 'no route GET /mutatex');
});

/** An AdmissionReview of exactly `size` bytes (padding in an annotation). */
function reviewOfSize(size: number): string {
  const base = JSON.stringify(storageReview({ object: { ...backupStorage(), metadata: { name: 'big', namespace: 'demo', annotations: { pad: '' } } } }));
  return base.replace('"pad":""', `"pad":"${'x'.repeat(size - base.length)}"`);
}

t.test('bodies up to 7 MiB are accepted; larger ones get 400 naming the limit', async (t) => {
  const { app } = makeApp(t);
  const atLimit = reviewOfSize(defaultBodyLimit);
  t.equal(Buffer.byteLength(atLimit), 7 * 1024 * 1024);
  const accepted = await post(app, '/validate', atLimit);
  t.equal(accepted.status, 200);
  t.equal(accepted.body.response.allowed, true);

  const over = await post(app, '/validate', reviewOfSize(defaultBodyLimit + 1));
  t.same(over, {
    status: 400,
    body: { statusCode: 400, error: 'Bad Request', message: 'body is larger than the 7 MiB limit (7340032 bytes): an AdmissionReview must be smaller' },
  });
});

t.test('health, readiness and metrics', async (t) => {
  let readiness: boolean | { ready: boolean; reason: string } = false;
  const { app, registry } = makeApp(t, { isReady: () => readiness });

  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.same([health.statusCode, health.json()], [200, { status: 'ok' }]);

  const notReady = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(notReady.statusCode, 503);
  t.match(notReady.json(), { status: 'not ready', reason: /certificates or cluster caches/ });
  readiness = { ready: false, reason: 'cluster cache not synced: BackupStorage' };
  t.same((await app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'not ready', reason: 'cluster cache not synced: BackupStorage' });
  readiness = true;
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.same([ready.statusCode, ready.json()], [200, { status: 'ready' }]);

  await post(app, '/mutate', storageReview());
  await post(app, '/validate', storageReview());
  await post(app, '/validate', storageReview());
  await post(app, '/validate', storageReview({ object: backupStorage({ usagePolicy: { allowedNamespaces: { from: 'Selector' } } }) }));
  await post(app, '/validate', storageReview({ kind: { group: '', version: 'v1', kind: 'Secret' } }));
  await post(app, '/validate', storageReview({ kind: throwingKind }));
  await post(app, '/validate', storageReview({ operation: 'DELETE', object: null, oldObject: backupStorage() }));
  await post(app, '/mutate', 'null');

  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(metrics.statusCode, 200);
  t.match(metrics.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = metrics.body;
  const expected = [
    'autostash_admission_requests_total{webhook="mutate",kind="BackupStorage",operation="CREATE",result="patched"} 1',
    'autostash_admission_requests_total{webhook="validate",kind="BackupStorage",operation="CREATE",result="allowed"} 2',
    'autostash_admission_requests_total{webhook="validate",kind="BackupStorage",operation="CREATE",result="denied"} 1',
    'autostash_admission_requests_total{webhook="validate",kind="other",operation="CREATE",result="unknown_kind"} 1',
    'autostash_admission_requests_total{webhook="validate",kind="Exploding",operation="CREATE",result="error"} 1',
    'autostash_admission_requests_total{webhook="validate",kind="BackupStorage",operation="DELETE",result="allowed"} 1',
    'autostash_admission_requests_total{webhook="mutate",kind="none",operation="none",result="bad_request"} 1',
    'autostash_admission_duration_seconds_count{webhook="validate"} 6',
    'autostash_admission_duration_seconds_count{webhook="mutate"} 1',
  ];
  for (const line of expected) t.ok(text.split('\n').includes(line), line);
  t.match(text, /^# TYPE autostash_admission_duration_seconds histogram$/m);
  t.match(text, /^autostash_admission_duration_seconds_bucket\{le="\+Inf",webhook="validate"\} 6$/m);
  t.match(text, /^process_cpu_user_seconds_total /m, 'default process metrics');
  t.match(text, /^nodejs_heap_size_total_bytes /m, 'default Node metrics');
  t.ok(registry.getSingleMetric('autostash_admission_requests_total'), 'the metrics live in the registry the app was given');

  const { app: other } = makeApp(t);
  t.notMatch((await other.inject({ method: 'GET', url: '/metrics' })).body, /result="patched"/, 'apps do not share a registry');
});

t.test('without a registry or logger option the app still builds its own', async (t) => {
  const app = buildApp({ rules: fakeRegistry(), logger: false });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready by default');
  t.match((await app.inject({ method: 'GET', url: '/metrics' })).body, /autostash_admission_requests_total/);
  const withOptions = buildApp({ rules: fakeRegistry(), logger: { level: 'silent' } });
  t.teardown(() => withOptions.close());
  t.equal((await withOptions.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

t.test('over a real TLS connection trusted through the test CA', async (t) => {
  const { app, log } = makeApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: pems.ca });
  t.teardown(() => agent.destroy());

  function send(path: string, body: string | Buffer | undefined, headers: Record<string, string | number>, options: Partial<RequestOptions> = {}) {
    return new Promise<{ status: number; body: string; reusedSocket: boolean }>((resolve, reject) => {
      const request = httpsRequest(
        { host: '127.0.0.1', port, path, method: 'POST', headers, agent, rejectUnauthorized: true, ...options },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), reusedSocket: request.reusedSocket }));
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  const first = await send('/validate', JSON.stringify(storageReview()), { 'content-type': json, 'x-request-id': 'trace-123' });
  t.equal(first.status, 200);
  t.same(JSON.parse(first.body).response, { uid: 'bs-uid', allowed: true });
  const second = await send('/mutate', JSON.stringify(storageReview()), { 'content-type': json });
  t.equal(JSON.parse(second.body).response.patchType, 'JSONPatch');
  t.equal(second.reusedSocket, true, 'keep-alive reuses the TLS connection');

  const badJson = await send('/validate', '{', { 'content-type': json });
  t.equal(badJson.status, 400);
  t.match(JSON.parse(badJson.body).message, /^body is not valid JSON/);

  const bigBody = Buffer.from(reviewOfSize(defaultBodyLimit + 1024 * 1024));
  const declaredTooLarge = await send('/validate', bigBody, { 'content-type': json, 'content-length': bigBody.length }, { agent: false, ca: pems.ca });
  t.equal(declaredTooLarge.status, 400, 'Content-Length over the limit');
  t.match(JSON.parse(declaredTooLarge.body).message, /larger than the 7 MiB limit/);

  // Chunked: the size is only known while streaming, and the server must stop at the limit, not hang.
  const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = httpsRequest(
      { host: '127.0.0.1', port, path: '/validate', method: 'POST', headers: { 'content-type': json, 'transfer-encoding': 'chunked' }, ca: pems.ca, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    request.on('error', reject);
    for (let offset = 0; offset < bigBody.length; offset += 64 * 1024) request.write(bigBody.subarray(offset, offset + 64 * 1024));
    request.end();
  });
  t.equal(chunked.status, 400, 'chunked body over the limit');
  t.match(JSON.parse(chunked.body).message, /larger than the 7 MiB limit/);

  const getMutate = await send('/mutate', undefined, {}, { method: 'GET' });
  t.equal(getMutate.status, 405);

  const answered = log.lines().find((line) => line.msg === 'admission answered' && line.reqId === 'trace-123');
  t.match(answered, { uid: 'bs-uid', webhook: 'validate', kind: 'storage.kubestash.com/BackupStorage', result: 'allowed', level: 'debug' }, 'x-request-id is the request id');
});

t.test('an untrusting client cannot talk to the server', async (t) => {
  const { app } = makeApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const error = await new Promise<Error>((resolve) => {
    const request = httpsRequest({ host: '127.0.0.1', port, path: '/healthz', agent: false, rejectUnauthorized: true }, () => resolve(new Error('connected')));
    request.on('error', resolve);
    request.end();
  });
  t.match(error, { code: /SELF_SIGNED|UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE/ });
});

t.test('an unexpected error answers 500 without internals and is logged', async (t) => {
  const { app, log } = makeApp(t, {
    isReady: () => {
      throw new Error('informer state corrupted');
    },
  });
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(response.statusCode, 500);
  t.same(response.json(), { statusCode: 500, error: 'Internal Server Error', message: 'internal error: see the autostash logs' });
  t.ok(log.lines().some((line) => line.msg === 'request failed' && line.level === 'error'));
});

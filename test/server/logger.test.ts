import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { buildApp } from '../../src/server/app.js';
import { redactSensitive, redactionCensor, requestIdGenerator, sensitiveFieldNames, webhookLoggerOptions } from '../../src/server/logger.js';
import { backupStorageKind, fakeRegistry, throwingKind } from '../fixtures/admission/fake-rules.js';

const secret = 'c3VwZXItc2VjcmV0LXZhbHVl';

function memoryLogger(level = 'debug') {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const text = () => chunks.join('');
  const lines = () =>
    text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, any>);
  return { logger: pino(webhookLoggerOptions(level), stream), text, lines };
}

t.test('log lines are JSON with a level label, an ISO time and the service', async (t) => {
  const { logger, lines } = memoryLogger('info');
  logger.info({ uid: 'u' }, 'admission answered');
  logger.debug('not at info');
  t.equal(lines().length, 1);
  t.match(lines()[0], { level: 'info', service: 'autostash', uid: 'u', msg: 'admission answered', time: /^\d{4}-\d\d-\d\dT/ });
});

t.test('every sensitive field is redacted at any depth, in objects and arrays', async (t) => {
  for (const name of sensitiveFieldNames) {
    const { logger, text } = memoryLogger();
    const nested = { [name]: secret, a: { [name]: secret, b: [{ [name]: secret, c: { d: { e: { f: { [name]: secret } } } } }] } };
    logger.info(nested, 'constant message');
    t.notMatch(text(), secret, `${name} never appears`);
    t.match(text(), redactionCensor, `${name} is censored`);
  }
  const { logger, text } = memoryLogger();
  logger.info({ Password: secret, Authorization: secret, aws_secret_access_key: secret, APIKEY: secret, StringData: secret }, 'keys in another case');
  t.notMatch(text(), secret, 'keys are matched without regard to case, mixed-case names included');
});

t.test('redaction leaves other fields, errors and the input alone', async (t) => {
  const input = { uid: 'u', spec: { storage: { s3: { bucket: 'b', secretName: 'named-only' } }, data: { key: secret } }, list: [1, 'two', null] };
  t.same(redactSensitive(input), {
    uid: 'u',
    spec: { storage: { s3: { bucket: 'b', secretName: 'named-only' } }, data: redactionCensor },
    list: [1, 'two', null],
  });
  t.equal((input.spec.data as Record<string, string>).key, secret, 'the logged object itself is not changed');
  const tooDeep = redactSensitive({ a: { b: { c: { d: { e: { f: { g: { h: { i: secret } } } } } } } } });
  t.notMatch(JSON.stringify(tooDeep), secret, 'what is deeper than any log field should be is cut off');
  t.notMatch(JSON.stringify(redactSensitive([[[[[[[[[secret]]]]]]]]])), secret, 'arrays too');

  const { logger, lines } = memoryLogger();
  logger.error({ err: new Error('rule failed'), uid: 'u' }, 'admission rule threw');
  t.match(lines()[0], { err: { type: 'Error', message: 'rule failed', stack: /rule failed/ }, uid: 'u' }, 'errors keep the pino err serializer');
});

t.test('credential headers are redacted', async (t) => {
  const { logger, lines } = memoryLogger();
  logger.info(
    { req: { headers: { authorization: `Bearer ${secret}`, cookie: secret, 'proxy-authorization': secret, 'user-agent': 'kube-apiserver' } } },
    'request',
  );
  logger.info({ headers: { authorization: secret, cookie: secret, 'proxy-authorization': secret } }, 'headers');
  const [request, headers] = lines();
  t.same(request?.req.headers, { authorization: redactionCensor, cookie: redactionCensor, 'proxy-authorization': redactionCensor, 'user-agent': 'kube-apiserver' });
  t.same(headers?.headers, { authorization: redactionCensor, cookie: redactionCensor, 'proxy-authorization': redactionCensor });
});

t.test('serving Secrets and credentials never puts them in the logs', async (t) => {
  const { logger, text, lines } = memoryLogger('trace');
  const app = buildApp({ rules: fakeRegistry(), logger });
  t.teardown(() => app.close());
  const secretObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's3-secret', namespace: 'demo' },
    data: { AWS_SECRET_ACCESS_KEY: secret, RESTIC_PASSWORD: secret },
    stringData: { token: secret },
  };
  const requests = [
    { uid: 'secret-create', kind: { group: '', version: 'v1', kind: 'Secret' }, operation: 'CREATE', object: secretObject },
    { uid: 'secret-update', kind: { group: '', version: 'v1', kind: 'Secret' }, operation: 'UPDATE', object: secretObject, oldObject: secretObject },
    { uid: 'rule-throws', kind: throwingKind, operation: 'CREATE', object: { metadata: { name: 'x' }, spec: { password: secret } } },
    { uid: 'storage', kind: backupStorageKind, operation: 'CREATE', object: { metadata: { name: 'x' }, spec: { usagePolicy: { allowedNamespaces: { from: 'Selector' } } } } },
  ];
  for (const request of requests) {
    for (const url of ['/mutate', '/validate']) {
      const response = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        payload: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request },
      });
      t.equal(response.statusCode, 200);
      t.notMatch(response.body, secret, `${request.uid} ${url}: not echoed in the answer`);
    }
  }
  await app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json', authorization: secret }, payload: '{"x": ' });
  t.ok(lines().length >= requests.length * 2, 'the requests were logged');
  t.ok(lines().some((line) => line.msg === 'admission answered' && line.uid === 'secret-create'), 'with their admission uid');
  t.ok(lines().some((line) => line.msg === 'request rejected'));
  t.notMatch(text(), secret, 'the secret value never appears in the logs');
});

t.test('request ids come from x-request-id when it is a short token, else from a counter', async (t) => {
  const next = requestIdGenerator();
  const message = (headers: Record<string, string | string[]>) => ({ headers }) as unknown as IncomingMessage;
  t.equal(next(message({ 'x-request-id': 'abc-123.x:y_z' })), 'abc-123.x:y_z');
  t.equal(next(message({})), 'req-1');
  t.equal(next(message({ 'x-request-id': 'has spaces' })), 'req-2');
  t.equal(next(message({ 'x-request-id': 'x'.repeat(129) })), 'req-3');
  t.equal(next(message({ 'x-request-id': ['a', 'b'] })), 'req-4');
  t.equal(requestIdGenerator()(message({})), 'req-1', 'each app counts on its own');
});

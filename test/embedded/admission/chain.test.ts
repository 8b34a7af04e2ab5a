import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createAdmissionChain } from '../../../src/embedded/admission/index.js';
import type { AdmissionAttributes, ResourceType } from '../../../src/embedded/api-types.js';
import { generateCertificates, toCaBundle, type GeneratedCertificates } from '../../../src/server/certificates.js';

type Request = Record<string, any>;

/** An answer other than a 200 JSON AdmissionReview. */
class RawReply {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {}
}
type Handler = (request: Request) => unknown;

interface Received {
  url: string;
  contentType: string | undefined;
  request: Request;
}

/** A real HTTPS webhook on 127.0.0.1 serving `tls`, recording every AdmissionReview it gets. */
async function serveWebhook(t: Test, tls: GeneratedCertificates, handler: Handler): Promise<{ base: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer({ key: tls.tlsKey, cert: tls.tlsCert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: Request };
      received.push({ url: req.url ?? '', contentType: req.headers['content-type'], request: review.request });
      void Promise.resolve(handler(review.request)).then((answer) => {
        if (answer instanceof RawReply) {
          res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { base: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const review = (response: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
const allow = (request: Request, extra: Record<string, unknown> = {}) => review({ uid: request.uid, allowed: true, ...extra });
const deny = (request: Request, status?: Record<string, unknown>) => review({ uid: request.uid, allowed: false, ...(status ? { status } : {}) });
const patched = (request: Request, operations: unknown[]) =>
  allow(request, { patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(operations)).toString('base64') });
const never = () => new Promise<never>(() => {});

const configMaps: ResourceType = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  statusSubresource: false,
};
const configMap = (labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'demo', labels }, data: { a: '1' } });
const user = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const create = (object: KubeObject = configMap(), overrides: Partial<AdmissionAttributes> = {}): AdmissionAttributes => ({
  operation: 'CREATE',
  resourceType: configMaps,
  namespace: 'demo',
  name: 'settings',
  object,
  dryRun: false,
  user,
  ...overrides,
});

interface LogEntry {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

let certs: GeneratedCertificates;
let strangerCerts: GeneratedCertificates;
t.before(async () => {
  [certs, strangerCerts] = await Promise.all([generateCertificates(), generateCertificates()]);
});

/** A chain over configuration lists the test fills in, with a recording logger. */
function setup(t: Test) {
  const mutating: KubeObject[] = [];
  const validating: KubeObject[] = [];
  const logs: LogEntry[] = [];
  const record = (level: string) => (fields: Record<string, unknown>, message: string) => logs.push({ level, fields, message });
  const namespaces = new Map<string, KubeObject>([
    ['demo', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', labels: { env: 'prod' } } }],
    ['scratch', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch', labels: { env: 'dev' } } }],
  ]);
  const chain = createAdmissionChain({
    mutatingConfigurations: () => mutating,
    validatingConfigurations: () => validating,
    namespace: (name) => namespaces.get(name),
    logger: { info: record('info'), warn: record('warn'), error: record('error'), debug: record('debug') } as never,
    serviceResolver: (namespace, name, port) => resolvable.get(`${namespace}/${name}:${port}`),
  });
  const resolvable = new Map<string, string>();
  t.teardown(() => chain.close());
  const hook = (name: string, url: string, fields: Record<string, unknown> = {}) => ({
    name,
    clientConfig: { url, caBundle: toCaBundle(certs.caCert) },
    rules: [{ operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Namespaced' }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...fields,
  });
  const configuration = (kind: 'Mutating' | 'Validating', name: string, webhooks: unknown[]): KubeObject => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name },
    webhooks,
  });
  return {
    chain,
    logs,
    resolvable,
    hook,
    addMutating: (name: string, ...webhooks: unknown[]) => mutating.push(configuration('Mutating', name, webhooks)),
    addValidating: (name: string, ...webhooks: unknown[]) => validating.push(configuration('Validating', name, webhooks)),
  };
}

t.test('mutating webhooks run in configuration-name order, each seeing the previous patch', async (t) => {
  const { chain, hook, addMutating } = setup(t);
  const first = await serveWebhook(t, certs, (request) => patched(request, [{ op: 'add', path: '/metadata/labels/order', value: 'a' }]));
  const second = await serveWebhook(t, certs, (request) =>
    patched(request, [{ op: 'replace', path: '/metadata/labels/order', value: `${request.object.metadata.labels.order},b` }]),
  );
  addMutating('b-second', hook('second.example.com', `${second.base}/mutate`));
  addMutating('a-first', hook('first.example.com', `${first.base}/mutate`));

  const incoming = configMap();
  const result = await chain.mutate(create(incoming));
  t.same(result.object?.metadata?.labels, { order: 'a,b' }, 'both patches applied, in order');
  t.same(incoming.metadata?.labels, {}, "the caller's object is not modified");
  t.same(second.received[0]?.request.object.metadata.labels, { order: 'a' }, 'the second webhook saw the first one\'s result');

  const sent = first.received[0];
  t.equal(sent?.url, '/mutate?timeout=10s', 'the timeout travels in the query, as kube-apiserver sends it');
  t.equal(sent?.contentType, 'application/json');
  t.match(sent?.request, {
    uid: /^[0-9a-f-]{36}$/,
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    requestKind: { group: '', version: 'v1', kind: 'ConfigMap' },
    requestResource: { group: '', version: 'v1', resource: 'configmaps' },
    name: 'settings',
    namespace: 'demo',
    operation: 'CREATE',
    userInfo: user,
    object: incoming,
    oldObject: null,
    dryRun: false,
    options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
  });
  t.not(sent?.request.uid, second.received[0]?.request.uid, 'a new uid per call');

  const unmatched = await chain.mutate(create(configMap(), { resourceType: { ...configMaps, resource: 'secrets', kind: 'Secret' } }));
  t.same(unmatched, { object: configMap(), warnings: [] }, 'no matching webhook: the object as given');
  t.equal(first.received.length, 1, 'a webhook whose rules do not match is not called');
});

t.test('reinvocationPolicy IfNeeded: called once more after a later webhook changed the object', async (t) => {
  const { chain, hook, addMutating } = setup(t);
  const observer = await serveWebhook(t, certs, (request) => allow(request));
  const bystander = await serveWebhook(t, certs, (request) => allow(request));
  const changer = await serveWebhook(t, certs, (request) =>
    request.object.metadata.labels.changed ? allow(request) : patched(request, [{ op: 'add', path: '/metadata/labels/changed', value: 'yes' }]),
  );
  addMutating('a', hook('observer.example.com', `${observer.base}/m`, { reinvocationPolicy: 'IfNeeded' }), hook('bystander.example.com', `${bystander.base}/m`));
  addMutating('b', hook('changer.example.com', `${changer.base}/m`, { reinvocationPolicy: 'IfNeeded' }));

  const result = await chain.mutate(create());
  t.same(result.object?.metadata?.labels, { changed: 'yes' });
  t.equal(observer.received.length, 2, 'the IfNeeded webhook before the change is called again');
  t.same(observer.received[1]?.request.object.metadata.labels, { changed: 'yes' }, 'and sees the changed object');
  t.equal(bystander.received.length, 1, 'reinvocationPolicy Never: called once');
  t.equal(changer.received.length, 1, 'the webhook that made the change is not called again for its own change');

  await chain.mutate(create(configMap({ changed: 'already' })));
  t.equal(observer.received.length, 3, 'nothing changed: no reinvocation');
});

t.test('denials keep the webhook status and message', async (t) => {
  const { chain, hook, addValidating, addMutating } = setup(t);
  const statuses: Array<Record<string, unknown> | undefined> = [
    { code: 422, reason: 'Invalid', message: 'data.a must be 2', details: { causes: [{ field: 'data.a' }] } },
    undefined,
    { code: 200, reason: 'NotAllowedHere' },
    { code: 403, message: 'forbidden by policy' },
  ];
  let next = 0;
  const denier = await serveWebhook(t, certs, (request) => deny(request, statuses[next++]));
  addValidating('policy', hook('deny.example.com', `${denier.base}/validate`));

  await t.rejects(chain.validate(create()), {
    name: 'ApiError',
    code: 422,
    reason: 'Invalid',
    message: 'admission webhook "deny.example.com" denied the request: data.a must be 2',
    details: { causes: [{ field: 'data.a' }] },
  });
  await t.rejects(chain.validate(create()), { code: 400, reason: '', message: 'admission webhook "deny.example.com" denied the request without explanation' }, 'no status: 400, as kube');
  await t.rejects(chain.validate(create()), { code: 400, message: 'admission webhook "deny.example.com" denied the request: NotAllowedHere' }, 'a code below 400 becomes 400; the reason stands in for the message');

  addMutating('policy', hook('deny-mutating.example.com', `${denier.base}/mutate`));
  const error = await chain.mutate(create()).catch((caught: unknown) => caught);
  t.match(error, { code: 403, message: 'admission webhook "deny-mutating.example.com" denied the request: forbidden by policy' });
  t.same((error as { toStatus(): unknown }).toStatus(), {
    apiVersion: 'v1',
    kind: 'Status',
    metadata: {},
    status: 'Failure',
    message: 'admission webhook "deny-mutating.example.com" denied the request: forbidden by policy',
    reason: '',
    code: 403,
  });
});

t.test('warnings are collected in webhook order', async (t) => {
  const { chain, hook, addValidating, addMutating } = setup(t);
  const warner = (text: string) => (request: Request) => allow(request, { warnings: [`${text} 1`, `${text} 2`] });
  const one = await serveWebhook(t, certs, warner('one'));
  const two = await serveWebhook(t, certs, warner('two'));
  addValidating('z', hook('two.example.com', `${two.base}/v`));
  addValidating('a', hook('one.example.com', `${one.base}/v`));
  t.same(await chain.validate(create()), { warnings: ['one 1', 'one 2', 'two 1', 'two 2'] });
  addMutating('m', hook('one.example.com', `${one.base}/m`));
  t.same((await chain.mutate(create())).warnings, ['one 1', 'one 2']);
});

t.test('validating webhooks: every matching one is called; the first failure in order wins', async (t) => {
  const { chain, hook, addValidating } = setup(t);
  const slowDeny = await serveWebhook(t, certs, (request) => new Promise((resolve) => setTimeout(() => resolve(deny(request, { message: 'first' })), 50)));
  const quickDeny = await serveWebhook(t, certs, (request) => deny(request, { message: 'second' }));
  addValidating('a', hook('a.example.com', `${slowDeny.base}/v`));
  addValidating('b', hook('b.example.com', `${quickDeny.base}/v`));
  await t.rejects(chain.validate(create()), { message: /"a\.example\.com" denied the request: first/ });
  t.equal(quickDeny.received.length, 1);
});

t.test('failurePolicy with the webhook down (closed port)', async (t) => {
  const { chain, hook, addValidating, addMutating, logs } = setup(t);
  const port = await closedPort();
  const after = await serveWebhook(t, certs, (request) => allow(request));
  addValidating('a-down', hook('down.example.com', `https://127.0.0.1:${port}/validate`, { failurePolicy: 'Ignore' }));
  addValidating('b-up', hook('up.example.com', `${after.base}/validate`));
  t.same(await chain.validate(create()), { warnings: [] }, 'Ignore: the request goes through');
  t.equal(after.received.length, 1, 'and the next webhook is still called');
  t.match(logs.find((entry) => entry.level === 'warn'), { fields: { webhook: 'down.example.com', reason: /ECONNREFUSED/ }, message: /failurePolicy Ignore/ });

  addMutating('down', hook('down.example.com', `https://127.0.0.1:${port}/mutate`, { failurePolicy: 'Fail' }));
  await t.rejects(chain.mutate(create()), {
    code: 500,
    reason: 'InternalError',
    message: new RegExp(`^Internal error occurred: failed calling webhook "down\\.example\\.com": failed to call webhook: Post "https://127\\.0\\.0\\.1:${port}/mutate\\?timeout=10s": .*ECONNREFUSED`),
  });
  const defaulted = setup(t);
  defaulted.addValidating('down', defaulted.hook('down.example.com', `https://127.0.0.1:${port}/validate`));
  await t.rejects(defaulted.chain.validate(create()), { code: 500 }, 'failurePolicy defaults to Fail');
});

t.test('timeoutSeconds: a webhook that hangs is given up on', async (t) => {
  const { chain, hook, addValidating, addMutating } = setup(t);
  const hanging = await serveWebhook(t, certs, never);
  addMutating('hang', hook('hang.example.com', `${hanging.base}/mutate`, { timeoutSeconds: 1, failurePolicy: 'Fail' }));
  await t.rejects(chain.mutate(create()), { code: 500, message: /failed calling webhook "hang\.example\.com": failed to call webhook: Post ".*\?timeout=1s": context deadline exceeded/ });
  addValidating('hang', hook('hang.example.com', `${hanging.base}/validate`, { timeoutSeconds: 1, failurePolicy: 'Ignore' }));
  t.same(await chain.validate(create()), { warnings: [] }, 'Ignore: allowed after the timeout');
  t.equal(hanging.received[1]?.url, '/validate?timeout=1s');
});

t.test('answers kube-apiserver refuses count as call failures', async (t) => {
  const { chain, hook, addValidating } = setup(t);
  const wrongUid = await serveWebhook(t, certs, (request) => review({ uid: `${request.uid}-not`, allowed: true }));
  const serverError = await serveWebhook(t, certs, () => new RawReply(500, 'boom'));
  const notJson = await serveWebhook(t, certs, () => new RawReply(200, 'yes'));
  addValidating('wrong-uid', hook('uid.example.com', `${wrongUid.base}/v`));
  await t.rejects(chain.validate(create()), { code: 500, message: /failed calling webhook "uid\.example\.com": received invalid webhook response: expected response\.uid="[0-9a-f-]+", got "[0-9a-f-]+-not"/ });

  const errors = setup(t);
  errors.addValidating('server-error', errors.hook('error.example.com', `${serverError.base}/v`));
  await t.rejects(errors.chain.validate(create()), { code: 500, message: /responded with status 500: boom/ });
  const garbage = setup(t);
  garbage.addValidating('not-json', garbage.hook('json.example.com', `${notJson.base}/v`));
  await t.rejects(garbage.chain.validate(create()), { code: 500, message: /response is not JSON/ });

  const ignoring = setup(t);
  ignoring.addValidating('wrong-uid', ignoring.hook('uid.example.com', `${wrongUid.base}/v`, { failurePolicy: 'Ignore' }));
  t.same(await ignoring.chain.validate(create()), { warnings: [] }, 'Ignore: allowed');
});

t.test('only the caBundle is trusted', async (t) => {
  const stranger = await serveWebhook(t, strangerCerts, (request) => allow(request));
  const { chain, hook, addValidating } = setup(t);
  addValidating('untrusted', hook('untrusted.example.com', `${stranger.base}/v`));
  await t.rejects(chain.validate(create()), { code: 500, message: /failed calling webhook "untrusted\.example\.com": failed to call webhook: Post .*certificate/ });
  t.equal(stranger.received.length, 0, 'no review is sent over an untrusted connection');

  const ignoring = setup(t);
  ignoring.addValidating('untrusted', ignoring.hook('untrusted.example.com', `${stranger.base}/v`, { failurePolicy: 'Ignore' }));
  t.same(await ignoring.chain.validate(create()), { warnings: [] });

  const noBundle = setup(t);
  noBundle.addValidating('no-bundle', { ...noBundle.hook('no-bundle.example.com', `${stranger.base}/v`), clientConfig: { url: `${stranger.base}/v` } });
  await t.rejects(noBundle.chain.validate(create()), { code: 500 }, 'without a caBundle the system roots apply, which do not know a private CA');
});

t.test('service clientConfig: reachable only through the serviceResolver, verified as <name>.<namespace>.svc', async (t) => {
  const webhook = await serveWebhook(t, certs, (request) => allow(request, { warnings: ['via service'] }));
  const { chain, hook, addValidating, resolvable } = setup(t);
  const service = (name: string) => ({ caBundle: toCaBundle(certs.caCert), service: { namespace: 'autostash', name, path: '/validate', port: 8443 } });
  addValidating('svc', { ...hook('svc.example.com', ''), clientConfig: service('autostash') });
  await t.rejects(chain.validate(create()), { code: 500, message: /could not get REST client: service "autostash\/autostash" cannot be reached/ });
  resolvable.set('autostash/autostash:8443', webhook.base);
  t.same(await chain.validate(create()), { warnings: ['via service'] });
  t.equal(webhook.received[0]?.url, '/validate?timeout=10s');

  const other = setup(t);
  other.resolvable.set('autostash/elsewhere:8443', webhook.base);
  other.addValidating('svc', { ...other.hook('svc.example.com', ''), clientConfig: service('elsewhere') });
  await t.rejects(other.chain.validate(create()), { code: 500, message: /elsewhere\.autostash\.svc/ }, 'the certificate must name the service');
});

t.test('dryRun and sideEffects', async (t) => {
  const webhook = await serveWebhook(t, certs, (request) => allow(request));
  const rows: Array<[string | undefined, 'called' | 'refused' | 'failed']> = [
    ['None', 'called'],
    ['NoneOnDryRun', 'called'],
    ['Unknown', 'refused'],
    ['Some', 'refused'],
    [undefined, 'failed'],
  ];
  for (const [sideEffects, expected] of rows) {
    const { chain, hook, addMutating, addValidating } = setup(t);
    const fields = { sideEffects };
    addMutating('m', hook(`m-${sideEffects}.example.com`, `${webhook.base}/m`, fields));
    addValidating('v', hook(`v-${sideEffects}.example.com`, `${webhook.base}/v`, fields));
    const before = webhook.received.length;
    const dryRun = create(configMap(), { dryRun: true });
    if (expected === 'called') {
      await chain.mutate(dryRun);
      await chain.validate(dryRun);
      t.equal(webhook.received.length, before + 2, `sideEffects ${sideEffects}: called`);
      t.match(webhook.received.at(-1)?.request, { dryRun: true, options: { kind: 'CreateOptions', dryRun: ['All'] } });
    } else if (expected === 'refused') {
      const message = `admission webhook "m-${sideEffects}.example.com" does not support dry run`;
      await t.rejects(chain.mutate(dryRun), { code: 400, reason: 'BadRequest', message }, `sideEffects ${sideEffects}: refused`);
      await t.rejects(chain.validate(dryRun), { code: 400, reason: 'BadRequest', message: `admission webhook "v-${sideEffects}.example.com" does not support dry run` });
      t.equal(webhook.received.length, before, 'and not called');
      t.same(await chain.validate(create()), { warnings: [] }, 'a real request still calls it');
    } else {
      await t.rejects(chain.validate(dryRun), { code: 500, message: /Webhook SideEffects is nil/ }, 'no sideEffects: a call failure');
    }
  }
});

t.test('a webhook that does not accept v1 AdmissionReview is skipped per failurePolicy', async (t) => {
  const webhook = await serveWebhook(t, certs, (request) => allow(request));
  const { chain, hook, addValidating } = setup(t);
  addValidating('old', hook('old.example.com', `${webhook.base}/v`, { admissionReviewVersions: ['v1beta1'], failurePolicy: 'Ignore' }));
  t.same(await chain.validate(create()), { warnings: [] });
  const failing = setup(t);
  failing.addValidating('old', failing.hook('old.example.com', `${webhook.base}/v`, { admissionReviewVersions: ['v1beta1'] }));
  await t.rejects(failing.chain.validate(create()), { code: 500, message: /failed calling webhook "old\.example\.com": could not create admission objects: webhook does not accept v1 AdmissionReview/ });
  t.equal(webhook.received.length, 0, 'never called');
});

t.test('DELETE sends the stored object as oldObject and no object', async (t) => {
  const webhook = await serveWebhook(t, certs, (request) => (request.oldObject.metadata.labels.patchOnDelete ? patched(request, [{ op: 'add', path: '/x', value: 1 }]) : allow(request)));
  const { chain, hook, addMutating, addValidating } = setup(t);
  addMutating('m', hook('m.example.com', `${webhook.base}/m`));
  addValidating('v', hook('v.example.com', `${webhook.base}/v`));
  const stored = configMap({ keep: 'me' });
  const deletion = create(undefined, { operation: 'DELETE', object: undefined, oldObject: stored });
  t.same(await chain.mutate(deletion), { object: undefined, warnings: [] });
  await chain.validate(deletion);
  for (const received of webhook.received) {
    t.match(received.request, { operation: 'DELETE', object: null, oldObject: stored, options: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' } });
  }
  t.equal(webhook.received.length, 2);
  await t.rejects(chain.mutate({ ...deletion, oldObject: configMap({ patchOnDelete: 'yes' }) }), {
    code: 500,
    message: 'Internal error occurred: admission webhook "m.example.com" attempted to modify the object, which is not supported for this operation',
  });
});

t.test('a patch that does not apply is an internal error whatever the failurePolicy', async (t) => {
  const bad = await serveWebhook(t, certs, (request) => patched(request, [{ op: 'replace', path: '/metadata/labels/missing/deep', value: 'x' }]));
  const notPatch = await serveWebhook(t, certs, (request) => allow(request, { patchType: 'JSONPatch', patch: Buffer.from('{"op":"add"}').toString('base64') }));
  const empty = await serveWebhook(t, certs, (request) => patched(request, []));
  const { chain, hook, addMutating } = setup(t);
  addMutating('bad', hook('bad.example.com', `${bad.base}/m`, { failurePolicy: 'Ignore' }));
  await t.rejects(chain.mutate(create()), { code: 500, reason: 'InternalError', message: /admission webhook "bad\.example\.com" returned a patch that does not apply/ });
  const other = setup(t);
  other.addMutating('not', other.hook('not.example.com', `${notPatch.base}/m`, { failurePolicy: 'Ignore' }));
  await t.rejects(other.chain.mutate(create()), { code: 500, message: /returned a patch that is not a JSONPatch/ });
  const nothing = setup(t);
  nothing.addMutating('empty', nothing.hook('empty.example.com', `${empty.base}/m`));
  t.same((await nothing.chain.mutate(create())).object, configMap(), 'an empty patch changes nothing');
});

t.test('selectors and matchConditions decide who is called', async (t) => {
  const webhook = await serveWebhook(t, certs, (request) => allow(request));
  const { chain, hook, addValidating, logs } = setup(t);
  addValidating('prod', hook('prod.example.com', `${webhook.base}/prod`, { namespaceSelector: { matchLabels: { env: 'prod' } } }));
  addValidating('labelled', hook('labelled.example.com', `${webhook.base}/labelled`, { objectSelector: { matchExpressions: [{ key: 'backup', operator: 'Exists' }] } }));
  addValidating('never', hook('never.example.com', `${webhook.base}/never`, { matchConditions: [{ name: 'off', expression: 'false' }] }));
  addValidating('cel', hook('cel.example.com', `${webhook.base}/cel`, { matchConditions: [{ name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" }] }));

  const paths = async (attributes: AdmissionAttributes) => {
    const before = webhook.received.length;
    await chain.validate(attributes);
    return webhook.received.slice(before).map((received) => received.url.replace(/\?.*/, '')).sort();
  };
  t.same(await paths(create()), ['/cel', '/prod'], 'namespace demo is env=prod; no backup label');
  t.same(await paths(create(configMap(), { namespace: 'scratch' })), ['/cel'], 'namespace scratch is env=dev');
  t.same(await paths(create(configMap({ backup: 'daily' }), { namespace: 'scratch' })), ['/cel', '/labelled']);
  t.same(await paths(create(configMap(), { resourceType: { ...configMaps, group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations' } })), [], 'webhook configurations are exempt');
  await t.rejects(chain.validate(create(configMap(), { namespace: 'missing' })), { code: 404, message: 'namespaces "missing" not found' });
  t.equal(logs.filter((entry) => entry.fields.condition === 'not-system').length, 1, 'an unevaluated CEL condition is warned about once');
});

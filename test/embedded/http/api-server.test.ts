import { request as httpsRequest } from 'node:https';
import t from 'tap';
import { pino } from 'pino';
import { startApiServer } from '../../../src/embedded/http/api-server.js';
import { generateToken } from '../../../src/embedded/http/kubeconfig-file.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';
import { generateCertificates } from '../../../src/server/certificates.js';

const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const token = generateToken();
const api = createEmbeddedApi({ watchCacheSize: 5 });
const server = await startApiServer({
  api,
  port: 0,
  tls: { key: certs.tlsKey, cert: certs.tlsCert },
  caCert: certs.caCert,
  token,
  logger: pino({ level: 'silent' }),
});
t.teardown(async () => {
  await server.close();
  await api.close();
});

interface Reply {
  code: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

function call(method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string>; auth?: string | null } = {}): Promise<Reply> {
  const auth = options.auth === undefined ? `Bearer ${token}` : options.auth;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server.url}${path}`, {
      method,
      ca: certs.caCert,
      headers: {
        ...(auth === null ? {} : { authorization: auth }),
        'content-type': 'application/json',
        'content-length': String(options.body === undefined ? 0 : Buffer.byteLength(options.body)),
        ...options.headers,
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON (health, watch streams)
        }
        resolve({ code: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const configMap = (name: string, labels: Record<string, string> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { a: '1' } });
const cms = '/api/v1/namespaces/default/configmaps';

t.test('health and version answer without credentials; everything else needs the bearer token', async (t) => {
  const health = await call('GET', '/healthz', { auth: null });
  t.equal(health.code, 200);
  t.equal(health.text, 'ok');
  t.match((await call('GET', '/version', { auth: null })).json, { gitVersion: 'v1.32.0-autostash' });
  for (const auth of [null, 'Bearer wrong', `Basic ${token}`]) {
    const denied = await call('GET', '/api', { auth });
    t.equal(denied.code, 401, String(auth));
    t.match(denied.json, { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
  }
  t.match((await call('GET', '/api')).json, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ serverAddress: `127.0.0.1:${server.port}` }] });
});

t.test('discovery and OpenAPI documents', async (t) => {
  t.match((await call('GET', '/apis')).json, { kind: 'APIGroupList', groups: [{ name: 'apps' }] });
  t.match((await call('GET', '/apis/apps')).json, { kind: 'APIGroup', preferredVersion: { groupVersion: 'apps/v1' } });
  const core = (await call('GET', '/api/v1')).json as { resources: { name: string }[] };
  t.ok(core.resources.some((r) => r.name === 'pods/status'));
  t.equal((await call('GET', '/apis/nothing.io/v1')).code, 404);
  t.equal((await call('GET', '/apis/nothing.io')).code, 404);
  const index = (await call('GET', '/openapi/v3')).json as { paths: Record<string, { serverRelativeURL: string }> };
  const url = index.paths['apis/apps/v1']?.serverRelativeURL ?? '';
  t.match((await call('GET', url)).json, { openapi: '3.0.0', components: { schemas: { 'io.k8s.api.apps.v1.Deployment': {} } } });
  t.equal((await call('GET', '/openapi/v3/apis/nothing.io/v1')).code, 404);
  t.match(await call('GET', '/openapi/v2'), { code: 404, json: { reason: 'NotFound' } });
});

t.test('every failure is a Status with code and reason', async (t) => {
  const rows: [string, string, { body?: string | Buffer; headers?: Record<string, string> }, number, string][] = [
    ['GET', '/nowhere', {}, 404, 'NotFound'],
    ['GET', '/apis/nothing.io/v1/things', {}, 404, 'NotFound'],
    ['GET', '/api/v1/namespaces/default/namespaces', {}, 404, 'NotFound'],
    ['GET', `${cms}/x/status`, {}, 404, 'NotFound'],
    ['GET', `${cms}/missing`, {}, 404, 'NotFound'],
    ['POST', '/api/v1/configmaps', { body: configMap('c') }, 404, 'NotFound'],
    ['POST', '/api', {}, 405, 'MethodNotAllowed'],
    ['PUT', cms, { body: configMap('c') }, 405, 'MethodNotAllowed'],
    ['POST', `${cms}/c`, { body: configMap('c') }, 405, 'MethodNotAllowed'],
    ['PATCH', cms, { body: '{}' }, 405, 'MethodNotAllowed'],
    ['OPTIONS', cms, {}, 405, 'MethodNotAllowed'],
    ['DELETE', '/api/v1/watch/namespaces/default/configmaps', {}, 405, 'MethodNotAllowed'],
    ['DELETE', '/api/v1/namespaces/default/status', {}, 405, 'MethodNotAllowed'],
    ['POST', cms, { body: '{not json' }, 400, 'BadRequest'],
    ['POST', cms, { body: '[1]' }, 400, 'BadRequest'],
    ['POST', cms, { body: '' }, 400, 'BadRequest'],
    ['POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'other' } }) }, 400, 'BadRequest'],
    ['PUT', `${cms}/c`, { body: configMap('d') }, 400, 'BadRequest'],
    ['PUT', `${cms}/c`, { body: JSON.stringify({ metadata: { name: 'c', namespace: 'other' } }) }, 400, 'BadRequest'],
    ['POST', `${cms}?dryRun=Some`, { body: configMap('c') }, 400, 'BadRequest'],
    ['POST', `${cms}?fieldValidation=Loud`, { body: configMap('c') }, 400, 'BadRequest'],
    ['GET', `${cms}?limit=-1`, {}, 400, 'BadRequest'],
    ['DELETE', `${cms}/c?propagationPolicy=Sometimes`, {}, 400, 'BadRequest'],
    ['PATCH', `${cms}/c`, { body: '{}', headers: { 'content-type': 'text/plain' } }, 415, 'UnsupportedMediaType'],
    ['PATCH', `${cms}/c`, { body: '', headers: { 'content-type': 'application/merge-patch+json' } }, 400, 'BadRequest'],
    ['PATCH', `${cms}/c`, { body: 'a: [', headers: { 'content-type': 'application/apply-patch+yaml' } }, 400, 'BadRequest'],
    ['PATCH', `${cms}/c`, { body: 'data: {}', headers: { 'content-type': 'application/apply-patch+yaml' } }, 422, 'Invalid'],
    ['POST', cms, { body: Buffer.alloc(3 * 1024 * 1024 + 1, 0x20) }, 413, 'RequestEntityTooLarge'],
  ];
  for (const [method, path, options, code, reason] of rows) {
    const reply = await call(method, path, options);
    t.equal(reply.code, code, `${method} ${path} -> ${code}`);
    t.match(reply.json, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason }, `${method} ${path} -> ${reason}`);
  }
});

t.test('a chunked body over the limit is refused while streaming', async (t) => {
  const reply = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(`${server.url}${cms}`, { method: 'POST', ca: certs.caCert, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(512 * 1024, 0x20);
    for (let i = 0; i < 7; i++) req.write(chunk);
    req.end();
  });
  t.equal(reply, 413);
});

t.test('CRUD, conflicts, dry run, tables and deletion over REST', async (t) => {
  const created = await call('POST', cms, { body: configMap('crud', { app: 'x' }) });
  t.equal(created.code, 201);
  t.match(created.json, { metadata: { name: 'crud', namespace: 'default', uid: String } });
  t.match(await call('POST', cms, { body: configMap('crud') }), { code: 409, json: { reason: 'AlreadyExists' } });
  const stale = JSON.stringify({ ...JSON.parse(configMap('crud')), metadata: { name: 'crud', resourceVersion: '1' } });
  t.match(await call('PUT', `${cms}/crud`, { body: stale }), { code: 409, json: { reason: 'Conflict' } });
  const current = created.json as { metadata: Record<string, unknown> };
  const updated = await call('PUT', `${cms}/crud`, { body: JSON.stringify({ ...current, data: { a: '2' } }) });
  t.match(updated, { code: 200, json: { data: { a: '2' } } });
  t.match(await call('PATCH', `${cms}/crud`, { body: '{"data":{"b":"3"}}', headers: { 'content-type': 'application/merge-patch+json' } }), { code: 200, json: { data: { a: '2', b: '3' } } });
  t.match(await call('PATCH', `${cms}/crud`, { body: '[{"op":"add","path":"/data/c","value":"4"}]', headers: { 'content-type': 'application/json-patch+json' } }), { json: { data: { c: '4' } } });
  t.match(await call('PATCH', `${cms}/crud`, { body: '{"data":{"d":"5"}}', headers: { 'content-type': 'application/strategic-merge-patch+json' } }), { json: { data: { d: '5' } } });
  t.match(
    await call('PATCH', `${cms}/applied?fieldManager=test&force=true`, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n', headers: { 'content-type': 'application/apply-patch+yaml' } }),
    { code: 200, json: { metadata: { name: 'applied' }, data: { k: 'v' } } },
  );
  t.equal((await call('POST', `${cms}?dryRun=All`, { body: configMap('dry') })).code, 201);
  t.equal((await call('GET', `${cms}/dry`)).code, 404, 'a dry-run create is not persisted');

  const list = await call('GET', `${cms}?labelSelector=app%3Dx&limit=10`);
  t.match(list.json, { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: String }, items: [{ metadata: { name: 'crud' } }] });
  t.equal((list.json.items as unknown[]).length, 1);
  const paged = await call('GET', `${cms}?limit=1`);
  t.match(paged.json, { metadata: { continue: String } });
  const next = await call('GET', `${cms}?limit=1&continue=${encodeURIComponent(String((paged.json.metadata as { continue: string }).continue))}`);
  t.equal((next.json.items as unknown[]).length, 1);
  const all = await call('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Dcrud');
  t.equal((all.json.items as unknown[]).length, 1, 'a namespaced list across all namespaces');

  const tableAccept = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
  const table = await call('GET', cms, { headers: tableAccept });
  t.match(table.json, { kind: 'Table', apiVersion: 'meta.k8s.io/v1', columnDefinitions: [{ name: 'Name' }, { name: 'Age' }], rows: [{ object: { kind: 'PartialObjectMetadata' } }] });
  t.match((await call('GET', `${cms}/crud?includeObject=Object`, { headers: tableAccept })).json, { kind: 'Table', rows: [{ cells: ['crud', String], object: { kind: 'ConfigMap' } }] });
  t.match((await call('GET', `${cms}/crud?includeObject=Bogus`, { headers: tableAccept })).json, { rows: [{ object: { kind: 'PartialObjectMetadata' } }] });
  t.match((await call('GET', '/api/v1/namespaces', { headers: tableAccept })).json, { columnDefinitions: [{ name: 'Name' }, { name: 'Status' }, { name: 'Age' }] });

  const deleted = await call('DELETE', `${cms}/crud`, { body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }) });
  t.match(deleted, { code: 200, json: { kind: 'Status', status: 'Success', details: { name: 'crud', kind: 'configmaps' } } });
  t.match(await call('DELETE', `${cms}/crud`), { code: 404, json: { reason: 'NotFound' } });

  const guarded = await call('POST', cms, { body: JSON.stringify({ metadata: { name: 'guarded', finalizers: ['example.com/keep'] } }) });
  t.equal(guarded.code, 201);
  const pending = await call('DELETE', `${cms}/guarded?gracePeriodSeconds=0`, { body: JSON.stringify({ preconditions: { uid: (guarded.json.metadata as { uid: string }).uid }, dryRun: [] }) });
  t.match(pending, { code: 202, json: { metadata: { name: 'guarded', deletionTimestamp: String } } });
  t.match(await call('PATCH', `${cms}/guarded`, { body: '{"metadata":{"finalizers":null}}', headers: { 'content-type': 'application/merge-patch+json' } }), { code: 200 });

  t.match(await call('DELETE', `${cms}?labelSelector=app%3Dnone`), { code: 200, json: { kind: 'ConfigMapList', items: [] } });
  const collection = await call('DELETE', cms);
  t.match(collection, { code: 200, json: { kind: 'ConfigMapList' } });
  t.same((await call('GET', cms)).json.items, []);
});

t.test('status subresource routes to updateStatus and patch with subresource', async (t) => {
  const ns = '/api/v1/namespaces';
  t.equal((await call('POST', ns, { body: JSON.stringify({ metadata: { name: 'status-ns' } }) })).code, 201);
  const got = await call('GET', `${ns}/status-ns/status`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  t.match(got.json, { kind: 'Namespace' }, 'subresources are never rendered as tables');
  const pvcs = '/api/v1/namespaces/status-ns/persistentvolumeclaims';
  const pvc = await call('POST', pvcs, { body: JSON.stringify({ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }) });
  t.equal(pvc.code, 201);
  const patched = await call('PATCH', `${pvcs}/data/status`, { body: '{"status":{"phase":"Bound"}}', headers: { 'content-type': 'application/merge-patch+json' } });
  t.match(patched, { code: 200, json: { status: { phase: 'Bound' } } });
  const put = await call('PUT', `${pvcs}/data/status`, { body: JSON.stringify({ ...patched.json, status: { phase: 'Lost' } }) });
  t.match(put, { code: 200, json: { status: { phase: 'Lost' } } });
});

/** Opens a watch and collects its lines until the stream ends. */
function watch(path: string, onLine?: (line: Record<string, unknown>) => void): Promise<{ code: number; lines: Record<string, unknown>[]; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server.url}${path}`, { ca: certs.caCert, headers: { authorization: `Bearer ${token}` } });
    req.on('response', (res) => {
      const lines: Record<string, unknown>[] = [];
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
          buffer = buffer.slice(newline + 1);
          lines.push(line);
          onLine?.(line);
        }
      });
      res.on('end', () => resolve({ code: res.statusCode ?? 0, lines, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('watch streams newline-delimited events and ends at timeoutSeconds', async (t) => {
  const ns = '/api/v1/namespaces/default/secrets';
  const done = watch(`${ns}?watch=true&timeoutSeconds=1&resourceVersion=0`, (line) => {
    if (line.type === 'ADDED') void call('DELETE', `${ns}/w1`);
  });
  await call('POST', ns, { body: JSON.stringify({ metadata: { name: 'w1' }, stringData: { k: 'v' } }) });
  const result = await done;
  t.equal(result.code, 200);
  t.equal(result.headers['transfer-encoding'], 'chunked');
  t.same(result.lines.map((l) => l.type), ['ADDED', 'DELETED']);
  t.match(result.lines[0], { object: { kind: 'Secret', metadata: { name: 'w1' } } });
});

t.test('legacy watch prefix, single-name watch and table watch', async (t) => {
  const ns = '/api/v1/namespaces/default/services';
  const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io';
  const tableWatch = new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = httpsRequest(`${server.url}${ns}?watch=1&timeoutSeconds=1`, { ca: certs.caCert, headers: { authorization: `Bearer ${token}`, accept } });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(JSON.parse(text.split('\n')[0] ?? '{}') as Record<string, unknown>));
    });
    req.on('error', reject);
    req.end();
  });
  const prefixed = watch(`/api/v1/watch/namespaces/default/services/one?timeoutSeconds=1`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await call('POST', ns, { body: JSON.stringify({ metadata: { name: 'two' }, spec: { ports: [{ port: 80 }] } }) });
  await call('POST', ns, { body: JSON.stringify({ metadata: { name: 'one' }, spec: { ports: [{ port: 80 }] } }) });
  const result = await prefixed;
  t.same(result.lines.map((l) => (l.object as { metadata: { name: string } }).metadata.name), ['one'], 'only the named object');
  t.match(await tableWatch, { type: 'ADDED', object: { kind: 'Table', rows: [{ cells: ['two', String] }] } });
});

t.test('a too-old resourceVersion ends the watch with 410 Gone', async (t) => {
  const ns = '/api/v1/namespaces/default/configmaps';
  const first = await call('POST', ns, { body: configMap('old') });
  const oldVersion = (first.json.metadata as { resourceVersion: string }).resourceVersion;
  for (let i = 0; i < 8; i++) await call('PATCH', `${ns}/old`, { body: JSON.stringify({ data: { i: String(i) } }), headers: { 'content-type': 'application/merge-patch+json' } });
  const result = await watch(`${ns}?watch=true&resourceVersion=${oldVersion}&timeoutSeconds=5`);
  const gone = result.code === 410 ? { code: 410 } : (result.lines.at(-1)?.object as { code?: number } | undefined);
  t.equal(gone?.code, 410, 'as an HTTP 410 or an ERROR event that ends the stream');
});

t.test('close() ends open watches promptly', async (t) => {
  const extraApi = createEmbeddedApi();
  const extra = await startApiServer({ api: extraApi, port: 0, tls: { key: certs.tlsKey, cert: certs.tlsCert }, caCert: certs.caCert, token, logger: pino({ level: 'silent' }) });
  const ended = new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${extra.url}/api/v1/namespaces?watch=true`, { ca: certs.caCert, headers: { authorization: `Bearer ${token}` } });
    req.on('response', (res) => {
      res.resume();
      res.on('close', () => resolve('closed'));
      void extra.close().then(() => extraApi.close());
    });
    req.on('error', (error) => (error.message.includes('aborted') || 'code' in error ? resolve('closed') : reject(error)));
    req.end();
  });
  t.equal(await ended, 'closed');
});

t.test('admission warnings reported through onWarning become Warning headers', async (t) => {
  const warningApi = new Proxy(api, {
    get(target, property, receiver) {
      if (property === 'create') {
        return (...args: Parameters<typeof api.create>) => {
          args[3]?.onWarning?.('spec.x is "deprecated"');
          args[3]?.onWarning?.('second\nline');
          return target.create(...args);
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const warned = await startApiServer({ api: warningApi, port: 0, tls: { key: certs.tlsKey, cert: certs.tlsCert }, caCert: certs.caCert, token, logger: pino({ level: 'silent' }) });
  t.teardown(() => warned.close());
  const reply = await new Promise<{ code: number; warning: string | undefined }>((resolve, reject) => {
    const req = httpsRequest(`${warned.url}${cms}`, { method: 'POST', ca: certs.caCert, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    req.on('response', (res) => {
      res.resume();
      resolve({ code: res.statusCode ?? 0, warning: res.headers.warning as string | undefined });
    });
    req.on('error', reject);
    req.end(configMap('warned'));
  });
  t.equal(reply.code, 201);
  t.equal(reply.warning, '299 - "spec.x is \\"deprecated\\"", 299 - "second line"');
});

t.test('CRD printer columns in tables; pods come back from DELETE; bad watch selectors; internal errors', async (t) => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
          additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
        },
      ],
    },
  };
  t.equal((await call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: JSON.stringify(crd) })).code, 201);
  const gadgets = '/apis/example.com/v1/namespaces/default/gadgets';
  t.equal((await call('POST', gadgets, { body: JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 3 } }) })).code, 201);
  const table = await call('GET', gadgets, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } });
  t.match(table.json, { columnDefinitions: [{ name: 'Name' }, { name: 'Size', type: 'integer' }], rows: [{ cells: ['g', 3] }] });
  t.match((await call('GET', '/apis/example.com/v1')).json, { resources: [{ name: 'gadgets', kind: 'Gadget' }] }, 'discovery follows CRDs');

  const pods = '/api/v1/namespaces/default/pods';
  t.equal((await call('POST', pods, { body: JSON.stringify({ metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } }) })).code, 201);
  t.match(await call('DELETE', `${pods}/p`), { code: 200, json: { kind: 'Pod', metadata: { name: 'p' } } });

  const badWatch = await call('GET', '/api/v1/namespaces/default/configmaps?watch=true&labelSelector=a%20in%20(');
  t.equal(badWatch.code, 400);
  t.match(badWatch.json, { kind: 'Status', reason: 'BadRequest' });

  const broken = new Proxy(api, {
    get(target, property, receiver) {
      if (property === 'get') return () => Promise.reject(new Error('disk on fire'));
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const errors: unknown[] = [];
  const failing = await startApiServer({
    api: broken,
    port: 0,
    tls: { key: certs.tlsKey, cert: certs.tlsCert },
    caCert: certs.caCert,
    token,
    logger: { debug: () => undefined, warn: () => undefined, error: (entry: unknown) => void errors.push(entry) },
  });
  t.teardown(() => failing.close());
  const reply = await new Promise<{ code: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(`${failing.url}${cms}/x`, { ca: certs.caCert, headers: { authorization: `Bearer ${token}` } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(reply.code, 500);
  t.match(JSON.parse(reply.body), { kind: 'Status', reason: 'InternalError', message: 'Internal error occurred: disk on fire' });
  t.match(errors, [{ method: 'GET', path: `${cms}/x` }], 'logged with method and path, never the token');
});

/**
 * The embedded API server over real HTTPS lets no one in without the bearer token: every discovery, OpenAPI
 * and resource path (collections, named objects, status subresources, watches; every verb) answers 401 to a
 * request with no Authorization header, a wrong token, or the right token under another scheme, and nothing
 * those requests carried is stored. Health and version probes stay anonymous, as on kube-apiserver.
 */
import { Agent, request } from 'node:https';
import { connect } from 'node:tls';
import t from 'tap';
import { startTestControlPlane } from '../../helpers/control-plane.js';

interface Reply {
  status: number;
  body: string;
}

t.test('every path refuses requests without the right bearer token', async (t) => {
  const { plane, kubeConfig } = await startTestControlPlane(t);
  const token = kubeConfig.getCurrentUser()?.token ?? '';
  t.ok(token.length >= 32, 'the plane has a token');
  const url = new URL(plane.url);
  const agent = new Agent({ keepAlive: true, ca: plane.caCert, maxSockets: 8 });
  t.teardown(() => agent.destroy());

  const send = (method: string, path: string, authorization?: string, body?: string): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (body !== undefined) {
        headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const req = request({ host: url.hostname, port: url.port, method, path, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const authorized = async (path: string): Promise<unknown> => {
    const reply = await send('GET', path, `Bearer ${token}`);
    t.equal(reply.status, 200, `with the token: GET ${path}`);
    return JSON.parse(reply.body);
  };

  // Every resource the plane serves, from its own discovery (read with the token).
  const paths = new Set<string>(['/api', '/apis', '/api/v1', '/openapi/v3', '/openapi/v2', '/no/such/path']);
  const groups = (await authorized('/apis')) as { groups: Array<{ preferredVersion: { groupVersion: string } }> };
  const groupVersions = ['v1', ...groups.groups.map((g) => g.preferredVersion.groupVersion)];
  let resourceCount = 0;
  for (const groupVersion of groupVersions) {
    const base = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
    paths.add(base);
    paths.add(`/openapi/v3/${base.slice(1)}`);
    const list = (await authorized(base)) as { resources: Array<{ name: string; namespaced: boolean }> };
    for (const resource of list.resources.filter((r) => !r.name.includes('/'))) {
      resourceCount += 1;
      const collection = resource.namespaced ? `${base}/namespaces/default/${resource.name}` : `${base}/${resource.name}`;
      paths.add(collection);
      paths.add(`${collection}/probe-object`);
      paths.add(`${collection}/probe-object/status`);
      paths.add(`${collection}?watch=true`);
      if (resource.namespaced) paths.add(`${base}/${resource.name}`);
    }
  }
  t.ok(resourceCount >= 20, `discovery lists the served resources (${resourceCount})`);

  const wrongCredentials: Array<[what: string, header: string | undefined]> = [
    ['no Authorization header', undefined],
    ['a wrong token', `Bearer ${'x'.repeat(token.length)}`],
    ['the token with one character more', `Bearer ${token}x`],
    ['the token under the Basic scheme', `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`],
    ['the token under a Token scheme', `Token ${token}`],
    ['the bare token without a scheme', token],
    ['an empty Bearer', 'Bearer '],
  ];
  const probeBody = (path: string): string =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe-object', namespace: 'default' }, data: { from: path } });
  const unexpected: string[] = [];
  let refused = 0;
  for (const path of paths) {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const [what, header] of wrongCredentials) {
        const reply = await send(method, path, header, method === 'GET' || method === 'DELETE' ? undefined : probeBody(path));
        let status: { kind?: string; code?: number; reason?: string } = {};
        try {
          status = JSON.parse(reply.body) as typeof status;
        } catch {
          // judged below
        }
        if (reply.status !== 401 || status.kind !== 'Status' || status.code !== 401 || status.reason !== 'Unauthorized') {
          unexpected.push(`${method} ${path} with ${what}: ${reply.status} ${reply.body.slice(0, 120)}`);
        } else refused += 1;
        if (reply.body.includes(token)) unexpected.push(`${method} ${path} with ${what}: the answer echoes the token`);
      }
    }
  }
  t.same(unexpected.slice(0, 10), [], `every request was refused with a 401 Status (${refused} requests over ${paths.size} paths)`);

  for (const path of ['/healthz', '/livez', '/readyz', '/version']) {
    const reply = await send('GET', path);
    t.equal(reply.status, 200, `${path} answers without credentials`);
  }
  const stored = (await authorized('/api/v1/namespaces/default/configmaps')) as { items: Array<{ metadata: { name: string } }> };
  t.notOk(stored.items.some((item) => item.metadata.name === 'probe-object'), 'no refused request stored anything');
  const handshake = (options: { maxVersion?: 'TLSv1.1' | 'TLSv1.2'; ciphers?: string }): Promise<string> =>
    new Promise((resolve) => {
      const socket = connect({ host: url.hostname, port: Number(url.port), ca: plane.caCert, minVersion: 'TLSv1', ...options }, () => {
        resolve(`${socket.getProtocol()} ${socket.getCipher().name}`);
        socket.end();
      });
      socket.on('error', () => resolve('refused'));
    });
  t.equal(await handshake({ maxVersion: 'TLSv1.1', ciphers: 'ALL:@SECLEVEL=0' }), 'refused', 'the plane refuses TLS 1.1');
  t.equal(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0' }), 'refused', 'and CBC suites');
  t.match(await handshake({}), /^TLSv1\.3 TLS_/, 'and speaks TLS 1.3');
  const withToken = await send('POST', '/api/v1/namespaces/default/configmaps', `Bearer ${token}`, probeBody('authorized'));
  t.equal(withToken.status, 201, 'the same create with the token succeeds (the probes were refused for their credentials alone)');
});

import { request } from 'node:https';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/commands/serve.js';
import { CertificateError } from '../../src/server/certificates.js';

interface Reply {
  status: number;
  body: string;
}

/** A real TLS client that trusts only the given CA. */
function post(url: string, path: string, ca: string, body: unknown): Promise<Reply> {
  return send(url, path, ca, 'POST', JSON.stringify(body));
}

function send(url: string, path: string, ca: string, method: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, ca, servername: 'localhost', headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function memoryLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const review = (operation: string, object: unknown) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'c0ffee',
    kind: { group: (object as { apiVersion: string }).apiVersion.split('/')[0], version: 'v1alpha1', kind: (object as { kind: string }).kind },
    resource: { group: '', version: 'v1alpha1', resource: 'x' },
    operation,
    namespace: 'demo',
    userInfo: { username: 'test' },
    object,
    dryRun: false,
  },
});

async function scratch(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-serve-'));
  // HOME without a kubeconfig and no KUBECONFIG: no cluster is configured.
  return { dir, env: { HOME: dir } };
}

t.test('serves the KubeStash rules over HTTPS with generated certificates and no cluster', async (t) => {
  const { dir, env } = await scratch();
  const { logger, lines } = memoryLogger();
  const config = loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), embedded: false }, env);
  const server = await startServer(config, logger);
  t.teardown(() => server.close());
  t.equal(server.certificates?.generated, true);
  const ca = server.certificates?.ca ?? '';

  const mutated = await post(server.url, '/mutate', ca, review('CREATE', {
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'BackupStorage',
    metadata: { name: 's', namespace: 'demo' },
    spec: { storage: { provider: 'gcs', gcs: { bucket: 'b/', prefix: 'p' } } },
  }));
  t.equal(mutated.status, 200);
  const mutation = JSON.parse(mutated.body).response;
  t.equal(mutation.uid, 'c0ffee');
  const patch = JSON.parse(Buffer.from(mutation.patch, 'base64').toString('utf8'));
  t.same(patch.find((op: { path: string }) => op.path === '/spec/storage/gcs/bucket'), { op: 'replace', path: '/spec/storage/gcs/bucket', value: 'b' });
  t.ok(patch.some((op: { path: string }) => op.path === '/spec/usagePolicy'), 'usagePolicy defaulted');

  const denied = await post(server.url, '/validate', ca, review('CREATE', {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupConfiguration',
    metadata: { name: 'nightly', namespace: 'demo' },
    spec: { sessions: [] },
  }));
  const denial = JSON.parse(denied.body).response;
  t.equal(denial.allowed, false);
  t.equal(denial.status.code, 403);
  t.match(denial.status.message, /^BackupConfiguration "demo\/nightly" is invalid: \[spec\.backends: .*spec\.sessions: /);

  t.equal((await send(server.url, '/readyz', ca, 'GET')).status, 200, 'ready without a cluster');
  t.ok(lines.some((l) => l.includes('no cluster configured')), 'says that no cluster is configured');
  t.ok(lines.some((l) => l.includes('"msg":"webhook serving"') && l.includes(server.certificates?.caBundle ?? '-')), 'logs the caBundle');
});

t.test('not ready until the cluster caches sync', async (t) => {
  const { dir, env } = await scratch();
  const kubeconfig = join(dir, 'kubeconfig');
  // A cluster nobody answers on: the informers keep retrying and never sync.
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`);
  const { logger } = memoryLogger();
  const server = await startServer(loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), kubeconfig }, env), logger);
  t.teardown(() => server.close());
  const reply = await send(server.url, '/readyz', server.certificates?.ca ?? '', 'GET');
  t.equal(reply.status, 503);
  t.match(reply.body, /cluster caches have not synced yet/);
});

t.test('explicit certificate files must exist; they are never generated', async (t) => {
  const { dir, env } = await scratch();
  const config = loadConfig({ host: '127.0.0.1', port: '0', tlsCert: join(dir, 'missing.crt'), tlsKey: join(dir, 'missing.key'), embedded: false }, env);
  await t.rejects(startServer(config, memoryLogger().logger), CertificateError);
  await t.rejects(startServer(config, memoryLogger().logger), { message: /missing\.crt.*does not exist \(given with --tls-cert\)/ });
});

t.test('explicit certificate files are served as given', async (t) => {
  const { dir, env } = await scratch();
  const first = await startServer(loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'generated'), embedded: false }, env), memoryLogger().logger);
  await first.close();
  const { certPath, keyPath } = first.certificates?.paths ?? { certPath: '', keyPath: '' };
  const server = await startServer(loadConfig({ host: '127.0.0.1', port: '0', tlsCert: certPath, tlsKey: keyPath, embedded: false }, env), memoryLogger().logger);
  t.teardown(() => server.close());
  t.equal(server.certificates?.generated, false);
  t.equal((await send(server.url, '/healthz', first.certificates?.ca ?? '', 'GET')).status, 200);
});

t.test('a port already in use fails start-up cleanly', async (t) => {
  const { dir, env } = await scratch();
  const server = await startServer(loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), embedded: false }, env), memoryLogger().logger);
  t.teardown(() => server.close());
  const port = new URL(server.url).port;
  await t.rejects(startServer(loadConfig({ host: '127.0.0.1', port, certDir: join(dir, 'certs'), embedded: false }, env), memoryLogger().logger), { code: 'EADDRINUSE' });
});

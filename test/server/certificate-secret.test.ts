/**
 * Serving certificates from a Secret someone else writes (`--cert-source secret` or `cert-manager`):
 * every replica loads it through a watch and swaps the secure context without a restart; bad
 * content is refused with a clear reason and never replaces a good certificate.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { defaultCertificateSource, startServer, type RunningServer } from '../../src/commands/serve.js';
import { ensureNamespace } from '../../src/embedded/install-autostash.js';
import { CertificateError, generateCertificates, type GeneratedCertificates } from '../../src/server/certificates.js';
import { servingPairFromSecret, type TlsSecret } from '../../src/server/certificate-secret.js';
import { eventually, silentLogger, startTestControlPlane } from '../helpers/control-plane.js';

const DAY_MS = 24 * 3_600_000;
const now = new Date();
const setA = await generateCertificates({ now });
const setB = await generateCertificates({ now });
const expired = await generateCertificates({ now: new Date(now.getTime() - 10 * DAY_MS), days: 1 });
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function tlsSecret(data: Record<string, string | undefined>, name = 'webhook-tls'): TlsSecret {
  const encoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) if (value !== undefined) encoded[key] = b64(value);
  return { apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'autostash', name }, type: 'kubernetes.io/tls', data: encoded };
}

t.test('servingPairFromSecret: what a Secret must hold, with the key named in every refusal', async (t) => {
  const rows: Array<{ name: string; data: Record<string, string | undefined>; file?: string; message?: RegExp }> = [
    { name: 'a matching pair (ca.crt optional)', data: { 'tls.crt': setA.tlsCert, 'tls.key': setA.tlsKey } },
    { name: 'a matching pair with ca.crt', data: { 'tls.crt': setA.tlsCert, 'tls.key': setA.tlsKey, 'ca.crt': setA.caCert } },
    { name: 'no tls.crt', data: { 'tls.key': setA.tlsKey }, file: 'Secret autostash/webhook-tls key tls.crt', message: /is missing or empty/ },
    { name: 'empty tls.key', data: { 'tls.crt': setA.tlsCert, 'tls.key': '' }, file: 'Secret autostash/webhook-tls key tls.key', message: /is missing or empty/ },
    { name: 'tls.crt is not a certificate', data: { 'tls.crt': 'hello', 'tls.key': setA.tlsKey }, file: 'Secret autostash/webhook-tls key tls.crt', message: /is not a PEM X.509 certificate/ },
    { name: 'tls.key of another pair', data: { 'tls.crt': setA.tlsCert, 'tls.key': setB.tlsKey }, file: 'Secret autostash/webhook-tls key tls.key', message: /does not match the certificate in Secret autostash\/webhook-tls key tls\.crt/ },
    { name: 'expired certificate', data: { 'tls.crt': expired.tlsCert, 'tls.key': expired.tlsKey }, file: 'Secret autostash/webhook-tls key tls.crt', message: /expired at/ },
  ];
  for (const row of rows) {
    const run = () => servingPairFromSecret(tlsSecret(row.data), now);
    if (row.file === undefined) t.same(run(), { cert: row.data['tls.crt'], key: row.data['tls.key'] }, row.name);
    else t.throws(run, { name: 'CertificateError', file: row.file, message: row.message }, row.name);
  }
  t.throws(() => servingPairFromSecret({ apiVersion: 'v1', kind: 'Secret' }, now), CertificateError, 'a Secret without data or metadata');
  const refusal = (() => {
    try {
      servingPairFromSecret(tlsSecret({ 'tls.crt': setA.tlsCert, 'tls.key': setB.tlsKey }), now);
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  })();
  t.notMatch(refusal, /PRIVATE KEY/, 'no key material in the message');
});

const SECRETS = { group: '', version: 'v1', resource: 'secrets' };

function readyz(server: RunningServer): Promise<{ status: number; reason?: string }> {
  return new Promise((resolve, reject) => {
    // The probes of a kubelet do not verify the certificate either.
    const req = request(new URL('/readyz', server.url), { rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: string }).reason }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The fingerprint of the certificate served, verified against `set`'s CA as "localhost"; an Error when that fails. */
function served(server: RunningServer, set: GeneratedCertificates): Promise<string | Error> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(server.url).port), ca: set.caCert, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', (error) => {
      socket.destroy();
      resolve(error);
    });
  });
}

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

t.test('a user-provided Secret: waited for, bad content refused, good content swapped in without restart', async (t) => {
  const { plane } = await startTestControlPlane(t);
  await ensureNamespace(plane.api, 'autostash');
  const dir = await mkdtemp(join(tmpdir(), 'autostash-secret-'));
  const server = await startServer(
    loadConfig({ host: '127.0.0.1', port: '0', kubeconfig: plane.kubeconfigPath, certSource: 'secret', certSecret: 'webhook-tls', shutdownDrain: '0s' }, { HOME: dir }),
    silentLogger(),
  );
  t.teardown(() => server.close());
  t.equal(server.certificateSource, 'secret');
  t.equal(server.certificates, undefined, 'no certificate files');

  t.match(await readyz(server), { status: 503, reason: 'waiting for the serving certificate in Secret autostash/webhook-tls' }, 'not ready before the Secret exists');
  t.type(await served(server, setA), Error, 'meanwhile a placeholder nobody trusts is served');

  await plane.api.create(SECRETS, 'autostash', tlsSecret({ 'tls.crt': setA.tlsCert, 'tls.key': setB.tlsKey }));
  await eventually('the mismatched pair reported', async () => /key tls\.key: does not match/.test((await readyz(server)).reason ?? ''), 30_000);

  const current = (await plane.api.get(SECRETS, 'autostash', 'webhook-tls')) as TlsSecret;
  await plane.api.update(SECRETS, 'autostash', { ...current, data: tlsSecret({ 'tls.crt': setA.tlsCert, 'tls.key': setA.tlsKey, 'ca.crt': setA.caCert }).data });
  await eventually('ready with set A', async () => (await readyz(server)).status === 200, 60_000);
  t.equal(await served(server, setA), fingerprint(setA.tlsCert), 'serves the Secret\'s certificate');

  const withA = (await plane.api.get(SECRETS, 'autostash', 'webhook-tls')) as TlsSecret;
  await plane.api.update(SECRETS, 'autostash', { ...withA, data: tlsSecret({ 'tls.crt': expired.tlsCert, 'tls.key': expired.tlsKey }).data });
  await eventually('the expired pair refused', async () => {
    const secret = (await plane.api.get(SECRETS, 'autostash', 'webhook-tls')) as TlsSecret;
    return secret.data?.['tls.crt'] === b64(expired.tlsCert) && (await served(server, setA)) === fingerprint(setA.tlsCert);
  });
  t.equal((await readyz(server)).status, 200, 'still ready with the certificate in use');

  const withExpired = (await plane.api.get(SECRETS, 'autostash', 'webhook-tls')) as TlsSecret;
  await plane.api.update(SECRETS, 'autostash', { ...withExpired, data: tlsSecret({ 'tls.crt': setB.tlsCert, 'tls.key': setB.tlsKey }).data });
  await eventually('set B served', async () => (await served(server, setB)) === fingerprint(setB.tlsCert), 30_000);
  t.type(await served(server, setA), Error, 'set A\'s CA no longer verifies it: a new certificate, same server');

  await plane.api.delete(SECRETS, 'autostash', 'webhook-tls');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(await served(server, setB), fingerprint(setB.tlsCert), 'a deleted Secret leaves the certificate in use');
  t.equal((await readyz(server)).status, 200);
});

t.test('self-managed with the real clock and default timings: the leader writes the Secret and the replica turns ready', async (t) => {
  const { plane } = await startTestControlPlane(t);
  await ensureNamespace(plane.api, 'autostash');
  const dir = await mkdtemp(join(tmpdir(), 'autostash-secret-'));
  const server = await startServer(loadConfig({ host: '127.0.0.1', port: '0', kubeconfig: plane.kubeconfigPath, certSource: 'self-managed', shutdownDrain: '0s' }, { HOME: dir }), silentLogger());
  t.teardown(() => server.close());
  await eventually('ready with the self-managed certificate', async () => (await readyz(server)).status === 200, 90_000);
  const secret = (await plane.api.get(SECRETS, 'autostash', 'autostash-webhook-tls')) as TlsSecret;
  const leaf = new X509Certificate(Buffer.from(secret.data?.['tls.crt'] ?? '', 'base64'));
  const years = (new Date(leaf.validTo).getTime() - Date.now()) / (365 * DAY_MS);
  t.ok(years > 0.99 && years < 1.01, `the serving certificate lives the default 8760h (${years.toFixed(3)} years)`);
});

t.test('the default source: self-managed in a cluster, files anywhere else', async (t) => {
  const rows: Array<[Parameters<typeof defaultCertificateSource>[0], boolean, string]> = [
    ['in-cluster', false, 'self-managed'],
    ['in-cluster', true, 'files'],
    ['flag', false, 'files'],
    ['KUBECONFIG', false, 'files'],
    ['home', false, 'files'],
    [undefined, false, 'files'],
  ];
  for (const [source, explicitFiles, expected] of rows) t.equal(defaultCertificateSource(source, explicitFiles), expected, `${source ?? 'no cluster'}${explicitFiles ? ' with --tls-cert' : ''}`);
});

t.test('a Secret source needs a cluster', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-secret-'));
  for (const certSource of ['self-managed', 'cert-manager']) {
    const config = loadConfig({ host: '127.0.0.1', port: '0', certSource, embedded: false }, { HOME: dir });
    await t.rejects(startServer(config, silentLogger()), { name: ConfigError.name, source: '--cert-source', message: /needs a cluster: give --kubeconfig or run in a cluster/ }, certSource);
  }
  const embedded = loadConfig({ host: '127.0.0.1', port: '0', certSource: 'self-managed', embedded: true, embeddedPort: '0', dataDir: join(dir, 'plane') }, { HOME: dir });
  await t.rejects(startServer(embedded, silentLogger()), { source: '--cert-source', message: /the embedded control plane uses the certificates of --cert-dir/ });
});

import { X509Certificate } from 'node:crypto';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import fastify from 'fastify';
import t from 'tap';
import { ensureCertificates, generateCertificates, type GeneratedCertificates, type KeyPair } from '../../src/server/certificates.js';
import { watchCertificates } from '../../src/server/tls.js';
import { memoryLogger } from '../helpers/logging.js';
import { eventually } from '../helpers/eventually.js';

/** A pino logger whose JSON lines land in `lines`. */
/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs`. */
/** Opens a TLS connection that trusts only `caPem` and returns the verified peer certificate, or the error. */
function handshake(port: number, caPem: string, servername?: string): Promise<PeerCertificate | Error> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: [caPem], rejectUnauthorized: true, ...(servername ? { servername } : {}) }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer);
    });
    socket.on('error', (error) => {
      socket.destroy();
      resolve(error);
    });
  });
}

/** Lets timers run; used only before asserting that something did NOT happen. */
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const fingerprint = (pem: string): string => new X509Certificate(pem).fingerprint256;

/** Replaces a file the way careful tools do: write a temporary file, rename it over the old one. */
async function replaceFile(path: string, content: string): Promise<void> {
  await writeFile(`${path}.new`, content, { mode: 0o600 });
  await rename(`${path}.new`, path);
}

t.test('a Fastify HTTPS server picks up replaced certificate files without restarting', async (t) => {
  const dir = join(t.testdir(), 'certs');
  const initial = await ensureCertificates(dir);
  const app = fastify({ https: { key: initial.key, cert: initial.cert } });
  app.get('/healthz', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  const server = app.server;
  const { port } = server.address() as AddressInfo;

  const byName = await handshake(port, initial.ca ?? '', 'localhost');
  t.notOk(byName instanceof Error, 'trusting only the generated CA, the server verifies as "localhost"');
  t.equal((byName as PeerCertificate).fingerprint256, fingerprint(initial.cert));
  t.match((byName as PeerCertificate).subjectaltname, /DNS:autostash\.autostash\.svc, .*DNS:localhost, IP Address:127\.0\.0\.1/);
  const byAddress = await handshake(port, initial.ca ?? '');
  t.notOk(byAddress instanceof Error, 'and as 127.0.0.1 (IP SAN)');
  const stranger = await generateCertificates();
  const untrusted = await handshake(port, stranger.caCert, 'localhost');
  t.type(untrusted, Error, 'a client trusting another CA refuses the server');
  const wrongName = await handshake(port, initial.ca ?? '', 'example.com');
  t.match(wrongName, { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'a name not in the certificate is refused');

  const { logger, lines } = memoryLogger();
  const applied: KeyPair[] = [];
  const stop = watchCertificates(
    initial.paths,
    (pair) => {
      server.setSecureContext(pair);
      applied.push(pair);
    },
    logger,
    { debounceMs: 50, pollIntervalMs: 500 },
  );
  t.teardown(stop);

  const next = await generateCertificates();
  await replaceFile(initial.paths.caPath, next.caCert);
  await replaceFile(initial.paths.keyPath, next.tlsKey);
  await replaceFile(initial.paths.certPath, next.tlsCert);

  const peer = await eventually('the new certificate to be served', async () => {
    const result = await handshake(port, next.caCert, 'localhost');
    return result instanceof Error ? undefined : result;
  });
  t.equal(peer.fingerprint256, fingerprint(next.tlsCert), 'a new connection presents the new certificate');
  t.equal(app.server, server, 'same server');
  t.equal((app.server.address() as AddressInfo).port, port, 'same listening socket');
  t.type(await handshake(port, initial.ca ?? '', 'localhost'), Error, 'the old CA no longer verifies the server');
  t.same(applied.at(-1), { key: next.tlsKey, cert: next.tlsCert });
  t.ok(lines.some((line) => line.msg === 'certificate reloaded'), 'the reload is logged');
  t.notOk(JSON.stringify(lines).includes('PRIVATE KEY'), 'no key material in the logs');
});

/** A directory laid out like a Kubernetes Secret volume: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>. */
async function secretVolume(dir: string, set: GeneratedCertificates, generation: number): Promise<void> {
  const version = `..2024_01_01_00_00_0${generation}`;
  await mkdir(join(dir, version), { recursive: true });
  await writeFile(join(dir, version, 'tls.crt'), set.tlsCert);
  await writeFile(join(dir, version, 'tls.key'), set.tlsKey);
  await symlink(version, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data')); // the atomic swap the kubelet does
  if (generation === 1) {
    await symlink('..data/tls.crt', join(dir, 'tls.crt'));
    await symlink('..data/tls.key', join(dir, 'tls.key'));
  }
}

t.test('Secret volume updates (..data symlink swap) are seen', async (t) => {
  const dir = t.testdir();
  const first = await generateCertificates();
  await secretVolume(dir, first, 1);
  const { logger } = memoryLogger();
  const applied: KeyPair[] = [];
  const stop = watchCertificates({ certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key') }, (pair) => applied.push(pair), logger, { debounceMs: 50 });
  t.teardown(stop);

  const second = await generateCertificates();
  await secretVolume(dir, second, 2);
  const pair = await eventually('the swapped pair', () => applied[0]);
  t.equal(pair.cert, second.tlsCert);
  t.equal(applied.length, 1, 'reported once');
});

t.test('a mismatched or garbage pair is logged once and ignored; the matching pair is then applied', async (t) => {
  const dir = t.testdir();
  const first = await generateCertificates();
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  await writeFile(certPath, first.tlsCert);
  await writeFile(keyPath, first.tlsKey);
  const { logger, lines } = memoryLogger();
  const applied: KeyPair[] = [];
  const stop = watchCertificates({ certPath, keyPath }, (pair) => applied.push(pair), logger, { debounceMs: 30, pollIntervalMs: 100 });
  t.teardown(stop);

  const second = await generateCertificates();
  await replaceFile(certPath, second.tlsCert); // the key still belongs to the first certificate
  const rejection = await eventually('the rejection to be logged', () => lines.find((line) => line.msg === 'new certificate rejected; keeping the current certificate'));
  t.match(rejection.err, /tls\.key: does not match the certificate/);
  await pause(350); // several polls: none may log the same rejection again
  t.equal(lines.filter((line) => line.msg.startsWith('new certificate rejected')).length, 1, 'an unchanged bad pair is logged once, not on every poll');
  t.equal(applied.length, 0, 'the mismatched pair was not handed over');

  await replaceFile(keyPath, 'garbage');
  await eventually('the garbage key to be rejected', () =>
    lines.find((line) => line.msg.startsWith('new certificate rejected') && /is not a PEM private key/.test(String(line.err))),
  );

  await replaceFile(keyPath, second.tlsKey);
  const pair = await eventually('the matching pair', () => applied[0]);
  t.same(pair, { key: second.tlsKey, cert: second.tlsCert });
});

t.test('the periodic re-read catches changes without file events; failures in onChange keep the old pair', async (t) => {
  const dir = t.testdir();
  const first = await generateCertificates();
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  await writeFile(certPath, first.tlsCert);
  await writeFile(keyPath, first.tlsKey);
  const { logger, lines } = memoryLogger();
  let calls = 0;
  const stop = watchCertificates(
    { certPath, keyPath },
    () => {
      calls += 1;
      throw new Error('setSecureContext refused');
    },
    logger,
    // A debounce far longer than the test: only the poll can notice the change.
    { debounceMs: 3_600_000, pollIntervalMs: 50, current: { cert: first.tlsCert, key: first.tlsKey } },
  );
  t.teardown(stop);

  const second = await generateCertificates();
  await replaceFile(keyPath, second.tlsKey);
  await replaceFile(certPath, second.tlsCert);
  const failure = await eventually('the failed apply to be logged', () => lines.find((line) => line.msg.startsWith('applying the new certificate failed')));
  t.equal(failure.err, 'setSecureContext refused');
  t.equal(calls, 1);
});

t.test('unreadable files are logged and the watcher survives; stop() ends everything', async (t) => {
  const dir = t.testdir();
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  const { logger, lines } = memoryLogger();
  const applied: KeyPair[] = [];
  // Nothing exists yet: the first valid pair that appears counts as a change.
  const stop = watchCertificates({ certPath, keyPath }, (pair) => applied.push(pair), logger, { debounceMs: 20, pollIntervalMs: 50 });
  await eventually('the unreadable files to be logged', () => lines.find((line) => line.msg.startsWith('certificate files unreadable')));
  const set = await generateCertificates();
  await writeFile(keyPath, set.tlsKey);
  await writeFile(certPath, set.tlsCert);
  const pair = await eventually('the first pair', () => applied[0]);
  t.equal(pair.cert, set.tlsCert);
  stop();
  const other = await generateCertificates();
  await replaceFile(keyPath, other.tlsKey);
  await replaceFile(certPath, other.tlsCert);
  await pause(300); // several poll intervals: a live watcher would have reported the change
  t.equal(applied.length, 1, 'a stopped watcher reports nothing');
});

t.test('a watched directory that disappears falls back to polling', async (t) => {
  const base = t.testdir();
  const dir = join(base, 'certs');
  await mkdir(dir);
  const set = await generateCertificates();
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  await writeFile(certPath, set.tlsCert);
  await writeFile(keyPath, set.tlsKey);
  const { logger, lines } = memoryLogger();
  const applied: KeyPair[] = [];
  const missing = join(base, 'not-there', 'tls.crt');
  const stop = watchCertificates({ certPath: missing, keyPath }, (pair) => applied.push(pair), logger, { debounceMs: 20, pollIntervalMs: 50 });
  t.teardown(stop);
  const warning = await eventually('the failed watch to be logged', () => lines.find((line) => line.msg.startsWith('certificate directory watch failed')));
  t.match(warning.directory, /not-there$/);
  await mkdir(join(base, 'not-there'));
  await writeFile(missing, set.tlsCert);
  const pair = await eventually('the pair once the directory exists', () => applied[0]);
  t.equal(pair.cert, set.tlsCert);
});

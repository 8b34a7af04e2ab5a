import type { AddressInfo } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import fastify from 'fastify';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/server/app.js';
import { tls12CipherSuites, tls13CipherSuites, tlsPolicy, withTlsPolicy } from '../../src/server/tls-policy.js';
import { throwawayCertificates, type Pems } from '../helpers/tls-fixtures.js';

const [ecPems, rsaPems] = await Promise.all([throwawayCertificates('ec'), throwawayCertificates('rsa')]);

interface Handshake {
  protocol?: string | null;
  cipher?: string;
  error?: string;
}

/** One TLS handshake with the given client settings; reports what was negotiated, or the error. */
function handshake(port: number, pems: Pems, client: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: [pems.ca], servername: 'localhost', ...client }, () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ error: error.code ?? error.message });
    });
  });
}

async function webhookPort(t: Test, pems: Pems): Promise<{ port: number; app: ReturnType<typeof buildApp> }> {
  const app = buildApp({ rules: new Map(), https: { key: pems.key, cert: pems.cert }, logger: false, loadShedding: false });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, app };
}

/** A permissive server (TLS 1.0+, every cipher at security level 0): shows the clients below can speak what the webhook refuses. */
async function permissivePort(t: Test, pems: Pems): Promise<number> {
  const app = fastify({ https: { key: pems.key, cert: pems.cert, minVersion: 'TLSv1', ciphers: 'ALL:@SECLEVEL=0' } });
  app.get('/', async () => 'ok');
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

const tls11Client: ConnectionOptions = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'ALL:@SECLEVEL=0' };
const weakCipherClient = (cipher: string): ConnectionOptions => ({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: `${cipher}:@SECLEVEL=0` });

t.test('the policy: TLS 1.2 minimum, ECDHE with AES-GCM or ChaCha20 for 1.2, the three 1.3 suites, server order', async (t) => {
  t.equal(tlsPolicy.minVersion, 'TLSv1.2');
  t.equal(tlsPolicy.honorCipherOrder, true);
  for (const suite of tls12CipherSuites) t.match(suite, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/, suite);
  t.same(tls13CipherSuites, ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);
  t.same(withTlsPolicy({ minVersion: 'TLSv1' as const, ciphers: 'ALL', key: 'k' }), { ...tlsPolicy, key: 'k' }, 'a caller cannot weaken the policy');
});

for (const [keyType, pems, weakCiphers] of [
  ['EC', ecPems, ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384']],
  ['RSA', rsaPems, ['AES128-SHA', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA']],
] as const) {
  t.test(`${keyType} serving key: TLS 1.0/1.1 and weak TLS 1.2 ciphers are refused, TLS 1.2 (ECDHE-GCM) and 1.3 succeed`, async (t) => {
    const { port } = await webhookPort(t, pems);
    const control = await permissivePort(t, pems);

    const old = await handshake(control, pems, tls11Client);
    t.equal(old.protocol, 'TLSv1.1', 'control: the TLS 1.1 client connects to a permissive server');
    t.ok((await handshake(port, pems, tls11Client)).error, 'the webhook refuses TLS 1.1');
    t.ok((await handshake(port, pems, { ...tls11Client, maxVersion: 'TLSv1' })).error, 'and TLS 1.0');

    for (const cipher of weakCiphers) {
      const allowed = await handshake(control, pems, weakCipherClient(cipher));
      t.equal(allowed.cipher, cipher, `control: ${cipher} is negotiated by a permissive server`);
      const refused = await handshake(port, pems, weakCipherClient(cipher));
      t.ok(refused.error, `the webhook refuses ${cipher} (${refused.error ?? refused.cipher})`);
    }

    const tls12 = await handshake(port, pems, { maxVersion: 'TLSv1.2' });
    t.equal(tls12.protocol, 'TLSv1.2');
    t.match(tls12.cipher, keyType === 'EC' ? /^ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/ : /^ECDHE-RSA-/);
    const chacha = await handshake(port, pems, { maxVersion: 'TLSv1.2', ciphers: keyType === 'EC' ? 'ECDHE-ECDSA-CHACHA20-POLY1305' : 'ECDHE-RSA-CHACHA20-POLY1305' });
    t.match(chacha.cipher, /CHACHA20-POLY1305$/, 'ChaCha20-Poly1305 for clients without AES hardware');
    const tls13 = await handshake(port, pems, {});
    t.equal(tls13.protocol, 'TLSv1.3');
    t.equal(tls13.cipher, 'TLS_AES_128_GCM_SHA256');
  });
}

t.test('a certificate reload (setSecureContext with key and cert only) keeps the policy', async (t) => {
  const { port, app } = await webhookPort(t, ecPems);
  const other = await throwawayCertificates('ec');
  app.server.setSecureContext({ key: other.key, cert: other.cert });
  const modern = await handshake(port, other, { maxVersion: 'TLSv1.2' });
  t.equal(modern.protocol, 'TLSv1.2', 'the new certificate is served');
  t.ok((await handshake(port, other, tls11Client)).error, 'TLS 1.1 is still refused');
  t.ok((await handshake(port, other, weakCipherClient('ECDHE-ECDSA-AES128-SHA'))).error, 'a weak cipher is still refused');
});

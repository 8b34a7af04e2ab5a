import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import {
  CertificateError,
  certificatePaths,
  checkKeyPair,
  defaultDnsNames,
  ensureCertificates,
  generateCertificates,
  toCaBundle,
} from '../../src/server/certificates.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const now = new Date();

/** One generated set shared by the tests that only need "some valid set". */
const setA = await generateCertificates({ now });
const setB = await generateCertificates({ now });

async function writeSet(dir: string, files: { cert?: string; key?: string; ca?: string }): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (files.cert !== undefined) await writeFile(join(dir, 'tls.crt'), files.cert);
  if (files.key !== undefined) await writeFile(join(dir, 'tls.key'), files.key);
  if (files.ca !== undefined) await writeFile(join(dir, 'ca.crt'), files.ca);
}

t.test('generateCertificates', async (t) => {
  t.test('default names: a CA and a serving certificate it issued, for the service names and 127.0.0.1', async (t) => {
    const set = await generateCertificates({ namespace: 'backup-system', now });
    const ca = new X509Certificate(set.caCert);
    const serving = new X509Certificate(set.tlsCert);
    t.equal(ca.ca, true, 'the CA certificate is a CA');
    t.equal(serving.ca, false, 'the serving certificate is not a CA');
    t.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey), 'the CA signed the serving certificate');
    t.ok(ca.checkIssued(ca), 'the CA is self-signed');
    t.equal(
      serving.subjectAltName,
      'DNS:autostash, DNS:autostash.backup-system, DNS:autostash.backup-system.svc, ' +
        'DNS:autostash.backup-system.svc.cluster.local, DNS:localhost, IP Address:127.0.0.1',
    );
    t.ok(serving.checkPrivateKey(createPrivateKey(set.tlsKey)), 'tlsKey belongs to tlsCert');
    t.ok(ca.checkPrivateKey(createPrivateKey(set.caKey)), 'caKey belongs to caCert');
    t.same(defaultDnsNames(), ['autostash', 'autostash.autostash', 'autostash.autostash.svc', 'autostash.autostash.svc.cluster.local', 'localhost']);
  });

  t.test('explicit names, addresses and validity', async (t) => {
    const set = await generateCertificates({ dnsNames: ['webhook.example'], ipAddresses: ['10.0.0.7', '::1'], days: 30, now });
    const serving = new X509Certificate(set.tlsCert);
    t.equal(serving.subjectAltName, 'DNS:webhook.example, IP Address:10.0.0.7, IP Address:0:0:0:0:0:0:0:1');
    const notAfter = new Date(serving.validTo).getTime();
    t.ok(Math.abs(notAfter - (now.getTime() + 30 * DAY_MS)) < 2000, 'valid for 30 days from now');
    t.ok(new Date(serving.validFrom).getTime() < now.getTime(), 'valid from slightly before now (clock skew)');
  });

  t.test('IP-only certificate', async (t) => {
    const set = await generateCertificates({ dnsNames: [], ipAddresses: ['127.0.0.1'], now });
    t.equal(new X509Certificate(set.tlsCert).subjectAltName, 'IP Address:127.0.0.1');
  });

  t.test('rejects a non-positive validity and an empty name list', async (t) => {
    await t.rejects(generateCertificates({ days: 0 }), /positive number of days/);
    await t.rejects(generateCertificates({ days: Number.NaN }), /positive number of days/);
    await t.rejects(generateCertificates({ dnsNames: [], ipAddresses: [] }), /at least one DNS name or IP address/);
  });
});

t.test('checkKeyPair', async (t) => {
  const labels = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' };
  const expired = await generateCertificates({ now: new Date(now.getTime() - 10 * DAY_MS), days: 1 });
  const rows: Array<{ name: string; cert: string; key: string; ca?: string; at?: Date; error?: RegExp; file?: string }> = [
    { name: 'matching pair, no CA', cert: setA.tlsCert, key: setA.tlsKey },
    { name: 'matching pair issued by the CA', cert: setA.tlsCert, key: setA.tlsKey, ca: setA.caCert },
    { name: 'garbage certificate', cert: 'not a certificate', key: setA.tlsKey, error: /is not a PEM X.509 certificate/, file: 'tls.crt' },
    { name: 'garbage key', cert: setA.tlsCert, key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', error: /is not a PEM private key/, file: 'tls.key' },
    { name: 'key of another pair', cert: setA.tlsCert, key: setB.tlsKey, error: /does not match the certificate in tls\.crt/, file: 'tls.key' },
    { name: 'expired certificate', cert: expired.tlsCert, key: expired.tlsKey, error: /expired at/, file: 'tls.crt' },
    { name: 'not yet valid', cert: setA.tlsCert, key: setA.tlsKey, at: new Date(now.getTime() - 5 * DAY_MS), error: /is not valid before .*system clock/, file: 'tls.crt' },
    { name: 'CA that did not issue it', cert: setA.tlsCert, key: setA.tlsKey, ca: setB.caCert, error: /did not issue the certificate in tls\.crt/, file: 'ca.crt' },
    { name: 'garbage CA', cert: setA.tlsCert, key: setA.tlsKey, ca: 'junk', error: /is not a PEM X.509 certificate/, file: 'ca.crt' },
    { name: 'expired CA', cert: setA.tlsCert, key: setA.tlsKey, ca: expired.caCert, error: /expired at/, file: 'ca.crt' },
  ];
  for (const row of rows) {
    const run = () => checkKeyPair({ cert: row.cert, key: row.key }, labels, row.at ?? now, row.ca);
    if (row.error === undefined) {
      t.ok(run().subjectAltName?.includes('DNS:localhost'), `${row.name}: accepted`);
    } else {
      t.throws(run, { name: 'CertificateError', file: row.file, message: row.error }, `${row.name}: rejected`);
    }
  }
  t.throws(() => checkKeyPair({ cert: setA.tlsCert, key: setA.tlsKey }, { cert: 'c', key: 'k' }, now, setB.caCert), { name: 'CertificateError', file: 'CA certificate' }, 'CA label defaults');
});

t.test('ensureCertificates', async (t) => {
  t.test('generates, writes and reloads a set when the directory has none', async (t) => {
    const dir = join(t.testdir(), 'certs');
    const first = await ensureCertificates(dir, { now });
    t.equal(first.generated, true);
    t.same(first.paths, certificatePaths(dir));
    t.equal(await readFile(first.paths.certPath, 'utf8'), first.cert);
    t.equal(await readFile(first.paths.keyPath, 'utf8'), first.key);
    t.equal(await readFile(first.paths.caPath, 'utf8'), first.ca);
    t.equal((await stat(first.paths.keyPath)).mode & 0o777, 0o600, 'the key is readable by the owner only');
    t.equal((await stat(first.paths.certPath)).mode & 0o777, 0o644, 'certificates are world-readable');
    t.same((await readdir(dir)).sort(), ['ca.crt', 'tls.crt', 'tls.key'], 'no temporary files are left behind, no CA key is written');
    t.equal(Buffer.from(first.caBundle ?? '', 'base64').toString('utf8'), first.ca, 'caBundle is the base64 of the CA PEM');
    t.equal(first.notAfter.getTime(), new Date(new X509Certificate(first.cert).validTo).getTime());

    const second = await ensureCertificates(dir, { now });
    t.equal(second.generated, false, 'an existing set is loaded, not regenerated');
    t.equal(second.cert, first.cert);
    t.equal(second.caBundle, first.caBundle);
  });

  t.test('loads a user-provided set with custom file names', async (t) => {
    const dir = t.testdir({ 'server.pem': setA.tlsCert, 'server-key.pem': setA.tlsKey, 'root.pem': setA.caCert });
    const loaded = await ensureCertificates(dir, { certFile: 'server.pem', keyFile: 'server-key.pem', caFile: 'root.pem', now });
    t.equal(loaded.generated, false);
    t.equal(loaded.caBundle, toCaBundle(setA.caCert));
  });

  t.test('without ca.crt: a self-signed certificate is its own CA; a CA-issued one has no known CA', async (t) => {
    const caDir = t.testdir({ 'tls.crt': setA.caCert, 'tls.key': setA.caKey });
    t.equal((await ensureCertificates(caDir, { now })).caBundle, toCaBundle(setA.caCert));
    const servingDir = join(t.testdir(), 'serving');
    await writeSet(servingDir, { cert: setA.tlsCert, key: setA.tlsKey });
    const loaded = await ensureCertificates(servingDir, { now });
    t.equal(loaded.ca, undefined);
    t.equal(loaded.caBundle, undefined);
  });

  const failures: Array<{ name: string; files: { cert?: string; key?: string; ca?: string }; file: RegExp; message: RegExp }> = [
    { name: 'only tls.crt', files: { cert: setA.tlsCert }, file: /tls\.key$/, message: /missing while .*tls\.crt exists; provide the complete set/ },
    { name: 'only tls.key', files: { key: setA.tlsKey }, file: /tls\.crt$/, message: /missing while .*tls\.key exists/ },
    { name: 'only ca.crt', files: { ca: setA.caCert }, file: /tls\.crt and .*tls\.key$/, message: /missing while .*ca\.crt exists/ },
    { name: 'garbage tls.crt', files: { cert: 'garbage', key: setA.tlsKey }, file: /tls\.crt$/, message: /is not a PEM X.509 certificate/ },
    { name: 'garbage tls.key', files: { cert: setA.tlsCert, key: 'garbage' }, file: /tls\.key$/, message: /is not a PEM private key/ },
    { name: 'mismatched pair', files: { cert: setA.tlsCert, key: setB.tlsKey }, file: /tls\.key$/, message: /does not match the certificate/ },
    { name: 'ca.crt of another set', files: { cert: setA.tlsCert, key: setA.tlsKey, ca: setB.caCert }, file: /ca\.crt$/, message: /did not issue/ },
  ];
  for (const row of failures) {
    t.test(`${row.name}: a clear error, and the files are left alone`, async (t) => {
      const dir = join(t.testdir(), 'certs');
      await writeSet(dir, row.files);
      const before = await snapshot(dir);
      const error = await ensureCertificates(dir, { now }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      t.type(error, CertificateError);
      t.match((error as CertificateError).file, row.file);
      t.match((error as CertificateError).message, row.message);
      t.same(await snapshot(dir), before, 'nothing was overwritten or added');
    });
  }

  t.test('an expired set is refused, not replaced', async (t) => {
    const dir = join(t.testdir(), 'certs');
    await ensureCertificates(dir, { now: new Date(now.getTime() - 10 * DAY_MS), days: 1 });
    await t.rejects(ensureCertificates(dir, { now }), { file: /tls\.crt$/, message: /expired at .*delete the certificate files/ });
  });

  t.test('unreadable paths name the file', async (t) => {
    const dir = t.testdir({ 'tls.crt': {}, 'tls.key': setA.tlsKey });
    await t.rejects(ensureCertificates(dir, { now }), { file: /tls\.crt$/, message: /cannot be read/ });
    const notADirectory = join(t.testdir({ file: 'x' }), 'file');
    await t.rejects(ensureCertificates(notADirectory, { now }), { file: /tls\.crt$/, message: /cannot be inspected/ });
  });
});

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

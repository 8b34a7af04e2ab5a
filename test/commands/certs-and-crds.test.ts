import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { renderCrdFiles } from '../../src/api/index.js';
import { runCerts } from '../../src/commands/certs.js';
import { runCrds } from '../../src/commands/crds.js';
import { captureStream } from '../helpers/streams.js';

t.test('certs: generates once, then reuses, and prints the caBundle last', async (t) => {
  const dir = join(await mkdtemp(join(tmpdir(), 'autostash-certs-')), 'certs');
  const flags = { dir, namespace: 'backup', dnsName: ['webhook.example.test'], days: 30 };
  const first = captureStream();
  await runCerts(flags, first);
  const lines = first.text().trimEnd().split('\n');
  t.match(lines[0], /^generated certificates in .*certs \(serving certificate valid until \d{4}-/);
  t.equal(lines[1], 'caBundle:');
  const ca = Buffer.from(lines[2] ?? '', 'base64').toString('utf8');
  t.equal(ca, await readFile(join(dir, 'ca.crt'), 'utf8'));
  const serving = new X509Certificate(await readFile(join(dir, 'tls.crt')));
  t.match(serving.subjectAltName, /DNS:autostash\.backup\.svc/);
  t.match(serving.subjectAltName, /DNS:webhook\.example\.test/);
  t.ok(serving.checkIssued(new X509Certificate(ca)), 'signed by the printed CA');

  const second = captureStream();
  await runCerts(flags, second);
  t.match(second.text(), /^using existing certificates in /);
  t.ok(second.text().endsWith(`${lines[2]}\n`), 'same caBundle');
});

t.test('certs: a serving pair without its CA says so instead of printing a bundle', async (t) => {
  const source = join(await mkdtemp(join(tmpdir(), 'autostash-certs-')), 'full');
  await runCerts({ dir: source, namespace: 'autostash', dnsName: [], days: 1 }, captureStream());
  const dir = await mkdtemp(join(tmpdir(), 'autostash-certs-'));
  await writeFile(join(dir, 'tls.crt'), await readFile(join(source, 'tls.crt')));
  await writeFile(join(dir, 'tls.key'), await readFile(join(source, 'tls.key')));
  const out = captureStream();
  await runCerts({ dir, namespace: 'autostash', dnsName: [], days: 1 }, out);
  t.match(out.text(), /no CA certificate found .*ca\.crt/);
});

t.test('crds: writes every CRD and removes stale ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-crds-'));
  await writeFile(join(dir, 'stale.example.com_olds.yaml'), 'old');
  await writeFile(join(dir, 'README.txt'), 'kept: not a CRD file');
  const out = captureStream();
  await runCrds(dir, out);
  const expected = renderCrdFiles();
  t.equal(out.text(), `wrote ${expected.length} CustomResourceDefinitions to ${dir}\n`);
  t.same((await readdir(dir)).sort(), [...expected.map((f) => f.fileName), 'README.txt'].sort());
  for (const file of expected) t.equal(await readFile(join(dir, file.fileName), 'utf8'), file.yaml, file.fileName);
});

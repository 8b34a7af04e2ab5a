import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { parse } from 'yaml';
import { generateToken, writeKubeconfig } from '../../../src/embedded/http/kubeconfig-file.js';

t.test('tokens are long, random and header-safe', async (t) => {
  const a = generateToken();
  const b = generateToken();
  t.not(a, b);
  t.match(a, /^[A-Za-z0-9_-]{43}$/);
});

t.test('writes an owner-only kubeconfig client-node loads unchanged, atomically replacing an old one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'kubeconfig');
  const caCert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  await writeKubeconfig(path, { server: 'https://127.0.0.1:1', caCert, token: 'old' });
  await writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caCert, token: 'secret-token', namespace: 'demo' });
  t.equal((await stat(path)).mode & 0o777, 0o600);
  t.same(await readdir(dir), ['kubeconfig'], 'no temporary file left behind');
  const document = parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  t.equal(document['current-context'], 'autostash-embedded');
  const config = new KubeConfig();
  config.loadFromFile(path);
  t.equal(config.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
  t.equal(config.getCurrentCluster()?.caData, Buffer.from(caCert).toString('base64'));
  t.equal(config.getCurrentUser()?.token, 'secret-token');
  t.equal(config.getContextObject(config.getCurrentContext())?.namespace, 'demo');
});

t.test('a custom context name; a missing directory fails without leaving files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'k');
  await writeKubeconfig(path, { server: 'https://127.0.0.1:2', caCert: 'x', token: 't', contextName: 'other' });
  t.match(parse(await readFile(path, 'utf8')), { 'current-context': 'other', contexts: [{ name: 'other', context: { namespace: 'default' } }] });
  await t.rejects(writeKubeconfig(join(dir, 'missing', 'k'), { server: 's', caCert: 'x', token: 't' }), { code: 'ENOENT' });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startServer } from '../../../src/commands/serve.js';
import { loadConfig } from '../../../src/config.js';
import { eventually, silentLogger } from '../../helpers/control-plane.js';

t.test('serve: the audit runs under the manager and its gauge is on the webhook /metrics', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-audit-serve-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), dataDir: join(dir, 'data'), embeddedPort: '0' }, { HOME: dir });
  const server = await startServer(config, silentLogger());
  t.teardown(() => server.close());
  const client = server.manager?.client;
  if (client === undefined) throw new Error('serve started no controller manager');
  await eventually('readiness', async () => (await server.app.inject('/readyz')).statusCode === 200);

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  await client.create({
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'RetentionPolicy',
    metadata: { name: 'short', namespace: 'demo' },
    spec: { maxRetentionPeriod: '30d', successfulSnapshots: { daily: 1 }, usagePolicy: { allowedNamespaces: { from: 'Same' } } },
  });
  await client.create({ apiVersion: 'policy.autostash.dev/v1alpha1', kind: 'BackupPolicy', metadata: { name: 'keep-a-week' }, spec: { rules: { retention: { action: 'Audit', minimumKept: { daily: 7 } } } } });

  const metrics = await eventually('the gauge on /metrics', async () => {
    const text = (await server.app.inject('/metrics')).body;
    return text.includes('autostash_policy_violations{policy="keep-a-week",rule="retention",action="Audit"} 1') ? text : undefined;
  });
  t.match(metrics, /autostash_admission_requests_total\{/, 'one registry: admission metrics and the audit gauge side by side');
});

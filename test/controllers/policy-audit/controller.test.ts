import { Registry } from 'prom-client';
import t from 'tap';
import { startManager } from '../../../src/controllers/manager.js';
import { policyAuditController } from '../../../src/controllers/policy-audit/controller.js';
import { BACKUP_POLICY_TYPE } from '../../../src/controllers/policy-audit/policy-audit-controller.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { eventually, silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';

const FAST = { leaseDurationSeconds: 1.5, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.1 };

t.test('under the manager: status, a real Warning Event on the policy, and metrics only while leading', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  await client.create({
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'RetentionPolicy',
    metadata: { name: 'short', namespace: 'demo' },
    spec: { maxRetentionPeriod: '30d', successfulSnapshots: { daily: 1 }, usagePolicy: { allowedNamespaces: { from: 'Same' } } },
  });
  await client.create({ ...BACKUP_POLICY_TYPE, metadata: { name: 'keep-a-week' }, spec: { rules: { retention: { action: 'Audit', minimumKept: { daily: 7 } } } } });

  const registry = new Registry();
  const manager = startManager({
    kubeConfig,
    logger: silentLogger(),
    leaderElection: { namespace: 'default', name: 'policy-audit-test', ...FAST },
    controllers: [policyAuditController({ registry, debounceMs: 50, intervalMs: 60_000, maxListed: 5 })],
  });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : manager.stop()));

  const status = await eventually('the audit status', async () => {
    const policy = await client.find<KubeObject>({ ...BACKUP_POLICY_TYPE, name: 'keep-a-week' });
    const current = policy?.status as { violationCount?: number; objects?: unknown[] } | undefined;
    return current?.violationCount === 1 ? current : undefined;
  });
  t.equal(status.objects?.length, 1);
  const event = await eventually('the Warning Event', async () =>
    (await client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default' })).items.find(
      (e) => (e as { reason?: string }).reason === 'ViolationsIncreased' && (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'keep-a-week',
    ));
  t.match((event as { type?: string; message?: string }).type, 'Warning');
  t.match((event as { message?: string }).message, /1 violation by existing objects \(was 0\): retention: 1/);
  t.match(await registry.metrics(), 'autostash_policy_violations{policy="keep-a-week",rule="retention",action="Audit"} 1');

  await manager.stop();
  stopped = true;
  t.notMatch(await registry.metrics(), /autostash_policy_violations\{/, 'a process that no longer leads reports nothing');
});

import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { clusterViewOver } from '../../../src/kube/informer-view.js';
import { createSharedInformers } from '../../../src/controllers/informer.js';
import { createPolicyViolationMetrics } from '../../../src/controllers/policy-audit/metrics.js';
import { BACKUP_POLICY_TYPE, startPolicyAuditController, type AuditEventSink } from '../../../src/controllers/policy-audit/policy-audit-controller.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { evaluatePolicies } from '../../../src/domain/policy/evaluate.js';
import { createKubeClient, KubeApiError, type KubeClient } from '../../../src/kube/client.js';
import { memoryLogger } from '../../helpers/logging.js';
import { eventually, silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';

const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' };
const RETENTION = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy' };

interface AuditStatus {
  observedGeneration?: number;
  lastAuditTime?: string;
  violationCount?: number;
  violations?: Record<string, number>;
  objects?: Array<Record<string, string>>;
  conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
}

const backupAnnotations = { 'blueprint.kubestash.com/name': 'nightly', 'blueprint.kubestash.com/namespace': 'demo' };

function deployment(name: string, options: { pvc?: boolean; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    ...DEPLOYMENT,
    metadata: { name, namespace: 'demo', ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'c', image: 'nginx' }],
          ...(options.pvc ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `${name}-data` } }] } : {}),
        },
      },
    },
  };
}

const PVC = { apiVersion: 'v1', kind: 'PersistentVolumeClaim' };

/** A standalone claim (no owner): requireBackup wants it backed up on its own. */
const claim = (name: string): KubeObject => ({
  ...PVC,
  metadata: { name, namespace: 'demo' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
});

const retentionPolicy = (name: string, daily: number): KubeObject => ({
  ...RETENTION,
  metadata: { name, namespace: 'demo' },
  spec: { maxRetentionPeriod: '30d', successfulSnapshots: { daily }, usagePolicy: { allowedNamespaces: { from: 'Same' } } },
});

const policy = (name: string): KubeObject => ({
  ...BACKUP_POLICY_TYPE,
  metadata: { name },
  spec: { rules: { requireBackup: { action: 'Deny' }, retention: { action: 'Warn', minimumKept: { daily: 7 } } } },
});

async function setup(t: Test, options: { maxListed?: number } = {}) {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const logger = silentLogger();
  const informers = createSharedInformers(client, { logger });
  const { view } = clusterViewOver(informers, client);
  const registry = new Registry();
  const metrics = createPolicyViolationMetrics(registry);
  const recorded: Array<{ object: string; type: string; reason: string; message: string }> = [];
  const events: AuditEventSink = { record: (object, type, reason, message) => recorded.push({ object: object.metadata?.name ?? '', type, reason, message }) };
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  const controller = startPolicyAuditController({
    client,
    informers,
    view,
    evaluate: evaluatePolicies,
    events,
    metrics,
    logger,
    debounceMs: 50,
    intervalMs: 3_600_000,
    ...(options.maxListed === undefined ? {} : { maxListed: options.maxListed }),
  });
  informers.start();
  t.teardown(async () => {
    await controller.stop();
    await informers.stop();
  });
  await informers.whenSynced();
  const statusOf = async (name: string): Promise<AuditStatus | undefined> =>
    (await client.find({ ...BACKUP_POLICY_TYPE, name }))?.status as AuditStatus | undefined;
  const gaugeLines = async (): Promise<string[]> => (await registry.metrics()).split('\n').filter((line) => line.startsWith('autostash_policy_violations{')).sort();
  return { client, controller, recorded, statusOf, gaugeLines, informers };
}

t.test('audit of a mix of compliant and non-compliant objects: status, metrics, events; fixing lowers the count', async (t) => {
  const { client, controller, recorded, statusOf, gaugeLines } = await setup(t, { maxListed: 2 });
  await client.create(deployment('web', { pvc: true }));
  await client.create(deployment('api', { pvc: true, annotations: backupAnnotations }));
  await client.create(deployment('stateless'));
  await client.create(claim('scratch'));
  await client.create(retentionPolicy('short', 3));
  await client.create(retentionPolicy('long', 7));
  await client.create(policy('prod'));

  const status = await eventually('the audit in the policy status', async () => {
    const current = await statusOf('prod');
    return current?.violationCount === 3 ? current : undefined;
  });
  t.same(status.violations, { requireBackup: 2, retention: 1 });
  t.equal(status.observedGeneration, 1);
  t.match(status.lastAuditTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.same(
    status.objects?.map(({ kind, namespace, name, rule, action }) => ({ kind, namespace, name, rule, action })),
    [
      { kind: 'Deployment', namespace: 'demo', name: 'web', rule: 'requireBackup', action: 'Deny' },
      { kind: 'PersistentVolumeClaim', namespace: 'demo', name: 'scratch', rule: 'requireBackup', action: 'Deny' },
    ],
    'the first N violations, sorted by kind/namespace/name',
  );
  t.match(status.objects?.[0]?.message, /web/);
  t.match(status.conditions?.find((c) => c.type === 'Audited'), { status: 'True', reason: 'ViolationsFound', message: /3 violations.*requireBackup: 2, retention: 1/ });

  t.same(await gaugeLines(), [
    'autostash_policy_violations{policy="prod",rule="requireBackup",action="Deny"} 2',
    'autostash_policy_violations{policy="prod",rule="retention",action="Warn"} 1',
  ]);
  const warnings = recorded.filter((e) => e.object === 'prod' && e.type === 'Warning' && e.reason === 'ViolationsIncreased');
  t.equal(warnings.length, 1, 'one Warning when the count grew from nothing to 3');
  t.match(warnings[0]?.message, /3 violations .*was 0/);

  // A forced second pass with nothing changed writes nothing.
  await controller.whenIdle();
  const before = (await client.get({ ...BACKUP_POLICY_TYPE, name: 'prod' })).metadata?.resourceVersion;
  const again = await controller.auditNow();
  t.equal(again.written, 0);
  t.equal(again.policies, 1);
  t.equal(again.violations, 3);
  t.ok(again.objects >= 6, 'every audited object was evaluated');
  t.comment(`one pass over ${again.objects} objects took ${again.durationMs.toFixed(2)} ms`);
  t.equal((await client.get({ ...BACKUP_POLICY_TYPE, name: 'prod' })).metadata?.resourceVersion, before, 'no status write without news');

  // Fixing objects lowers the count; no Warning for a shrinking count.
  const web = await client.get({ ...DEPLOYMENT, namespace: 'demo', name: 'web' });
  await client.update({ ...web, metadata: { ...web.metadata, annotations: backupAnnotations } });
  const fixed = await eventually('the count to drop', async () => {
    const current = await statusOf('prod');
    return current?.violationCount === 2 ? current : undefined;
  });
  t.same(fixed.violations, { requireBackup: 1, retention: 1 });
  t.same(fixed.objects?.map((o) => o.name), ['scratch', 'short']);
  await eventually('the gauge to follow', async () =>
    (await gaugeLines()).includes('autostash_policy_violations{policy="prod",rule="requireBackup",action="Deny"} 1'));
  t.equal(recorded.filter((e) => e.reason === 'ViolationsIncreased').length, 1, 'no event when the count shrinks');

  const short = await client.get({ ...RETENTION, namespace: 'demo', name: 'short' });
  await client.update({ ...short, spec: retentionPolicy('short', 7).spec });
  await client.patch({ ...PVC, namespace: 'demo', name: 'scratch' }, { type: 'merge', patch: { metadata: { annotations: backupAnnotations } } });
  const clean = await eventually('no violations left', async () => {
    const current = await statusOf('prod');
    return current?.violationCount === 0 ? current : undefined;
  });
  t.same(clean.violations ?? {}, {});
  t.same(clean.objects ?? [], []);
  t.match(clean.conditions?.find((c) => c.type === 'Audited'), { status: 'True', reason: 'NoViolations' });
  await eventually('the gauge at 0', async () => {
    const lines = await gaugeLines();
    return lines.length === 2 && lines.every((line) => line.endsWith(' 0'));
  });
});

t.test('a policy change is audited; deleting a policy removes its label sets', async (t) => {
  const { client, statusOf, gaugeLines, recorded } = await setup(t);
  await client.create(deployment('web', { pvc: true }));
  await client.create(retentionPolicy('short', 3));
  await client.create(policy('prod'));
  await client.create({ ...policy('staging'), spec: { rules: { retention: { action: 'Audit', minimumKept: { daily: 5 } } } } });
  await eventually('both policies audited', async () => (await statusOf('prod'))?.violationCount === 2 && (await statusOf('staging'))?.violationCount === 1);
  t.same(await gaugeLines(), [
    'autostash_policy_violations{policy="prod",rule="requireBackup",action="Deny"} 1',
    'autostash_policy_violations{policy="prod",rule="retention",action="Warn"} 1',
    'autostash_policy_violations{policy="staging",rule="retention",action="Audit"} 1',
  ]);

  // Raising the bar on staging (a spec change, new generation) makes more objects violate it.
  const staging = await client.get({ ...BACKUP_POLICY_TYPE, name: 'staging' });
  await client.update({ ...staging, spec: { rules: { retention: { action: 'Audit', minimumKept: { daily: 5 } }, requireBackup: { action: 'Audit' } } } });
  const updated = await eventually('the edited policy audited', async () => {
    const current = await statusOf('staging');
    return current?.violationCount === 2 ? current : undefined;
  });
  t.equal(updated.observedGeneration, 2);
  t.equal(recorded.filter((e) => e.object === 'staging' && e.reason === 'ViolationsIncreased').length, 2, 'a Warning each time the count grew');

  await client.delete({ ...BACKUP_POLICY_TYPE, name: 'prod' });
  await eventually('the deleted policy to leave the metrics', async () => !(await gaugeLines()).some((line) => line.includes('policy="prod"')));
  t.same(await gaugeLines(), [
    'autostash_policy_violations{policy="staging",rule="requireBackup",action="Audit"} 1',
    'autostash_policy_violations{policy="staging",rule="retention",action="Audit"} 1',
  ]);
});

t.test('auditNow after stop is refused', async (t) => {
  const { controller } = await setup(t);
  const result = await controller.auditNow();
  t.equal(result.policies, 0);
  await controller.stop();
  await t.rejects(controller.auditNow(), /stopped/);
});

t.test('failures: an evaluation that throws, a stale or deleted policy, a failing API server', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const real = createKubeClient(kubeConfig);
  t.teardown(() => real.close());
  const failures: KubeApiError[] = [];
  // The real client, except that queued failures answer status writes first.
  const client: KubeClient = {
    ...real,
    updateStatus: async (object, options) => {
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return real.updateStatus(object, options);
    },
  };
  const { logger, lines } = memoryLogger();
  const informers = createSharedInformers(real, { logger: silentLogger() });
  const { view } = clusterViewOver(informers, real);
  await real.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  const controller = startPolicyAuditController({
    client,
    informers,
    view,
    evaluate: (object, view) => {
      if (object.metadata?.name === 'broken') throw new Error('evaluation bug');
      return evaluatePolicies(object, view);
    },
    events: { record: () => undefined },
    metrics: createPolicyViolationMetrics(),
    logger,
    // Only auditNow() runs passes here.
    debounceMs: 3_600_000,
    intervalMs: 3_600_000,
  });
  informers.start();
  t.teardown(async () => {
    await controller.stop();
    await informers.stop();
  });
  await informers.whenSynced();
  await real.create(retentionPolicy('short', 1));
  await real.create(retentionPolicy('broken', 1));
  for (const name of ['a', 'b', 'c']) await real.create(policy(name));
  await eventually('the policies and objects in the caches', () => view.list('BackupPolicy').length === 3 && view.list('RetentionPolicy').length === 2);
  await controller.whenIdle();

  // One failure per status write of the pass: a stale cache (skipped, audited again soon), a policy
  // deleted meanwhile (skipped), an API server error (the pass fails and is retried after backoff).
  failures.push(new KubeApiError(409, 'Conflict', 'the object has been modified'), new KubeApiError(404, 'NotFound', 'gone'), new KubeApiError(500, 'InternalError', 'etcd is down'));
  const result = await controller.auditNow();
  t.equal(failures.length, 0, 'every failure was met');
  t.ok(lines.some((line) => line.msg.startsWith('reconcile failed; retrying') && line.err === 'etcd is down'), 'the failed pass was logged');
  t.equal(result.written, 3, 'the retry wrote every policy, and auditNow answered with it');
  t.equal(result.failed, 1, 'the object whose evaluation threw is counted');
  t.equal(result.violations, 3, 'the other objects are audited');
  t.ok(lines.some((line) => line.msg.startsWith('policy evaluation failed') && line.err === 'evaluation bug'));
  for (const name of ['a', 'b', 'c']) {
    const stored = await real.get({ ...BACKUP_POLICY_TYPE, name });
    t.equal((stored.status as { violationCount?: number } | undefined)?.violationCount, 1, `${name} audited`);
  }
});

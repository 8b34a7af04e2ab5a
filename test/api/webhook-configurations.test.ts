import t from 'tap';
import { webhookConfigurations } from '../../src/api/webhook-configurations.js';

type Webhook = { name: string; clientConfig: Record<string, unknown>; rules: Array<{ apiGroups: string[]; resources: string[]; operations: string[] }>; failurePolicy: string; sideEffects: string; admissionReviewVersions: string[]; timeoutSeconds: number };
const webhookOf = (configuration: Record<string, unknown>): Webhook => (configuration.webhooks as Webhook[])[0] as Webhook;

t.test('URL endpoint: paths, caBundle, KubeStash registration semantics', async (t) => {
  const { mutating, validating } = webhookConfigurations({ endpoint: { url: 'https://127.0.0.1:8443/' }, caBundle: 'Q0E=' });
  t.equal(mutating.kind, 'MutatingWebhookConfiguration');
  t.equal(validating.kind, 'ValidatingWebhookConfiguration');
  const m = webhookOf(mutating);
  const v = webhookOf(validating);
  t.same(m.clientConfig, { url: 'https://127.0.0.1:8443/mutate', caBundle: 'Q0E=' });
  t.same(v.clientConfig, { url: 'https://127.0.0.1:8443/validate', caBundle: 'Q0E=' });
  for (const hook of [m, v]) {
    t.equal(hook.failurePolicy, 'Fail');
    t.equal(hook.sideEffects, 'None');
    t.same(hook.admissionReviewVersions, ['v1']);
    t.equal(hook.timeoutSeconds, 10);
    for (const rule of hook.rules) t.same(rule.operations, ['CREATE', 'UPDATE']);
  }
  const resources = (hook: Webhook) => Object.fromEntries(hook.rules.map((r) => [r.apiGroups[0], r.resources]));
  t.same(resources(m), {
    'storage.kubestash.com': ['backupstorages', 'retentionpolicies'],
    'core.kubestash.com': ['backupblueprints', 'backupconfigurations', 'hooktemplates'],
  });
  const workloads = (validating.webhooks as Webhook[])[1] as Webhook;
  t.equal(workloads.failurePolicy, 'Ignore', 'an unreachable autostash never blocks workloads');
  t.same(workloads.clientConfig, { url: 'https://127.0.0.1:8443/validate', caBundle: 'Q0E=' });
  t.same(resources(workloads), { apps: ['daemonsets', 'deployments', 'statefulsets'], '': ['persistentvolumeclaims'] });
  t.equal(workloads.timeoutSeconds, 5);
  t.same(resources(v), {
    'storage.kubestash.com': ['backupstorages', 'repositories', 'retentionpolicies'],
    'core.kubestash.com': ['backupbatches', 'backupblueprints', 'backupconfigurations', 'backupsessions', 'hooktemplates', 'restoresessions'],
    'policy.autostash.dev': ['backuppolicies'],
  });
});

t.test('Service endpoint with default port, custom name and timeout', async (t) => {
  const { mutating } = webhookConfigurations({ endpoint: { service: { namespace: 'backup', name: 'autostash' } }, caBundle: 'Q0E=', name: 'custom', timeoutSeconds: 5 });
  t.equal((mutating.metadata as { name: string }).name, 'custom');
  t.same(webhookOf(mutating).clientConfig, { service: { namespace: 'backup', name: 'autostash', port: 443, path: '/mutate' }, caBundle: 'Q0E=' });
  t.equal(webhookOf(mutating).timeoutSeconds, 5);
});

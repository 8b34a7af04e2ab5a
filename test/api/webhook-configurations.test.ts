import t from 'tap';
import { WORKLOAD_MATCH_CONDITIONS, webhookConfigurations } from '../../src/api/webhook-configurations.js';

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
    t.equal(hook.timeoutSeconds, 2);
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
  t.equal(workloads.timeoutSeconds, 2);
  t.notOk('matchConditions' in workloads, 'no matchConditions unless asked for');
  t.notOk('namespaceSelector' in workloads, 'every namespace unless some are excluded');
  t.same(resources(v), {
    'storage.kubestash.com': ['backupstorages', 'repositories', 'retentionpolicies'],
    'core.kubestash.com': ['backupbatches', 'backupblueprints', 'backupconfigurations', 'backupsessions', 'hooktemplates', 'restoresessions'],
    'policy.autostash.dev': ['backuppolicies'],
  });
});

t.test('Service endpoint with default port, custom name and timeouts', async (t) => {
  const { mutating, validating } = webhookConfigurations({
    endpoint: { service: { namespace: 'backup', name: 'autostash' } },
    caBundle: 'Q0E=',
    name: 'custom',
    mutateTimeoutSeconds: 5,
    validateTimeoutSeconds: 7,
  });
  t.equal((mutating.metadata as { name: string }).name, 'custom');
  t.same(webhookOf(mutating).clientConfig, { service: { namespace: 'backup', name: 'autostash', port: 443, path: '/mutate' }, caBundle: 'Q0E=' });
  t.equal(webhookOf(mutating).timeoutSeconds, 5);
  for (const hook of validating.webhooks as Webhook[]) t.equal(hook.timeoutSeconds, 7, hook.name);
});

t.test('cluster install: no caBundle (injected later), excluded namespaces, matchConditions, annotations', async (t) => {
  const { mutating, validating } = webhookConfigurations({
    endpoint: { service: { namespace: 'autostash', name: 'autostash', port: 443 } },
    excludedNamespaces: ['kube-system', 'autostash'],
    workloadMatchConditions: true,
    annotations: { 'cert-manager.io/inject-ca-from': 'autostash/autostash-webhook' },
  });
  const all = [...(mutating.webhooks as Array<Record<string, unknown>>), ...(validating.webhooks as Array<Record<string, unknown>>)];
  for (const hook of all) {
    t.notOk('caBundle' in (hook.clientConfig as object), `${String(hook.name)}: caBundle left to the injector`);
    t.same(hook.namespaceSelector, { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'autostash'] }] });
  }
  const [kinds, workloads] = validating.webhooks as Array<Record<string, unknown>>;
  t.notOk('matchConditions' in kinds!, 'our own kinds are always sent');
  t.same(workloads!.matchConditions, WORKLOAD_MATCH_CONDITIONS);
  for (const configuration of [mutating, validating]) {
    t.same((configuration.metadata as { annotations: unknown }).annotations, { 'cert-manager.io/inject-ca-from': 'autostash/autostash-webhook' });
  }
});

t.test('the workload matchCondition has one clause per reason a workload reaches autostash', async (t) => {
  const [condition] = WORKLOAD_MATCH_CONDITIONS;
  t.equal(WORKLOAD_MATCH_CONDITIONS.length, 1);
  const clauses = condition!.expression.split(' || ');
  t.equal(clauses.length, 5);
  t.match(clauses[0], /object\.metadata\.annotations\.exists\(k, k\.startsWith\('blueprint\.kubestash\.com\/'\)\)/, 'annotated now');
  t.match(clauses[1], /^\(oldObject != null/, 'annotated before (annotations being removed)');
  t.match(clauses[2], /PersistentVolumeClaim/, 'claims (requireBackup may need them)');
  t.match(clauses[3], /volumeClaimTemplates/, 'StatefulSets with claim templates');
  t.match(clauses[4], /persistentVolumeClaim/, 'pod templates mounting a claim');
});

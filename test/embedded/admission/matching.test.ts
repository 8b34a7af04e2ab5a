import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import type { AdmissionAttributes, ResourceType } from '../../../src/embedded/api-types.js';
import {
  evaluateMatchConditions,
  isExemptFromWebhooks,
  namespaceSelectorMatches,
  objectSelectorMatches,
  ruleMatches,
} from '../../../src/embedded/admission/matching.js';
import { orderedWebhooks, webhooksOf, type Webhook, type WebhookRule } from '../../../src/embedded/admission/webhook-config.js';

const resourceType = (group: string, version: string, resource: string, kind: string, namespaced: boolean): ResourceType => ({
  group,
  version,
  resource,
  kind,
  listKind: `${kind}List`,
  singular: kind.toLowerCase(),
  namespaced,
  shortNames: [],
  categories: [],
  verbs: ['create', 'get', 'list', 'update', 'patch', 'delete', 'watch'],
  statusSubresource: false,
});

const configMaps = resourceType('', 'v1', 'configmaps', 'ConfigMap', true);
const namespaces = resourceType('', 'v1', 'namespaces', 'Namespace', false);
const deployments = resourceType('apps', 'v1', 'deployments', 'Deployment', true);
const persistentVolumes = resourceType('', 'v1', 'persistentvolumes', 'PersistentVolume', false);
const backupStorages = resourceType('storage.kubestash.com', 'v1alpha1', 'backupstorages', 'BackupStorage', true);

const user = { username: 'admin', groups: ['system:masters'] };
const attrs = (overrides: Partial<AdmissionAttributes>): AdmissionAttributes => ({
  operation: 'CREATE',
  resourceType: configMaps,
  namespace: 'demo',
  name: 'settings',
  dryRun: false,
  user,
  ...overrides,
});

const rule = (overrides: Partial<WebhookRule>): WebhookRule => ({
  operations: ['CREATE'],
  apiGroups: [''],
  apiVersions: ['v1'],
  resources: ['configmaps'],
  scope: '*',
  ...overrides,
});

t.test('rule matching: one row per field, wildcard, subresource and scope', async (t) => {
  const rows: Array<[string, Partial<WebhookRule>, Partial<AdmissionAttributes>, boolean]> = [
    ['exact rule', {}, {}, true],
    ['operation listed', { operations: ['UPDATE', 'CREATE'] }, {}, true],
    ['operation not listed', { operations: ['UPDATE'] }, {}, false],
    ['operation *', { operations: ['*'] }, { operation: 'DELETE' }, true],
    ['CONNECT needs to be listed', { operations: ['CREATE', 'UPDATE', 'DELETE'] }, { operation: 'CONNECT' }, false],
    ['apiGroup other', { apiGroups: ['apps'] }, {}, false],
    ['apiGroup *', { apiGroups: ['*'] }, { resourceType: { ...deployments, resource: 'configmaps' } }, true],
    ['apiGroup of a CRD', { apiGroups: ['storage.kubestash.com'], apiVersions: ['v1alpha1'], resources: ['backupstorages'] }, { resourceType: backupStorages }, true],
    ['apiVersion other', { apiVersions: ['v1beta1'] }, {}, false],
    ['apiVersion *', { apiVersions: ['*'] }, {}, true],
    ['resource other', { resources: ['secrets'] }, {}, false],
    ['resource *', { resources: ['*'] }, {}, true],
    ['resource * skips subresources', { resources: ['*'] }, { subresource: 'status' }, false],
    ['resource */* matches subresources', { resources: ['*/*'] }, { subresource: 'status' }, true],
    ['resource */* matches main resources', { resources: ['*/*'] }, {}, true],
    ['resource/status', { resources: ['configmaps/status'] }, { subresource: 'status' }, true],
    ['resource/status skips the main resource', { resources: ['configmaps/status'] }, {}, false],
    ['main resource skips its subresource', { resources: ['configmaps'] }, { subresource: 'status' }, false],
    ['resource/* matches the main resource', { resources: ['configmaps/*'] }, {}, true],
    ['resource/* matches a subresource', { resources: ['configmaps/*'] }, { subresource: 'status' }, true],
    ['*/status', { resources: ['*/status'] }, { subresource: 'status' }, true],
    ['*/status skips another subresource', { resources: ['*/status'] }, { subresource: 'scale' }, false],
    ['second resource entry', { resources: ['secrets', 'configmaps'] }, {}, true],
    ['scope Namespaced: namespaced object', { scope: 'Namespaced' }, {}, true],
    ['scope Cluster: namespaced object', { scope: 'Cluster' }, {}, false],
    ['scope Cluster: cluster object', { scope: 'Cluster', resources: ['persistentvolumes'] }, { resourceType: persistentVolumes, namespace: undefined }, true],
    ['scope Namespaced: cluster object', { scope: 'Namespaced', resources: ['persistentvolumes'] }, { resourceType: persistentVolumes, namespace: undefined }, false],
    ['scope Cluster: a Namespace carrying its own name', { scope: 'Cluster', resources: ['namespaces'] }, { resourceType: namespaces, namespace: 'demo' }, true],
    ['scope Namespaced: a Namespace', { scope: 'Namespaced', resources: ['namespaces'] }, { resourceType: namespaces, namespace: 'demo' }, false],
    ['scope *', { scope: '*', resources: ['persistentvolumes'] }, { resourceType: persistentVolumes, namespace: undefined }, true],
  ];
  for (const [name, ruleOverrides, attrOverrides, expected] of rows) {
    t.equal(ruleMatches(rule(ruleOverrides), attrs(attrOverrides)), expected, name);
  }
});

t.test('admission configuration objects are never sent to webhooks', async (t) => {
  const registration = (resource: string) => resourceType('admissionregistration.k8s.io', 'v1', resource, 'X', false);
  t.equal(isExemptFromWebhooks(attrs({ resourceType: registration('validatingwebhookconfigurations') })), true);
  t.equal(isExemptFromWebhooks(attrs({ resourceType: registration('mutatingwebhookconfigurations') })), true);
  t.equal(isExemptFromWebhooks(attrs({ resourceType: registration('validatingadmissionpolicybindings') })), true);
  t.equal(isExemptFromWebhooks(attrs({ resourceType: resourceType('other.example.com', 'v1', 'mutatingwebhookconfigurations', 'X', false) })), false);
  t.equal(isExemptFromWebhooks(attrs({})), false);
});

const webhookWith = (fields: Record<string, unknown>): Webhook =>
  webhooksOf({ metadata: { name: 'config' }, webhooks: [{ name: 'hook.example.com', ...fields }] }, 'validating')[0] as Webhook;

const namespaceObject = (name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const namespaceStore = new Map([
  ['prod', namespaceObject('prod', { env: 'prod' })],
  ['dev', namespaceObject('dev', { env: 'dev' })],
]);
const lookup = (name: string) => namespaceStore.get(name);

t.test('namespaceSelector', async (t) => {
  const prodOnly = webhookWith({ namespaceSelector: { matchLabels: { env: 'prod' } } });
  const notKubeSystem = webhookWith({ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] } });
  t.equal(namespaceSelectorMatches(prodOnly, attrs({ namespace: 'prod' }), lookup), true, 'namespace labels match');
  t.equal(namespaceSelectorMatches(prodOnly, attrs({ namespace: 'dev' }), lookup), false, 'namespace labels differ');
  t.equal(namespaceSelectorMatches(notKubeSystem, attrs({ namespace: 'dev' }), lookup), false, 'NotIn excludes');
  t.equal(namespaceSelectorMatches(notKubeSystem, attrs({ namespace: 'prod' }), lookup), true, 'NotIn keeps the rest');
  t.equal(namespaceSelectorMatches(webhookWith({}), attrs({ namespace: 'missing' }), lookup), true, 'no selector: everything, the namespace is not looked up');
  t.equal(namespaceSelectorMatches(webhookWith({ namespaceSelector: {} }), attrs({ namespace: 'dev' }), lookup), true, 'empty selector: everything');
  t.equal(
    namespaceSelectorMatches(prodOnly, attrs({ resourceType: persistentVolumes, namespace: undefined }), lookup),
    true,
    'cluster-scoped objects other than namespaces always match',
  );
  t.equal(
    namespaceSelectorMatches(prodOnly, attrs({ resourceType: namespaces, namespace: undefined, name: 'new', object: namespaceObject('new', { env: 'prod' }) }), lookup),
    true,
    'a Namespace being created is matched on its own labels',
  );
  t.equal(
    namespaceSelectorMatches(prodOnly, attrs({ operation: 'UPDATE', resourceType: namespaces, namespace: 'prod', name: 'prod', object: namespaceObject('prod', { env: 'dev' }) }), lookup),
    false,
    'a Namespace being updated is matched on its incoming labels, not the stored ones',
  );
  t.equal(
    namespaceSelectorMatches(prodOnly, attrs({ operation: 'DELETE', resourceType: namespaces, namespace: undefined, name: 'prod', oldObject: namespaceObject('prod', { env: 'dev' }) }), lookup),
    true,
    'a Namespace being deleted is matched on the stored namespace',
  );
  t.equal(
    namespaceSelectorMatches(prodOnly, attrs({ operation: 'DELETE', resourceType: namespaces, namespace: undefined, name: 'gone', oldObject: namespaceObject('gone', { env: 'prod' }) }), lookup),
    true,
    'a deleted Namespace missing from the lookup falls back to the old object',
  );
  t.throws(() => namespaceSelectorMatches(prodOnly, attrs({ namespace: 'missing' }), lookup), { code: 404, reason: 'NotFound', message: 'namespaces "missing" not found' });
  t.throws(
    () => namespaceSelectorMatches(webhookWith({ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Near' }] } }), attrs({ namespace: 'prod' }), lookup),
    { code: 500, reason: 'InternalError', message: /invalid namespaceSelector: namespaceSelector\.matchExpressions\[0\]\.operator/ },
  );
});

t.test('objectSelector', async (t) => {
  const backedUp = webhookWith({ objectSelector: { matchLabels: { backup: 'yes' } } });
  const labelled = (labels: Record<string, string>): KubeObject => ({ metadata: { name: 'x', labels } });
  t.equal(objectSelectorMatches(backedUp, attrs({ object: labelled({ backup: 'yes' }) })), true, 'object labels match');
  t.equal(objectSelectorMatches(backedUp, attrs({ object: labelled({ backup: 'no' }) })), false, 'object labels differ');
  t.equal(objectSelectorMatches(backedUp, attrs({ operation: 'UPDATE', object: labelled({}), oldObject: labelled({ backup: 'yes' }) })), true, 'old object labels match');
  t.equal(objectSelectorMatches(backedUp, attrs({ operation: 'DELETE', oldObject: labelled({ backup: 'yes' }) })), true, 'DELETE: the old object');
  t.equal(objectSelectorMatches(backedUp, attrs({ object: { metadata: { name: 'x' } } })), false, 'no labels');
  t.equal(objectSelectorMatches(webhookWith({}), attrs({ object: labelled({}) })), true, 'no selector: everything');
  t.throws(() => objectSelectorMatches(webhookWith({ objectSelector: 'everything' }), attrs({})), { code: 500, message: /invalid objectSelector/ });
});

t.test('matchConditions without CEL', async (t) => {
  t.same(evaluateMatchConditions([]), { matches: true, unevaluated: [] });
  t.same(evaluateMatchConditions([{ name: 'always', expression: ' true ' }]), { matches: true, unevaluated: [] });
  t.same(evaluateMatchConditions([{ name: 'never', expression: 'false' }]), { matches: false, unevaluated: [] });
  const cel = { name: 'cel', expression: "object.metadata.name != 'x'" };
  t.same(evaluateMatchConditions([cel]), { matches: true, unevaluated: [cel] });
  t.same(evaluateMatchConditions([cel, { name: 'never', expression: 'false' }]), { matches: false, unevaluated: [cel] });
});

t.test('webhook configuration defaults and order', async (t) => {
  const [hook] = webhooksOf({ metadata: { name: 'c' }, webhooks: [{ name: 'h', clientConfig: { url: 'https://x/' } }] }, 'mutating');
  t.match(hook, {
    uid: 'c/h/0',
    failurePolicy: 'Fail',
    matchPolicy: 'Equivalent',
    timeoutSeconds: 10,
    reinvocationPolicy: 'Never',
    sideEffects: undefined,
    namespaceSelector: undefined,
    objectSelector: undefined,
    rules: [],
    admissionReviewVersions: [],
    clientConfig: { url: 'https://x/' },
  });
  const timeouts = webhooksOf({ metadata: { name: 'c' }, webhooks: [{ timeoutSeconds: 0 }, { timeoutSeconds: 99 }, { timeoutSeconds: 3 }] }, 'validating');
  t.same(timeouts.map((w) => w.timeoutSeconds), [1, 30, 3], 'timeoutSeconds is kept within 1–30');
  const [service] = webhooksOf(
    { metadata: { name: 'c' }, webhooks: [{ clientConfig: { service: { namespace: 'ns', name: 'svc' }, caBundle: Buffer.from('PEM').toString('base64') }, rules: [{}] }] },
    'validating',
  );
  t.same(service?.clientConfig, { service: { namespace: 'ns', name: 'svc', path: '', port: 443 }, caPem: 'PEM' });
  t.same(service?.rules, [{ operations: [], apiGroups: [], apiVersions: [], resources: [], scope: '*' }]);
  const [validating] = webhooksOf({ metadata: { name: 'c' }, webhooks: [{ reinvocationPolicy: 'IfNeeded', failurePolicy: 'Ignore', matchPolicy: 'Exact' }] }, 'validating');
  t.match(validating, { reinvocationPolicy: 'Never', failurePolicy: 'Ignore', matchPolicy: 'Exact' }, 'validating webhooks are never reinvoked');

  const ordered = orderedWebhooks(
    [
      { metadata: { name: 'b' }, webhooks: [{ name: 'b1' }, { name: 'b2' }] },
      { metadata: { name: 'a' }, webhooks: [{ name: 'a1' }] },
      { metadata: { name: 'C' }, webhooks: [{ name: 'C1' }] },
    ],
    'mutating',
  );
  t.same(ordered.map((w) => w.name), ['C1', 'a1', 'b1', 'b2'], 'configurations by name (byte order), webhooks in listed order');
});

import t from 'tap';
import type { KubeObject, NamespaceObject } from '../../src/domain/kube-object.js';
import { evaluateUsagePolicy, usageAllowed, usagePolicyFrom, type UsagePolicyOwnerKind } from '../../src/domain/usage-policy.js';

const owner = (usagePolicy: unknown): KubeObject => ({ metadata: { name: 'o', namespace: 'storage' }, spec: usagePolicy === undefined ? {} : { usagePolicy } });
const ns = (name: string, labels: Record<string, string> = {}): NamespaceObject => ({ metadata: { name, labels } });
const kinds: UsagePolicyOwnerKind[] = ['BackupStorage', 'RetentionPolicy', 'BackupBlueprint', 'HookTemplate'];
const selectorPolicy = { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { backup: 'yes' } } } };

t.test('every from value, for every kind', async (t) => {
  for (const kind of kinds) {
    const rows: Array<[string, KubeObject, NamespaceObject, boolean]> = [
      ['All allows another namespace', owner({ allowedNamespaces: { from: 'All' } }), ns('demo'), true],
      ['Same allows its own namespace', owner({ allowedNamespaces: { from: 'Same' } }), ns('storage'), true],
      ['Same refuses another namespace', owner({ allowedNamespaces: { from: 'Same' } }), ns('demo'), false],
      ['Selector allows a matching namespace', owner(selectorPolicy), ns('demo', { backup: 'yes' }), true],
      ['Selector refuses a non-matching namespace', owner(selectorPolicy), ns('demo', { backup: 'no' }), false],
      ['Selector refuses even its own namespace when it does not match', owner(selectorPolicy), ns('storage'), false],
      ['Selector with no selector matches nothing', owner({ allowedNamespaces: { from: 'Selector' } }), ns('demo', { backup: 'yes' }), false],
      ['Selector with an empty selector matches everything', owner({ allowedNamespaces: { from: 'Selector', selector: {} } }), ns('demo'), true],
      ['an invalid selector matches nothing', owner({ allowedNamespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'backup', operator: 'In' }] } } }), ns('demo', { backup: 'yes' }), false],
      ['an unknown from value is treated as Selector', owner({ allowedNamespaces: { from: 'Bogus', selector: {} } }), ns('demo'), true],
      ['no usagePolicy reads as the webhook default Same', owner(undefined), ns('storage'), true],
      ['from unset allows nothing', owner({ allowedNamespaces: {} }), ns('storage'), false],
    ];
    for (const [name, object, namespace, expected] of rows) {
      t.equal(usageAllowed(object, kind, { name: namespace.metadata.name, object: namespace }), expected, `${kind}: ${name}`);
    }
  }
});

t.test('from unset: the reason differs per kind', async (t) => {
  const object = owner({ allowedNamespaces: {} });
  t.match(evaluateUsagePolicy(object, 'BackupStorage', { name: 'storage' }).reason, /allows no namespace/);
  t.match(evaluateUsagePolicy(object, 'RetentionPolicy', { name: 'storage' }).reason, /allows no namespace/);
  t.match(evaluateUsagePolicy(object, 'HookTemplate', { name: 'storage' }).reason, /KubeStash fails/);
  t.match(evaluateUsagePolicy(object, 'BackupBlueprint', { name: 'storage' }).reason, /KubeStash fails/);
  t.equal(usagePolicyFrom(object), undefined);
  t.equal(usagePolicyFrom(owner(undefined)), 'Same');
});

t.test('unknown Namespace: a selector decision is undecided, others are not', async (t) => {
  t.equal(evaluateUsagePolicy(owner(selectorPolicy), 'BackupStorage', { name: 'demo' }).allowed, undefined);
  t.equal(evaluateUsagePolicy(owner({ allowedNamespaces: { from: 'Same' } }), 'BackupStorage', { name: 'demo' }).allowed, false);
  t.equal(evaluateUsagePolicy(owner({ allowedNamespaces: { from: 'All' } }), 'BackupStorage', { name: 'demo' }).allowed, true);
  t.equal(usageAllowed(owner(selectorPolicy), 'BackupStorage', { name: 'demo' }), false, 'boolean form: no labels');
  const notIn = owner({ allowedNamespaces: { from: 'Selector', selector: { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] } } });
  t.equal(usageAllowed(notIn, 'BackupStorage', { name: 'demo' }), true, 'boolean form: a selector matching no labels');
});

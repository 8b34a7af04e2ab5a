import t from 'tap';
import { linkOwnerReferences, ownerKey, ownerKeysOf, type OwnerReference, type OwnerState } from '../../../src/domain/kubedump/owner-links.js';

const ref = (kind: string, name: string, uid: string, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'apps/v1', kind, name, uid, ...extra });
const states = (table: Record<string, OwnerState>) => (reference: OwnerReference): OwnerState => table[`${reference.kind}/${reference.name}`] ?? 'missing';

t.test('keys: group, kind, namespace and name, version left out', async (t) => {
  const rows: Array<[string, string, string]> = [
    ['namespaced, named group', ownerKey('apps/v1', 'Deployment', 'demo', 'web'), 'apps/Deployment/demo/web'],
    ['another version, same key', ownerKey('apps/v1beta1', 'Deployment', 'demo', 'web'), 'apps/Deployment/demo/web'],
    ['core group', ownerKey('v1', 'ConfigMap', 'demo', 'c'), '/ConfigMap/demo/c'],
    ['cluster-scoped', ownerKey('example.com/v1', 'Cluster', undefined, 'c1'), 'example.com/Cluster//c1'],
  ];
  for (const [name, actual, expected] of rows) t.equal(actual, expected, name);
  t.same(ownerKeysOf(ref('Deployment', 'web', 'u'), 'demo'), ['apps/Deployment/demo/web', 'apps/Deployment//web'], 'from a namespaced object: same namespace, then cluster-wide');
  t.same(ownerKeysOf(ref('Cluster', 'c1', 'u'), undefined), ['apps/Cluster//c1'], 'from a cluster-scoped object: cluster-wide only');
  t.same(ownerKeysOf({ kind: 'Deployment' }, 'demo'), [], 'a reference without a name means nothing');
  t.same(ownerKeysOf({ name: 'web', kind: 'Deployment' }, 'demo'), ['/Deployment/demo/web', '/Deployment//web'], 'a reference without apiVersion reads as the core group');
});

t.test('linking: one row per rule', async (t) => {
  const rows: Array<[string, OwnerReference[], Record<string, OwnerState>, boolean, unknown]> = [
    ['no references', [], {}, false, { ready: true, ownerReferences: [], relinked: 0, dropped: [] }],
    [
      'an owner recreated with a new uid gets it',
      [ref('Deployment', 'web', 'old', { controller: true, blockOwnerDeletion: true })],
      { 'Deployment/web': { uid: 'new' } },
      false,
      { ready: true, ownerReferences: [ref('Deployment', 'web', 'new', { controller: true, blockOwnerDeletion: true })], relinked: 1, dropped: [] },
    ],
    [
      'an owner that kept its uid is not counted as relinked',
      [ref('Deployment', 'web', 'same')],
      { 'Deployment/web': { uid: 'same' } },
      false,
      { ready: true, ownerReferences: [ref('Deployment', 'web', 'same')], relinked: 0, dropped: [] },
    ],
    [
      'a missing owner is dropped',
      [ref('Deployment', 'gone', 'old'), ref('Deployment', 'web', 'old2')],
      { 'Deployment/web': { uid: 'new' } },
      false,
      { ready: true, ownerReferences: [ref('Deployment', 'web', 'new')], relinked: 1, dropped: [ref('Deployment', 'gone', 'old')] },
    ],
    ['a pending owner makes the object wait', [ref('Deployment', 'web', 'old'), ref('Deployment', 'api', 'x')], { 'Deployment/web': 'pending', 'Deployment/api': { uid: 'n' } }, false, { ready: false, waitingFor: [ref('Deployment', 'web', 'old')] }],
    ['a pending owner at the end is dropped', [ref('Deployment', 'web', 'old')], { 'Deployment/web': 'pending' }, true, { ready: true, ownerReferences: [], relinked: 0, dropped: [ref('Deployment', 'web', 'old')] }],
    ['a reference without kind or name is dropped', [{ apiVersion: 'v1', name: 'x', uid: 'u' }], {}, false, { ready: true, ownerReferences: [], relinked: 0, dropped: [{ apiVersion: 'v1', name: 'x', uid: 'u' }] }],
    [
      'two references resolving to one owner keep the first',
      [ref('Deployment', 'web', 'a'), ref('Deployment', 'web', 'b', { apiVersion: 'apps/v1beta2' })],
      { 'Deployment/web': { uid: 'new' } },
      false,
      { ready: true, ownerReferences: [ref('Deployment', 'web', 'new')], relinked: 1, dropped: [] },
    ],
  ];
  for (const [name, references, table, final, expected] of rows) t.same(linkOwnerReferences(references, states(table), final), expected, name);
});

t.test('the lookup is not asked about references that cannot name an owner', async (t) => {
  const asked: string[] = [];
  linkOwnerReferences([{ kind: 'Deployment' }, ref('Deployment', 'web', 'u')], (reference) => {
    asked.push(String(reference.name));
    return 'missing';
  });
  t.same(asked, ['web']);
});

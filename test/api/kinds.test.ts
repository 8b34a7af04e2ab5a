import t from 'tap';
import { apiVersionOf, kindByApiVersion, kindByGroupKind, kinds } from '../../src/api/kinds.js';

t.test('every kind is found by group+kind and by apiVersion+kind', async (t) => {
  t.equal(kinds.length, 14, 'fourteen KubeStash kinds');
  for (const info of kinds) {
    t.equal(kindByGroupKind({ group: info.group, kind: info.kind }), info, `${info.kind} by group+kind`);
    t.equal(kindByApiVersion(apiVersionOf(info), info.kind), info, `${info.kind} by apiVersion+kind`);
  }
});

t.test('lookups miss for other groups, versions and kinds', async (t) => {
  t.equal(kindByGroupKind({ group: 'core.kubestash.com', kind: 'Snapshot' }), undefined, 'kind in another group');
  t.equal(kindByGroupKind({ group: '', kind: 'ConfigMap' }), undefined, 'core group');
  t.equal(kindByApiVersion('storage.kubestash.com/v1', 'Repository'), undefined, 'other version');
  t.equal(kindByApiVersion('v1alpha1', 'Repository'), undefined, 'no group');
  t.equal(apiVersionOf(kindByGroupKind({ group: 'addons.kubestash.com', kind: 'Function' })!), 'addons.kubestash.com/v1alpha1');
});

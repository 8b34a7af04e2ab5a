import t from 'tap';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { createMemoryView } from '../../src/domain/memory-view.js';

const bs = (namespace: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'BackupStorage',
  metadata: { name, namespace },
  spec: extra,
});

t.test('list, get and namespace over given objects', async (t) => {
  const view = createMemoryView([
    bs('a', 'one'),
    bs('b', 'two'),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { x: 'y' } } },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'a' } },
    { kind: 'Repository', metadata: { namespace: 'a' } },
    bs('a', 'one', { default: true }),
  ]);
  t.same(view.list('BackupStorage').map((o) => o.metadata?.name), ['one', 'two'], 'all namespaces, input order, duplicates replaced');
  t.same(view.list('BackupStorage', 'b').map((o) => o.metadata?.name), ['two']);
  t.same(view.list('Repository'), [], 'objects without a name are ignored');
  t.same(view.list('BackupConfiguration'), []);
  t.same(view.get('BackupStorage', 'a', 'one')?.spec, { default: true }, 'the later duplicate wins');
  t.equal(view.get('BackupStorage', 'a', 'two'), undefined);
  t.same(view.namespace('a')?.metadata.labels, { x: 'y' });
  t.equal(view.namespace('b'), undefined, 'a namespace not given is unknown');
});

import t from 'tap';
import { emptyClusterView } from '../../src/domain/cluster-view.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { validateDocuments } from '../../src/validate/validate-documents.js';

const options = { rules: new Map(), scopeOf: () => undefined, createView: () => emptyClusterView };

t.test('a malformed envelope is reported at the field it names, whatever the field holds', async (t) => {
  // What a YAML file may hold, typed or not.
  const object = JSON.parse('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"team: a":7}}}') as KubeObject;
  const [verdict] = validateDocuments([{ source: 'x.yaml', line: 1, object }], options);
  t.match(verdict, { kind: 'ConfigMap', displayName: 'c', checked: true });
  t.same(verdict?.errors.map((error) => [error.path, error.message]), [['metadata.labels["team: a"]', 'must be a string, got a number']], 'a ": " inside a label key stays in the path');
});

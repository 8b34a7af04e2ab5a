import t from 'tap';
import { objectShapeProblem } from '../../src/domain/object-shape.js';

t.test('objectShapeProblem: one row per field and rule', async (t) => {
  const rows: Array<[object: Record<string, unknown>, expected: string | undefined]> = [
    [{}, undefined],
    [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'demo', labels: { a: 'b' }, annotations: {}, finalizers: ['f'], ownerReferences: [{ kind: 'X' }] } }, undefined],
    [{ metadata: { name: null, labels: null, annotations: null, finalizers: null, ownerReferences: null } }, undefined],
    [{ apiVersion: 30 }, 'apiVersion: must be a string, got a number'],
    [{ kind: ['Deployment'] }, 'kind: must be a string, got an array'],
    [{ metadata: 'web' }, 'metadata: must be an object, got a string'],
    [{ metadata: null }, 'metadata: must be an object, got null'],
    [{ metadata: { name: 7 } }, 'metadata.name: must be a string, got a number'],
    [{ metadata: { namespace: {} } }, 'metadata.namespace: must be a string, got an object'],
    [{ metadata: { generateName: true } }, 'metadata.generateName: must be a string, got a boolean'],
    [{ metadata: { uid: 1 } }, 'metadata.uid: must be a string, got a number'],
    [{ metadata: { resourceVersion: 1 } }, 'metadata.resourceVersion: must be a string, got a number'],
    [{ metadata: { creationTimestamp: 0 } }, 'metadata.creationTimestamp: must be a string, got a number'],
    [{ metadata: { deletionTimestamp: [] } }, 'metadata.deletionTimestamp: must be a string, got an array'],
    [{ metadata: { labels: ['a'] } }, 'metadata.labels: must be a map of strings, got an array'],
    [{ metadata: { labels: { app: 1 } } }, 'metadata.labels["app"]: must be a string, got a number'],
    [{ metadata: { annotations: { 'blueprint.kubestash.com/name': { x: 1 } } } }, 'metadata.annotations["blueprint.kubestash.com/name"]: must be a string, got an object'],
    [{ metadata: { finalizers: 'f' } }, 'metadata.finalizers: must be a list of strings'],
    [{ metadata: { finalizers: [1] } }, 'metadata.finalizers: must be a list of strings'],
    [{ metadata: { ownerReferences: {} } }, 'metadata.ownerReferences: must be a list of objects'],
    [{ metadata: { ownerReferences: ['x'] } }, 'metadata.ownerReferences: must be a list of objects'],
  ];
  for (const [object, expected] of rows) t.equal(objectShapeProblem(object), expected, JSON.stringify(object));
});

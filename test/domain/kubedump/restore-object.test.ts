import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { LEGACY_STORAGE_CLASS_ANNOTATION, prepareForCreate, prepareForUpdate } from '../../../src/domain/kubedump/restore-object.js';
import type { PlannedObject } from '../../../src/domain/kubedump/restore-plan.js';

const planned = (namespace: string | undefined, name: string): PlannedObject => ({
  path: 'x',
  directory: 'x',
  type: { group: '', resource: 'x', namespaced: namespace !== undefined },
  ...(namespace !== undefined ? { sourceNamespace: 'demo', namespace } : {}),
  name,
});
const options = { storageClassMappings: { standard: 'fast' }, restoreNamespace: 'restored', sourceNamespaces: ['demo'] };

t.test('prepareForCreate: one row per rule', async (t) => {
  const rows: Array<[string, KubeObject, PlannedObject, typeof options | { storageClassMappings: Record<string, string> }, unknown]> = [
    [
      'server-set metadata and owner references go, namespace as planned',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c', namespace: 'demo', uid: 'u', resourceVersion: '5', creationTimestamp: 'x', generation: 2, managedFields: [], selfLink: '/x', deletionTimestamp: 'y', deletionGracePeriodSeconds: 3, ownerReferences: [{ uid: 'o' }], labels: { a: 'b' } },
        data: { k: 'v' },
      },
      planned('restored', 'c'),
      options,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'restored', labels: { a: 'b' } }, data: { k: 'v' } },
    ],
    [
      'a cluster-scoped object loses a stray namespace; a Namespace takes its planned name',
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo', namespace: 'oops' } },
      planned(undefined, 'restored'),
      options,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'restored' } },
    ],
    [
      'a claim: storage class and legacy annotation mapped',
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', annotations: { [LEGACY_STORAGE_CLASS_ANNOTATION]: 'standard' } }, spec: { storageClassName: 'standard' } },
      planned('demo', 'p'),
      options,
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', namespace: 'demo', annotations: { [LEGACY_STORAGE_CLASS_ANNOTATION]: 'fast' } }, spec: { storageClassName: 'fast' } },
    ],
    [
      'a claim with an unmapped class keeps it',
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', annotations: { [LEGACY_STORAGE_CLASS_ANNOTATION]: 'other' } }, spec: { storageClassName: 'other' } },
      planned('demo', 'p'),
      options,
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', namespace: 'demo', annotations: { [LEGACY_STORAGE_CLASS_ANNOTATION]: 'other' } }, spec: { storageClassName: 'other' } },
    ],
    [
      'a volume: class mapped, claimRef reduced and moved to restoreNamespace',
      { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { storageClassName: 'standard', claimRef: { kind: 'PersistentVolumeClaim', namespace: 'demo', name: 'p', uid: 'old', resourceVersion: '3' } } },
      planned(undefined, 'pv'),
      options,
      { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { storageClassName: 'fast', claimRef: { kind: 'PersistentVolumeClaim', namespace: 'restored', name: 'p' } } },
    ],
    [
      'a volume claimed from a namespace not restored keeps that namespace',
      { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { claimRef: { namespace: 'elsewhere', name: 'p' } } },
      planned(undefined, 'pv'),
      options,
      { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { claimRef: { namespace: 'elsewhere', name: 'p' } } },
    ],
    [
      'a StatefulSet: claim template classes mapped',
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { volumeClaimTemplates: [{ spec: { storageClassName: 'standard' } }, { spec: {} }, 'junk'] } },
      planned('demo', 's'),
      options,
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's', namespace: 'demo' }, spec: { volumeClaimTemplates: [{ spec: { storageClassName: 'fast' } }, { spec: {} }, 'junk'] } },
    ],
    [
      'a Service loses its allocated cluster IPs',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.0.0.7', clusterIPs: ['10.0.0.7'], ports: [{ port: 80 }] } },
      planned('demo', 'web'),
      options,
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { ports: [{ port: 80 }] } },
    ],
    [
      'a headless Service stays headless',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } },
      planned('demo', 'web'),
      options,
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'demo' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } },
    ],
    [
      'RoleBinding subjects of a dumped namespace follow restoreNamespace',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'rb' },
        subjects: [{ kind: 'ServiceAccount', name: 'a', namespace: 'demo' }, { kind: 'ServiceAccount', name: 'b', namespace: 'kube-system' }, { kind: 'Group', name: 'g' }],
      },
      planned('restored', 'rb'),
      options,
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'rb', namespace: 'restored' },
        subjects: [{ kind: 'ServiceAccount', name: 'a', namespace: 'restored' }, { kind: 'ServiceAccount', name: 'b', namespace: 'kube-system' }, { kind: 'Group', name: 'g' }],
      },
    ],
    [
      'without restoreNamespace subjects stay',
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'crb' }, subjects: [{ kind: 'ServiceAccount', name: 'a', namespace: 'demo' }] },
      planned(undefined, 'crb'),
      { storageClassMappings: {} },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'crb' }, subjects: [{ kind: 'ServiceAccount', name: 'a', namespace: 'demo' }] },
    ],
    [
      'a same-named kind of another group is left alone',
      { apiVersion: 'example.com/v1', kind: 'Service', metadata: { name: 'x' }, spec: { clusterIP: '1.2.3.4' } },
      planned('demo', 'x'),
      options,
      { apiVersion: 'example.com/v1', kind: 'Service', metadata: { name: 'x', namespace: 'demo' }, spec: { clusterIP: '1.2.3.4' } },
    ],
    [
      "a Job loses its generated selector and uid labels (the API server refuses another Job's uid)",
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'j' },
        spec: {
          selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'old', 'controller-uid': 'old' } },
          template: { metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'old', 'controller-uid': 'old', 'job-name': 'j', app: 'a' } }, spec: { restartPolicy: 'Never' } },
        },
      },
      planned('demo', 'j'),
      options,
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'demo' }, spec: { template: { metadata: { labels: { 'job-name': 'j', app: 'a' } }, spec: { restartPolicy: 'Never' } } } },
    ],
    [
      'a Job selector with more than the uid keeps the rest',
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { selector: { matchLabels: { 'controller-uid': 'old' }, matchExpressions: [{ key: 'a', operator: 'Exists' }] }, template: {} } },
      planned('demo', 'j'),
      options,
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'demo' }, spec: { selector: { matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'Exists' }] }, template: {} } },
    ],
    [
      'a Job with manualSelector keeps its selector',
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { manualSelector: true, selector: { matchLabels: { 'controller-uid': 'mine' } }, template: { metadata: { labels: { 'controller-uid': 'mine' } } } } },
      planned('demo', 'j'),
      options,
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'demo' }, spec: { manualSelector: true, selector: { matchLabels: { 'controller-uid': 'mine' } }, template: { metadata: { labels: { 'controller-uid': 'mine' } } } } },
    ],
    ['an object without metadata gets some', { apiVersion: 'v1', kind: 'ConfigMap' }, planned('demo', 'c'), options, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'demo' } }],
  ];
  for (const [name, object, plan, prepareOptions, expected] of rows) {
    const before = structuredClone(object);
    t.same(prepareForCreate(object, plan, prepareOptions), expected, name);
    t.same(object, before, `${name}: the input is not changed`);
  }
});

t.test('prepareForUpdate: one row per rule', async (t) => {
  const rows: Array<[string, KubeObject, KubeObject, unknown]> = [
    [
      'the live resourceVersion',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'demo' }, data: { k: 'new' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'demo', resourceVersion: '42' }, data: { k: 'old' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'demo', resourceVersion: '42' }, data: { k: 'new' } },
    ],
    [
      "a claim keeps the volume it is bound to",
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p' }, spec: { storageClassName: 'fast' } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', resourceVersion: '1' }, spec: { storageClassName: 'fast', volumeName: 'pv-1' } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p', resourceVersion: '1' }, spec: { storageClassName: 'fast', volumeName: 'pv-1' } },
    ],
    [
      'a Service keeps its cluster IPs',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', resourceVersion: '1' }, spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], ports: [] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', resourceVersion: '1' }, spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], ports: [] } },
    ],
    [
      'a value the dump gives wins',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: 'None' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: '10.0.0.1' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: 'None' } },
    ],
    [
      'other kinds keep nothing else of the live object',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: {}, spec: { replicas: 1 } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { resourceVersion: '9' }, spec: { replicas: 3, paused: true } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { resourceVersion: '9' }, spec: { replicas: 1 } },
    ],
    [
      'a Job keeps the live generated selector and uid labels (immutable)',
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { metadata: { labels: { 'job-name': 'j' } } } } },
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'j', resourceVersion: '4' },
        spec: { selector: { matchLabels: { 'controller-uid': 'live' } }, template: { metadata: { labels: { 'controller-uid': 'live', 'batch.kubernetes.io/controller-uid': 'live', 'job-name': 'j' } } } },
      },
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'j', resourceVersion: '4' },
        spec: { selector: { matchLabels: { 'controller-uid': 'live' } }, template: { metadata: { labels: { 'job-name': 'j', 'controller-uid': 'live', 'batch.kubernetes.io/controller-uid': 'live' } } } },
      },
    ],
    [
      'a Job template without metadata gets the live uid labels',
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: {} } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { metadata: { labels: { 'controller-uid': 'live' } } } } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { metadata: { labels: { 'controller-uid': 'live' } } } } },
    ],
    ['no spec on either side', { apiVersion: 'v1', kind: 'Secret' }, { apiVersion: 'v1', kind: 'Secret', metadata: {} }, { apiVersion: 'v1', kind: 'Secret', metadata: {} }],
  ];
  for (const [name, desired, live, expected] of rows) t.same(prepareForUpdate(desired, live), expected, name);
});

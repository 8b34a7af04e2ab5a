import t from 'tap';
import type { DumpResourceType } from '../../../src/domain/kubedump/layout.js';
import { SANITIZED_ANNOTATIONS, SANITIZED_METADATA_FIELDS, sanitizeForDump } from '../../../src/domain/kubedump/sanitize.js';

const type = (group: string, resource: string, kind: string, version = 'v1'): DumpResourceType => ({ group, version, resource, kind, namespaced: true });
const pods = type('', 'pods', 'Pod');
const claims = type('', 'persistentvolumeclaims', 'PersistentVolumeClaim');
const deployments = type('apps', 'deployments', 'Deployment');

const serverMetadata = {
  name: 'a',
  namespace: 'demo',
  labels: { app: 'a' },
  creationTimestamp: '2026-01-01T00:00:00Z',
  resourceVersion: '12',
  uid: 'u-1',
  generateName: 'a-',
  generation: 3,
  managedFields: [{ manager: 'kubectl' }],
  ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u-0' }],
};

t.test('metadata: one row per dropped field, the rest kept', async (t) => {
  const out = sanitizeForDump(deployments, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...serverMetadata } });
  for (const field of SANITIZED_METADATA_FIELDS) t.notOk(field in (out.metadata ?? {}), `metadata.${field} dropped`);
  t.same(out.metadata, { name: 'a', namespace: 'demo', labels: { app: 'a' }, ownerReferences: serverMetadata.ownerReferences }, 'name, namespace, labels and ownerReferences kept');
});

t.test('annotations: one row per dropped key, others kept, an emptied map dropped', async (t) => {
  for (const key of SANITIZED_ANNOTATIONS) {
    const out = sanitizeForDump(deployments, { metadata: { name: 'a', annotations: { [key]: 'x', keep: 'y' } } });
    t.same(out.metadata?.annotations, { keep: 'y' }, `${key} dropped`);
  }
  const emptied = sanitizeForDump(deployments, { metadata: { name: 'a', annotations: { 'deployment.kubernetes.io/revision': '4' } } });
  t.notOk('annotations' in (emptied.metadata ?? {}), 'an annotation map left empty is dropped');
});

t.test('pods: the scheduler- and server-set fields', async (t) => {
  const pod = {
    metadata: { name: 'p' },
    spec: {
      dnsPolicy: 'ClusterFirst',
      nodeName: 'node-1',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'c', image: 'i', terminationMessagePath: '/dev/termination-log' }, 'not-an-object'],
      initContainers: [{ name: 'i', image: 'i', terminationMessagePath: '/dev/termination-log' }],
    },
    status: { phase: 'Running' },
  };
  const out = sanitizeForDump(pods, pod);
  t.same(out.spec, { containers: [{ name: 'c', image: 'i' }, 'not-an-object'], initContainers: [{ name: 'i', image: 'i' }] }, 'cleared');
  t.same(out.status, { phase: 'Running' }, 'pods keep status');
  const named = sanitizeForDump(pods, { metadata: { name: 'p' }, spec: { serviceAccountName: 'builder' } });
  t.same(named.spec, { serviceAccountName: 'builder' }, 'a service account other than default is kept');
  t.same(sanitizeForDump(pods, { metadata: { name: 'p' } }).spec, undefined, 'a pod without spec stays without');
});

t.test('workload templates are kept as they are', async (t) => {
  const template = { spec: { dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, containers: [{ name: 'c', terminationMessagePath: '/dev/termination-log' }] } };
  const out = sanitizeForDump(deployments, { metadata: { name: 'd' }, spec: { template }, status: { replicas: 1 } });
  t.same((out.spec as { template: unknown }).template, template);
  t.same(out.status, { replicas: 1 }, 'other kinds keep status');
});

t.test('claims: no volumeName and no status', async (t) => {
  const out = sanitizeForDump(claims, { metadata: { name: 'c', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }, spec: { volumeName: 'pv-1', resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Bound' } });
  t.same(out, { metadata: { name: 'c' }, spec: { resources: { requests: { storage: '1Gi' } } }, apiVersion: 'v1', kind: 'PersistentVolumeClaim' });
  t.notOk('status' in sanitizeForDump(claims, { metadata: { name: 'c' }, status: {} }), 'a claim without spec loses status too');
});

t.test('apiVersion and kind come from the type when missing; the input is not changed', async (t) => {
  const input = { metadata: { ...serverMetadata } };
  const out = sanitizeForDump(type('example.com', 'widgets', 'Widget', 'v2'), input);
  t.equal(out.apiVersion, 'example.com/v2');
  t.equal(out.kind, 'Widget');
  t.equal(sanitizeForDump(type('', 'configmaps', 'ConfigMap'), {}).apiVersion, 'v1', 'core group');
  t.equal(sanitizeForDump(deployments, { apiVersion: 'apps/v1beta9', kind: 'X' }).apiVersion, 'apps/v1beta9', 'given apiVersion kept');
  t.equal(input.metadata.uid, 'u-1', 'input untouched');
  t.notOk('metadata' in sanitizeForDump(deployments, {}), 'no metadata stays none');
});

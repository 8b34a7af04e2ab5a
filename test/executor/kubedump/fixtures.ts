/**
 * The objects the kubedump executor tests dump: a namespace `shop` with a Deployment (and a ReplicaSet and Pod
 * it owns), what its pod template names (ConfigMap, Secret, claim, ServiceAccount), a Service selecting it,
 * unrelated objects, a custom resource, and a second namespace; plus a labelled ClusterRole.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import type { KubeClient } from '../../../src/kube/client.js';
import { widgetCrd } from '../../helpers/widget-crd.js';

export const SHOP = 'shop';
export const OTHER = 'other';
export const SECRET_VALUE = 'kubedump-secret-value-9f3a-never-logged';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Every file under `dir`, as sorted relative POSIX paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}


/** Creates the fixture objects (the CRD first, and waits until its kind is served). */
export async function createShop(client: KubeClient): Promise<void> {
  await client.create(widgetCrd);
  for (const name of [SHOP, OTHER]) await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { tier: 'front' } } });
  const deployment = await client.create<KubeObject>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: SHOP, labels: { app: 'web', tier: 'front' }, annotations: { 'deployment.kubernetes.io/revision': '3', note: 'kept' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          serviceAccountName: 'web-sa',
          containers: [{ name: 'app', image: 'busybox', env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'web-secret', key: 'token' } } }], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'web-data' } }, { name: 'config', configMap: { name: 'web-config' } }],
        },
      },
    },
  });
  const owner = (o: KubeObject) => [{ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata?.name, uid: o.metadata?.uid, controller: true }];
  const replicaSet = await client.create<KubeObject>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-5d9c', namespace: SHOP, labels: { app: 'web' }, ownerReferences: owner(deployment) },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'busybox' }] } } },
  });
  await client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-5d9c-x1', namespace: SHOP, labels: { app: 'web' }, ownerReferences: owner(replicaSet) }, spec: { containers: [{ name: 'app', image: 'busybox' }] } });
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: SHOP, labels: { tier: 'front' } }, data: { 'app.conf': 'port=80' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: SHOP, labels: { tier: 'back' } }, data: { a: 'b' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web-secret', namespace: SHOP }, data: { token: b64(SECRET_VALUE) } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated-secret', namespace: SHOP }, data: { x: b64('y') } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web-sa', namespace: SHOP } },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'web-data', namespace: SHOP }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'other-data', namespace: SHOP }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: SHOP, labels: { tier: 'front' } }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: SHOP }, spec: { selector: { app: 'db' }, ports: [{ port: 5432 }] } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'elsewhere', namespace: OTHER, labels: { tier: 'front', app: 'web' } }, data: { a: 'b' } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'shop-reader', labels: { tier: 'front' } }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] },
  ];
  for (const object of objects) await client.create(object);
  for (let attempt = 0; ; attempt++) {
    try {
      await client.create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: SHOP, labels: { tier: 'front' } }, spec: { size: 3 } });
      break;
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * KubeDump end to end on the embedded control plane with the real executor and restic: a namespace with
 * Deployments, Services, ConfigMaps, Secrets, a PVC and custom resources (some owned by a Deployment) is backed
 * up by a kubedump-addon/manifest-backup BackupConfiguration, deleted, and restored by a manifest-restore
 * RestoreSession: every object is back with the same sanitized content, owner references point at the new
 * owners, and the RestoreSession reports per-object results; a second restore skips everything, a third with
 * OverrideResources updates everything.
 */
import t, { type Test } from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { sanitizeForDump } from '../../../src/domain/kubedump/sanitize.js';
import type { DumpResourceType } from '../../../src/domain/kubedump/layout.js';
import { builtCliMissing } from '../../helpers/control-plane.js';
import { eventually } from '../../helpers/eventually.js';
import { commonObjects, LONG, namespaceObject, resticMissing, startHarness, triggerAndWait, waitPhase, type Harness, type Phased } from '../../helpers/story-harness.js';
import { widgetCrd } from '../../helpers/widget-crd.js';

const BACKUPS = 'backups';
const APP = 'shop';

const types: DumpResourceType[] = [
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true },
];


const deploymentOf = (name: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: APP, labels: { app: name } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'busybox', args: ['sleep', '3600'] }] } },
  },
});

const ownedBy = (owner: KubeObject) => [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata?.name, uid: owner.metadata?.uid }];

/** `kind/name` → ownerReferences as uids of `kind/name` owners, and the sanitized object without its owner references. */
async function snapshotOfApp(h: Harness): Promise<{ objects: Map<string, unknown>; owners: Map<string, string[]>; uids: Map<string, string> }> {
  const objects = new Map<string, unknown>();
  const owners = new Map<string, string[]>();
  const uids = new Map<string, string>();
  for (const type of types) {
    const list = await h.client.list({ apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`, kind: type.kind }, { namespace: APP });
    for (const item of list.items) {
      const key = `${type.kind}/${item.metadata?.name}`;
      uids.set(key, item.metadata?.uid ?? '');
      owners.set(key, ((item.metadata?.ownerReferences ?? []) as Array<{ uid?: string }>).map((ref) => String(ref.uid)));
      const sanitized = sanitizeForDump(type, item);
      delete sanitized.metadata?.ownerReferences;
      // The API server allocates a Service's cluster IP; a restored Service gets a new one.
      const spec = sanitized.spec as { clusterIP?: unknown; clusterIPs?: unknown } | undefined;
      if (type.kind === 'Service' && spec !== undefined) {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      }
      objects.set(key, sanitized);
    }
  }
  return { objects, owners, uids };
}

type ManifestStatus = { total?: number; created?: number; updated?: number; skipped?: number; failed?: number; excluded?: number; resources?: Array<{ kind: string; name: string; result: string; reason?: string }>; unlisted?: number };
type RestoreStatus = Phased & { status?: { phase?: string; manifestRestore?: ManifestStatus; components?: Record<string, { phase?: string; error?: string }> } };

const manifestRestore = (name: string, params?: Record<string, string>): KubeObject => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'RestoreSession',
  metadata: { name, namespace: BACKUPS },
  spec: {
    dataSource: { repository: 'shop-manifests', snapshot: 'latest', encryptionSecret: { name: 'encrypt-secret', namespace: BACKUPS } },
    addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore', ...(params ? { params } : {}) }] },
  },
});

async function restoreAndWait(t: Test, h: Harness, name: string, params?: Record<string, string>): Promise<RestoreStatus> {
  await h.apply([manifestRestore(name, params)]);
  const restore = (await waitPhase(h, 'core.kubestash.com/v1alpha1', 'RestoreSession', BACKUPS, name, ['Succeeded', 'Failed', 'Invalid'])) as RestoreStatus;
  t.equal(restore.status?.phase, 'Succeeded', JSON.stringify(restore.status));
  t.equal(restore.status?.components?.manifest?.phase, 'Succeeded', 'one manifest component');
  return restore;
}



t.test('kubedump: back up a namespace, delete it, restore it', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) {
    t.comment(missing);
    return;
  }
  const h = await startHarness(t);
  await h.apply(commonObjects(BACKUPS, h.backendDir));
  await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'BackupStorage', BACKUPS, 'local-storage', ['Ready']);

  // The application: two Deployments, a Service, ConfigMaps and a Secret (one ConfigMap owned by a Deployment), a PVC, custom resources.
  await h.apply([widgetCrd, namespaceObject(APP)]);
  const web = await h.client.create(deploymentOf('web'));
  const api = await h.client.create(deploymentOf('api'));
  await h.apply([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: APP, ownerReferences: ownedBy(web) }, data: { 'app.conf': 'port=8080' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: APP, labels: { tier: 'front' } }, data: { mode: 'production' } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: APP }, type: 'Opaque', data: { password: Buffer.from('s3cr3t-kubedump').toString('base64') } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: APP }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: APP }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
  ]);
  await eventually('widgets are served', async () => {
    try {
      await h.client.create({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'gadget', namespace: APP, ownerReferences: ownedBy(api) }, spec: { size: 3, colour: 'blue' } });
      return true;
    } catch {
      return false;
    }
  }, LONG);
  await h.apply([{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'plain', namespace: APP }, spec: { size: 1 } }]);
  await h.claimDir(APP, 'data');
  const before = await snapshotOfApp(h);
  t.ok(before.objects.size >= 8, 'eight objects of the application');

  await h.apply([
    {
      apiVersion: 'core.kubestash.com/v1alpha1',
      kind: 'BackupConfiguration',
      metadata: { name: 'shop-manifests', namespace: BACKUPS },
      spec: {
        target: { apiGroup: '', kind: 'Namespace', name: APP },
        backends: [{ name: 'local-backend', storageRef: { name: 'local-storage', namespace: BACKUPS }, retentionPolicy: { name: 'keep-three', namespace: BACKUPS } }],
        sessions: [
          {
            name: 'nightly',
            scheduler: { schedule: '0 2 * * *', jobTemplate: { backoffLimit: 0 } },
            repositories: [{ name: 'shop-manifests', backend: 'local-backend', directory: '/manifests/shop', encryptionSecret: { name: 'encrypt-secret', namespace: BACKUPS } }],
            addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-backup' }] },
          },
        ],
      },
    },
  ]);
  await waitPhase(h, 'storage.kubestash.com/v1alpha1', 'Repository', BACKUPS, 'shop-manifests', ['Ready']);
  const { session, snapshots } = await triggerAndWait(t, h, BACKUPS, 'shop-manifests');
  t.equal(session.status?.phase, 'Succeeded', JSON.stringify(session.status));
  t.equal(snapshots[0]?.status?.phase, 'Succeeded', 'the Snapshot Succeeded');
  t.match(snapshots[0]?.status, { components: { manifest: { phase: 'Succeeded' } } }, 'with one manifest component');

  await h.client.delete({ apiVersion: 'v1', kind: 'Namespace', name: APP });
  await eventually('the namespace is gone', async () => (await h.get('v1', 'Namespace', '', APP)) === undefined, LONG);

  const first = await restoreAndWait(t, h, 'restore-shop');
  const after = await snapshotOfApp(h);
  t.same([...after.objects.keys()].sort(), [...before.objects.keys()].sort(), 'every object is back');
  for (const [key, object] of before.objects) t.same(after.objects.get(key), object, `${key}: same sanitized content`);
  t.not(after.uids.get('Deployment/web'), before.uids.get('Deployment/web'), 'the owner was recreated with a new uid');
  t.same(after.owners.get('ConfigMap/web-config'), [after.uids.get('Deployment/web')], 'the owned ConfigMap points at the new Deployment');
  t.same(after.owners.get('Widget/gadget'), [after.uids.get('Deployment/api')], 'the owned custom resource points at the new Deployment');
  const results = first.status?.manifestRestore;
  t.match(results, { failed: 0, updated: 0, skipped: 0 }, 'nothing failed, nothing existed');
  t.equal(results?.created, results?.total, 'everything was created');
  t.ok((results?.total ?? 0) >= 9, `the Namespace and the eight objects at least (${results?.total})`);
  const events = await h.client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: BACKUPS });
  t.ok(
    events.items.some((e) => (e as { reason?: string; involvedObject?: { name?: string } }).reason === 'ManifestRestored' && (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'restore-shop'),
    'a summary Event on the RestoreSession',
  );

  const again = await restoreAndWait(t, h, 'restore-shop-again');
  const skipped = again.status?.manifestRestore;
  t.match(skipped, { created: 0, updated: 0, failed: 0 }, 'a second restore creates nothing');
  t.equal(skipped?.skipped, results?.total, 'and skips every object');
  t.ok(skipped?.resources?.every((r) => r.result === 'Skipped' && r.reason === 'exists'), 'each listed as skipped: exists');
  t.ok(await h.get('v1', 'ConfigMap', APP, 'web-config'), 'the owned ConfigMap was not garbage collected');

  await h.client.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: APP, name: 'settings' }, { type: 'merge', patch: { data: { mode: 'changed by hand' } } });
  const override = await restoreAndWait(t, h, 'restore-shop-override', { OverrideResources: 'true' });
  t.match(override.status?.manifestRestore, { created: 0, skipped: 0, failed: 0, updated: results?.total }, 'OverrideResources updates every object');
  t.same((await h.get<KubeObject & { data?: unknown }>('v1', 'ConfigMap', APP, 'settings'))?.data, { mode: 'production' }, 'the hand-made change is overridden');
  const final = await snapshotOfApp(h);
  for (const [key, object] of before.objects) t.same(final.objects.get(key), object, `${key}: still the backed-up content`);
  t.same(final.owners.get('ConfigMap/web-config'), [final.uids.get('Deployment/web')], 'owner references still point at the live owner');
});

import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { ApiError, type EmbeddedApi, type GroupVersionResource } from '../../../src/embedded/api-types.js';
import { startControllers } from '../../../src/embedded/controllers/start-controllers.js';
import { removeVolumeDirectory } from '../../../src/embedded/controllers/volume-directories.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const NODES: GroupVersionResource = { group: '', version: 'v1', resource: 'nodes' };
const LEASES: GroupVersionResource = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const PVS: GroupVersionResource = { group: '', version: 'v1', resource: 'persistentvolumes' };
const PVCS: GroupVersionResource = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const STATEFUL_SETS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'statefulsets' };

async function plane(t: Test, nodeName?: string): Promise<{ api: EmbeddedApi; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'autostash-controllers-'));
  const api = createEmbeddedApi();
  const controllers = startControllers({ api, dataDir, logger: pino({ level: 'silent' }), resyncMs: 1000, nodeHeartbeatMs: 50, ...(nodeName ? { nodeName } : {}) });
  await controllers.ready;
  t.teardown(async () => {
    await controllers.stop();
    await api.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return { api, dataDir };
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((error: unknown) => {
      if (error instanceof ApiError && error.code === 404) return undefined;
      throw error;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const phase = (object: KubeObject): string | undefined => (object.status as { phase?: string } | undefined)?.phase;

const claim = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, ...extra },
});

t.test('one Ready Node with this machine as capacity, its Lease, and heartbeats', async (t) => {
  const { api } = await plane(t);
  const node = await api.get(NODES, undefined, 'autostash-node');
  const status = node.status as { conditions: Array<{ type: string; status: string; lastHeartbeatTime: string }>; capacity: Record<string, string>; addresses: Array<{ type: string; address: string }>; nodeInfo: Record<string, string> };
  t.equal(status.conditions.find((condition) => condition.type === 'Ready')?.status, 'True');
  t.equal(status.capacity.cpu, String(cpus().length));
  t.match(status.capacity.memory, /^\d+Ki$/);
  t.same(status.addresses[0], { type: 'InternalIP', address: '127.0.0.1' });
  t.ok(status.nodeInfo.kubeletVersion);
  const lease = await api.get(LEASES, 'kube-node-lease', 'autostash-node');
  t.equal((lease.spec as { holderIdentity?: string }).holderIdentity, 'autostash-node');
  const firstRenew = (lease.spec as { renewTime?: string }).renewTime;
  await eventually(async () => {
    const renewed = await api.get(LEASES, 'kube-node-lease', 'autostash-node');
    return (renewed.spec as { renewTime?: string }).renewTime !== firstRenew ? true : undefined;
  }, 'the lease to be renewed');
  t.equal((await api.list(NODES)).items.length, 1, 'exactly one node');
});

t.test('the node name can be chosen', async (t) => {
  const { api } = await plane(t, 'laptop');
  t.ok(await api.get(NODES, undefined, 'laptop'));
});

t.test('a claim gets a provisioned hostPath volume, both Bound; deleting the claim deletes volume and directory', async (t) => {
  const { api, dataDir } = await plane(t);
  const created = await api.create(PVCS, 'default', claim('data'));
  const bound = await eventually(async () => {
    const current = await api.get(PVCS, 'default', 'data');
    return phase(current) === 'Bound' ? current : undefined;
  }, 'the claim to be bound');
  const volumeName = (bound.spec as { volumeName?: string }).volumeName ?? '';
  t.equal(volumeName, `pvc-${created.metadata?.uid ?? ''}`);
  t.same((bound.status as { capacity?: unknown }).capacity, { storage: '2Gi' });
  t.same((bound.status as { accessModes?: unknown }).accessModes, ['ReadWriteOnce']);
  t.equal((bound.spec as { storageClassName?: string }).storageClassName, 'standard', 'the default class is recorded');

  const volume = await api.get(PVS, undefined, volumeName);
  const spec = volume.spec as { hostPath: { path: string }; persistentVolumeReclaimPolicy: string; claimRef: { name: string; uid: string }; storageClassName: string; capacity: { storage: string } };
  t.equal(phase(volume), 'Bound');
  t.equal(spec.hostPath.path, join(dataDir, 'volumes', volumeName));
  t.equal(spec.persistentVolumeReclaimPolicy, 'Delete');
  t.equal(spec.claimRef.uid, created.metadata?.uid);
  t.equal(spec.storageClassName, 'standard');
  t.equal(spec.capacity.storage, '2Gi');
  t.ok((await stat(spec.hostPath.path)).isDirectory(), 'the directory exists');
  await writeFile(join(spec.hostPath.path, 'file'), 'data');

  await api.delete(PVCS, 'default', 'data');
  await eventually(async () => {
    try {
      await api.get(PVS, undefined, volumeName);
      return undefined;
    } catch (error) {
      return error instanceof ApiError && error.code === 404 ? true : undefined;
    }
  }, 'the volume to be deleted');
  await t.rejects(stat(spec.hostPath.path), 'the directory is removed');
});

t.test('static binding through spec.volumeName; Retain volumes become Released', async (t) => {
  const { api, dataDir } = await plane(t);
  const path = join(dataDir, 'static-volume');
  await mkdir(path);
  await api.create(PVS, undefined, {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'static' },
    spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany'], hostPath: { path }, persistentVolumeReclaimPolicy: 'Retain', storageClassName: '' },
  });
  await eventually(async () => (phase(await api.get(PVS, undefined, 'static')) === 'Available' ? true : undefined), 'the volume to be Available');
  const created = await api.create(PVCS, 'default', claim('wants-static', { volumeName: 'static', storageClassName: '' }));
  const bound = await eventually(async () => {
    const current = await api.get(PVCS, 'default', 'wants-static');
    return phase(current) === 'Bound' ? current : undefined;
  }, 'the claim to bind to the static volume');
  t.same((bound.status as { capacity?: unknown }).capacity, { storage: '5Gi' }, 'capacity is the volume’s');
  const volume = await api.get(PVS, undefined, 'static');
  t.equal(phase(volume), 'Bound');
  t.equal((volume.spec as { claimRef: { uid: string } }).claimRef.uid, created.metadata?.uid);
  t.equal((await api.list(PVS)).items.length, 1, 'nothing was provisioned');

  await api.create(PVCS, 'default', claim('latecomer', { volumeName: 'static' }));
  await api.delete(PVCS, 'default', 'wants-static');
  await eventually(async () => (phase(await api.get(PVS, undefined, 'static')) === 'Released' ? true : undefined), 'the Retain volume to be Released');
  t.ok((await stat(path)).isDirectory(), 'a retained volume keeps its data');
  t.equal(phase(await api.get(PVCS, 'default', 'latecomer')), 'Pending', 'a Released volume does not bind another claim');
});

t.test('a StatefulSet with two replicas gets two bound claims per template', async (t) => {
  const { api } = await plane(t);
  await api.create(STATEFUL_SETS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db' },
    spec: {
      replicas: 2,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres' }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  for (const name of ['data-db-0', 'data-db-1']) {
    const bound = await eventually(async () => {
      const current = await api.get(PVCS, 'default', name);
      return phase(current) === 'Bound' ? current : undefined;
    }, `${name} to be bound`);
    t.same(bound.metadata?.labels, { app: 'db' }, `${name} carries the selector labels`);
    t.notOk(bound.metadata?.ownerReferences, `${name} is retained (no owner) by default`);
  }
  t.equal((await api.list(PVCS, { namespace: 'default' })).items.length, 2);
});

t.test('StatefulSet retention policy Delete: claims owned by the set, scaled-down claims deleted', async (t) => {
  const { api } = await plane(t);
  const set = await api.create(STATEFUL_SETS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'cache' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'cache' } },
      template: { metadata: { labels: { app: 'cache' } }, spec: { containers: [{ name: 'c', image: 'redis' }] } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  const second = await eventually(() => api.get(PVCS, 'default', 'data-cache-1'), 'the second claim');
  t.equal(second.metadata?.ownerReferences?.[0]?.uid, set.metadata?.uid);
  await api.patch(STATEFUL_SETS, 'default', 'cache', 'merge', { spec: { replicas: 1 } });
  await eventually(async () => {
    try {
      await api.get(PVCS, 'default', 'data-cache-1');
      return undefined;
    } catch (error) {
      return error instanceof ApiError && error.code === 404 ? true : undefined;
    }
  }, 'the scaled-down claim to be deleted');
  t.ok(await api.get(PVCS, 'default', 'data-cache-0'), 'the remaining replica keeps its claim');
});

t.test('volume directories are only removed under <dataDir>/volumes', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'autostash-volume-dirs-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  await mkdir(join(dataDir, 'volumes', 'pvc-ok'), { recursive: true });
  await mkdir(join(dataDir, 'elsewhere', 'pvc-x'), { recursive: true });
  await mkdir(join(dataDir, 'volumes', 'not-a-pvc'), { recursive: true });
  await writeFile(join(dataDir, 'volumes', 'pvc-file'), 'x');
  t.equal(await removeVolumeDirectory(dataDir, join(dataDir, 'volumes', 'pvc-ok')), true);
  await t.rejects(stat(join(dataDir, 'volumes', 'pvc-ok')));
  t.equal(await removeVolumeDirectory(dataDir, join(dataDir, 'volumes', 'pvc-ok')), true, 'already gone counts as removed');
  t.equal(await removeVolumeDirectory(dataDir, join(dataDir, 'elsewhere', 'pvc-x')), false);
  t.equal(await removeVolumeDirectory(dataDir, join(dataDir, 'volumes', 'pvc-ok', '..', '..', 'elsewhere', 'pvc-x')), false);
  t.equal(await removeVolumeDirectory(dataDir, join(dataDir, 'volumes', 'not-a-pvc')), false);
  t.equal(await removeVolumeDirectory(dataDir, join(dataDir, 'volumes', 'pvc-file')), false, 'not a directory');
  t.equal(await removeVolumeDirectory(join(dataDir, 'missing'), join(dataDir, 'missing', 'volumes', 'pvc-a')), false, 'no volumes root');
  t.ok((await stat(join(dataDir, 'elsewhere', 'pvc-x'))).isDirectory());
});

const boundClaim = (api: EmbeddedApi, name: string): Promise<KubeObject> =>
  eventually(async () => {
    const current = await api.get(PVCS, 'default', name);
    return phase(current) === 'Bound' ? current : undefined;
  }, `${name} to be bound`);

t.test('provisioning: an empty class is static-only, a named class is recorded, missing fields get the kube defaults', async (t) => {
  const { api } = await plane(t);
  await api.create(PVCS, 'default', claim('static-only', { storageClassName: '' }));
  await api.create(PVCS, 'default', claim('fast', { storageClassName: 'fast' }));
  await api.create(PVCS, 'default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'bare' }, spec: {} });

  const fast = await boundClaim(api, 'fast');
  t.equal((fast.spec as { storageClassName?: string }).storageClassName, 'fast', 'the requested class is kept');
  const fastVolume = await api.get(PVS, undefined, (fast.spec as { volumeName: string }).volumeName);
  t.equal((fastVolume.spec as { storageClassName?: string }).storageClassName, 'fast');

  const bare = await boundClaim(api, 'bare');
  const bareVolume = await api.get(PVS, undefined, (bare.spec as { volumeName: string }).volumeName);
  const spec = bareVolume.spec as { capacity: { storage: string }; accessModes: string[]; volumeMode: string; storageClassName: string };
  t.same(spec.capacity, { storage: '1Gi' });
  t.same(spec.accessModes, ['ReadWriteOnce']);
  t.equal(spec.volumeMode, 'Filesystem');
  t.equal(spec.storageClassName, 'standard');

  const staticOnly = await api.get(PVCS, 'default', 'static-only');
  t.equal(phase(staticOnly), 'Pending', 'storageClassName "" is never provisioned');
  t.notOk((staticOnly.spec as { volumeName?: string }).volumeName);
  t.equal((await api.list(PVS)).items.length, 2, 'only the two provisionable claims got volumes');
});

t.test('static binding: a claim waits for its named volume, and never takes one reserved for another claim', async (t) => {
  const { api, dataDir } = await plane(t);
  const created = await api.create(PVCS, 'default', claim('early', { volumeName: 'later', storageClassName: '' }));
  await api.create(PVCS, 'default', claim('thief', { volumeName: 'later', storageClassName: '' }));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(phase(await api.get(PVCS, 'default', 'early')), 'Pending', 'no volume yet');

  const path = join(dataDir, 'later');
  await mkdir(path);
  await api.create(PVS, undefined, {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'later' },
    spec: { capacity: { storage: '3Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path }, persistentVolumeReclaimPolicy: 'Retain', storageClassName: '', claimRef: { namespace: 'default', name: 'early' } },
  });
  const bound = await boundClaim(api, 'early');
  t.same((bound.status as { capacity?: unknown }).capacity, { storage: '3Gi' });
  const volume = await api.get(PVS, undefined, 'later');
  t.equal((volume.spec as { claimRef: { uid?: string } }).claimRef.uid, created.metadata?.uid, 'the pre-bound claimRef gets the claim’s uid');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(phase(await api.get(PVCS, 'default', 'thief')), 'Pending', 'the other claim naming the volume stays Pending');
});

t.test('a Delete volume outside <dataDir>/volumes is deleted with its claim but its directory is left', async (t) => {
  const { api, dataDir } = await plane(t);
  const path = join(dataDir, 'outside');
  await mkdir(path);
  await writeFile(join(path, 'keep'), 'x');
  await api.create(PVS, undefined, {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'outside' },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path }, persistentVolumeReclaimPolicy: 'Delete', storageClassName: '' },
  });
  await api.create(PVCS, 'default', claim('uses-outside', { volumeName: 'outside', storageClassName: '' }));
  await boundClaim(api, 'uses-outside');
  await api.delete(PVCS, 'default', 'uses-outside');
  await eventually(async () => {
    try {
      await api.get(PVS, undefined, 'outside');
      return undefined;
    } catch (error) {
      return error instanceof ApiError && error.code === 404 ? true : undefined;
    }
  }, 'the volume to be deleted');
  t.ok((await stat(join(path, 'keep'))).isFile(), 'a directory the plane did not provision is never removed');
});

t.test('StatefulSet claims: one replica by default, template labels and annotations, nameless templates skipped, Retain keeps scaled-down claims', async (t) => {
  const { api } = await plane(t);
  await api.create(STATEFUL_SETS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'w', image: 'nginx' }] } },
      volumeClaimTemplates: [
        { metadata: { name: 'www', labels: { tier: 'front' }, annotations: { note: 'kept' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        { metadata: {}, spec: { accessModes: ['ReadWriteOnce'] } },
      ],
    },
  });
  const first = await boundClaim(api, 'www-web-0');
  t.same(first.metadata?.labels, { tier: 'front', app: 'web' }, 'template labels plus the selector labels');
  t.equal(first.metadata?.annotations?.note, 'kept');
  t.same((await api.list(PVCS, { namespace: 'default' })).items.map((item) => item.metadata?.name), ['www-web-0'], 'replicas defaults to 1; a template without a name makes no claim');

  await api.patch(STATEFUL_SETS, 'default', 'web', 'merge', { spec: { replicas: 2 } });
  await boundClaim(api, 'www-web-1');
  await api.patch(STATEFUL_SETS, 'default', 'web', 'merge', { spec: { replicas: 0 } });
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.same((await api.list(PVCS, { namespace: 'default' })).items.map((item) => item.metadata?.name).sort(), ['www-web-0', 'www-web-1'], 'whenScaled Retain (the default) keeps claims');
});

t.test('StatefulSet whenScaled Delete only deletes this template’s claims at ordinals at or above replicas', async (t) => {
  const { api } = await plane(t);
  for (const name of ['data-store-extra', 'data-store-9x', 'data-other-5']) await api.create(PVCS, 'default', claim(name));
  await api.create(STATEFUL_SETS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'store' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'store' } },
      template: { metadata: { labels: { app: 'store' } }, spec: { containers: [{ name: 's', image: 'x' }] } },
      persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete' },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
    },
  });
  const second = await boundClaim(api, 'data-store-1');
  t.notOk(second.metadata?.ownerReferences, 'whenDeleted Retain (the default) sets no owner');
  await api.patch(STATEFUL_SETS, 'default', 'store', 'merge', { spec: { replicas: 1 } });
  await eventually(async () => {
    try {
      await api.get(PVCS, 'default', 'data-store-1');
      return undefined;
    } catch (error) {
      return error instanceof ApiError && error.code === 404 ? true : undefined;
    }
  }, 'the scaled-down claim to be deleted');
  const names = (await api.list(PVCS, { namespace: 'default' })).items.map((item) => item.metadata?.name).sort();
  t.same(names, ['data-other-5', 'data-store-0', 'data-store-9x', 'data-store-extra'], 'claims that are not <template>-<set>-<ordinal> are left alone');
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { ApiError, type EmbeddedApi, type GroupVersionResource } from '../../../src/embedded/api-types.js';
import { startControllers } from '../../../src/embedded/controllers/start-controllers.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const NAMESPACES: GroupVersionResource = { group: '', version: 'v1', resource: 'namespaces' };
const CONFIG_MAPS: GroupVersionResource = { group: '', version: 'v1', resource: 'configmaps' };
const SECRETS: GroupVersionResource = { group: '', version: 'v1', resource: 'secrets' };
const DEPLOYMENTS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'deployments' };
const REPLICA_SETS: GroupVersionResource = { group: 'apps', version: 'v1', resource: 'replicasets' };

async function plane(t: Test): Promise<EmbeddedApi> {
  const dataDir = await mkdtemp(join(tmpdir(), 'autostash-controllers-'));
  const api = createEmbeddedApi();
  const controllers = startControllers({ api, dataDir, logger: pino({ level: 'silent' }), resyncMs: 1000 });
  await controllers.ready;
  t.teardown(async () => {
    await controllers.stop();
    await api.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return api;
}

/** Polls `probe` until it returns something other than undefined, failing after `timeoutMs`. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function gone(api: EmbeddedApi, gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<true | undefined> {
  try {
    await api.get(gvr, namespace, name);
    return undefined;
  } catch (error) {
    if (error instanceof ApiError && error.code === 404) return true;
    throw error;
  }
}

const owner = (object: KubeObject, blockOwnerDeletion?: boolean) => ({
  apiVersion: object.apiVersion,
  kind: object.kind,
  name: object.metadata?.name,
  uid: object.metadata?.uid,
  ...(blockOwnerDeletion === undefined ? {} : { blockOwnerDeletion }),
});

t.test('the system namespaces exist and are Active', async (t) => {
  const api = await plane(t);
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const namespace = await api.get(NAMESPACES, undefined, name);
    t.equal((namespace.status as { phase?: string }).phase, 'Active', name);
  }
});

t.test('deleting a namespace deletes its objects, then the namespace', async (t) => {
  const api = await plane(t);
  await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
  await api.create(CONFIG_MAPS, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: 'b' } });
  await api.create(SECRETS, 'doomed', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', finalizers: ['example.com/hold'] } });
  await api.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'survivor' } });

  const deleting = await api.delete(NAMESPACES, undefined, 'doomed');
  t.ok(deleting.metadata?.deletionTimestamp, 'the namespace is Terminating first');
  await eventually(() => gone(api, CONFIG_MAPS, 'doomed', 'c1'), 'the ConfigMap to go');
  const held = await api.get(SECRETS, 'doomed', 's1');
  t.ok(held.metadata?.deletionTimestamp, 'an object with a finalizer is being deleted');
  t.notOk(await gone(api, NAMESPACES, undefined, 'doomed'), 'the namespace waits for it');

  await api.update(SECRETS, 'doomed', { ...held, metadata: { ...held.metadata, finalizers: [] } });
  await eventually(() => gone(api, NAMESPACES, undefined, 'doomed'), 'the namespace to go');
  t.ok(await api.get(CONFIG_MAPS, 'default', 'survivor'), 'other namespaces are untouched');
});

t.test('background garbage collection deletes dependents of a deleted owner', async (t) => {
  const api = await plane(t);
  const deployment = await api.create(DEPLOYMENTS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  const other = await api.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other-owner' } });
  await api.create(REPLICA_SETS, 'default', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-1', ownerReferences: [owner(deployment)] },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  await api.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', ownerReferences: [owner(deployment), owner(other)] } });
  await api.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'orphan-at-birth', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never', uid: 'no-such-uid' }] } });

  await api.delete(DEPLOYMENTS, 'default', 'web');
  await eventually(() => gone(api, REPLICA_SETS, 'default', 'web-1'), 'the ReplicaSet to be collected');
  await eventually(() => gone(api, CONFIG_MAPS, 'default', 'orphan-at-birth'), 'a dependent whose owner never existed to be collected');
  const shared = await eventually(async () => {
    const object = await api.get(CONFIG_MAPS, 'default', 'shared');
    return object.metadata?.ownerReferences?.length === 1 ? object : undefined;
  }, 'the dead owner to be dropped from a dependent with another owner');
  t.equal(shared.metadata?.ownerReferences?.[0]?.uid, other.metadata?.uid, 'the live owner stays');
});

t.test('foreground deletion keeps the owner until blocking dependents are gone', async (t) => {
  const api = await plane(t);
  const parent = await api.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'parent' } });
  await api.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'blocker', finalizers: ['example.com/hold'], ownerReferences: [owner(parent, true)] } });
  await api.create(CONFIG_MAPS, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'free', ownerReferences: [owner(parent, false)] } });

  await api.delete(CONFIG_MAPS, 'default', 'parent', { propagationPolicy: 'Foreground' });
  await eventually(() => gone(api, CONFIG_MAPS, 'default', 'free'), 'the non-blocking dependent to go');
  const blocker = await eventually(async () => {
    const object = await api.get(CONFIG_MAPS, 'default', 'blocker');
    return object.metadata?.deletionTimestamp ? object : undefined;
  }, 'the blocking dependent to be deleted');
  const waiting = await api.get(CONFIG_MAPS, 'default', 'parent');
  t.ok(waiting.metadata?.finalizers?.includes('foregroundDeletion'), 'the owner waits with the foregroundDeletion finalizer');

  await api.update(CONFIG_MAPS, 'default', { ...blocker, metadata: { ...blocker.metadata, finalizers: [] } });
  await eventually(() => gone(api, CONFIG_MAPS, 'default', 'parent'), 'the owner to go once the blocker is gone');
});

t.test('a namespace with a finalizer of its own loses only `kubernetes` and stays Terminating until the other is removed', async (t) => {
  const api = await plane(t);
  const created = await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held' } });
  await api.update(NAMESPACES, undefined, { ...created, spec: { finalizers: ['kubernetes', 'example.com/hold'] } });
  await api.create(CONFIG_MAPS, 'held', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' } });

  await api.delete(NAMESPACES, undefined, 'held');
  await eventually(() => gone(api, CONFIG_MAPS, 'held', 'c1'), 'the contents to go');
  const terminating = await eventually(async () => {
    const current = await api.get(NAMESPACES, undefined, 'held');
    return (current.spec as { finalizers: string[] }).finalizers.includes('kubernetes') ? undefined : current;
  }, 'the kubernetes finalizer to be removed');
  t.same((terminating.spec as { finalizers: string[] }).finalizers, ['example.com/hold'], 'the other finalizer is kept');
  t.equal((terminating.status as { phase?: string }).phase, 'Terminating');
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.notOk(await gone(api, NAMESPACES, undefined, 'held'), 'the namespace waits for its other finalizer');

  await api.update(NAMESPACES, undefined, { ...terminating, spec: { finalizers: [] } });
  await eventually(() => gone(api, NAMESPACES, undefined, 'held'), 'the namespace to go');
});

t.test('a namespace whose status lost its phase is made Active again', async (t) => {
  const api = await plane(t);
  await api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'phaseless' } });
  await eventually(async () => ((await api.get(NAMESPACES, undefined, 'phaseless')).status as { phase?: string } | undefined)?.phase === 'Active' || undefined, 'Active');
  const current = await api.get(NAMESPACES, undefined, 'phaseless');
  await api.updateStatus(NAMESPACES, undefined, { ...current, status: {} });
  await eventually(async () => ((await api.get(NAMESPACES, undefined, 'phaseless')).status as { phase?: string } | undefined)?.phase === 'Active' || undefined, 'the phase to be restored');
  t.pass('the controller restored phase Active');
});

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { startControlPlane, type ControlPlane } from '../../src/embedded/control-plane.js';
import {
  createKubeClient,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  keepAliveKubeConfig,
  KeepAliveKubeConfig,
  KubeApiError,
  type KubeClient,
} from '../../src/kube/client.js';

const dataDir = await mkdtemp(join(tmpdir(), 'autostash-client-'));
const plane: ControlPlane = await startControlPlane({ dataDir, port: 0, logger: pino({ level: 'silent' }) });
t.teardown(async () => {
  await plane.close();
  await rm(dataDir, { recursive: true, force: true });
});

const loadPlaneConfig = (server?: string): KubeConfig => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  if (server === undefined) return kubeConfig;
  const moved = new KubeConfig();
  moved.loadFromOptions({
    clusters: kubeConfig.clusters.map((cluster) => ({ ...cluster, server })),
    users: kubeConfig.users,
    contexts: kubeConfig.contexts,
    currentContext: kubeConfig.currentContext,
  });
  return moved;
};

const configMap = (namespace: string, name: string, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace, name, labels: { app: 'client-test' } },
  data,
});

async function expectApiError(t: Test, promise: Promise<unknown>, code: number, reason: string): Promise<KubeApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, KubeApiError, `rejects with KubeApiError ${code}`);
  t.match(error, { code, reason, message: /\S/ });
  return error as KubeApiError;
}

t.test('CRUD on a core kind returns plain JSON and keeps resourceVersion semantics', async (t) => {
  const client = createKubeClient(loadPlaneConfig());
  t.teardown(() => client.close());

  const created = await client.create(configMap('default', 'crud', { a: '1' }));
  t.match(created, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud', namespace: 'default' }, data: { a: '1' } });
  t.type((created.metadata as { creationTimestamp?: unknown }).creationTimestamp, 'string', 'timestamps stay strings');

  const read = await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'crud' });
  t.equal(read.metadata?.uid, (created.metadata as { uid?: string }).uid);
  t.equal(await client.find({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'absent' }), undefined, 'find answers undefined for 404');

  const updated = await client.update({ ...read, data: { a: '2' } });
  t.match(updated, { data: { a: '2' } });
  t.not(updated.metadata?.resourceVersion, read.metadata?.resourceVersion);

  const stale = await expectApiError(t, client.update({ ...read, data: { a: '3' } }), 409, 'Conflict');
  t.ok(isConflict(stale) && !isAlreadyExists(stale), 'a stale update is a Conflict');

  const merged = await client.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'crud' }, { type: 'merge', patch: { data: { b: 'x' } } });
  t.same(merged.data, { a: '2', b: 'x' }, 'merge patch');
  const jsonPatched = await client.patch(
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'crud' },
    { type: 'json', patch: [{ op: 'remove', path: '/data/a' }, { op: 'add', path: '/metadata/labels/extra', value: 'y' }] },
  );
  t.same(jsonPatched.data, { b: 'x' }, 'JSON patch');
  t.match(jsonPatched.metadata, { labels: { app: 'client-test', extra: 'y' } });

  await client.create(configMap('default', 'other'));
  const listed = await client.list({ apiVersion: 'v1', kind: 'ConfigMap' }, { namespace: 'default', labelSelector: 'app=client-test' });
  t.same(listed.items.map((item) => item.metadata?.name).sort(), ['crud', 'other']);
  t.ok(listed.items.every((item) => item.apiVersion === 'v1' && item.kind === 'ConfigMap'), 'list items carry apiVersion and kind');
  t.match(listed.resourceVersion, /^\d+$/);
  const selected = await client.list({ apiVersion: 'v1', kind: 'ConfigMap' }, { labelSelector: 'extra=y' });
  t.same(selected.items.map((item) => item.metadata?.name), ['crud'], 'label selector across namespaces');
  const page = await client.list({ apiVersion: 'v1', kind: 'ConfigMap' }, { namespace: 'default', labelSelector: 'app=client-test', limit: 1 });
  t.equal(page.items.length, 1);
  t.type(page.continue, 'string', 'limit gives a continue token');

  await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'crud' }, { propagationPolicy: 'Background' });
  await expectApiError(t, client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'crud' }), 404, 'NotFound');
  await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'other' }, { dryRun: true, gracePeriodSeconds: 0 });
  t.ok(await client.find({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'other' }), 'a dry-run delete keeps the object');
  const other = await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'other' });
  await expectApiError(t, client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'other' }, { preconditions: { uid: 'not-the-uid' } }), 409, 'Conflict');
  await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'other' }, { preconditions: { uid: other.metadata?.uid as string } });
  t.equal(await client.find({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'other' }), undefined);

  const dry = await client.create(configMap('default', 'dry'), { dryRun: true, fieldManager: 'autostash' });
  t.equal(dry.metadata.name, 'dry');
  t.equal(await client.find({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'dry' }), undefined, 'dry-run create persists nothing');
});

t.test('status subresource and cluster-scoped kinds', async (t) => {
  const client = createKubeClient(loadPlaneConfig());
  t.teardown(() => client.close());
  const namespace = await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'client-status' } });
  t.equal(namespace.metadata.name, 'client-status');
  t.same(await client.resource({ apiVersion: 'v1', kind: 'Namespace' }), { plural: 'namespaces', namespaced: false });
  t.equal(await client.collectionPath({ apiVersion: 'apps/v1', kind: 'Deployment' }, 'x'), '/apis/apps/v1/namespaces/x/deployments');
  t.equal(await client.collectionPath({ apiVersion: 'v1', kind: 'Namespace' }, 'ignored'), '/api/v1/namespaces', 'cluster-scoped kinds ignore a namespace');

  const deployment = await client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { namespace: 'client-status', name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  });
  const withStatus = await client.updateStatus({ ...deployment, spec: { ...(deployment.spec as object), replicas: 5 }, status: { observedGeneration: 1, replicas: 1 } });
  t.match(withStatus, { spec: { replicas: 1 }, status: { replicas: 1 } }, 'updateStatus writes status only');
  const patched = await client.patch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'client-status', name: 'web' }, { type: 'merge', patch: { status: { readyReplicas: 1 } } }, { subresource: 'status' });
  t.match(patched, { status: { replicas: 1, readyReplicas: 1 } });
  const strategic = await client.patch({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'client-status', name: 'web' }, { type: 'strategic', patch: { metadata: { labels: { tier: 'front' } } } });
  t.match(strategic, { metadata: { labels: { tier: 'front' } } });
});

t.test('API errors are mapped to KubeApiError', async (t) => {
  const client = createKubeClient(loadPlaneConfig());
  t.teardown(() => client.close());
  await client.create(configMap('default', 'dup'));
  const exists = await expectApiError(t, client.create(configMap('default', 'dup')), 409, 'AlreadyExists');
  t.ok(isAlreadyExists(exists) && !isConflict(exists));
  const invalid = await expectApiError(t, client.create(configMap('default', 'Not_A_Valid_Name')), 422, 'Invalid');
  t.ok(isInvalid(invalid));
  const missing = await expectApiError(t, client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'nope' }), 404, 'NotFound');
  t.ok(isNotFound(missing));
  await expectApiError(t, client.list({ apiVersion: 'nothing.example.com/v1', kind: 'Thing' }), 404, 'NotFound');
  await expectApiError(t, client.list({ apiVersion: 'v1', kind: 'NoSuchKind' }), 404, 'NotFound');
  await t.rejects(client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'no-namespace' }), /namespaced/);
  await t.rejects(client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: '' }), /needs a name/);
  await t.rejects(client.create({ metadata: { name: 'x' } }), /apiVersion and kind/);
  await t.rejects(client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), /namespaced/);
  const aborted = new AbortController();
  aborted.abort();
  await t.rejects(client.list({ apiVersion: 'v1', kind: 'ConfigMap' }, { signal: aborted.signal }), 'an aborted signal rejects');
  t.notOk(isNotFound(new Error('x')), 'predicates are false for other errors');

  const unauthorized = new KubeConfig();
  const base = loadPlaneConfig();
  unauthorized.loadFromOptions({ clusters: base.clusters, users: [{ name: 'anonymous', token: 'wrong' }], contexts: [{ name: 'c', cluster: base.clusters[0]?.name, user: 'anonymous' }], currentContext: 'c' });
  const stranger = createKubeClient(unauthorized);
  t.teardown(() => stranger.close());
  await expectApiError(t, stranger.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' }), 401, 'Unauthorized');
});

t.test('createEvent writes a core/v1 Event', async (t) => {
  const client = createKubeClient(loadPlaneConfig());
  t.teardown(() => client.close());
  const event = await client.createEvent({
    metadata: { namespace: 'default', generateName: 'web.' },
    involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'web' },
    reason: 'Tested',
    message: 'created by the client test',
    type: 'Normal',
    source: { component: 'autostash' },
  });
  t.match(event, { apiVersion: 'v1', kind: 'Event', reason: 'Tested', metadata: { name: /^web\./ } });
});

/** A TCP relay in front of the plane that counts the connections clients open (each a TLS handshake). */
async function countingRelay(t: Test): Promise<{ url: string; connections(): number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const relay: Server = createServer((socket) => {
    connections += 1;
    const upstream = connect(plane.server.port, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
  });
  const address = relay.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `https://127.0.0.1:${port}`, connections: () => connections };
}

t.test('sequential requests share one keep-alive TLS connection', async (t) => {
  const relay = await countingRelay(t);
  const client: KubeClient = createKubeClient(loadPlaneConfig(relay.url));
  t.teardown(() => client.close());
  const requests = 30;
  for (let i = 0; i < requests; i += 1) await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
  t.equal(relay.connections(), 1, `${requests} requests (and discovery) over one connection`);

  // The same config handed to client-node's typed APIs and watches shares the pool too.
  const core = client.kubeConfig.makeApiClient(CoreV1Api);
  for (let i = 0; i < 5; i += 1) await core.readNamespace({ name: 'default' });
  t.equal(relay.connections(), 1, 'typed client-node APIs reuse the pooled connection');
  t.equal((client.kubeConfig as KeepAliveKubeConfig).agentCount(), 1);

  // What client-node does on its own, for the record (not asserted: it is the library's behaviour).
  const plain = loadPlaneConfig(relay.url).makeApiClient(CoreV1Api);
  const before = relay.connections();
  for (let i = 0; i < 5; i += 1) await plain.readNamespace({ name: 'default' });
  t.comment(`plain client-node: ${relay.connections() - before} connections for 5 requests`);
});

t.test('keepAliveKubeConfig keeps the cluster, user and context, and is idempotent', async (t) => {
  const source = loadPlaneConfig();
  const pooled = keepAliveKubeConfig(source);
  t.type(pooled, KeepAliveKubeConfig);
  t.equal(keepAliveKubeConfig(pooled), pooled);
  t.equal(pooled.getCurrentCluster()?.server, source.getCurrentCluster()?.server);
  t.equal(pooled.getCurrentUser()?.name, source.getCurrentUser()?.name);
  // A client over a KeepAliveKubeConfig the caller owns leaves its agents alone on close().
  const client = createKubeClient(pooled);
  await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'default' });
  client.close();
  t.equal(pooled.agentCount(), 1, 'the caller owns the pool');
  pooled.destroyAgents();
  t.equal(pooled.agentCount(), 0);
});

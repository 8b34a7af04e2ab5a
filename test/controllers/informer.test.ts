import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { createInformer, createSharedInformers, resourcePath, statusOf, type Informer } from '../../src/controllers/informer.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { startControlPlane } from '../../src/embedded/control-plane.js';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { generateCertificates } from '../../src/server/certificates.js';
import { memoryLogger } from '../helpers/logging.js';
import { eventually } from '../helpers/eventually.js';
import { widgetCrd } from '../helpers/widget-crd.js';

const dataDir = await mkdtemp(join(tmpdir(), 'autostash-informer-'));
const plane = await startControlPlane({ dataDir, port: 0, logger: pino({ level: 'silent' }) });
t.teardown(async () => {
  await plane.close();
  await rm(dataDir, { recursive: true, force: true });
});
const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const planeConfig = new KubeConfig();
planeConfig.loadFromFile(plane.kubeconfigPath);

/** The client, with a count of list calls (to tell a resumed watch from a relist). */
function countingClient(base: KubeClient): { client: KubeClient; lists: () => number } {
  let lists = 0;
  return {
    client: { ...base, list: (type, options) => ((lists += 1), base.list(type, options)) } as KubeClient,
    lists: () => lists,
  };
}

const CONFIG_MAP = { apiVersion: 'v1', kind: 'ConfigMap' };
const configMap = (namespace: string, name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}, data: Record<string, string> = {}) => ({
  ...CONFIG_MAP,
  metadata: { namespace, name, labels, annotations },
  data,
});
const names = (objects: readonly KubeObject[]): string[] => objects.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`).sort();

const base = createKubeClient(planeConfig);
t.teardown(() => base.close());
for (const namespace of ['inf-a', 'inf-b']) await base.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });

t.test('lists, follows the watch, reports add/update/delete, and resumes after the server ends watches', async (t) => {
  const { logger, lines } = memoryLogger();
  const { client, lists } = countingClient(base);
  await client.create(configMap('inf-a', 'one', { app: 'x' }));
  const informer = createInformer(client, CONFIG_MAP, { logger, initialBackoffMs: 10 });
  t.teardown(() => informer.stop());
  const events: string[] = [];
  informer.addEventHandler({
    add: (o) => events.push(`add ${o.metadata?.name}`),
    update: (previous, o) => events.push(`update ${o.metadata?.name} ${previous.data ? JSON.stringify(previous.data) : '{}'}->${JSON.stringify(o.data)}`),
    delete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  t.equal(informer.hasSynced(), false);
  informer.start();
  informer.start(); // idempotent
  await informer.whenSynced();
  t.ok(informer.hasSynced());
  t.same(events, ['add one']);
  t.match(informer.get('inf-a', 'one'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } });
  t.equal(informer.get('inf-b', 'one'), undefined);

  await client.create(configMap('inf-b', 'two'));
  await client.patch({ ...CONFIG_MAP, namespace: 'inf-a', name: 'one' }, { type: 'merge', patch: { data: { k: 'v' } } });
  await client.delete({ ...CONFIG_MAP, namespace: 'inf-b', name: 'two' });
  await eventually('the delete to arrive', () => events.includes('delete two'));
  t.same(events, ['add one', 'add two', 'update one {}->{"k":"v"}', 'delete two']);
  t.same(names(informer.list('inf-a')), ['inf-a/one']);
  t.same(informer.list('inf-b'), []);
  t.same(informer.list('nowhere'), []);
  t.ok(names(informer.list()).includes('inf-a/one'));

  plane.server.endWatches();
  await client.create(configMap('inf-b', 'three'));
  await eventually('an event after the watch was ended', () => informer.get('inf-b', 'three'));
  t.equal(lists(), 1, 'resumed from the last resourceVersion without relisting');
  t.same(lines.filter((line) => line.level >= 40), [], 'nothing to warn about');

  await informer.stop();
  await informer.stop();
  await client.create(configMap('inf-b', 'after-stop'));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(informer.get('inf-b', 'after-stop'), undefined, 'a stopped informer no longer follows the cluster');
});

t.test('namespace and label selector scopes, indexes, late handlers and handler failures', async (t) => {
  const { logger, lines } = memoryLogger();
  const client = base;
  await client.create(configMap('inf-a', 'labelled', { tier: 'db' }, { 'blueprint.kubestash.com/name': 'bp-1' }));
  await client.create(configMap('inf-a', 'unlabelled', {}, { 'blueprint.kubestash.com/name': 'bp-1' }));
  await client.create(configMap('inf-b', 'labelled-elsewhere', { tier: 'db' }, { 'blueprint.kubestash.com/name': 'bp-2' }));

  const scoped = createInformer(client, CONFIG_MAP, { logger, namespace: 'inf-a', labelSelector: 'tier=db' });
  const everywhere = createInformer(client, CONFIG_MAP, { logger, labelSelector: 'tier=db', resource: { plural: 'configmaps', namespaced: true } });
  t.teardown(() => Promise.all([scoped.stop(), everywhere.stop()]));
  everywhere.addIndex('blueprint', (o) => {
    const value = o.metadata?.annotations?.['blueprint.kubestash.com/name'];
    return value === undefined ? [] : [value];
  });
  scoped.start();
  everywhere.start();
  await Promise.all([scoped.whenSynced(), everywhere.whenSynced()]);
  t.same(names(scoped.list()), ['inf-a/labelled'], 'namespace and label selector');
  t.same(names(everywhere.list()), ['inf-a/labelled', 'inf-b/labelled-elsewhere'], 'label selector across namespaces');
  t.same(names(everywhere.byIndex('blueprint', 'bp-2')), ['inf-b/labelled-elsewhere']);
  t.same(everywhere.byIndex('blueprint', 'bp-none'), []);

  // An object leaving the selector is a delete for the scoped informer; index entries follow.
  await client.patch({ ...CONFIG_MAP, namespace: 'inf-b', name: 'labelled-elsewhere' }, { type: 'merge', patch: { metadata: { annotations: { 'blueprint.kubestash.com/name': 'bp-1' } } } });
  await eventually('the index to follow an update', () => everywhere.byIndex('blueprint', 'bp-1').length === 2);
  t.same(everywhere.byIndex('blueprint', 'bp-2'), []);
  await client.patch({ ...CONFIG_MAP, namespace: 'inf-a', name: 'labelled' }, { type: 'merge', patch: { metadata: { labels: { tier: 'web' } } } });
  await eventually('the object to leave the selector', () => scoped.get('inf-a', 'labelled') === undefined);
  t.same(everywhere.byIndex('blueprint', 'bp-1').map((o) => o.metadata?.name), ['labelled-elsewhere']);

  // Indexes added late cover what is cached; handlers added late get the cache replayed as adds.
  everywhere.addIndex('namespace', (o) => [o.metadata?.namespace ?? '']);
  t.same(names(everywhere.byIndex('namespace', 'inf-b')), ['inf-b/labelled-elsewhere']);
  t.throws(() => everywhere.addIndex('namespace', () => []), /already has an index/);
  t.throws(() => everywhere.byIndex('missing', 'x'), /no index named missing/);
  everywhere.addIndex('broken', () => {
    throw new Error('indexer bug');
  });
  const replayed: string[] = [];
  const unsubscribe = everywhere.addEventHandler({ add: (o) => replayed.push(o.metadata?.name ?? '') });
  t.same(replayed, ['labelled-elsewhere']);
  everywhere.addEventHandler({
    add: () => {
      throw new Error('handler bug');
    },
  });
  unsubscribe();
  await client.create(configMap('inf-b', 'new-db', { tier: 'db' }));
  await eventually('the new object', () => everywhere.get('inf-b', 'new-db'));
  t.same(replayed, ['labelled-elsewhere'], 'an unsubscribed handler hears nothing more');
  t.ok(lines.some((line) => line.msg === 'informer event handler failed' && line.err === 'handler bug'), 'handler failures are logged, not thrown');
  t.ok(lines.some((line) => line.msg === 'informer indexer failed' && line.err === 'indexer bug'));
});

t.test('a kind not served yet stays empty and is picked up once its CRD exists', async (t) => {
  const { logger, lines } = memoryLogger();
  const type = { apiVersion: 'example.com/v1', kind: 'Widget' };
  const informer = createInformer(base, type, { logger, missingKindRetryMs: 30 });
  t.teardown(() => informer.stop());
  informer.start();
  await informer.whenSynced();
  t.same(informer.list(), []);
  await eventually('a few retries', () => lines.filter((line) => line.msg === 'resource not served by the API server; its view stays empty').length === 1 && informer.hasSynced());
  await base.create(widgetCrd);
  // The CRD is served a moment after it is stored.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await base.create({ ...type, metadata: { namespace: 'inf-a', name: 'w1' }, spec: { size: 1 } });
      break;
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  await eventually('the informer to find the kind', () => informer.get('inf-a', 'w1'));
  t.equal(lines.filter((line) => line.msg === 'resource not served by the API server; its view stays empty').length, 1, 'warned once');
  t.ok(lines.some((line) => line.msg === 'resource now served; filling its view' && line.path === '/apis/example.com/v1/widgets'));
});

t.test('shared informers: one per kind and scope, started together, synced together', async (t) => {
  const { logger } = memoryLogger();
  const shared = createSharedInformers(base, { logger });
  const first = shared.informerFor(CONFIG_MAP);
  t.equal(shared.informerFor(CONFIG_MAP), first, 'the same informer for the same kind');
  const scoped = shared.informerFor(CONFIG_MAP, { namespace: 'inf-a' });
  t.not(scoped, first, 'another scope is another informer');
  t.equal(shared.hasSynced(), false);
  shared.start();
  await shared.whenSynced();
  t.ok(shared.hasSynced());
  const late = shared.informerFor({ apiVersion: 'v1', kind: 'Namespace' });
  await late.whenSynced();
  t.ok(late.get(undefined, 'inf-a'), 'created after start, started at once');
  t.equal(shared.all().length, 3);
  await shared.stop();
  t.throws(() => shared.informerFor({ apiVersion: 'v1', kind: 'Secret' }), /stopped/);
});

t.test('stop before sync rejects whenSynced; an unreachable server is retried with backoff', async (t) => {
  const { logger, lines } = memoryLogger();
  const unreachable = new KubeConfig();
  unreachable.loadFromOptions({
    clusters: [{ name: 'gone', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'gone', user: 'u' }],
    currentContext: 'c',
  });
  const client = createKubeClient(unreachable);
  t.teardown(() => client.close());
  const informer = createInformer(client, CONFIG_MAP, { logger, initialBackoffMs: 5, maxBackoffMs: 10, resource: { plural: 'configmaps', namespaced: true } });
  informer.start();
  await eventually('retries', () => lines.filter((line) => line.msg === 'informer failed; restarting after backoff').length >= 3);
  t.match(lines.find((line) => line.msg === 'informer failed; restarting after backoff'), { kind: 'ConfigMap', path: '/api/v1/configmaps', failures: 1, retryInMs: 5, err: /ECONNREFUSED|connect/ });
  const synced = informer.whenSynced();
  await informer.stop();
  await t.rejects(synced, /stopped before it synced/);
});

t.test('resourcePath and statusOf', async (t) => {
  t.equal(resourcePath({ apiVersion: 'v1', kind: 'Pod' }, { plural: 'pods', namespaced: true }, 'ns'), '/api/v1/namespaces/ns/pods');
  t.equal(resourcePath({ apiVersion: 'apps/v1', kind: 'Deployment' }, { plural: 'deployments', namespaced: true }), '/apis/apps/v1/deployments');
  t.equal(resourcePath({ apiVersion: 'v1', kind: 'Namespace' }, { plural: 'namespaces', namespaced: false }, 'ns'), '/api/v1/namespaces');
  t.equal(statusOf({ code: 404 }), 404);
  t.equal(statusOf({ statusCode: 410 }), 410);
  t.equal(statusOf({ code: 'ECONNRESET' }), undefined);
  t.equal(statusOf('text'), undefined);
});

/**
 * A scripted API server for what the embedded plane will not do on demand: expire a watch.
 * Lists answer the current items; watches answer per the script, in order.
 */
class ExpiringServer {
  items: Array<Record<string, unknown>> = [];
  resourceVersion = 10;
  lists = 0;
  watches: Array<string | null> = [];
  script: Array<'http-410' | 'stream-410' | 'stream-500' | 'open'> = [];
  private readonly open = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  port = 0;

  async start(cert: string, key: string): Promise<void> {
    this.server = createServer({ cert, key }, (request, response) => {
      const url = new URL(request.url ?? '/', 'https://localhost');
      if (url.searchParams.get('watch') !== 'true') {
        this.lists += 1;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: String(this.resourceVersion) }, items: this.items }));
        return;
      }
      this.watches.push(url.searchParams.get('resourceVersion'));
      const step = this.script.shift() ?? 'open';
      if (step === 'http-410') {
        response.writeHead(410, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', message: 'too old resource version' }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      if (step === 'stream-410' || step === 'stream-500') {
        const code = step === 'stream-410' ? 410 : 500;
        response.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', code, reason: code === 410 ? 'Expired' : 'InternalError', message: 'scripted' } })}\n`);
        return;
      }
      this.open.add(response);
      response.on('close', () => this.open.delete(response));
    });
    this.server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  endWatches(): void {
    for (const response of this.open) response.end();
  }

  openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    this.endWatches();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}


t.test('an expired watch (HTTP 410 or an ERROR event) relists and reports the difference', async (t) => {
  const server = new ExpiringServer();
  await server.start(certs.tlsCert, certs.tlsKey);
  t.teardown(() => server.close());
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: `https://127.0.0.1:${server.port}`, caData: Buffer.from(certs.caCert).toString('base64') }],
    users: [{ name: 'u', token: 'not-a-secret' }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const { logger, lines } = memoryLogger();
  const cm = (name: string, rv: number, data: Record<string, string> = {}) => ({ metadata: { namespace: 'ns', name, resourceVersion: String(rv) }, data });
  server.items = [cm('kept', 1), cm('changed', 2), cm('gone', 3)];
  server.script = ['open'];
  const informer: Informer = createInformer(client, CONFIG_MAP, { logger, initialBackoffMs: 5, resource: { plural: 'configmaps', namespaced: true } });
  t.teardown(() => informer.stop());
  const events: string[] = [];
  informer.addEventHandler({ add: (o) => events.push(`add ${o.metadata?.name}`), update: (_p, o) => events.push(`update ${o.metadata?.name}`), delete: (o) => events.push(`delete ${o.metadata?.name}`) });
  informer.start();
  await informer.whenSynced();
  await eventually('the first watch', () => server.watches.length === 1);
  t.same(server.watches, ['10'], 'watches from the list resourceVersion');

  // While the watch is down the world moves on; the resume is refused as expired (HTTP 410).
  server.items = [cm('kept', 1), cm('changed', 20, { v: '2' }), cm('new', 21)];
  server.resourceVersion = 30;
  server.script = ['http-410', 'open'];
  server.endWatches();
  await eventually('a relist', () => server.lists === 2);
  await eventually('the watch after the relist', () => server.watches.length === 3);
  t.same(server.watches, ['10', '10', '30'], 'resume refused, then a fresh watch from the new list');
  t.same(events, ['add kept', 'add changed', 'add gone', 'delete gone', 'update changed', 'add new'], 'the relist reports only differences');

  // An ERROR 410 inside a watch stream relists too.
  server.script = ['stream-410', 'open'];
  server.endWatches();
  await eventually('a relist after the in-stream 410', () => server.lists === 3);
  await eventually('the watch after that relist', () => server.watches.length === 5);

  // Any other ERROR event is a failure: backoff, then resume.
  server.script = ['stream-500', 'open'];
  server.endWatches();
  await eventually('the in-stream failure to be logged', () => lines.find((line) => line.msg === 'informer failed; restarting after backoff'));
  t.match(lines.find((line) => line.msg === 'informer failed; restarting after backoff'), { status: 500, err: 'scripted' });
  await eventually('the watch after the failure', () => server.watches.length === 7);
  t.equal(server.lists, 3, 'a failed watch resumes without relisting');

  await informer.stop();
  client.close();
  await eventually('no connection left', () => server.openConnections() === 0);
});

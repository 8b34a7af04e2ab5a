import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { startInformerView, VIEW_RESOURCES } from '../../src/kube/informer-view.js';
import { generateCertificates } from '../../src/server/certificates.js';
import { memoryLogger } from '../helpers/logging.js';
import { eventually } from '../helpers/eventually.js';

/**
 * A small API server that answers the LIST and WATCH requests client-node makes: a list is JSON with a
 * resourceVersion; a watch streams newline-delimited events and stays open until told otherwise.
 * Paths it has no collection for answer 404 like a missing CRD.
 */
class FakeApiServer {
  readonly requests: Array<{ path: string; watch: boolean; resourceVersion: string | null }> = [];
  private readonly collections = new Map<string, Map<string, Record<string, unknown>>>();
  private readonly watchers = new Map<string, Set<ServerResponse>>();
  /** Status codes to answer the next list requests of a path with, instead of the list. */
  readonly failLists = new Map<string, number[]>();
  private readonly sockets = new Set<Socket>();
  private resourceVersion = 100;
  private server!: Server;
  port = 0;

  async start(cert: string, key: string): Promise<void> {
    this.server = createServer({ cert, key }, (request, response) => {
      const url = new URL(request.url ?? '/', 'https://localhost');
      const watch = url.searchParams.get('watch') === 'true';
      this.requests.push({ path: url.pathname, watch, resourceVersion: url.searchParams.get('resourceVersion') });
      const items = this.collections.get(url.pathname);
      const failure = watch ? undefined : this.failLists.get(url.pathname)?.shift();
      if (items === undefined || failure !== undefined) {
        const code = failure ?? 404;
        response.writeHead(code, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: code === 404 ? 'NotFound' : 'InternalError' }));
        return;
      }
      if (!watch) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.resourceVersion) }, items: [...items.values()] }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      response.flushHeaders();
      let open = this.watchers.get(url.pathname);
      if (open === undefined) this.watchers.set(url.pathname, (open = new Set()));
      open.add(response);
      response.on('close', () => open.delete(response));
    });
    this.server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Serves a collection at `path` (items without a resourceVersion get one). */
  serve(path: string, items: Array<Record<string, unknown>> = []): void {
    const map = new Map<string, Record<string, unknown>>();
    for (const item of items) map.set(keyOf(item), this.stamp(item));
    this.collections.set(path, map);
  }

  /** Applies an event to the collection and streams it to the open watches of `path`. */
  event(path: string, type: 'ADDED' | 'MODIFIED' | 'DELETED', object: Record<string, unknown>): void {
    const collection = this.collections.get(path);
    if (collection === undefined) throw new Error(`no collection at ${path}`);
    const stamped = this.stamp(object);
    if (type === 'DELETED') collection.delete(keyOf(stamped));
    else collection.set(keyOf(stamped), stamped);
    for (const response of this.watchers.get(path) ?? []) response.write(`${JSON.stringify({ type, object: stamped })}\n`);
  }

  /** Ends the open watches of `path`, as the API server does when a watch times out. */
  endWatches(path: string): void {
    for (const response of this.watchers.get(path) ?? []) response.end();
  }

  openWatches(path: string): number {
    return this.watchers.get(path)?.size ?? 0;
  }

  openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const open of this.watchers.values()) for (const response of open) response.end();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private stamp(object: Record<string, unknown>): Record<string, unknown> {
    this.resourceVersion += 1;
    const metadata = { ...(object.metadata as Record<string, unknown>), resourceVersion: String(this.resourceVersion) };
    return { ...object, metadata };
  }
}

const keyOf = (object: Record<string, unknown>): string => {
  const metadata = object.metadata as { namespace?: string; name?: string };
  return `${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
};

const STORAGES = '/apis/storage.kubestash.com/v1alpha1/backupstorages';
const RETENTION = '/apis/storage.kubestash.com/v1alpha1/retentionpolicies';
const REPOSITORIES = '/apis/storage.kubestash.com/v1alpha1/repositories';
const HOOKS = '/apis/core.kubestash.com/v1alpha1/hooktemplates';
const BLUEPRINTS = '/apis/core.kubestash.com/v1alpha1/backupblueprints';
const CONFIGURATIONS = '/apis/core.kubestash.com/v1alpha1/backupconfigurations';
const POLICIES = '/apis/policy.autostash.dev/v1alpha1/backuppolicies';
const NAMESPACES = '/api/v1/namespaces';
const ADDONS = '/apis/addons.kubestash.com/v1alpha1/addons';
const FUNCTIONS = '/apis/addons.kubestash.com/v1alpha1/functions';

const storage = (namespace: string, name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'BackupStorage',
  metadata: { namespace, name },
  spec: { default: false, ...extra },
});

const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });

async function startServer(t: { teardown(fn: () => unknown): void }): Promise<{ api: FakeApiServer; kubeConfig: KubeConfig }> {
  const api = new FakeApiServer();
  await api.start(certs.tlsCert, certs.tlsKey);
  t.teardown(() => api.close());
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: `https://127.0.0.1:${api.port}`, caData: Buffer.from(certs.caCert).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'tester', token: 'not-a-secret' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
    currentContext: 'fake',
  });
  return { api, kubeConfig };
}

t.test('the view answers from the caches and follows watch events', async (t) => {
  const { api, kubeConfig } = await startServer(t);
  api.serve(STORAGES, [storage('stash', 'local', { default: true }), storage('team-a', 's3')]);
  api.serve(RETENTION, [{ metadata: { namespace: 'stash', name: 'keep-1mo' }, spec: {} }]);
  api.serve(REPOSITORIES);
  api.serve(HOOKS);
  api.serve(BLUEPRINTS);
  api.serve(CONFIGURATIONS);
  api.serve(POLICIES, [{ metadata: { name: 'production' }, spec: { rules: { requireBackup: { action: 'Deny' } } } }]);
  api.serve(ADDONS, [{ metadata: { name: 'workload-addon' }, spec: {} }]);
  api.serve(FUNCTIONS);
  api.serve(NAMESPACES, [{ metadata: { name: 'team-a', labels: { team: 'a' }, creationTimestamp: '2024-01-01T00:00:00Z' } }]);

  const { logger, lines } = memoryLogger();
  const informers = startInformerView(kubeConfig, logger, { initialBackoffMs: 20 });
  t.teardown(() => informers.stop());
  t.equal(informers.hasSynced(), false, 'not synced before the first lists');
  await eventually('every informer to list', () => informers.hasSynced());
  const { view } = informers;

  t.same(view.list('BackupStorage').map((o) => o.metadata?.name).sort(), ['local', 's3']);
  t.same(view.list('BackupStorage', 'team-a').map((o) => o.metadata?.name), ['s3']);
  t.same(view.list('BackupStorage', 'nowhere'), []);
  t.match(view.get('BackupStorage', 'stash', 'local'), { spec: { default: true } });
  t.equal(view.get('BackupStorage', 'stash', 'missing'), undefined);
  t.match(view.get('RetentionPolicy', 'stash', 'keep-1mo'), { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy' }, 'list items get apiVersion and kind');
  t.same(view.list('Repository'), []);
  t.same(view.list('BackupPolicy').map((o) => o.metadata?.name), ['production'], 'cluster-scoped BackupPolicies, listed without a namespace');
  t.same(view.list('Addon').map((o) => o.metadata?.name), ['workload-addon'], 'cluster-scoped Addons, listed without a namespace');
  t.match(view.namespace('team-a'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { team: 'a' } } });
  t.type(view.namespace('team-a')?.metadata.creationTimestamp, 'string', 'namespaces are plain JSON, like watch events');
  t.equal(view.namespace('team-b'), undefined);

  await eventually('the watches to open', () => VIEW_RESOURCES.every((r) => api.openWatches(r.group === '' ? NAMESPACES : `/apis/${r.group}/${r.version}/${r.plural}`) === 1));
  api.event(STORAGES, 'ADDED', storage('team-b', 'gcs'));
  api.event(STORAGES, 'MODIFIED', storage('stash', 'local', { default: false }));
  api.event(STORAGES, 'DELETED', storage('team-a', 's3'));
  api.event(NAMESPACES, 'ADDED', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-b' } });
  await eventually('the watch events to reach the view', () => view.namespace('team-b'));
  await eventually('the deletion to reach the view', () => view.get('BackupStorage', 'team-a', 's3') === undefined);
  t.ok(view.get('BackupStorage', 'team-b', 'gcs'), 'ADDED');
  t.match(view.get('BackupStorage', 'stash', 'local'), { spec: { default: false } }, 'MODIFIED');
  t.same(view.list('BackupStorage').map((o) => o.metadata?.name).sort(), ['gcs', 'local'], 'DELETED');

  // The API server ends watches now and then; the informer resumes from the last resourceVersion.
  const watchesBefore = api.requests.filter((r) => r.path === STORAGES && r.watch).length;
  api.endWatches(STORAGES);
  await eventually('a new watch', () => api.requests.filter((r) => r.path === STORAGES && r.watch).length > watchesBefore);
  const resumed = api.requests.filter((r) => r.path === STORAGES && r.watch).at(-1);
  t.not(resumed?.resourceVersion, null);
  t.not(resumed?.resourceVersion, '', 'resumed from a resourceVersion, without relisting');
  t.equal(api.requests.filter((r) => r.path === STORAGES && !r.watch).length, 1, 'listed once');
  await eventually('the resumed watch to be open', () => api.openWatches(STORAGES) === 1);
  api.event(STORAGES, 'ADDED', storage('team-c', 'azure'));
  await eventually('events on the resumed watch', () => view.get('BackupStorage', 'team-c', 'azure'));

  t.throws(() => view.list('Snapshot' as never), /does not cache Snapshot/);
  t.same(lines.filter((line) => line.level >= 40), [], 'nothing to warn about');

  await informers.stop();
  await eventually('every connection to close after stop()', () => api.openConnections() === 0);
  t.equal(api.openConnections(), 0, 'stop() leaves no connection open');
  await informers.stop(); // idempotent
});

t.test('a kind the API server does not serve stays empty, is warned about once, and is picked up later', async (t) => {
  const { api, kubeConfig } = await startServer(t);
  api.serve(STORAGES, [storage('stash', 'local')]);
  api.serve(REPOSITORIES);
  api.serve(HOOKS);
  api.serve(BLUEPRINTS);
  api.serve(CONFIGURATIONS);
  api.serve(POLICIES);
  api.serve(ADDONS);
  api.serve(FUNCTIONS);
  api.serve(NAMESPACES);
  // No RetentionPolicy collection: its CRD is "not installed".
  const { logger, lines } = memoryLogger();
  const informers = startInformerView(kubeConfig, logger, { missingKindRetryMs: 50 });
  t.teardown(() => informers.stop());
  await eventually('sync with a missing kind', () => informers.hasSynced());
  t.same(informers.view.list('RetentionPolicy'), []);
  t.equal(informers.view.get('RetentionPolicy', 'stash', 'x'), undefined);
  t.ok(informers.view.get('BackupStorage', 'stash', 'local'), 'other kinds are unaffected');
  await eventually('a few retries', () => api.requests.filter((r) => r.path === RETENTION).length >= 3);
  const warnings = lines.filter((line) => line.msg === 'resource not served by the API server; its view stays empty');
  t.equal(warnings.length, 1, 'warned once despite retries');
  t.match(warnings[0], { level: 40, kind: 'RetentionPolicy', path: RETENTION });

  api.serve(RETENTION, [{ metadata: { namespace: 'stash', name: 'keep' } }]);
  await eventually('the kind once its CRD exists', () => informers.view.get('RetentionPolicy', 'stash', 'keep'));
  t.ok(lines.some((line) => line.msg === 'resource now served; filling its view'));
  await informers.stop();
  await eventually('every connection to close after stop()', () => api.openConnections() === 0);
});

t.test('failed lists are retried with backoff until the informer syncs', async (t) => {
  const { api, kubeConfig } = await startServer(t);
  for (const path of [STORAGES, RETENTION, REPOSITORIES, HOOKS, BLUEPRINTS, CONFIGURATIONS, NAMESPACES]) api.serve(path);
  api.failLists.set(HOOKS, [500, 503]);
  const { logger, lines } = memoryLogger();
  const informers = startInformerView(kubeConfig, logger, { initialBackoffMs: 10, maxBackoffMs: 40 });
  t.teardown(() => informers.stop());
  await eventually('sync after the failures', () => informers.hasSynced());
  const failures = lines.filter((line) => line.msg === 'informer failed; restarting after backoff');
  t.match(failures, [
    { kind: 'HookTemplate', status: 500, failures: 1, retryInMs: 10 },
    { kind: 'HookTemplate', status: 503, failures: 2, retryInMs: 20 },
  ]);
  t.equal(api.requests.filter((r) => r.path === HOOKS && !r.watch).length, 3);
  await informers.stop();
  await eventually('every connection to close after stop()', () => api.openConnections() === 0);
});

t.test('an unreachable API server: never synced, retried, and stop() ends the retries', async (t) => {
  const { api, kubeConfig } = await startServer(t);
  await api.close(); // nothing listens on the port any more
  const { logger, lines } = memoryLogger();
  const informers = startInformerView(kubeConfig, logger, { initialBackoffMs: 10, maxBackoffMs: 20 });
  await eventually('retries', () => lines.filter((line) => line.msg === 'informer failed; restarting after backoff' && line.kind === 'BackupStorage').length >= 3);
  t.equal(informers.hasSynced(), false);
  t.match(lines.find((line) => line.kind === 'BackupStorage'), { status: undefined, err: /ECONNREFUSED|connect/ });
  await informers.stop();
  const count = lines.length;
  await new Promise((resolve) => setTimeout(resolve, 100)); // several backoff periods: a live informer would log again
  t.equal(lines.length, count, 'no retries after stop()');
});

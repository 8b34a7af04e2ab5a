import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../../src/embedded/http/api-server.js';
import { generateToken, writeKubeconfig } from '../../../src/embedded/http/kubeconfig-file.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';
import { generateCertificates } from '../../../src/server/certificates.js';
import { repoRoot } from '../../helpers/paths.js';

const certs = await generateCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
const token = generateToken();
const api = createEmbeddedApi({ watchCacheSize: 5 });
const requests: { method?: string; path?: string; query?: string }[] = [];
const serverOptions: ApiServerOptions = {
  api,
  port: 0,
  tls: { key: certs.tlsKey, cert: certs.tlsCert },
  caCert: certs.caCert,
  token,
  logger: { debug: (entry: unknown) => void requests.push(entry as (typeof requests)[number]), warn: () => undefined, error: () => undefined },
};
let server: RunningApiServer = await startApiServer(serverOptions);
const dir = await mkdtemp(join(tmpdir(), 'embedded-client-node-'));
const kubeconfigPath = join(dir, 'kubeconfig');
await writeKubeconfig(kubeconfigPath, { server: server.url, caCert: certs.caCert, token });
t.teardown(async () => {
  await server.close();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const kc = new KubeConfig();
kc.loadFromFile(kubeconfigPath);
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const objects = KubernetesObjectApi.makeApiClient(kc);

const until = async (what: string, check: () => boolean): Promise<void> => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

t.test('a wrong token is refused', async (t) => {
  const wrong = new KubeConfig();
  wrong.loadFromString((await readFile(kubeconfigPath, 'utf8')).replace(token, 'not-the-token'));
  const error = await wrong.makeApiClient(CoreV1Api).listNamespace().catch((e: unknown) => e);
  t.ok(error instanceof ApiException);
  t.equal((error as ApiException<unknown>).code, 401);
});

t.test('CoreV1Api: CRUD and list with selectors', async (t) => {
  await core.createNamespace({ body: { metadata: { name: 'client' } } });
  const body: V1ConfigMap = { metadata: { name: 'settings', labels: { tier: 'a' } }, data: { k: 'v' } };
  const created = await core.createNamespacedConfigMap({ namespace: 'client', body });
  t.equal(created.metadata?.namespace, 'client');
  await core.createNamespacedConfigMap({ namespace: 'client', body: { metadata: { name: 'other', labels: { tier: 'b' } } } });
  const conflict = await core.createNamespacedConfigMap({ namespace: 'client', body }).catch((e: unknown) => e);
  t.equal((conflict as ApiException<unknown>).code, 409);
  const selected = await core.listNamespacedConfigMap({ namespace: 'client', labelSelector: 'tier=a' });
  t.same(selected.items.map((i) => i.metadata?.name), ['settings']);
  const byField = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=other' });
  t.same(byField.items.map((i) => i.metadata?.name), ['other']);
  const read = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'client' });
  read.data = { k: 'changed' };
  t.same((await core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'client', body: read })).data, { k: 'changed' });
  const patched = await core.patchNamespacedConfigMap(
    { name: 'settings', namespace: 'client', body: { data: { extra: 'x' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  t.same(patched.data, { k: 'changed', extra: 'x' });
  await core.deleteNamespacedConfigMap({ name: 'settings', namespace: 'client' });
  const gone = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'client' }).catch((e: unknown) => e);
  t.equal((gone as ApiException<unknown>).code, 404);
});

t.test('AppsV1Api: a Deployment with a strategic merge patch keeps its other containers fields', async (t) => {
  await apps.createNamespacedDeployment({
    namespace: 'client',
    body: {
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1', ports: [{ containerPort: 80 }] }] } },
      },
    },
  });
  const patched = await apps.patchNamespacedDeployment(
    { name: 'web', namespace: 'client', body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } } } } },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  t.match(patched.spec?.template.spec?.containers, [{ name: 'app', image: 'nginx:2', ports: [{ containerPort: 80 }] }]);
  const list = await apps.listDeploymentForAllNamespaces();
  t.same(list.items.map((d) => d.metadata?.name), ['web']);
});

t.test('our CRDs install; CustomObjectsApi and KubernetesObjectApi serve custom resources', async (t) => {
  const crdDir = join(repoRoot, 'charts', 'autostash', 'crds');
  for (const file of (await readdir(crdDir)).filter((f) => f.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(await readFile(join(crdDir, file), 'utf8'))) {
      const crd = document.toJS() as KubernetesObject | null;
      if (crd) await objects.create(crd);
    }
  }
  const retention = {
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'RetentionPolicy',
    metadata: { name: 'keep', namespace: 'client' },
    spec: { maxRetentionPeriod: '30d', successfulSnapshots: { last: 5 }, usagePolicy: { allowedNamespaces: { from: 'Same' } } },
  };
  const created = (await custom.createNamespacedCustomObject({ group: 'storage.kubestash.com', version: 'v1alpha1', namespace: 'client', plural: 'retentionpolicies', body: retention })) as KubernetesObject;
  t.equal(created.metadata?.name, 'keep');
  const listed = (await custom.listNamespacedCustomObject({ group: 'storage.kubestash.com', version: 'v1alpha1', namespace: 'client', plural: 'retentionpolicies' })) as { items: KubernetesObject[] };
  t.same(listed.items.map((i) => i.metadata?.name), ['keep']);

  const read = await objects.read({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'keep', namespace: 'client' } });
  t.equal(read.metadata?.uid, created.metadata?.uid);
  const applied = await objects.patch(
    { ...retention, spec: { ...retention.spec, maxRetentionPeriod: '60d' } },
    undefined,
    undefined,
    'client-test',
    true,
    PatchStrategy.ServerSideApply,
  );
  t.match(applied, { spec: { maxRetentionPeriod: '60d' } });
  const merged = await objects.patch({ apiVersion: retention.apiVersion, kind: retention.kind, metadata: { name: 'keep', namespace: 'client', labels: { x: 'y' } } }, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
  t.match(merged, { metadata: { labels: { x: 'y' } }, spec: { maxRetentionPeriod: '60d' } });
  const cm = await objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'generic', namespace: 'client' } } as KubernetesObject);
  t.equal(cm.metadata?.name, 'generic');
  await objects.delete({ apiVersion: retention.apiVersion, kind: retention.kind, metadata: { name: 'keep', namespace: 'client' } });
  const gone = await objects.read({ apiVersion: retention.apiVersion, kind: retention.kind, metadata: { name: 'keep', namespace: 'client' } }).catch((e: unknown) => e);
  t.equal((gone as ApiException<unknown>).code, 404);
});

t.test('Watch receives ADDED, MODIFIED and DELETED', async (t) => {
  await core.createNamespace({ body: { metadata: { name: 'watched' } } });
  const events: string[] = [];
  const controller = await new Watch(kc).watch(
    '/api/v1/namespaces/watched/configmaps',
    {},
    (type: string, object: KubernetesObject) => events.push(`${type} ${object.metadata?.name}`),
    () => undefined,
  );
  t.teardown(() => controller.abort());
  await until('the watch to be open', () => requests.some((r) => r.path === '/api/v1/namespaces/watched/configmaps' && r.query?.includes('watch=true')));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w' } } });
  await core.patchNamespacedConfigMap({ name: 'w', namespace: 'watched', body: { data: { a: 'b' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  await core.deleteNamespacedConfigMap({ name: 'w', namespace: 'watched' });
  await until('three events', () => events.length >= 3);
  t.same(events, ['ADDED w', 'MODIFIED w', 'DELETED w']);
});

t.test('an informer lists, watches, reconnects after the server drops the watch, and relists on 410', async (t) => {
  await core.createNamespace({ body: { metadata: { name: 'inform' } } });
  await core.createNamespacedConfigMap({ namespace: 'inform', body: { metadata: { name: 'before' } } });
  const path = '/api/v1/namespaces/inform/configmaps';
  const informer = makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace: 'inform' }));
  const added: string[] = [];
  const deleted: string[] = [];
  informer.on('add', (o) => added.push(o.metadata?.name ?? ''));
  informer.on('delete', (o) => deleted.push(o.metadata?.name ?? ''));
  let stopped = false;
  // As a controller would: restart after an error (here: the server being down), until stopped.
  informer.on('error', () => setTimeout(() => void (stopped ? undefined : informer.start()), 100));
  const listCalls = () => requests.filter((r) => r.method === 'GET' && r.path === path && !r.query?.includes('watch=')).length;
  const watchCalls = () => requests.filter((r) => r.path === path && r.query?.includes('watch=true')).length;
  await informer.start();
  t.teardown(async () => {
    stopped = true;
    await informer.stop();
  });
  await until('the informer list', () => added.includes('before'));
  t.equal(listCalls(), 1);
  await until('the first watch', () => watchCalls() === 1);

  await core.createNamespacedConfigMap({ namespace: 'inform', body: { metadata: { name: 'live' } } });
  await until('a watched add', () => added.includes('live'));

  server.endWatches();
  await until('the informer to watch again', () => watchCalls() === 2);
  await core.createNamespacedConfigMap({ namespace: 'inform', body: { metadata: { name: 'after-reconnect' } } });
  await until('an add after reconnecting', () => added.includes('after-reconnect'));
  t.equal(listCalls(), 1, 'a clean end of the stream resumes from the last resourceVersion without listing');

  // Down long enough for the watch cache (5 events) to forget the informer's resourceVersion.
  const port = server.port;
  await server.close();
  for (let i = 0; i < 8; i++) {
    await api.create({ group: '', version: 'v1', resource: 'configmaps' }, 'inform', { metadata: { name: `while-down-${i}` } });
  }
  await api.delete({ group: '', version: 'v1', resource: 'configmaps' }, 'inform', 'live');
  server = await startApiServer({ ...serverOptions, port });
  await until('a relist after 410', () => added.includes('while-down-7') && deleted.includes('live'));
  t.equal(listCalls(), 2, 'the informer relisted once');
  t.same(informer.list('inform').map((o) => o.metadata?.name).sort(), ['after-reconnect', 'before', ...Array.from({ length: 8 }, (_, i) => `while-down-${i}`)].sort());
});

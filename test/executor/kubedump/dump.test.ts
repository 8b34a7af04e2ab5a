import t from 'tap';
import { chmod, mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseKubedumpFilter, type KubedumpFilter } from '../../../src/domain/kubedump/filter.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { dumpResources, type DumpScope } from '../../../src/executor/kubedump/dump.js';
import { parseApplicationRef, runDumpToDirectory } from '../../../src/executor/kubedump/dump-to-directory.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';
import { createShop, listFiles, OTHER, SECRET_VALUE, SHOP } from './fixtures.js';

const filterOf = (params: Record<string, string>): KubedumpFilter => {
  const parsed = parseKubedumpFilter(params);
  if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
  return parsed.filter;
};

t.test('kubedump on the embedded control plane', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await mkdtemp(join(tmpdir(), 'autostash-kubedump-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await createShop(client);

  let count = 0;
  const dump = async (params: Record<string, string>, scope?: DumpScope, pageSize?: number): Promise<{ dir: string; files: string[]; objects: number }> => {
    const dir = join(root, `dump-${++count}`);
    const summary = await dumpResources({ client, logger: silentLogger(), filter: filterOf(params), outputDir: dir, ...(scope ? { scope } : {}), ...(pageSize ? { pageSize } : {}) });
    const files = await listFiles(dir);
    t.equal(summary.objects, files.length, 'one file per object written');
    return { dir, files, objects: summary.objects };
  };
  const shopFiles = [
    'configmaps/namespaces/shop/unrelated.yaml',
    'configmaps/namespaces/shop/web-config.yaml',
    'deployments.apps/namespaces/shop/web.yaml',
    'namespaces/cluster/shop.yaml',
    'persistentvolumeclaims/namespaces/shop/other-data.yaml',
    'persistentvolumeclaims/namespaces/shop/web-data.yaml',
    'pods/namespaces/shop/web-5d9c-x1.yaml',
    'replicasets.apps/namespaces/shop/web-5d9c.yaml',
    'secrets/namespaces/shop/unrelated-secret.yaml',
    'secrets/namespaces/shop/web-secret.yaml',
    'serviceaccounts/namespaces/shop/web-sa.yaml',
    'services/namespaces/shop/db.yaml',
    'services/namespaces/shop/web.yaml',
    'widgets.example.com/namespaces/shop/w1.yaml',
  ];

  t.test('whole cluster, no filter: every namespaced object, sanitized, no cluster-scoped types but Namespaces', async (t) => {
    const { dir, files } = await dump({});
    for (const file of shopFiles) t.ok(files.includes(file), `${file} dumped`);
    t.ok(files.includes('configmaps/namespaces/other/elsewhere.yaml'), 'other namespaces too');
    t.same(files.filter((f) => f.split('/')[1] === 'cluster' && !f.startsWith('namespaces/')), [], 'no cluster-scoped objects besides Namespaces');
    t.notOk(files.some((f) => f.startsWith('endpointslices.discovery.k8s.io/')), 'EndpointSlices are never dumped');

    const deployment = parse(await readFile(join(dir, 'deployments.apps/namespaces/shop/web.yaml'), 'utf8')) as KubeObject;
    t.equal(deployment.apiVersion, 'apps/v1');
    t.equal(deployment.kind, 'Deployment');
    for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation']) t.notOk(field in (deployment.metadata ?? {}), `no metadata.${field}`);
    t.same(deployment.metadata?.annotations, { note: 'kept' }, 'bookkeeping annotation dropped, others kept');
    t.equal((deployment.spec as { template: { spec: { serviceAccountName: string } } }).template.spec.serviceAccountName, 'web-sa');
    const secretText = await readFile(join(dir, 'secrets/namespaces/shop/web-secret.yaml'), 'utf8');
    t.equal(Buffer.from((parse(secretText) as { data: { token: string } }).data.token, 'base64').toString(), SECRET_VALUE, 'Secret data is in the dump');
    t.equal((await stat(join(dir, 'secrets/namespaces/shop/web-secret.yaml'))).mode & 0o777, 0o600, 'files are private');
    t.equal((await stat(join(dir, 'secrets'))).mode & 0o777, 0o700, 'directories are private');
    const claim = parse(await readFile(join(dir, 'persistentvolumeclaims/namespaces/shop/web-data.yaml'), 'utf8')) as KubeObject;
    t.notOk('status' in claim, 'claims lose status');
    const widget = parse(await readFile(join(dir, 'widgets.example.com/namespaces/shop/w1.yaml'), 'utf8')) as KubeObject;
    t.same(widget.spec, { size: 3 }, 'custom resources are dumped');
  });

  t.test('IncludeClusterResources=true adds cluster-scoped types (never Nodes)', async (t) => {
    const { files } = await dump({ IncludeClusterResources: 'true' });
    t.ok(files.includes('clusterroles.rbac.authorization.k8s.io/cluster/shop-reader.yaml'));
    t.ok(files.includes('customresourcedefinitions.apiextensions.k8s.io/cluster/widgets.example.com.yaml'));
    t.notOk(files.some((f) => f.startsWith('nodes/')), 'no Nodes');
  });

  t.test('IncludeNamespaces', async (t) => {
    const { files } = await dump({ IncludeNamespaces: OTHER });
    t.ok(files.includes('configmaps/namespaces/other/elsewhere.yaml'));
    t.ok(files.includes('namespaces/cluster/other.yaml'));
    t.notOk(files.some((f) => f.includes('/shop')), 'nothing of shop');
  });

  t.test('ExcludeNamespaces', async (t) => {
    const { files } = await dump({ ExcludeNamespaces: OTHER });
    t.ok(files.includes('configmaps/namespaces/shop/web-config.yaml'));
    t.notOk(files.some((f) => f.includes('/other/') || f === 'namespaces/cluster/other.yaml'), 'nothing of other');
  });

  t.test('IncludeResources (resource and resource.group)', async (t) => {
    const { files } = await dump({ IncludeResources: 'secrets,deployments.apps', IncludeNamespaces: SHOP });
    t.same(files, ['deployments.apps/namespaces/shop/web.yaml', 'secrets/namespaces/shop/unrelated-secret.yaml', 'secrets/namespaces/shop/web-secret.yaml']);
  });

  t.test('ExcludeResources wins over include', async (t) => {
    const { files } = await dump({ IncludeResources: '*', ExcludeResources: 'secrets,replicasets', IncludeNamespaces: SHOP });
    t.notOk(files.some((f) => f.startsWith('secrets/') || f.startsWith('replicasets.apps/')));
    t.ok(files.includes('deployments.apps/namespaces/shop/web.yaml'));
  });

  t.test('ANDedLabelSelectors', async (t) => {
    const { files } = await dump({ ANDedLabelSelectors: 'tier:front,app=web' });
    t.same(files, ['configmaps/namespaces/other/elsewhere.yaml', 'deployments.apps/namespaces/shop/web.yaml']);
  });

  t.test('ORedLabelSelectors', async (t) => {
    const { files } = await dump({ ORedLabelSelectors: 'tier:back,app:web', IncludeNamespaces: SHOP });
    t.same(files, [
      'configmaps/namespaces/shop/unrelated.yaml',
      'deployments.apps/namespaces/shop/web.yaml',
      'pods/namespaces/shop/web-5d9c-x1.yaml',
      'replicasets.apps/namespaces/shop/web-5d9c.yaml',
    ]);
  });

  t.test('pages of one object give the same dump as one page', async (t) => {
    const paged = await dump({ IncludeNamespaces: SHOP }, undefined, 1);
    const whole = await dump({ IncludeNamespaces: SHOP });
    t.same(paged.files, whole.files);
    t.same(paged.files, shopFiles);
  });

  t.test('a namespace scope keeps that namespace and its Namespace object', async (t) => {
    const { files } = await dump({}, { scope: 'namespace', namespace: SHOP });
    t.same(files, shopFiles);
    const none = await dump({ ExcludeNamespaces: SHOP }, { scope: 'namespace', namespace: SHOP });
    t.same(none.files, [], 'the filter still applies inside the scope');
  });

  t.test('an application scope keeps the workload, what it owns and what it names', async (t) => {
    const { files } = await dump({ IncludeClusterResources: 'true' }, { scope: 'application', namespace: SHOP, target: { group: 'apps', kind: 'Deployment', name: 'web' } });
    t.same(files, [
      'configmaps/namespaces/shop/web-config.yaml',
      'deployments.apps/namespaces/shop/web.yaml',
      'persistentvolumeclaims/namespaces/shop/web-data.yaml',
      'pods/namespaces/shop/web-5d9c-x1.yaml',
      'replicasets.apps/namespaces/shop/web-5d9c.yaml',
      'secrets/namespaces/shop/web-secret.yaml',
      'serviceaccounts/namespaces/shop/web-sa.yaml',
      'services/namespaces/shop/web.yaml',
    ]);
    // The filters narrow what is written, not what the application is: the target's own type and the
    // ReplicaSet between the Deployment and its Pod may be filtered out.
    const narrowed = await dump({ IncludeResources: 'pods,configmaps' }, { scope: 'application', namespace: SHOP, target: { group: 'apps', kind: 'Deployment', name: 'web' } });
    t.same(narrowed.files, ['configmaps/namespaces/shop/web-config.yaml', 'pods/namespaces/shop/web-5d9c-x1.yaml'], 'IncludeResources without the target kind');
    const withoutReplicaSets = await dump({ ExcludeResources: 'replicasets' }, { scope: 'application', namespace: SHOP, target: { group: 'apps', kind: 'Deployment', name: 'web' } });
    t.ok(withoutReplicaSets.files.includes('pods/namespaces/shop/web-5d9c-x1.yaml'), 'the Pod is still the Deployment\'s without its ReplicaSet');
    t.notOk(withoutReplicaSets.files.some((f) => f.startsWith('replicasets.apps/')), 'and the ReplicaSet is not written');
    await t.rejects(dump({}, { scope: 'application', namespace: SHOP, target: { group: 'apps', kind: 'Deployment', name: 'absent' } }), /the target Deployment shop\/absent does not exist/);
    await t.rejects(dump({}, { scope: 'application', namespace: SHOP, target: { group: 'example.org', kind: 'Gadget', name: 'g' } }), /not a namespaced kind the API server serves/);
  });

  t.test('a type the server refuses to list fails the dump, naming it', async (t) => {
    const filter = { ...filterOf({ IncludeNamespaces: SHOP, IncludeResources: 'configmaps' }), andLabelSelectors: [{ key: 'not a key!' }] };
    await t.rejects(dumpResources({ client, logger: silentLogger(), filter, outputDir: join(root, 'refused') }), /could not list configmaps in namespace shop: /);
    const everywhere = { ...filterOf({ IncludeResources: 'configmaps' }), andLabelSelectors: [{ key: 'not a key!' }] };
    await t.rejects(dumpResources({ client, logger: silentLogger(), filter: everywhere, outputDir: join(root, 'refused-all') }), /could not list configmaps: /);
  });

  t.test('exec dump --output: empty or new directory, --force, scopes and flag errors', async (t) => {
    const base = { client, logger: silentLogger(), filterParams: { IncludeNamespaces: SHOP } };
    const fresh = join(root, 'cli-new', 'nested');
    const made = await runDumpToDirectory({ ...base, output: fresh });
    t.ok(made.ok);
    t.match(made.message, new RegExp(`dumped ${shopFiles.length} object\\(s\\) of \\d+ resource type\\(s\\) into ${fresh}`));
    t.same(await listFiles(fresh), shopFiles);

    await t.rejects(runDumpToDirectory({ ...base, output: fresh }), /--output .* is not empty: choose an empty or new directory, or pass --force/);
    await writeFile(join(fresh, 'README.md'), 'mine');
    const checkedOut = join(fresh, 'secrets/namespaces/shop/web-secret.yaml');
    await chmod(checkedOut, 0o644);
    const forced = await runDumpToDirectory({ ...base, output: fresh, force: true });
    t.ok(forced.ok);
    t.same(await listFiles(fresh), [...shopFiles, 'README.md'].sort(), '--force writes into the directory and leaves other files');
    t.equal((await stat(checkedOut)).mode & 0o777, 0o600, 'a file that was world-readable (a git checkout) is made private before the Secret goes in');
    t.match(await readFile(checkedOut, 'utf8'), 'kind: Secret');

    const emptyDir = join(root, 'cli-empty');
    await mkdir(emptyDir);
    const scoped = await runDumpToDirectory({ ...base, filterParams: {}, output: emptyDir, namespaceScope: SHOP, application: 'Deployment.apps/web' });
    t.ok((await listFiles(emptyDir)).includes('replicasets.apps/namespaces/shop/web-5d9c.yaml'));
    t.equal(scoped.summary.objects, 8);
    const nsDir = join(root, 'cli-ns');
    await runDumpToDirectory({ ...base, filterParams: {}, output: nsDir, namespaceScope: OTHER });
    t.ok((await listFiles(nsDir)).every((f) => f.includes('/other/') || f === 'namespaces/cluster/other.yaml'), 'namespace scope');

    const aFile = join(root, 'a-file');
    await writeFile(aFile, 'x');
    await t.rejects(runDumpToDirectory({ ...base, output: aFile }), /--output .*a-file exists and is not a directory/);
    await t.rejects(runDumpToDirectory({ ...base, output: ' ' }), /--output must name a directory/);
    await t.rejects(runDumpToDirectory({ ...base, output: join(root, 'x'), application: 'Deployment.apps/web' }), /--application needs --namespace-scope/);
    await t.rejects(runDumpToDirectory({ ...base, output: join(root, 'x'), namespaceScope: SHOP, application: 'web' }), /--application "web" must be Kind\[\.group\]\/name/);
    await t.rejects(runDumpToDirectory({ ...base, filterParams: { IncludeNamespaces: 'Bad_NS' }, output: join(root, 'x') }), /invalid kubedump parameters: IncludeNamespaces: "Bad_NS" is not a namespace name/);
    t.same(parseApplicationRef('Pod/p'), { kind: 'Pod', group: '', name: 'p' });
  });
});

// `autostash manifests | kubectl apply -f -` against the embedded control plane: every install object
// is accepted, readable afterwards, and a second apply changes nothing.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { builtCliMissing, builtCliPath, startTestControlPlane } from '../helpers/control-plane.js';
import { kubectl, kubectlMissing } from '../helpers/kubectl.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; rules?: unknown; webhooks?: unknown; spec?: unknown };

t.test('the manifests apply to the embedded control plane', { skip: kubectlMissing || builtCliMissing }, async (t) => {
  const { plane } = await startTestControlPlane(t);
  const cacheDir = await mkdtemp(join(tmpdir(), 'autostash-install-apply-'));
  t.teardown(() => rm(cacheDir, { recursive: true, force: true }));

  const { stdout: manifests } = await promisify(execFile)(process.execPath, [builtCliPath, 'manifests', '--namespace', 'backup-system', '--set', 'jobServiceAccounts.namespaces=[apps]'], { maxBuffer: 64 * 1024 * 1024 });
  const objects = parseAllDocuments(manifests).map((doc) => doc.toJS() as Obj);
  t.ok(objects.length > 40, `${objects.length} objects printed`);

  // The job namespace must exist for its ServiceAccounts; the release namespace comes with the manifests.
  t.equal((await kubectl(plane.kubeconfigPath, cacheDir, ['create', 'namespace', 'apps'])).code, 0);
  const first = await kubectl(plane.kubeconfigPath, cacheDir, ['apply', '-f', '-'], manifests);
  t.equal(first.code, 0, first.stderr);
  for (const object of objects) {
    const kind = object.kind.toLowerCase();
    t.match(first.stdout, new RegExp(`^${kind}(\\.[a-z0-9.]+)?/${object.metadata.name.replace(/\./g, '\\.')} (created|configured|unchanged)$`, 'm'), `${object.kind} ${object.metadata.name} accepted`);
  }

  // CRDs are read by name (their full JSON exceeds the helper's output buffer); everything else in full.
  const crds = objects.filter((object) => object.kind === 'CustomResourceDefinition');
  const names = await kubectl(plane.kubeconfigPath, cacheDir, ['get', 'crds', '-o', 'name']);
  for (const crd of crds) t.match(names.stdout, `customresourcedefinition.apiextensions.k8s.io/${crd.metadata.name}\n`, `CRD ${crd.metadata.name} stored`);
  const rest = objects.filter((object) => object.kind !== 'CustomResourceDefinition');
  const read = await kubectl(plane.kubeconfigPath, cacheDir, ['get', '-f', '-', '-o', 'json'], rest.map((object) => JSON.stringify(object)).join('\n'));
  t.equal(read.code, 0, read.stderr);
  const items = (JSON.parse(read.stdout) as { items: Obj[] }).items;
  t.equal(items.length, rest.length, 'every object is readable');
  for (const [index, object] of rest.entries()) {
    const stored = items[index]!;
    t.same([stored.kind, stored.metadata.name, stored.metadata.namespace], [object.kind, object.metadata.name, object.metadata.namespace], `${object.kind} ${object.metadata.name} stored`);
    if (object.rules !== undefined) t.same(stored.rules, object.rules, `${object.kind} ${object.metadata.name}: rules kept`);
    if (object.webhooks !== undefined) t.same(stored.webhooks, object.webhooks, `${object.kind} ${object.metadata.name}: webhooks kept`);
  }

  const again = await kubectl(plane.kubeconfigPath, cacheDir, ['apply', '-f', '-'], manifests);
  t.equal(again.code, 0, again.stderr);
  t.notMatch(again.stdout, / created$/m, 'a second apply creates nothing');
});

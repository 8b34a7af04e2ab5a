import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runManifests, type ManifestsOptions } from '../../src/commands/manifests.js';
import { captureStream } from '../helpers/streams.js';

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> };

async function run(options: ManifestsOptions) {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runManifests(options, { stdout, stderr });
  return { code, stdout: stdout.text(), stderr: stderr.text(), objects: () => parseAllDocuments(stdout.text()).map((d) => d.toJS() as Obj) };
}

const dir = await mkdtemp(join(tmpdir(), 'autostash-manifests-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

t.test('defaults: the Namespace and every install object in namespace autostash', async (t) => {
  const result = await run({});
  t.equal(result.code, 0);
  t.equal(result.stderr, '');
  const objects = result.objects();
  t.match(objects.find((o) => o.kind === 'Namespace'), { metadata: { name: 'autostash' } });
  t.match(objects.find((o) => o.kind === 'Deployment'), { metadata: { namespace: 'autostash' }, spec: { replicas: 2 } });
  t.ok(objects.filter((o) => o.kind === 'CustomResourceDefinition').length >= 15);
});

t.test('values files then --set, later ones winning; --namespace; --no-create-namespace', async (t) => {
  const first = join(dir, 'first.yaml');
  const second = join(dir, 'second.yaml');
  await writeFile(first, 'replicas: 3\ncertificates:\n  source: cert-manager\n');
  await writeFile(second, 'replicas: 4\n');
  const result = await run({ values: [first, second], set: ['replicas=5', 'metrics.dashboard=false'], namespace: 'backup-system', release: 'backups', createNamespace: false });
  t.equal(result.code, 0, result.stderr);
  const objects = result.objects();
  t.notOk(objects.some((o) => o.kind === 'Namespace'));
  t.match(objects.find((o) => o.kind === 'Deployment'), { metadata: { namespace: 'backup-system', labels: { 'app.kubernetes.io/instance': 'backups' } }, spec: { replicas: 5, selector: { matchLabels: { 'app.kubernetes.io/instance': 'backups' } } } });
  t.ok(objects.some((o) => o.kind === 'Certificate'), 'the first file still applies where later ones are silent');
  t.notOk(objects.some((o) => o.kind === 'ConfigMap'));
});

t.test('an empty values file is no values', async (t) => {
  const empty = join(dir, 'empty.yaml');
  await writeFile(empty, '# nothing set\n');
  t.equal((await run({ values: [empty] })).code, 0);
});

t.test('every problem is reported on stderr with the value path, nothing on stdout', async (t) => {
  const bad = join(dir, 'bad.yaml');
  const broken = join(dir, 'broken.yaml');
  const several = join(dir, 'several.yaml');
  await writeFile(bad, 'replicas: 0\nwebhook:\n  matchCondition: false\n');
  await writeFile(broken, 'replicas: [\n');
  await writeFile(several, 'replicas: 1\n---\nreplicas: 2\n');
  const rows: Array<[string, ManifestsOptions, RegExp[]]> = [
    ['schema violations', { values: [bad] }, [/^autostash manifests: replicas: must be >= 1$/m, /^autostash manifests: webhook\.matchCondition: is not a known value/m]],
    ['a --set value of the wrong type', { set: ['webhook.mutateTimeoutSeconds=soon'] }, [/webhook\.mutateTimeoutSeconds: must be integer/]],
    ['a malformed --set', { set: ['replicas'] }, [/--set: "replicas" is not key=value/]],
    ['a missing file', { values: [join(dir, 'missing.yaml')] }, [/missing\.yaml: cannot be read \(ENOENT\)/]],
    ['invalid YAML', { values: [broken] }, [/broken\.yaml: is not valid YAML/]],
    ['several documents', { values: [several] }, [/several\.yaml: holds several YAML documents/]],
    ['a bad namespace', { namespace: 'Backup_System' }, [/--namespace: "Backup_System" is not a valid namespace name/]],
    ['a bad release name', { release: 'x'.repeat(54) }, [/--release: "x+" is not a valid release name/]],
  ];
  for (const [name, options, messages] of rows) {
    const result = await run(options);
    t.equal(result.code, 1, name);
    t.equal(result.stdout, '', `${name}: no half-written output`);
    for (const message of messages) t.match(result.stderr, message, name);
  }
});

t.test('every flag the Deployment passes to serve is a serve option, and its value loads', async (t) => {
  const { buildCli } = await import('../../src/commands/program.js');
  const { serveArgs, DEFAULT_VALUES } = await import('../../src/api/install/index.js');
  const { loadConfig } = await import('../../src/config.js');
  const serve = buildCli().commands.find((command) => command.name() === 'serve')!;
  const known = new Set(serve.options.map((option) => option.long));
  const [verb, ...flags] = serveArgs(DEFAULT_VALUES);
  t.equal(verb, 'serve');
  for (const flag of flags) t.ok(known.has(flag.split('=')[0]), `${flag.split('=')[0]} is a serve option`);
  // What commander would hand to runServe, checked by the same loader.
  serve.exitOverride();
  const parsed = serve.parseOptions(flags);
  t.same(parsed.unknown, [], 'nothing left unparsed');
  const config = loadConfig(serve.opts(), { POD_NAMESPACE: 'autostash' });
  t.same(config.controller.jobServiceAccounts, DEFAULT_VALUES.jobServiceAccounts.names);
  t.equal(config.controller.executorImage, 'ghcr.io/autostash/autostash:v0.1.0');
});

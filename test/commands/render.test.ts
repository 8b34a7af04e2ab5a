import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { buildCli } from '../../src/commands/program.js';
import { runRender, type RenderOptions } from '../../src/commands/render.js';
import { sharedDir } from '../helpers/paths.js';
import { captureStream, stdinWith } from '../helpers/streams.js';

const examples = join(sharedDir, 'kubestash', 'examples');
const workloadBlueprint = join(examples, 'auto-backup-workload__backupblueprint.yaml');
const pvcBlueprint = join(examples, 'auto-backup-pvc__backupblueprint.yaml');

async function render(options: RenderOptions, stdin = '') {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runRender(options, { stdin: stdinWith(stdin), stdout, stderr });
  const errors = stderr.text().split('\n').filter(Boolean);
  return { code, stdout: stdout.text(), errors: errors.filter((l) => !l.startsWith('Warning: ')), warnings: errors.filter((l) => l.startsWith('Warning: ')) };
}

let dir = '';
async function file(name: string, text: string): Promise<string> {
  dir ||= await mkdtemp(join(tmpdir(), 'autostash-render-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

t.test('the annotated Deployment example renders its BackupConfiguration as YAML', async (t) => {
  const result = await render({ blueprint: workloadBlueprint, target: join(examples, 'auto-backup-workload__deployment-annotated.yaml') });
  t.equal(result.code, 0, result.errors.join('\n'));
  t.same(result.errors, []);
  const configuration = parse(result.stdout);
  t.equal(configuration.kind, 'BackupConfiguration');
  t.equal(configuration.metadata.name, 'deployment-kubestash-demo');
  t.equal(configuration.metadata.namespace, 'demo');
  t.same(configuration.spec.target, { apiGroup: 'apps', kind: 'Deployment', name: 'kubestash-demo', namespace: 'demo' });
  t.equal(configuration.spec.sessions[0].repositories[0].directory, 'demo/kubestash-demo');
  t.equal(configuration.spec.sessions[0].addon.tasks[0].params.paths, '/source/data-1,/source/data-2');
  t.match(result.warnings, [/^Warning: BackupConfiguration demo\/deployment-kubestash-demo: spec\.backends\[0\]\.storageRef: BackupStorage demo\/gcs-storage does not exist \(yet\)$/, /RetentionPolicy demo\/demo-retention does not exist/]);
});

t.test('the PVC example: annotations come from the blueprint file and --set', async (t) => {
  const set = ['namespace=demo', 'targetName=nfs-pvc', 'repoName=pvc-repo'];
  const result = await render({ blueprint: pvcBlueprint, target: join(examples, 'auto-backup-pvc__nfs-pvc.yaml'), set });
  t.equal(result.code, 0, result.errors.join('\n'));
  const configuration = parse(result.stdout);
  t.equal(configuration.metadata.name, 'persistentvolumeclaim-nfs-pvc');
  t.same(configuration.spec.target, { kind: 'PersistentVolumeClaim', name: 'nfs-pvc', namespace: 'demo' });
  t.same(configuration.spec.sessions[0].repositories[0].name, 'pvc-repo');
  t.equal(configuration.metadata.annotations['autostash.dev/target-uid'], undefined, 'a manifest has no uid');
});

t.test('missing variables: the same errors as admission, one path: reason per line, exit 1', async (t) => {
  const result = await render({ blueprint: pvcBlueprint, target: join(examples, 'auto-backup-pvc__nfs-pvc.yaml'), set: ['namespace=demo'] });
  t.equal(result.code, 1);
  t.equal(result.stdout, '');
  t.same(
    result.errors.map((line) => line.slice(0, line.indexOf(': '))),
    ['metadata.annotations[variables.kubestash.com/repoName]', 'metadata.annotations[variables.kubestash.com/targetName]'],
  );
  t.match(result.errors[0], /BackupBlueprint demo\/pvc-backup-blueprint needs variable "repoName"/);
});

t.test('--set overrides an annotation of the target', async (t) => {
  const result = await render({ blueprint: workloadBlueprint, target: join(examples, 'auto-backup-workload__statefulset-annotated.yaml'), set: ['repoName=other-repo', 'repoName=final-repo', 'empty='] });
  t.equal(result.code, 0);
  t.equal(parse(result.stdout).spec.sessions[0].repositories[0].name, 'final-repo', 'the last --set wins');
});

t.test('usage errors and unreadable input exit 2', async (t) => {
  const deployment = join(examples, 'auto-backup-workload__deployment-annotated.yaml');
  const noBlueprint = await file('storage-only.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
  const twoBlueprints = await file('two.yaml', `${'apiVersion: core.kubestash.com/v1alpha1\nkind: BackupBlueprint\nmetadata: {name: a, namespace: demo}\nspec: {}\n'}---\n${'apiVersion: core.kubestash.com/v1alpha1\nkind: BackupBlueprint\nmetadata: {name: b, namespace: demo}\nspec: {}\n'}`);
  const broken = await file('broken.yaml', 'kind: [unclosed\n');
  const rows: Array<[string, RenderOptions, RegExp]> = [
    ['a --set without =', { blueprint: workloadBlueprint, target: deployment, set: ['novalue'] }, /--set novalue: expected <variable>=<value>/],
    ['a --set without a name', { blueprint: workloadBlueprint, target: deployment, set: ['=x'] }, /--set =x: expected/],
    ['a missing blueprint file', { blueprint: '/no/such/file.yaml', target: deployment }, /\/no\/such\/file\.yaml: no such file or directory/],
    ['a missing namespace file', { blueprint: workloadBlueprint, target: deployment, namespaceFile: '/no/ns.yaml' }, /\/no\/ns\.yaml: no such file/],
    ['no BackupBlueprint in the file', { blueprint: noBlueprint, target: deployment }, /expected exactly one BackupBlueprint, found 0/],
    ['two BackupBlueprints', { blueprint: twoBlueprints, target: deployment }, /expected exactly one BackupBlueprint, found 2/],
    ['no target of a supported kind', { blueprint: workloadBlueprint, target: noBlueprint }, /no object of a kind auto backup supports \(Deployment, StatefulSet, DaemonSet, PersistentVolumeClaim\)/],
    ['unparsable YAML', { blueprint: broken, target: deployment }, /broken\.yaml:\d+: YAML: /],
  ];
  for (const [name, options, message] of rows) {
    const result = await render(options);
    t.equal(result.code, 2, name);
    t.match(result.errors.join('\n'), new RegExp(`^autostash render: .*${message.source}`), name);
    t.equal(result.stdout, '', `${name}: nothing on stdout`);
  }
});

t.test('the blueprint can come from stdin', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const result = await render({ blueprint: '-', target: join(examples, 'auto-backup-workload__statefulset-annotated.yaml') }, await readFile(workloadBlueprint, 'utf8'));
  t.equal(result.code, 0);
  t.equal(parse(result.stdout).metadata.name, 'statefulset-sample-sts');
});

const blueprintYaml = (usagePolicy: string, extra = '') => `apiVersion: core.kubestash.com/v1alpha1
kind: BackupBlueprint
metadata: {name: bp, namespace: tools}
spec:
  usagePolicy: ${usagePolicy}
  backupConfigurationTemplate:
    namespace: \${namespace:=tools}
    backends:
      - name: b
        storageRef: {name: s, namespace: tools}
        retentionPolicy: {name: r, namespace: tools}
    sessions:
      - name: daily
        scheduler: {schedule: "0 1 * * *", jobTemplate: {}}
        repositories: [{name: "\${targetName}", backend: b, directory: "\${targetName}", encryptionSecret: {name: e}}]
        addon: {name: workload-addon, tasks: [{name: logical-backup}]}
${extra}`;
const deploymentYaml = (name: string, namespace?: string, annotations = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${namespace === undefined ? '' : `  namespace: ${namespace}\n`}${annotations}`;

t.test('a Selector usage policy is decided by --namespace-file', async (t) => {
  const blueprint = await file('selector-bp.yaml', blueprintYaml('{allowedNamespaces: {from: Selector, selector: {matchLabels: {backup: "on"}}}}'));
  const target = await file('shop-web.yaml', deploymentYaml('web', 'shop'));
  const on = await file('ns-on.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {backup: "on"}}\n');
  const off = await file('ns-off.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {backup: "off"}}\n');
  const allowed = await render({ blueprint, target, namespaceFile: on, set: ['targetName=web'] });
  t.equal(allowed.code, 0, allowed.errors.join('\n'));
  t.equal(parse(allowed.stdout).metadata.name, 'shop-deployment-web', 'configuration in tools, target in shop');
  const denied = await render({ blueprint, target, namespaceFile: off, set: ['targetName=web'] });
  t.equal(denied.code, 1);
  t.match(denied.errors, [/^metadata\.annotations\[blueprint\.kubestash\.com\/name\]: BackupBlueprint tools\/bp allows only namespaces whose labels match .* namespace "shop" may not use it/]);
  const unknown = await render({ blueprint, target, set: ['targetName=web'] });
  t.equal(unknown.code, 0);
  t.match(unknown.warnings.join('\n'), /Namespace "shop" is unknown/);
});

t.test('several targets: every one rendered, lines prefixed with the target', async (t) => {
  const blueprint = await file('all-bp.yaml', blueprintYaml('{allowedNamespaces: {from: All}}'));
  const ann = (vars: string) => `  annotations:\n    blueprint.kubestash.com/name: bp\n    blueprint.kubestash.com/namespace: tools\n${vars}`;
  const targets = await file(
    'targets.yaml',
    [deploymentYaml('a', 'demo', ann('    variables.kubestash.com/targetName: a\n')), deploymentYaml('b', 'demo', ann('')), deploymentYaml('c', 'demo', ann('    variables.kubestash.com/targetName: c\n')), deploymentYaml('plain', 'demo')].join('---\n'),
  );
  const result = await render({ blueprint, target: targets });
  t.equal(result.code, 1);
  const documents = parseAllDocuments(result.stdout).map((d) => d.toJS());
  t.same(documents.map((d) => d.metadata.name), ['demo-deployment-a', 'demo-deployment-c'], 'the valid ones are printed; the un-annotated one is not a target');
  t.match(result.errors, [/^Deployment demo\/b: metadata\.annotations\[variables\.kubestash\.com\/targetName\]: /]);
});

t.test('a target without a namespace is in default, and its annotations may name another blueprint', async (t) => {
  const blueprint = await file('default-bp.yaml', blueprintYaml('{allowedNamespaces: {from: All}}'));
  const bare = await file('bare.yaml', deploymentYaml('web'));
  const result = await render({ blueprint, target: bare, set: ['targetName=web', 'namespace=default'] });
  t.equal(result.code, 0, result.errors.join('\n'));
  t.match(parse(result.stdout), { metadata: { name: 'deployment-web', namespace: 'default' }, spec: { target: { namespace: 'default' } } });
  const other = await file('other.yaml', deploymentYaml('web', 'demo', '  annotations:\n    blueprint.kubestash.com/name: elsewhere\n    blueprint.kubestash.com/namespace: tools\n'));
  const mismatch = await render({ blueprint, target: other });
  t.equal(mismatch.code, 1);
  t.match(mismatch.errors, [/^metadata\.annotations\[blueprint\.kubestash\.com\/name\]: names BackupBlueprint tools\/elsewhere, but .*default-bp\.yaml holds BackupBlueprint tools\/bp$/]);
});

t.test('a blueprint without a namespace is in default', async (t) => {
  const blueprint = await file('nons-bp.yaml', blueprintYaml('{allowedNamespaces: {from: All}}').replace('namespace: tools}', 'namespace: ""}').replace('metadata: {name: bp, namespace: ""}', 'metadata: {name: bp}'));
  const result = await render({ blueprint, target: await file('t.yaml', deploymentYaml('web', 'demo')), set: ['targetName=web'] });
  t.equal(result.code, 0, result.errors.join('\n'));
  t.equal(parse(result.stdout).metadata.labels['kubestash.com/invoker-namespace'], 'default');
});

t.test('an invalid blueprint is reported as such, exit 1', async (t) => {
  const blueprint = await file('bad-bp.yaml', 'apiVersion: core.kubestash.com/v1alpha1\nkind: BackupBlueprint\nmetadata: {name: bp, namespace: tools}\nspec:\n  usagePolicy: {allowedNamespaces: {from: All}}\n  colour: blue\n');
  const result = await render({ blueprint, target: await file('t2.yaml', deploymentYaml('web', 'demo')) });
  t.equal(result.code, 1);
  t.same(result.errors, ['BackupBlueprint tools/bp: spec.backupConfigurationTemplate: backupConfigurationTemplate can not be empty: it holds the backends and sessions of the BackupConfigurations this blueprint generates']);
  t.match(result.warnings, [/^Warning: BackupBlueprint tools\/bp: unknown field "spec\.colour"/]);
});

t.test('the generated configuration is checked by the BackupConfiguration rules', async (t) => {
  const blueprint = await file('dir-bp.yaml', blueprintYaml('{allowedNamespaces: {from: All}}'));
  const result = await render({ blueprint, target: await file('t3.yaml', deploymentYaml('web', 'demo')), set: ['targetName=', 'namespace=demo'] });
  t.equal(result.code, 1);
  t.match(result.errors, [/^BackupConfiguration demo\/deployment-web: spec\.sessions\[0\]\.repositories\[0\]\.directory: directory is not provided/]);
});

t.test('render is registered on the CLI with its options', async (t) => {
  const command = buildCli().commands.find((c) => c.name() === 'render');
  t.ok(command);
  t.same(command?.options.map((o) => o.long), ['--blueprint', '--target', '--set', '--namespace-file']);
});

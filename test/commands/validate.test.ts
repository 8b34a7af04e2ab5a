import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runValidate } from '../../src/commands/validate.js';
import { repoRoot, sharedDir } from '../helpers/paths.js';
import { captureStream, stdinWith } from '../helpers/streams.js';

async function validate(paths: string[], stdin = '') {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runValidate(paths, { stdin: stdinWith(stdin), stdout, stderr });
  return { code, lines: stdout.text().split('\n').filter(Boolean), stderr: stderr.text() };
}

const examplesDir = join(sharedDir, 'kubestash', 'examples');
/** Doc output with `...` elisions says so in its header; such files must fail to parse, never crash. */
const isElidedDocOutput = (text: string): boolean => /^#.*(elision|elided|\.\.\.)/im.test(text.split('\n').slice(0, 5).join('\n'));

for (const file of readdirSync(examplesDir).filter((f) => f.endsWith('.yaml')).sort()) {
  t.test(`KubeStash example ${file}`, async (t) => {
    const path = join(examplesDir, file);
    const result = await validate([path]);
    if (isElidedDocOutput(readFileSync(path, 'utf8'))) {
      t.equal(result.code, 2, 'elided doc output is unreadable input');
      t.match(result.lines.join('\n'), /^FAIL .*: YAML: /m);
      return;
    }
    t.equal(result.code, 0, result.lines.join('\n'));
    t.ok(result.lines.length > 0);
    for (const line of result.lines) t.match(line, /^(OK|WARN) /);
  });
}

t.test('an annotated workload is previewed against the blueprints given with it', async (t) => {
  const blueprint = join(sharedDir, 'kubestash', 'examples', 'auto-backup-workload__backupblueprint.yaml');
  const workload = join(sharedDir, 'kubestash', 'examples', 'auto-backup-workload__deployment-annotated.yaml');
  const together = await validate([blueprint, workload]);
  t.equal(together.code, 0, together.lines.join('\n'));
  t.ok(together.lines.includes('OK Deployment demo/kubestash-demo'));
  const incomplete = await validate(['-'], `${readFileSync(blueprint, 'utf8')}\n---\n${readFileSync(workload, 'utf8').replace(/\n\s*variables\.kubestash\.com\/paths:.*\n/, '\n')}`);
  t.equal(incomplete.code, 1, incomplete.lines.join('\n'));
  t.match(incomplete.lines.join('\n'), /^FAIL Deployment demo\/kubestash-demo: metadata\.annotations\[variables\.kubestash\.com\/paths\]: /m);
});

t.test("autostash's own quick-start examples validate together", async (t) => {
  const result = await validate([join(repoRoot, 'examples')]);
  t.equal(result.code, 0, result.lines.join('\n'));
  t.ok(result.lines.includes('OK BackupBlueprint demo/nightly-workload-backup'));
  t.ok(result.lines.includes('OK Deployment demo/web'), 'the annotated Deployment expands with the blueprint among the files');
  t.ok(result.lines.includes('OK Secret demo/encrypt-secret (not a KubeStash kind: only apiVersion, kind and metadata were checked)'));
});

const invalidConfiguration = `
apiVersion: core.kubestash.com/v1alpha1
kind: BackupConfiguration
metadata:
  name: nightly
  namespace: demo
spec:
  backends:
    - name: b
      storageRef: {name: s}
      retentionPolicy: {name: r}
  sessions:
    - name: daily
      scheduler: {schedule: "0 1 * * *", jobTemplate: {}}
      addon: {name: workload-addon, tasks: [{name: logical-backup}]}
      repositories:
        - name: repo
          backend: other
          directory: ""
`;

t.test('an invalid document prints one FAIL line per error and exits 1', async (t) => {
  const result = await validate(['-'], invalidConfiguration);
  t.equal(result.code, 1);
  t.same(
    result.lines.filter((l) => l.startsWith('FAIL')).map((l) => l.split(': ')[1]),
    ['spec.sessions[0].repositories[0].backend', 'spec.sessions[0].repositories[0].directory'],
  );
  t.match(result.lines.join('\n'), /^FAIL BackupConfiguration demo\/nightly: spec\.sessions\[0\]\.repositories\[0\]\.backend: .*"other"/m);
});

t.test('the other documents act as the cluster', async (t) => {
  const storage = `apiVersion: storage.kubestash.com/v1alpha1
kind: BackupStorage
metadata: {name: s, namespace: demo}
spec:
  storage: {provider: gcs, gcs: {bucket: b, prefix: p}}
  usagePolicy: {allowedNamespaces: {from: Same}}
`;
  const consumer = invalidConfiguration.replace('namespace: demo', 'namespace: other').replace('backend: other', 'backend: b').replace('directory: ""', 'directory: d').replace('storageRef: {name: s}', 'storageRef: {name: s, namespace: demo}');
  const result = await validate(['-'], `${storage}---${consumer}`);
  t.equal(result.code, 1);
  t.match(result.lines.join('\n'), /^FAIL BackupConfiguration other\/nightly: spec\.backends\[0\]\.storageRef: .*not allowed/m);
});

t.test('unreadable documents: FAIL with source and line, exit 2', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-validate-'));
  const file = join(dir, 'elided.yaml');
  await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  ...\n  namespace: b\n');
  const result = await validate([file]);
  t.equal(result.code, 2);
  t.match(result.lines[0], new RegExp(`^FAIL ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+: YAML: `));
});

t.test('objects without apiVersion, kind or name', async (t) => {
  const result = await validate(['-'], 'metadata: {namespace: x}\nspec: {}\n');
  t.equal(result.code, 1);
  t.same(result.lines, [
    'FAIL <unknown> x/<unnamed>: apiVersion: Required value: every object needs an apiVersion, e.g. core.kubestash.com/v1alpha1',
    'FAIL <unknown> x/<unnamed>: kind: Required value: every object needs a kind, e.g. BackupConfiguration',
    'FAIL <unknown> x/<unnamed>: metadata.name: Required value: name or generateName is required',
  ]);
});

t.test('a wrong API version of a KubeStash kind', async (t) => {
  const result = await validate(['-'], 'apiVersion: core.kubestash.com/v1\nkind: BackupSession\nmetadata: {name: s}\nspec: {}\n');
  t.equal(result.code, 1);
  t.same(result.lines, ['FAIL BackupSession default/s: apiVersion: Unsupported value: "core.kubestash.com/v1": supported: "core.kubestash.com/v1alpha1"']);
});

t.test('cluster-scoped kinds print without a namespace; unknown fields warn', async (t) => {
  const result = await validate(['-'], 'apiVersion: addons.kubestash.com/v1alpha1\nkind: Addon\nmetadata: {name: a}\nspec: {colour: blue}\n');
  t.equal(result.code, 0);
  t.same(result.lines, ['OK Addon a', 'WARN Addon a: unknown field "spec.colour" (it would be dropped when stored)']);
});

t.test('missing path and empty input exit 2 with a message', async (t) => {
  const missing = await validate(['/no/such/dir']);
  t.equal(missing.code, 2);
  t.equal(missing.stderr, 'autostash validate: /no/such/dir: no such file or directory\n');
  const empty = await validate(['-'], '# nothing here\n');
  t.equal(empty.code, 2);
  t.match(empty.stderr, /no Kubernetes objects found in -/);
});

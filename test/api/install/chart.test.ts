// The chart's generated files are exactly what src/api/install renders (UPDATE_CHART=1 rewrites them),
// and its thin templates put each static part where the generator puts it.
import t from 'tap';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_VALUES, renderChartFiles, serveArgs, valuesJsonSchema } from '../../../src/api/install/index.js';
import { TEMPLATED_WEBHOOK_KEYS } from '../../../src/api/install/chart-files.js';
import { JOB_ROLES, jobClusterRoleName } from '../../../src/api/install/rbac.js';
import { repoRoot } from '../../helpers/paths.js';

const chartDir = join(repoRoot, 'charts', 'autostash');
const rendered = renderChartFiles();

if (process.env['UPDATE_CHART'] === '1') {
  for (const [path, content] of Object.entries(rendered)) {
    mkdirSync(dirname(join(chartDir, path)), { recursive: true });
    writeFileSync(join(chartDir, path), content);
  }
  t.comment(`rewrote ${Object.keys(rendered).length} generated chart files`);
}

const listFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? listFiles(join(dir, name)) : [join(dir, name)]));
const readChart = (path: string): string => {
  try {
    return readFileSync(join(chartDir, path), 'utf8');
  } catch {
    return '';
  }
};
const templates = Object.fromEntries(listFiles(join(chartDir, 'templates')).map((file) => [relative(chartDir, file), readFileSync(file, 'utf8')]));

t.test('generated chart files are fresh (run npm run manifests:chart)', async (t) => {
  const committed = listFiles(join(chartDir, 'files')).map((file) => relative(chartDir, file)).sort();
  t.same(committed, Object.keys(rendered).filter((path) => path.startsWith('files/')).sort(), 'files/ holds exactly the generated parts');
  for (const [path, content] of Object.entries(rendered)) t.ok(readChart(path) === content, `${path} is up to date`);
});

t.test('values.yaml and values.schema.json are the generator defaults and schema', async (t) => {
  t.same(parse(readChart('values.yaml')), DEFAULT_VALUES);
  t.same(JSON.parse(readChart('values.schema.json')), valuesJsonSchema());
});

/** Where each generated file must land: the template, and the line right above its include. */
const placements: Array<[file: string, template: string, keyAbove: RegExp]> = [
  ['files/rbac/controller-cluster-rules.yaml', 'templates/rbac.yaml', /^rules:$/],
  ['files/rbac/controller-namespace-rules.yaml', 'templates/rbac.yaml', /^rules:$/],
  ['files/deployment/pod-security-context.yaml', 'templates/deployment.yaml', /^ {6}securityContext:$/],
  ['files/deployment/container-security-context.yaml', 'templates/deployment.yaml', /^ {10}securityContext:$/],
  ['files/deployment/env.yaml', 'templates/deployment.yaml', /^ {10}env:$/],
  ['files/deployment/ports.yaml', 'templates/deployment.yaml', /^ {10}ports:$/],
  ['files/deployment/probes.yaml', 'templates/deployment.yaml', /^ {12}\{\{-? \.Files\.Get "files\/deployment\/ports\.yaml"/],
  ['files/deployment/volume-mounts.yaml', 'templates/deployment.yaml', /^ {10}volumeMounts:$/],
  ['files/deployment/volumes.yaml', 'templates/deployment.yaml', /^ {6}volumes:$/],
  ['files/webhooks/mutate.yaml', 'templates/webhooks.yaml', /^webhooks:$/],
  ['files/webhooks/validate.yaml', 'templates/webhooks.yaml', /^webhooks:$/],
  ['files/webhooks/workloads.yaml', 'templates/webhooks.yaml', /^ {4}\{\{- include "autostash\.webhookCommon"/],
  ['files/webhooks/workload-match-conditions.yaml', 'templates/webhooks.yaml', /^ {4}matchConditions:$/],
  ['dashboards/autostash.json', 'templates/dashboard-configmap.yaml', /^ {2}autostash\.json: \|$/],
];

t.test('every generated part is included by a template, under the key the generator uses', async (t) => {
  for (const [file, template, keyAbove] of placements) {
    const lines = (templates[template] ?? '').split('\n');
    const index = lines.findIndex((line) => line.includes(`.Files.Get "${file}"`));
    t.ok(index > 0, `${template} includes ${file}`);
    t.match(lines[index - 1] ?? '', keyAbove, `${file} sits under ${String(keyAbove)}`);
  }
  const rbac = templates['templates/rbac.yaml'] ?? '';
  t.match(rbac, /\$\.Files\.Get \(printf "files\/rbac\/%s-rules\.yaml" \$clusterRole\)/, 'job role rules are included by ClusterRole name');
  for (const role of JOB_ROLES) t.match(rbac, new RegExp(`"${role}" "${jobClusterRoleName(role)}"`), `${role} maps to ${jobClusterRoleName(role)}`);
  const ruleFiles = Object.keys(rendered).filter((path) => path.startsWith('files/rbac/autostash-'));
  t.same(ruleFiles.sort(), JOB_ROLES.map((role) => `files/rbac/${jobClusterRoleName(role)}-rules.yaml`).sort());
});

t.test('no template spells out a static part itself', async (t) => {
  for (const [name, text] of Object.entries(templates)) {
    t.notMatch(text, /^[ \t]*(verbs|apiGroups|failurePolicy|sideEffects|readOnlyRootFilesystem|allowPrivilegeEscalation|runAsNonRoot|livenessProbe|readinessProbe|rules):[ \t]*\S/m, `${name}: static fields come from files/`);
  }
  const webhookTemplate = templates['templates/webhooks.yaml'] ?? '';
  const filled = [...webhookTemplate.matchAll(/^ {4}(\w+):/gm)].map((m) => m[1]);
  filled.push(...[...webhookTemplate.matchAll(/^(namespaceSelector):$/gm)].map((m) => m[1]));
  t.same([...new Set(filled)].sort(), [...TEMPLATED_WEBHOOK_KEYS].sort(), 'the template fills exactly the keys the generated entries leave out');
});

t.test('the Deployment args in the template are the generator serve flags', async (t) => {
  const text = templates['templates/deployment.yaml'] ?? '';
  const block = /^ {10}args:\n((?: {12}- .*\n)+)/m.exec(text)?.[1] ?? '';
  const valueAt = (path: string): string => String(path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], DEFAULT_VALUES));
  const args = block
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().slice(2))
    .map((arg) => arg.replace(/\{\{ include "autostash\.image" \. \}\}/, `${DEFAULT_VALUES.image.repository}:${DEFAULT_VALUES.image.tag}`))
    .map((arg) => arg.replace(/\{\{ \.Values\.([\w.]+) \}\}/g, (_m, path: string) => valueAt(path)));
  t.same(args, serveArgs(DEFAULT_VALUES));
});

t.test('every value is described and defaulted (values.yaml comments come from the descriptions)', async (t) => {
  const walk = (schema: Record<string, unknown>, value: Record<string, unknown>, path: string): void => {
    for (const [key, child] of Object.entries(schema['properties'] as Record<string, Record<string, unknown>>)) {
      t.type(child['description'], 'string', `${path}${key} has a description`);
      t.ok(key in value, `${path}${key} has a default`);
      if (child['properties'] !== undefined) walk(child, value[key] as Record<string, unknown>, `${path}${key}.`);
    }
  };
  walk(valuesJsonSchema(), DEFAULT_VALUES as unknown as Record<string, unknown>, '');
  t.notMatch(readChart('values.yaml'), /# undefined/);
});

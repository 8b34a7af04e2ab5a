// Renders charts/autostash's templates (with a renderer for the Go-template subset they use; helm is
// not installed here) and checks the result equals the generator's objects for the same values, apart
// from the labels Helm adds. Together with chart.test.ts this ties the chart to src/api/install.
import t, { type Test } from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_VALUES, installObjects, mergeValues, type InstallValues } from '../../../src/api/install/index.js';
import { HelmSubset } from '../../helpers/helm-template.js';
import { repoRoot } from '../../helpers/paths.js';

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } };

const chartDir = join(repoRoot, 'charts', 'autostash');
const listFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? listFiles(join(dir, name)) : [join(dir, name)]));
const files = Object.fromEntries(listFiles(chartDir).map((file) => [relative(chartDir, file), readFileSync(file, 'utf8')]));
const chart = parse(files['Chart.yaml']!) as { name: string; version: string; appVersion: string };

function renderChart(release: string, namespace: string, values: InstallValues): { objects: Obj[]; notes: string } {
  const helm = new HelmSubset(files);
  const templates = Object.keys(files).filter((path) => path.startsWith('templates/')).sort();
  const parsed = new Map(templates.map((path) => [path, helm.parse(files[path]!)]));
  const root = {
    Values: values,
    Release: { Name: release, Namespace: namespace, Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Files: helm.filesObject,
  };
  const objects: Obj[] = [];
  for (const [path, nodes] of parsed) {
    if (!path.endsWith('.yaml')) continue;
    const text = helm.render(nodes, root);
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]!.message}\n${text}`);
      const object = document.toJS() as Obj | null;
      if (object !== null) objects.push(object);
    }
  }
  return { objects, notes: helm.render(parsed.get('templates/NOTES.txt')!, root) };
}

/** Drops the labels that say who manages an object (Helm vs autostash manifests). */
function withoutManagerLabels(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutManagerLabels);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'app.kubernetes.io/managed-by' || key === 'helm.sh/chart') continue;
    out[key] = withoutManagerLabels(child);
  }
  return out;
}

const keyOf = (o: Obj): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function compare(t: Test, release: string, namespace: string, values: InstallValues): { notes: string; objects: Obj[] } {
  const { objects, notes } = renderChart(release, namespace, values);
  const generated = (installObjects({ namespace, release, values }) as Obj[]).filter((o) => o.kind !== 'CustomResourceDefinition');
  t.same(objects.map(keyOf).sort(), generated.map(keyOf).sort(), 'the chart renders the same set of objects');
  const rendered = new Map(objects.map((o) => [keyOf(o), o]));
  for (const object of generated) {
    const fromChart = rendered.get(keyOf(object));
    t.ok(fromChart?.metadata.labels?.['helm.sh/chart'], `${keyOf(object)}: labelled by Helm`);
    t.same(withoutManagerLabels(fromChart), withoutManagerLabels(object), `${keyOf(object)} matches the generator`);
  }
  return { notes, objects };
}

t.test('default values render to the generated install', async (t) => {
  const { notes } = compare(t, 'autostash', 'autostash', DEFAULT_VALUES);
  t.match(notes, /autostash 0\.1\.0 is installed in namespace autostash \(2 replicas, certificates: self-managed\)/);
  t.match(notes, /kubectl -n autostash rollout status deployment\/autostash/);
  t.match(notes, /creates their\nServiceAccounts and RoleBindings there on demand/);
  t.match(notes, /list the namespaces of kubedump sessions in\njobServiceAccounts\.namespaces/);
  t.match(notes, /An account made on demand can read only its own namespace/);
  t.match(notes, /ConfigMap autostash\/autostash-dashboard/);
});

t.test('every switch the other way renders to the generated install too', async (t) => {
  const values = mergeValues(DEFAULT_VALUES, {
    replicas: 1,
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'backup', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }] } },
    certificates: { source: 'cert-manager', secretName: 'webhook-tls', certLifetime: '2160h' },
    webhook: { matchConditions: false, excludedNamespaces: [], validateTimeoutSeconds: 5 },
    jobServiceAccounts: { namespaces: ['apps', 'db', 'backup-system'], names: { backup: 'sa-backup' } },
    metrics: { dashboard: false },
    logLevel: 'debug',
    image: { repository: 'registry.local/autostash', tag: 'dev', pullPolicy: 'Always' },
  }) as InstallValues;
  const { notes, objects } = compare(t, 'backups', 'backup-system', values);
  t.ok(objects.some((o) => o.kind === 'Certificate'), 'cert-manager objects rendered');
  t.notOk(objects.some((o) => o.kind === 'PodDisruptionBudget'));
  t.match(notes, /Backup and restore Jobs get their ServiceAccounts in: backup-system, apps, db\./);
  t.notMatch(notes, /dashboard/);
});

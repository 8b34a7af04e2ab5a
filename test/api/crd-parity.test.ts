// Walks our schema of every kind against KubeStash's CRD (../shared/kubestash/crds) and reports every difference.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { crdFileName, crdFor } from '../../src/api/crd.js';
import { isKubernetesCoreType } from '../../src/api/kubernetes.js';
import { AUTOSTASH_EXTENSION_MARKER } from '../../src/api/schema-builders.js';
import { kinds } from '../../src/api/kinds.js';
import { sharedDir } from '../helpers/paths.js';

type Node = Record<string, unknown>;

/** Keywords compared by value at every node (children are walked separately). */
const comparedKeys = [
  'type', 'format', 'enum', 'default', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern', 'nullable', 'anyOf', 'allOf', 'oneOf',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-validations',
];

interface Walk {
  differences: string[];
  /** Paths where our schema declares a Kubernetes core type and the walk stops. */
  coreStops: string[];
  /** Paths of fields autostash adds (marked AUTOSTASH_EXTENSION_MARKER) that KubeStash's CRD does not have. */
  extensions: string[];
}

const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));

/** Compares two schema trees; `ours` may carry core-type markers, `theirs` is a plain CRD schema. */
function diffSchemas(ours: Node, theirs: Node, path: string, walk: Walk): void {
  if (isKubernetesCoreType(ours)) {
    walk.coreStops.push(path);
    if (theirs['type'] !== 'object') walk.differences.push(`${path}: declared a Kubernetes core type but KubeStash has type ${show(theirs['type'])}`);
    return;
  }
  for (const key of comparedKeys) {
    if (JSON.stringify(ours[key]) !== JSON.stringify(theirs[key])) {
      walk.differences.push(`${path}: ${key} differs: ours ${show(ours[key])}, KubeStash ${show(theirs[key])}`);
    }
  }
  const ourRequired = [...((ours['required'] as string[] | undefined) ?? [])].sort();
  const theirRequired = [...((theirs['required'] as string[] | undefined) ?? [])].sort();
  if (ourRequired.join(',') !== theirRequired.join(',')) {
    walk.differences.push(`${path}: required differs: ours [${ourRequired.join(', ')}], KubeStash [${theirRequired.join(', ')}]`);
  }
  const ourProperties = (ours['properties'] as Record<string, Node> | undefined) ?? {};
  const theirProperties = (theirs['properties'] as Record<string, Node> | undefined) ?? {};
  for (const name of new Set([...Object.keys(ourProperties), ...Object.keys(theirProperties)])) {
    const ourChild = ourProperties[name];
    const theirChild = theirProperties[name];
    const childPath = path === '' ? name : `${path}.${name}`;
    if (ourChild === undefined) walk.differences.push(`${childPath}: missing in ours`);
    else if (theirChild === undefined && typeof ourChild[AUTOSTASH_EXTENSION_MARKER] === 'string') walk.extensions.push(childPath);
    else if (theirChild === undefined) walk.differences.push(`${childPath}: not in KubeStash's CRD`);
    else diffSchemas(ourChild, theirChild, childPath, walk);
  }
  for (const [key, suffix] of [['items', '[]'], ['additionalProperties', '{}']] as const) {
    const ourChild = ours[key];
    const theirChild = theirs[key];
    if (typeof ourChild === 'object' && typeof theirChild === 'object' && ourChild !== null && theirChild !== null) {
      diffSchemas(ourChild as Node, theirChild as Node, `${path}${suffix}`, walk);
    } else if (JSON.stringify(ourChild) !== JSON.stringify(theirChild)) {
      walk.differences.push(`${path}: ${key} differs: ours ${show(ourChild)}, KubeStash ${show(theirChild)}`);
    }
  }
}

function walkKind(ours: Node, theirs: Node): Walk {
  const walk: Walk = { differences: [], coreStops: [], extensions: [] };
  diffSchemas(ours, theirs, '', walk);
  return walk;
}

const loadTheirs = (fileName: string): Node => parse(readFileSync(join(sharedDir, 'kubestash', 'crds', fileName), 'utf8')) as Node;
const versionOf = (crd: Node): Node => ((crd['spec'] as Node)['versions'] as Node[])[0]!;
const openApiOf = (crd: Node): Node => (versionOf(crd)['schema'] as Node)['openAPIV3Schema'] as Node;
/** Our schema as plain JSON, markers kept so the walker sees them. */
const oursAsJson = (schema: unknown): Node => JSON.parse(JSON.stringify(schema)) as Node;

for (const info of kinds) {
  t.test(`${info.kind} matches KubeStash's CRD`, async (t) => {
    const theirs = loadTheirs(crdFileName(info));
    const walk = walkKind(oursAsJson(info.schema), openApiOf(theirs));
    t.same(walk.differences, [], 'no schema differences');
    if (walk.extensions.length > 0) t.comment(`${info.kind}: autostash extensions ${walk.extensions.join(', ')}`);
    t.comment(`${info.kind}: ${walk.coreStops.length} Kubernetes core type stops: ${[...new Set(walk.coreStops.map((p) => p.replace(/^.*\./, '')))].sort().join(', ')}`);

    const ours = crdFor(info);
    const ourSpec = ours['spec'] as Node;
    const theirSpec = theirs['spec'] as Node;
    t.equal(ourSpec['group'], theirSpec['group'], 'group');
    t.same(ourSpec['names'], theirSpec['names'], 'names (kind, listKind, plural, singular, shortNames, categories)');
    t.equal(ourSpec['scope'], theirSpec['scope'], 'scope');
    const ourVersion = versionOf(ours);
    const theirVersion = versionOf(theirs);
    for (const key of ['name', 'served', 'storage', 'additionalPrinterColumns', 'subresources']) {
      t.same(ourVersion[key], theirVersion[key], key);
    }
    t.equal(ours['metadata'] && (ours['metadata'] as Node)['name'], (theirs['metadata'] as Node)['name'], 'CRD name');
  });
}

t.test('the walker reports differences', async (t) => {
  const info = kinds.find((k) => k.kind === 'BackupConfiguration')!;
  const theirs = openApiOf(loadTheirs(crdFileName(info)));
  const ours = oursAsJson(info.schema);
  const sessions = (((ours['properties'] as Node)['spec'] as Node)['properties'] as Node)['sessions'] as Node;
  const session = (sessions['items'] as Node)['properties'] as Record<string, Node>;
  delete session['backupTimeout'];
  session['extra'] = { type: 'string' };
  session['marked'] = { type: 'string', [AUTOSTASH_EXTENSION_MARKER]: 'an autostash field' };
  (session['sessionHistoryLimit'] as Node)['default'] = 2;
  const repository = ((session['repositories'] as Node)['items'] as Node)['properties'] as Record<string, Node>;
  (repository['deletionPolicy'] as Node)['enum'] = ['Delete'];
  ((session['scheduler'] as Node)['required'] as string[]).pop();
  (session['retryConfig'] as Node)['properties'] = { ...((session['retryConfig'] as Node)['properties'] as Node), maxRetry: { type: 'string' } };
  (session['addon'] as Node)['properties'] = { ...((session['addon'] as Node)['properties'] as Node), tasks: { type: 'object', 'x-autostash-kubernetes-core-type': 'Bogus' } };

  const walk = walkKind(ours, theirs);
  const expected = [
    'spec.sessions[].backupTimeout: missing in ours',
    'spec.sessions[].extra: not in KubeStash\'s CRD',
    'spec.sessions[].sessionHistoryLimit: default differs: ours 2, KubeStash 1',
    'spec.sessions[].repositories[].deletionPolicy: enum differs: ours ["Delete"], KubeStash ["Delete","WipeOut","Retain"]',
    'spec.sessions[].scheduler: required differs',
    'spec.sessions[].retryConfig.maxRetry: type differs',
    'spec.sessions[].retryConfig.maxRetry: format differs',
    'spec.sessions[].retryConfig.maxRetry: default differs',
    'spec.sessions[].retryConfig.maxRetry: minimum differs',
    'spec.sessions[].addon.tasks: declared a Kubernetes core type but KubeStash has type "array"',
  ];
  for (const line of expected) {
    t.ok(walk.differences.some((d) => d.startsWith(line)), `reports: ${line}`);
  }
  t.equal(walk.differences.length, expected.length, 'and nothing else');
  t.same(walk.extensions, ['spec.sessions[].marked'], 'a field marked as an autostash extension is listed, not reported');
});

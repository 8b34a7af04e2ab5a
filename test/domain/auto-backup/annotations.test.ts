import t from 'tap';
import {
  annotationPath,
  BLUEPRINT_NAME_ANNOTATION,
  BLUEPRINT_NAMESPACE_ANNOTATION,
  LEGACY_SESSIONS_ANNOTATION,
  readAutoBackupRequest,
  SESSION_NAMES_ANNOTATION,
  variableAnnotation,
} from '../../../src/domain/auto-backup/annotations.js';
import { AutoBackupErrorCodes } from '../../../src/domain/errors.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';

const withAnnotations = (annotations?: Record<string, string>): KubeObject => ({ kind: 'Deployment', metadata: { name: 'web', namespace: 'demo', annotations } });
const blueprint = { [BLUEPRINT_NAME_ANNOTATION]: 'bp', [BLUEPRINT_NAMESPACE_ANNOTATION]: 'tools' };

t.test('objects without blueprint annotations: undefined', async (t) => {
  t.equal(readAutoBackupRequest({}), undefined, 'no metadata');
  t.equal(readAutoBackupRequest(withAnnotations()), undefined, 'no annotations');
  t.equal(readAutoBackupRequest(withAnnotations({ other: 'x' })), undefined, 'unrelated annotations');
  t.equal(readAutoBackupRequest(withAnnotations({ [variableAnnotation('a')]: 'x', [SESSION_NAMES_ANNOTATION]: 'a' })), undefined, 'variables alone do not ask for a backup');
});

t.test('objects without annotations cost no more than two lookups', async (t) => {
  const looked: string[] = [];
  const annotations = new Proxy({ other: 'x' } as Record<string, string>, {
    get(target, key) {
      looked.push(String(key));
      return target[key as string];
    },
    ownKeys() {
      throw new Error('the annotations must not be enumerated');
    },
  });
  t.equal(readAutoBackupRequest(withAnnotations(annotations)), undefined);
  t.same(looked, [BLUEPRINT_NAME_ANNOTATION, BLUEPRINT_NAMESPACE_ANNOTATION]);
});

t.test('a complete request', async (t) => {
  const result = readAutoBackupRequest(
    withAnnotations({
      ...blueprint,
      [SESSION_NAMES_ANNOTATION]: ' daily , weekly,daily',
      [variableAnnotation('repoName')]: 'web-repo',
      [variableAnnotation('empty')]: '',
      [variableAnnotation('__proto__')]: 'p',
      'variables.kubestash.com/': 'no name, ignored',
      unrelated: 'x',
    }),
  );
  t.ok(result?.ok);
  if (!result?.ok) return;
  t.same(result.request.blueprint, { name: 'bp', namespace: 'tools' });
  t.same(result.request.sessionNames, ['daily', 'weekly']);
  t.equal(result.request.sessionNamesAnnotation, SESSION_NAMES_ANNOTATION);
  t.same(Object.keys(result.request.variables), ['repoName', 'empty', '__proto__']);
  t.equal(result.request.variables.repoName, 'web-repo');
  t.equal(result.request.variables.empty, '');
  t.equal(Object.getOwnPropertyDescriptor(result.request.variables, '__proto__')?.value, 'p');
  t.same(result.request.warnings, []);
});

t.test('no session list means every session', async (t) => {
  const result = readAutoBackupRequest(withAnnotations(blueprint));
  t.ok(result?.ok && result.request.sessionNames === undefined && result.request.sessionNamesAnnotation === undefined);
});

t.test('the legacy sessions key: accepted with a warning, ignored when the new key is set', async (t) => {
  const legacy = readAutoBackupRequest(withAnnotations({ ...blueprint, [LEGACY_SESSIONS_ANNOTATION]: 'daily' }));
  t.ok(legacy?.ok);
  if (legacy?.ok) {
    t.same(legacy.request.sessionNames, ['daily']);
    t.equal(legacy.request.sessionNamesAnnotation, LEGACY_SESSIONS_ANNOTATION);
    t.match(legacy.request.warnings, [/deprecated key; rename it to blueprint\.kubestash\.com\/session-names/]);
  }
  const both = readAutoBackupRequest(withAnnotations({ ...blueprint, [LEGACY_SESSIONS_ANNOTATION]: 'daily', [SESSION_NAMES_ANNOTATION]: 'weekly' }));
  t.ok(both?.ok);
  if (both?.ok) {
    t.same(both.request.sessionNames, ['weekly']);
    t.match(both.request.warnings, [/ignored because blueprint\.kubestash\.com\/session-names is also set/]);
  }
});

t.test('one row per annotation error', async (t) => {
  const rows: Array<[string, Record<string, string>, Array<[string, RegExp]>]> = [
    ['only the name', { [BLUEPRINT_NAME_ANNOTATION]: 'bp' }, [[BLUEPRINT_NAMESPACE_ANNOTATION, /missing: blueprint\.kubestash\.com\/name is set/]]],
    ['only the namespace', { [BLUEPRINT_NAMESPACE_ANNOTATION]: 'tools' }, [[BLUEPRINT_NAME_ANNOTATION, /missing: .* must name the BackupBlueprint too/]]],
    ['an empty name', { ...blueprint, [BLUEPRINT_NAME_ANNOTATION]: ' ' }, [[BLUEPRINT_NAME_ANNOTATION, /must not be empty: give the name/]]],
    ['an empty namespace', { ...blueprint, [BLUEPRINT_NAMESPACE_ANNOTATION]: '' }, [[BLUEPRINT_NAMESPACE_ANNOTATION, /must not be empty: give the namespace/]]],
    ['an empty session list', { ...blueprint, [SESSION_NAMES_ANNOTATION]: '' }, [[SESSION_NAMES_ANNOTATION, /comma-separated list of session names without empty entries/]]],
    ['an empty entry in the session list', { ...blueprint, [SESSION_NAMES_ANNOTATION]: 'a,,b' }, [[SESSION_NAMES_ANNOTATION, /without empty entries/]]],
    ['a trailing comma in the legacy list', { ...blueprint, [LEGACY_SESSIONS_ANNOTATION]: 'a,' }, [[LEGACY_SESSIONS_ANNOTATION, /without empty entries/]]],
    [
      'every problem at once',
      { [BLUEPRINT_NAME_ANNOTATION]: '', [SESSION_NAMES_ANNOTATION]: ',' },
      [
        [BLUEPRINT_NAME_ANNOTATION, /must not be empty/],
        [BLUEPRINT_NAMESPACE_ANNOTATION, /missing/],
        [SESSION_NAMES_ANNOTATION, /empty entries/],
      ],
    ],
  ];
  for (const [name, annotations, expected] of rows) {
    const result = readAutoBackupRequest(withAnnotations(annotations));
    t.equal(result?.ok, false, name);
    if (result?.ok !== false) continue;
    t.match(
      result.errors,
      expected.map(([key, message]) => ({ code: AutoBackupErrorCodes.AnnotationInvalid, path: annotationPath(key), message })),
      name,
    );
    t.equal(result.errors.length, expected.length, `${name}: error count`);
  }
});

t.test('names are trimmed', async (t) => {
  const result = readAutoBackupRequest(withAnnotations({ [BLUEPRINT_NAME_ANNOTATION]: ' bp ', [BLUEPRINT_NAMESPACE_ANNOTATION]: 'tools\n' }));
  t.ok(result?.ok && result.request.blueprint.name === 'bp' && result.request.blueprint.namespace === 'tools');
});

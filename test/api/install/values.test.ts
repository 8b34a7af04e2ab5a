import t from 'tap';
import { parse } from 'yaml';
import { DEFAULT_VALUES, mergeValues, parseSetArgument, resolveValues, valuesJsonSchema } from '../../../src/api/install/values.js';

const errorsOf = (overrides: unknown[]) => {
  const resolved = resolveValues(overrides);
  return 'errors' in resolved ? resolved.errors.map((e) => `${e.code} ${e.path}: ${e.message}`) : [];
};

t.test('no overrides: the defaults, valid', async (t) => {
  t.same(resolveValues([]), { values: DEFAULT_VALUES });
  t.same(resolveValues([null, undefined]), { values: DEFAULT_VALUES }, 'an empty values file changes nothing');
});

t.test('one row per rule: each bad value is named by its path and reason', async (t) => {
  const rows: Array<[string, unknown, RegExp]> = [
    ['unknown top-level value', { replica: 3 }, /^FieldValueUnknown replica: is not a known value/],
    ['unknown nested value', { webhook: { timeoutSeconds: 2 } }, /^FieldValueUnknown webhook\.timeoutSeconds:/],
    ['wrong type', { replicas: 'two' }, /^FieldValueTypeInvalid replicas: must be integer/],
    ['below minimum', { replicas: 0 }, /^FieldValueInvalid replicas: must be >= 1/],
    ['timeout above 30', { webhook: { mutateTimeoutSeconds: 31 } }, /^FieldValueInvalid webhook\.mutateTimeoutSeconds: must be <= 30/],
    ['unknown certificate source', { certificates: { source: 'vault' } }, /^FieldValueNotSupported certificates\.source: must be one of "self-managed", "cert-manager", "secret"$/],
    ['unknown log level', { logLevel: 'verbose' }, /^FieldValueNotSupported logLevel: must be one of "fatal"/],
    ['unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, /^FieldValueNotSupported image\.pullPolicy:/],
    ['bad Go duration', { leaderElection: { leaseDuration: '15 seconds' } }, /^FieldValueInvalid leaderElection\.leaseDuration: must match pattern/],
    ['bad lifetime', { certificates: { caLifetime: '5y' } }, /^FieldValueInvalid certificates\.caLifetime: must match pattern/],
    ['bad ServiceAccount name', { jobServiceAccounts: { names: { backup: 'Backup_SA' } } }, /^FieldValueInvalid jobServiceAccounts\.names\.backup: must match pattern/],
    ['bad namespace in a list', { jobServiceAccounts: { namespaces: ['ok', 'Not OK'] } }, /^FieldValueInvalid jobServiceAccounts\.namespaces\[1\]: must match pattern/],
    ['bad excluded namespace', { webhook: { excludedNamespaces: ['-x'] } }, /^FieldValueInvalid webhook\.excludedNamespaces\[0\]:/],
    ['image tag with a space', { image: { tag: 'v 1' } }, /^FieldValueInvalid image\.tag:/],
    ['empty repository', { image: { repository: '' } }, /^FieldValueInvalid image\.repository: must match pattern/],
    ['switch that is not a boolean', { webhook: { matchConditions: 'yes' } }, /^FieldValueTypeInvalid webhook\.matchConditions: must be boolean/],
    ['nodeSelector value not a string', { nodeSelector: { zone: 1 } }, /^FieldValueTypeInvalid nodeSelector\.zone: must be string/],
    ['tolerations not a list', { tolerations: {} }, /^FieldValueTypeInvalid tolerations: must be array/],
    ['grace period too short', { terminationGracePeriodSeconds: 1 }, /^FieldValueInvalid terminationGracePeriodSeconds:/],
  ];
  for (const [name, override, expected] of rows) {
    const errors = errorsOf([override]);
    t.equal(errors.length, 1, `${name}: one error (${errors.join('; ')})`);
    t.match(errors[0] ?? '', expected, name);
  }
});

t.test('lease timings out of order are refused like serve refuses them, not printed to crash-loop', async (t) => {
  t.same(errorsOf([{ leaderElection: { leaseDuration: '10s', renewDeadline: '10s' } }]), [
    'FieldValueInvalid leaderElection.renewDeadline: must be shorter than leaderElection.leaseDuration (10s): a leader must give up before a standby may take over',
  ]);
  t.same(errorsOf([{ leaderElection: { retryPeriod: '1m' } }]), [
    'FieldValueInvalid leaderElection.retryPeriod: must be shorter than leaderElection.renewDeadline (10s): the leader retries within its deadline',
  ]);
  t.same(errorsOf([{ leaderElection: { retryPeriod: '0s' } }]), ['FieldValueInvalid leaderElection.retryPeriod: must be longer than 0']);
  t.same(errorsOf([{ leaderElection: { leaseDuration: '25h' } }]), ['FieldValueInvalid leaderElection.leaseDuration: is longer than 24h'], 'the same bounds as serve, not only the order');
  t.same(errorsOf([{ leaderElection: { leaseDuration: '1m30s', renewDeadline: '1m', retryPeriod: '500ms' } }]), [], 'any order-respecting Go durations pass');
});

t.test('a values source that is not a mapping', async (t) => {
  t.same(errorsOf([{}, ['replicas', 3]]), ['FieldValueTypeInvalid : values source 2 must be a mapping of values']);
  t.same(errorsOf(['text']), ['FieldValueTypeInvalid : values source 1 must be a mapping of values']);
});

t.test('later sources win; objects merge, lists and scalars replace', async (t) => {
  const resolved = resolveValues([
    { replicas: 3, webhook: { excludedNamespaces: ['a', 'b'] }, resources: { limits: { cpu: '1' } } },
    { replicas: 4, webhook: { excludedNamespaces: ['c'] } },
  ]);
  t.ok('values' in resolved);
  if (!('values' in resolved)) return;
  t.equal(resolved.values.replicas, 4);
  t.same(resolved.values.webhook.excludedNamespaces, ['c'], 'lists replace');
  t.equal(resolved.values.webhook.validateTimeoutSeconds, 2, 'siblings keep their defaults');
  t.same(resolved.values.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi', cpu: '1' } }, 'objects merge');
  t.equal(DEFAULT_VALUES.replicas, 2, 'the defaults are not modified');
});

t.test('mergeValues', async (t) => {
  t.same(mergeValues({ a: { b: 1 } }, { a: null }), { a: null }, 'null replaces (as in a Helm values file)');
  t.same(mergeValues(1, { a: 1 }), { a: 1 });
  const base = { a: { b: [1] } };
  const merged = mergeValues(base, { c: 2 }) as { a: { b: number[] } };
  merged.a.b.push(2);
  t.same(base, { a: { b: [1] } }, 'the base is copied, not shared');
});

t.test('parseSetArgument', async (t) => {
  const yamlScalar = (text: string) => parse(text) as unknown;
  const rows: Array<[string, unknown]> = [
    ['replicas=3', { replicas: 3 }],
    ['image.tag=v1.2.3', { image: { tag: 'v1.2.3' } }],
    ['webhook.matchConditions=false', { webhook: { matchConditions: false } }],
    ['jobServiceAccounts.namespaces=[apps, db]', { jobServiceAccounts: { namespaces: ['apps', 'db'] } }],
    ['certificates.source=cert-manager', { certificates: { source: 'cert-manager' } }],
    ['image.tag=', { image: { tag: null } }],
    ['a.b=c=d', { a: { b: 'c=d' } }],
  ];
  for (const [argument, expected] of rows) t.same(parseSetArgument(argument, yamlScalar), { value: expected }, argument);
  for (const bad of ['replicas', '=3', 'image..tag=x', 'image.tag[0]=x', '.image=x']) {
    const result = parseSetArgument(bad, yamlScalar);
    t.match(result, { error: { code: 'FieldValueInvalid', path: '--set', message: /is not key=value with a dotted key/ } }, bad);
  }
});

t.test('the JSON schema is plain draft-07 JSON without TypeBox bookkeeping', async (t) => {
  const schema = valuesJsonSchema();
  t.equal(schema['$schema'], 'http://json-schema.org/draft-07/schema#');
  t.equal(schema['additionalProperties'], false);
  t.notMatch(JSON.stringify(schema), /\[Kind\]|"Kind"/);
});

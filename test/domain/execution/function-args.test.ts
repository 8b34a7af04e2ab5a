import t from 'tap';
import type { AddonTask } from '../../../src/api/index.js';
import { paramValue, substituteFunctionArgs, taskVariables } from '../../../src/domain/execution/function-args.js';

const variables = { namespace: 'demo', empty: '', paths: '/a,/b', dollar: '${namespace}' };
const rows: Array<{ form: string; arg: string; want?: string; error?: RegExp }> = [
  { form: '${var} set', arg: '--namespace=${namespace}', want: '--namespace=demo' },
  { form: '${var} unset', arg: '--x=${missing}', error: /needs variable missing, which is not set/ },
  { form: '${var:=default} set', arg: '--namespace=${namespace:=default}', want: '--namespace=demo' },
  { form: '${var:=default} unset', arg: '--namespace=${other:=default}', want: '--namespace=default' },
  { form: '${var:=} unset', arg: '--snapshot=${snapshot:=}', want: '--snapshot=' },
  { form: '${var:=default} set but empty keeps empty (envsubst EvalMap)', arg: '--e=${empty:=x}', want: '--e=' },
  { form: '${var=default}', arg: '${other=d}', want: 'd' },
  { form: '${var:-default}', arg: '${other:-d}', want: 'd' },
  { form: '$$ is a literal $', arg: 'cost=$$5', want: 'cost=$5' },
  { form: 'a lone $ stays', arg: 'a$b', want: 'a$b' },
  { form: 'values are not expanded again', arg: '${dollar}', want: '${namespace}' },
  { form: 'two in one arg', arg: '${namespace}/${paths}', want: 'demo//a,/b' },
  { form: 'bash operators are refused', arg: '${namespace,,}', error: /is not supported/ },
  { form: 'unterminated', arg: '${namespace', error: /unterminated/ },
];
for (const row of rows) {
  t.test(row.form, async (t) => {
    const result = substituteFunctionArgs(['first', row.arg], variables);
    if (row.error) {
      t.equal(result.errors.length, 1);
      t.equal(result.errors[0]?.path, 'args[1]', 'the error names the arg');
      t.match(result.errors[0]?.message, row.error);
    } else {
      t.same(result, { args: ['first', row.want], errors: [] });
    }
  });
}

const valueRows: Array<[string, unknown, string]> = [
  ['string', '/data', '/data'],
  ['number', 3, '3'],
  ['boolean', false, 'false'],
  ['array → comma list', ['/a', '/b', 3], '/a,/b,3'],
  ['nested array', [['a', 'b'], 'c'], 'a,b,c'],
  ['null', null, ''],
  ['object → JSON', { a: 1 }, '{"a":1}'],
];
for (const [name, value, want] of valueRows) t.test(`param value: ${name}`, async (t) => t.equal(paramValue(value), want));

const task: AddonTask = {
  name: 'logical-backup',
  parameters: [
    { name: 'paths', usage: 'List of file paths to backup.', required: true },
    { name: 'enableCache', usage: 'cache', default: 'true' },
    { name: 'scratchDir', default: '/kubestash-tmp' },
    { name: 'exclude' },
  ],
};
const base = { task, builtins: { namespace: 'demo', COMPONENT_NAME: 'dump' }, taskPath: 'spec.sessions[0].addon.tasks[0]', taskLabel: 'workload-addon/logical-backup' };

t.test('task variables: defaults < params < variables < built-ins', async (t) => {
  const result = taskVariables({
    ...base,
    taskRef: { name: 'logical-backup', params: { paths: ['/a', '/b'], enableCache: false, namespace: 'evil' }, variables: [{ name: 'extra', value: 'v' }, { name: 'fromSecret', valueFrom: {} }] },
  });
  t.same(result.errors, []);
  t.same(result.variables, { enableCache: 'false', scratchDir: '/kubestash-tmp', paths: '/a,/b', namespace: 'demo', extra: 'v', COMPONENT_NAME: 'dump' });
});

t.test('task variables: a required param missing or empty is an error at its params path', async (t) => {
  for (const taskRef of [undefined, { name: 'logical-backup' }, { name: 'logical-backup', params: { paths: '' } }]) {
    const result = taskVariables({ ...base, taskRef });
    t.same(result.errors.map((e) => [e.code, e.path]), [['FieldValueRequired', 'spec.sessions[0].addon.tasks[0].params.paths']]);
    t.match(result.errors[0]?.message, /task workload-addon\/logical-backup requires param paths \(List of file paths to backup\.\): set params\.paths/);
  }
  const noUsage = taskVariables({ ...base, task: { parameters: [{ name: 'x', required: true }, { required: true }] }, taskRef: undefined });
  t.match(noUsage.errors[0]?.message, /requires param x: set params.x/);
  t.equal(noUsage.errors.length, 1, 'a nameless parameter is ignored');
});

t.test('task variables: a param named __proto__ is an ordinary variable', async (t) => {
  const result = taskVariables({ ...base, task: {}, taskRef: { params: JSON.parse('{"__proto__": "x"}') as Record<string, unknown> } });
  t.equal(Object.getOwnPropertyDescriptor(result.variables, '__proto__')?.value, 'x');
  t.equal(Object.getPrototypeOf(result.variables), Object.prototype);
});

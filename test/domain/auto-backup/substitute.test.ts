import t from 'tap';
import { substituteString, substituteValues, type Variables } from '../../../src/domain/auto-backup/substitute.js';

const variables: Variables = { name: 'web', empty: '', ns: 'demo', tricky: 'a "quoted" \\ back\nline $x ${name}' };

t.test('one row per form: the expanded string', async (t) => {
  const rows: Array<[string, string, string]> = [
    ['plain text is kept', 'plain/text', 'plain/text'],
    ['${v}', '${name}', 'web'],
    ['${v} twice and with text around', '${ns}/${name}-${name}', 'demo/web-web'],
    ['${v:=d} with v set', '${name:=other}', 'web'],
    ['${v:=d} with v missing', '${missing:=0 2 * * *}', '0 2 * * *'],
    ['${v=d} with v missing', '${missing=fallback}', 'fallback'],
    ['${v:-d} with v missing', '${missing:-fallback}', 'fallback'],
    ['${v:=d} with v set but empty keeps the empty value', '[${empty:=d}]', '[]'],
    ['${v=d} with v set but empty keeps the empty value', '[${empty=d}]', '[]'],
    ['${v:-d} with v set but empty keeps the empty value', '[${empty:-d}]', '[]'],
    ['${v} with v empty', '[${empty}]', '[]'],
    ['an empty default', '[${missing:=}]', '[]'],
    ['a default with spaces, slashes and colons', '${missing:=/a b/c:d}', '/a b/c:d'],
    ['$$ is a literal $', 'cost: $$5', 'cost: $5'],
    ['$${v} is the literal text ${v}', '$${name}', '${name}'],
    ['a lone $ is literal', 'a$b $ $(POD_NAME) end$', 'a$b $ $(POD_NAME) end$'],
    ['$v without braces is literal', '$name', '$name'],
    ['underscores and digits in names', '${_a1:=x}', 'x'],
    ['a value is inserted literally and never expanded again', '<${tricky}>', '<a "quoted" \\ back\nline $x ${name}>'],
  ];
  for (const [name, input, expected] of rows) {
    const result = substituteString(input, variables, 'p');
    t.same(result.problems, [], `${name}: no problems`);
    t.equal(result.value, expected, name);
  }
});

t.test('one row per error: missing variables and unsupported syntax', async (t) => {
  const rows: Array<[string, string, RegExp | { missing: string[] }]> = [
    ['${v} with v missing', '${missing}', { missing: ['missing'] }],
    ['several missing variables in one string are all reported', '${a}/${b}', { missing: ['a', 'b'] }],
    ['unterminated ${', 'x-${name', /unterminated "\$\{" in "x-\$\{name": close it with "}"/],
    ['${} has no name', '${}', /"\$\{\}" does not start with a variable name/],
    ['${#v} (length) is not supported', '${#name}', /"\$\{#name\}" does not start with a variable name/],
    ['${1v}: names do not start with a digit', '${1v}', /does not start with a variable name/],
    ['${ v } with spaces', '${ name }', /does not start with a variable name/],
    ['${v,,} lower case is not supported', '${name,,}', /"\$\{name,,\}" is not supported: autostash supports \$\{v\}, \$\{v:=default\}/],
    ['${v^^} upper case is not supported', '${name^^}', /is not supported/],
    ['${v#p} prefix strip is not supported', '${name#w}', /is not supported/],
    ['${v/a/b} replacement is not supported', '${name/w/x}', /is not supported/],
    ['${v:1} substring is not supported', '${name:1}', /is not supported/],
    ['${v-d} (bash unset-only default) is not supported', '${name-d}', /is not supported/],
    ['${v:+alt} is not supported', '${name:+alt}', /is not supported/],
    ['${v:?msg} is not supported', '${name:?msg}', /is not supported/],
    ['a nested reference in a default is not supported', '${a:=${b}}', /nested references are not supported/],
  ];
  for (const [name, input, expected] of rows) {
    const result = substituteString(input, variables, 'spec.x');
    if (expected instanceof RegExp) {
      t.equal(result.problems.length, 1, `${name}: one problem`);
      t.match(result.problems[0], { kind: 'syntax', path: 'spec.x', message: expected }, name);
    } else {
      t.same(result.problems, expected.missing.map((variable) => ({ kind: 'missing', variable, path: 'spec.x' })), name);
    }
  }
});

t.test('problems after an unsupported expression are still found', async (t) => {
  const result = substituteString('${name,,}/${missing}', variables, 'p');
  t.same(result.problems.map((p) => p.kind), ['syntax', 'missing']);
});

t.test('variables only count as own properties', async (t) => {
  t.same(substituteString('${toString}', {}).problems, [{ kind: 'missing', variable: 'toString', path: '' }]);
  t.equal(substituteString('${constructor:=x}', {}).value, 'x');
});

t.test('substituteValues walks every string of a parsed value, with field paths', async (t) => {
  const input = {
    name: '${name}',
    count: 3,
    enabled: true,
    nothing: null,
    list: ['${ns}', 4, { deep: '${missing}' }],
    params: { paths: '${paths:=/data}' },
  };
  const snapshot = structuredClone(input);
  const result = substituteValues(input, variables, 'spec.sessions[0]');
  t.same(result.value, { name: 'web', count: 3, enabled: true, nothing: null, list: ['demo', 4, { deep: '' }], params: { paths: '/data' } });
  t.same(result.problems, [{ kind: 'missing', variable: 'missing', path: 'spec.sessions[0].list[2].deep' }]);
  t.same(input, snapshot, 'the input is not mutated');
  t.not(result.value.list, input.list, 'a new value is returned');
});

t.test('field names are not substituted; one with ${ is reported', async (t) => {
  const result = substituteValues({ params: { '${name}': 'x' } }, variables, 'spec');
  t.same(Object.keys(result.value.params), ['${name}']);
  t.match(result.problems, [{ kind: 'syntax', path: 'spec.params.${name}', message: /not substituted in field names/ }]);
});

t.test('a field named __proto__ stays an ordinary field', async (t) => {
  const input = JSON.parse('{"__proto__": {"polluted": "${name}"}}') as Record<string, unknown>;
  const result = substituteValues(input, variables, '');
  t.same(Object.keys(result.value), ['__proto__']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.same(Object.getOwnPropertyDescriptor(result.value, '__proto__')?.value, { polluted: 'web' });
});

t.test('values with quotes, backslashes, $ and newlines keep the structure', async (t) => {
  const value = '"},{"injected":true,"x":"\\\n$$ ${other}';
  const result = substituteValues({ a: '${v}', b: 'keep' }, { v: value }, '');
  t.same(result.value, { a: value, b: 'keep' });
  t.same(result.problems, []);
});

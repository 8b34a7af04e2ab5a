import t from 'tap';
import { compileLabelSelector, labelKeyProblem, labelSelectorErrors, labelSelectorMatches, labelValueProblem } from '../../src/domain/label-selector.js';

const labels = { env: 'prod', team: 'db', 'app.kubernetes.io/name': 'mysql' };

t.test('matching: one row per operator, each matching and not', async (t) => {
  const rows: Array<[string, unknown, boolean]> = [
    ['nil selects nothing', undefined, false],
    ['null selects nothing', null, false],
    ['empty selects everything', {}, true],
    ['empty lists select everything', { matchLabels: {}, matchExpressions: [] }, true],
    ['matchLabels equal', { matchLabels: { env: 'prod' } }, true],
    ['matchLabels differ', { matchLabels: { env: 'dev' } }, false],
    ['matchLabels missing key', { matchLabels: { zone: 'a' } }, false],
    ['matchLabels prefixed key', { matchLabels: { 'app.kubernetes.io/name': 'mysql' } }, true],
    ['In hit', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev', 'prod'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, false],
    ['In absent key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, true],
    ['NotIn miss', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, false],
    ['NotIn absent key matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists hit', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, true],
    ['Exists miss', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist hit', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist miss', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, false],
    ['all terms must hold', { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'In', values: ['web'] }] }, false],
    ['invalid selects nothing', { matchExpressions: [{ key: 'env', operator: 'Like', values: ['prod'] }] }, false],
  ];
  for (const [name, selector, expected] of rows) t.equal(labelSelectorMatches(selector, labels), expected, name);
  t.equal(labelSelectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, undefined), true, 'undefined labels are no labels');
});

t.test('invalid selectors: explicit problems with paths', async (t) => {
  const rows: Array<[string, unknown, string, RegExp]> = [
    ['unknown operator', { matchExpressions: [{ key: 'a', operator: 'Like' }] }, 'sel.matchExpressions[0].operator', /not a valid label selector operator/],
    ['In without values', { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, 'sel.matchExpressions[0].values', /non-empty for operator In/],
    ['NotIn without values', { matchExpressions: [{ key: 'a', operator: 'NotIn' }] }, 'sel.matchExpressions[0].values', /non-empty for operator NotIn/],
    ['Exists with values', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, 'sel.matchExpressions[0].values', /empty for operator Exists/],
    ['DoesNotExist with values', { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] }, 'sel.matchExpressions[0].values', /empty for operator DoesNotExist/],
    ['bad key', { matchExpressions: [{ key: '-a', operator: 'Exists' }] }, 'sel.matchExpressions[0].key', /must consist of alphanumerics/],
    ['bad value', { matchExpressions: [{ key: 'a', operator: 'In', values: ['a b'] }] }, 'sel.matchExpressions[0].values[0]', /label value/],
    ['bad matchLabels value', { matchLabels: { a: 'x y' } }, 'sel.matchLabels[a]', /label value/],
    ['non-string matchLabels value', { matchLabels: { a: 5 } }, 'sel.matchLabels[a]', /must be a string/],
    ['not an object', 'env=prod', 'sel', /must be an object/],
  ];
  for (const [name, selector, path, message] of rows) {
    const errors = labelSelectorErrors(selector, 'sel');
    t.equal(errors[0]?.code, 'FieldValueInvalid', `${name}: code`);
    t.equal(errors[0]?.path, path, `${name}: path`);
    t.match(errors[0]?.message ?? '', message, `${name}: message`);
    t.equal(compileLabelSelector(selector).ok, false, `${name}: compile result is explicit`);
  }
  t.same(labelSelectorErrors({ matchLabels: { a: 'b' } }, 'sel'), [], 'a valid selector has no errors');
  t.same(labelSelectorErrors(undefined, 'sel'), [], 'a nil selector has no errors');
});

t.test('label keys and values', async (t) => {
  t.equal(labelKeyProblem('app.kubernetes.io/name'), undefined);
  t.equal(labelKeyProblem('a'), undefined);
  t.match(labelKeyProblem('a/b/c'), /at most one "\/"/);
  t.match(labelKeyProblem('/b'), /empty prefix/);
  t.match(labelKeyProblem('Bad_Prefix/b'), /DNS subdomain/);
  t.match(labelKeyProblem('p/'), /empty name/);
  t.match(labelKeyProblem(''), /empty name/);
  t.match(labelKeyProblem('a'.repeat(64)), /at most 63/);
  t.equal(labelValueProblem(''), undefined, 'empty value is valid');
  t.equal(labelValueProblem('v1.2_x-y'), undefined);
  t.match(labelValueProblem('a'.repeat(64)), /at most 63/);
});

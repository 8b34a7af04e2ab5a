import t from 'tap';
import { cloneJson } from '../../src/util/clone-json.js';

t.test('deep copies JSON values without sharing', async (t) => {
  const original = { a: [1, { b: 'x', c: null }], d: { e: true, f: undefined }, g: 0 };
  const copy = cloneJson(original);
  t.same(copy, original);
  t.not(copy, original);
  t.not(copy.a, original.a);
  t.not(copy.a[1], original.a[1]);
  (copy.a[1] as { b: string }).b = 'changed';
  t.equal((original.a[1] as { b: string }).b, 'x', 'the original is untouched');
  t.ok('f' in copy.d, 'undefined properties are kept');
});

t.test('scalars come back as they are; non-JSON objects by reference', async (t) => {
  for (const value of [null, undefined, 0, 'text', false]) t.equal(cloneJson(value), value);
  const date = new Date(0);
  t.equal(cloneJson({ when: date }).when, date);
  const bare = Object.create(null) as Record<string, unknown>;
  bare.k = [1];
  const copied = cloneJson(bare);
  t.same(copied.k, [1]);
  t.not(copied.k, bare.k, 'null-prototype objects are copied like plain ones');
});

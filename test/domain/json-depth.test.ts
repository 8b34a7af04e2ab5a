import t from 'tap';
import { MAX_OBJECT_DEPTH, pathBeyondDepth } from '../../src/domain/json-depth.js';

/** `depth` levels of arrays or of `{a: ...}` objects around a leaf. */
const nested = (depth: number, kind: 'array' | 'object'): unknown => {
  let value: unknown = 1;
  for (let level = 0; level < depth; level += 1) value = kind === 'array' ? [value] : { a: value };
  return value;
};

t.test('pathBeyondDepth: one row per case', async (t) => {
  const rows: Array<[what: string, value: unknown, limit: number, expected: string | undefined]> = [
    ['a scalar', 'text', 1, undefined],
    ['null', null, 1, undefined],
    ['an empty object is level 1', {}, 1, undefined],
    ['objects exactly at the limit', nested(3, 'object'), 3, undefined],
    ['objects one level over', nested(4, 'object'), 3, 'a.a.a'],
    ['arrays one level over', nested(4, 'array'), 3, '[0][0][0]'],
    ['the path is shortened after six segments', nested(20, 'object'), 10, 'a.a.a.a.a.a…'],
    ['a mixed path', { spec: { list: [{ deep: [[1]] }] } }, 4, 'spec.list[0].deep'],
    ['siblings do not add up', { a: { b: 1 }, c: { d: { e: 1 } }, f: [[1]] }, 3, undefined],
    ['the default limit admits 128 levels', nested(MAX_OBJECT_DEPTH, 'object'), MAX_OBJECT_DEPTH, undefined],
    ['and measures 100,000 levels without recursion', nested(100_000, 'array'), MAX_OBJECT_DEPTH, '[0][0][0][0][0][0]…'],
  ];
  for (const [what, value, limit, expected] of rows) t.equal(pathBeyondDepth(value, limit), expected, what);
  t.equal(pathBeyondDepth(nested(MAX_OBJECT_DEPTH + 1, 'object')), 'a.a.a.a.a.a…', 'the default limit is MAX_OBJECT_DEPTH');
});

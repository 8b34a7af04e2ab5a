import t from 'tap';
import { applyStructuralDefaults, pruneUnknownFields } from '../../../src/embedded/store/structural-schema.js';

const schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        mode: { type: 'string', default: 'fast' },
        nested: { type: 'object', properties: { level: { type: 'integer', default: 2 } } },
        items: { type: 'array', items: { type: 'object', properties: { weight: { type: 'integer', default: 1 } } } },
        labels: { type: 'object', additionalProperties: { type: 'object', properties: { on: { type: 'boolean', default: true } } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'object', properties: {} } } },
        port: { 'x-kubernetes-int-or-string': true },
        embedded: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', properties: {} } } },
        open: { type: 'object', additionalProperties: true },
        empty: { type: 'object' },
      },
    },
  },
};

t.test('defaults: filled only where the parent exists, inside arrays and maps', async (t) => {
  const rows: Array<[string, unknown, unknown]> = [
    ['top-level default', { spec: {} }, { spec: { mode: 'fast' } }],
    ['no parent, no default', {}, {}],
    ['nested default when parent exists', { spec: { nested: {} } }, { spec: { mode: 'fast', nested: { level: 2 } } }],
    ['set values stay', { spec: { mode: 'slow', nested: { level: 5 } } }, { spec: { mode: 'slow', nested: { level: 5 } } }],
    ['array items', { spec: { items: [{}, { weight: 4 }] } }, { spec: { mode: 'fast', items: [{ weight: 1 }, { weight: 4 }] } }],
    ['map values', { spec: { labels: { a: {} } } }, { spec: { mode: 'fast', labels: { a: { on: true } } } }],
  ];
  for (const [name, input, expected] of rows) {
    const value = structuredClone(input);
    applyStructuralDefaults(value, schema);
    t.same(value, expected, name);
  }
});

t.test('pruning: unknown fields removed unless preserved', async (t) => {
  const rows: Array<[string, unknown, unknown]> = [
    ['unknown top-level field', { apiVersion: 'v', kind: 'K', metadata: { anything: 1 }, junk: 1 }, { apiVersion: 'v', kind: 'K', metadata: { anything: 1 } }],
    ['unknown nested field', { spec: { mode: 'x', junk: 1, nested: { level: 1, junk: 2 } } }, { spec: { mode: 'x', nested: { level: 1 } } }],
    ['inside arrays', { spec: { items: [{ weight: 1, junk: 1 }] } }, { spec: { items: [{ weight: 1 }] } }],
    ['inside map values', { spec: { labels: { a: { on: false, junk: 1 } } } }, { spec: { labels: { a: { on: false } } } }],
    ['preserve-unknown-fields keeps, known still pruned', { spec: { free: { any: 1, known: { junk: 1 } } } }, { spec: { free: { any: 1, known: {} } } }],
    ['int-or-string untouched', { spec: { port: { weird: 1 } } }, { spec: { port: { weird: 1 } } }],
    ['embedded resource keeps apiVersion/kind/metadata', { spec: { embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { junk: 1 }, junk: 1 } } }, { spec: { embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} } } }],
    ['additionalProperties: true keeps', { spec: { open: { a: 1 } } }, { spec: { open: { a: 1 } } }],
    ['object without properties is emptied', { spec: { empty: { a: 1 } } }, { spec: { empty: {} } }],
  ];
  for (const [name, input, expected] of rows) {
    const value = structuredClone(input);
    pruneUnknownFields(value, schema);
    t.same(value, expected, name);
  }
});

import fastJsonPatch from 'fast-json-patch';
import t from 'tap';
import { admissionPatch } from '../../src/admission/patch.js';
import type { KubeObject } from '../../src/domain/kube-object.js';

const decode = (patch: string | undefined) => JSON.parse(Buffer.from(patch ?? '', 'base64').toString('utf8')) as fastJsonPatch.Operation[];

const cases: Array<{ name: string; original: KubeObject; defaulted: KubeObject }> = [
  { name: 'a field added', original: { spec: {} }, defaulted: { spec: { usagePolicy: { allowedNamespaces: { from: 'Same' } } } } },
  { name: 'a value replaced', original: { spec: { bucket: 'b/' } }, defaulted: { spec: { bucket: 'b' } } },
  { name: 'an array grown', original: { spec: { backends: [] } }, defaulted: { spec: { backends: [{ name: '', storageRef: { name: 'default' } }] } } },
  {
    name: 'keys with / and ~',
    original: { metadata: { annotations: { 'a~b': 'x' } } },
    defaulted: { metadata: { annotations: { 'a~b': 'x', 'autostash.dev/seen': 'true' } } },
  },
];

t.test('the patch turns the original into the defaulted copy', async (t) => {
  for (const { name, original, defaulted } of cases) {
    const result = admissionPatch(original, defaulted);
    t.equal(result.patchType, 'JSONPatch', name);
    const patched = fastJsonPatch.applyPatch(structuredClone(original), decode(result.patch), true, false).newDocument;
    t.same(patched, defaulted, name);
  }
  t.same(decode(admissionPatch(cases[3]!.original, cases[3]!.defaulted).patch), [
    { op: 'add', path: '/metadata/annotations/autostash.dev~1seen', value: 'true' },
  ]);
});

t.test('no change, no patch', async (t) => {
  t.same(admissionPatch({ spec: { a: [1, { b: 2 }] } }, { spec: { a: [1, { b: 2 }] } }), {});
});

import t from 'tap';
import { parseDocuments } from '../../src/validate/parse-documents.js';

t.test('multi-document YAML with comments and empty documents', async (t) => {
  const text = ['# header', 'apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: demo', '---', '# only a comment', '---', 'apiVersion: v1', 'kind: Secret', 'metadata: {name: s}', ''].join('\n');
  const parsed = parseDocuments(text, 'a.yaml');
  t.same(parsed.errors, []);
  t.equal(parsed.documents.length, 2);
  t.same(parsed.documents.map((d) => [d.object.kind, d.line]), [['Namespace', 2], ['Secret', 9]]);
});

t.test('JSON and List expansion', async (t) => {
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }, 5] });
  const parsed = parseDocuments(list, 'list.json');
  t.equal(parsed.documents.length, 1);
  t.equal(parsed.documents[0]?.object.kind, 'ConfigMap');
  t.same(parsed.errors, [{ source: 'list.json', line: 1, message: 'items[1]: expected a Kubernetes object' }]);
});

const broken: Array<[string, string, RegExp]> = [
  ['a scalar document', 'just text', /expected a Kubernetes object .* found a string/],
  ['a sequence document', '- a\n- b', /found a sequence/],
  ['bad indentation', 'apiVersion: v1\nkind: X\n metadata: {}', /^YAML: /],
  ['duplicate keys', 'kind: A\nkind: B', /^YAML: .*(unique|Map keys)/i],
  ['an elision left in doc output', 'apiVersion: v1\nkind: X\nspec:\n  a: 1\n  ...\n  b: 2', /^YAML: /],
  ['unterminated flow mapping', 'metadata: {name: a', /^YAML: /],
];
for (const [name, text, message] of broken) {
  t.test(name, async (t) => {
    const parsed = parseDocuments(text, 'bad.yaml');
    t.equal(parsed.documents.length, 0);
    t.equal(parsed.errors.length, 1);
    t.match(parsed.errors[0]?.message, message);
    t.equal(parsed.errors[0]?.source, 'bad.yaml');
  });
}

t.test('a null document is skipped', async (t) => {
  t.same(parseDocuments('null', 'n.json'), { documents: [], errors: [] });
  t.same(parseDocuments('', 'empty.yaml'), { documents: [], errors: [] });
});

t.test('alias bombs are refused, not expanded', async (t) => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
  const parsed = parseDocuments(bomb, 'bomb.yaml');
  t.equal(parsed.documents.length, 0);
  t.match(parsed.errors[0]?.message, /^YAML: .*alias/i);
});

/**
 * Fuzzes `autostash validate` with hostile YAML: random documents, mutations of the KubeStash examples (as
 * objects and as text: YAML punctuation, anchors, aliases, merge keys, tags, directives, BOMs, NULs, flipped
 * bytes), many documents, and binary garbage — in process, as a fast-check property with shrinking. Then the
 * CLI itself, in a child process with a 192 MiB heap, on the extreme inputs: an alias bomb (billion laughs),
 * inputs over the size limit (file and stdin), too many documents, absurd nesting, 1 MiB of random bytes and
 * a 7 MiB document. Always: exit 0, 1 or 2 with a message, never a crash, an out-of-memory kill or a hang.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { stringify } from 'yaml';
import { runValidate } from '../../src/commands/validate.js';
import { MAX_DOCUMENTS_PER_INPUT } from '../../src/validate/parse-documents.js';
import { MAX_INPUT_BYTES } from '../../src/validate/read-inputs.js';
import { exampleObjects, mutate, valueArb } from '../fixtures/fuzz/fuzz-inputs.js';
import { repoRoot, sharedDir } from '../helpers/paths.js';
import { captureStream, stdinWith } from '../helpers/streams.js';

const RUNS = Number(process.env.FUZZ_VALIDATE_RUNS ?? 3_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);
const examplesDir = join(sharedDir, 'kubestash', 'examples');
const exampleTexts = readdirSync(examplesDir).filter((n) => n.endsWith('.yaml')).sort().map((n) => readFileSync(join(examplesDir, n), 'utf8'));
const objects = exampleObjects();

const yamlSpecials = ['&a ', '*a', '<<: *a\n', '!!binary ', '!!python/object:os.system ', '!custom ', '? ', '- ', '\t', '%YAML 1.1\n', '%TAG ! tag:x,2000:\n', '---\n', '...\n', '{', '}', '[', ']', '"', "'", '|', '>', ': ', '#', '\0', '\uFEFF', '\u2028', '&a [*a]\n', 'a: &a\n  b: *a\n'];

const textMutation = fc
  .tuple(fc.constantFrom(...exampleTexts), fc.array(fc.tuple(fc.nat(), fc.oneof(fc.constantFrom(...yamlSpecials), fc.string({ unit: 'binary', maxLength: 4 }))), { minLength: 1, maxLength: 5 }), fc.option(fc.nat()))
  .map(([text, inserts, cut]) => {
    let out = text;
    for (const [at, snippet] of inserts) {
      const position = out.length === 0 ? 0 : at % out.length;
      out = out.slice(0, position) + snippet + out.slice(position);
    }
    return cut === null ? out : out.slice(0, cut % (out.length + 1));
  });

const anchorsAndAliases = fc.tuple(fc.nat({ max: 6 }), fc.nat({ max: 12 }), fc.boolean()).map(([levels, fanOut, merge]) => {
  let text = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aliases\ndata:\n  l0: &l0 ["x", "y"]\n';
  for (let level = 1; level <= levels; level += 1) text += `  l${level}: &l${level} [${Array.from({ length: Math.max(1, fanOut) }, () => `*l${level - 1}`).join(', ')}]\n`;
  if (merge) text += 'base: &base {a: 1}\nderived:\n  <<: *base\n  b: 2\n';
  return text;
});

const yamlInput = fc.oneof(
  { weight: 4, arbitrary: textMutation },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...objects), fc.array(fc.record({ at: fc.nat(), operation: fc.constantFrom('replace', 'delete', 'addKey', 'retype'), key: fc.string({ maxLength: 8 }), value: valueArb }), { minLength: 1, maxLength: 4 })).map(([object, mutations]) => stringify(mutate(object, mutations))) },
  { weight: 2, arbitrary: valueArb.map((value) => stringify(value)) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...exampleTexts), { minLength: 2, maxLength: 6 }).map((texts) => texts.join('\n---\n')) },
  { weight: 2, arbitrary: anchorsAndAliases },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('utf8')) },
);

async function validateText(text: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runValidate(['-'], { stdin: stdinWith(text), stdout, stderr });
  return { code, out: stdout.text(), err: stderr.text() };
}

t.test(`validate answers ${RUNS} hostile YAML inputs with exit 0, 1 or 2 and a message (seed ${SEED})`, async (t) => {
  const codes = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(yamlInput, async (text) => {
      const { code, out, err } = await validateText(text);
      codes.set(code, (codes.get(code) ?? 0) + 1);
      if (![0, 1, 2].includes(code)) return false;
      if (out.trim() === '' && err.trim() === '') return false;
      // Every report line is OK, FAIL or WARN; stderr says `autostash validate: …`.
      return out.split('\n').every((line) => line === '' || /^(OK|FAIL|WARN) /.test(line)) && err.split('\n').every((line) => line === '' || line.startsWith('autostash validate: '));
    }),
    { numRuns: RUNS, seed: SEED },
  );
  t.comment(`exit codes ${JSON.stringify(Object.fromEntries(codes))}`);
  t.ok((codes.get(2) ?? 0) > 0 && (codes.get(1) ?? 0) > 0 && (codes.get(0) ?? 0) > 0, 'the inputs reached all three outcomes');
});

t.test('the CLI on extreme inputs: bounded by the limits, in a 192 MiB heap, never killed', async (t) => {
  const dir = t.testdir();
  const cli = join(repoRoot, 'src', 'cli.ts');
  const run = (args: string[], input?: Buffer) =>
    spawnSync(process.execPath, [...process.execArgv, '--max-old-space-size=192', cli, 'validate', ...args], { input, timeout: 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  const file = (name: string, content: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  let laughs = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  'bcdefghi'.split('').forEach((level, index) => {
    laughs += `  ${level}: &${level} [${Array.from({ length: 9 }, () => `*${'abcdefghi'[index]}`).join(',')}]\n`;
  });
  const rows: Array<{ what: string; args: string[]; input?: Buffer; code: number; output: RegExp }> = [
    { what: 'billion laughs (9^9 strings through 9 alias levels)', args: ['-f', file('lol.yaml', laughs)], code: 2, output: /FAIL .*lol\.yaml:1: YAML: Excessive alias count indicates a resource exhaustion attack/ },
    { what: 'a file over the size limit', args: ['-f', file('big.yaml', `a: ${'x'.repeat(MAX_INPUT_BYTES)}\n`)], code: 2, output: /big\.yaml: is larger than the 8 MiB limit \(\d+ bytes\): split it into smaller files/ },
    { what: 'stdin over the size limit', args: ['-f', '-'], input: Buffer.alloc(MAX_INPUT_BYTES + 1, 'a'), code: 2, output: /^autostash validate: <stdin>: is larger than the 8 MiB limit: split it/m },
    {
      what: `more than ${MAX_DOCUMENTS_PER_INPUT} documents`,
      args: ['-f', file('many.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n'.repeat(MAX_DOCUMENTS_PER_INPUT + 5))],
      code: 2,
      output: /FAIL .*many\.yaml:\d+: more than 10000 documents: split the input \(the rest was not read\)/,
    },
    { what: '100,000 nested flow sequences', args: ['-f', file('deep.yaml', `${'['.repeat(100_000)}${']'.repeat(100_000)}`)], code: 2, output: /YAML: nests too deeply to be read \(no Kubernetes object has more than 128 levels\)/ },
    { what: '50,000 nested block sequences', args: ['-f', file('deep-block.yaml', `${'- '.repeat(50_000)}1\n`)], code: 2, output: /YAML: nests too deeply to be read/ },
    {
      what: '200 nested mappings (readable, but over the depth limit)',
      args: ['-f', file('deep-200.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: ${'{a: '.repeat(200)}1${'}'.repeat(200)}\n`)],
      code: 2,
      output: /deep-200\.yaml:1: nests deeper than 128 levels \(at data\.a\.a\.a\.a\.a…\): no Kubernetes object does/,
    },
    { what: '1 MiB of random bytes', args: ['-f', file('garbage.yaml', randomBytes(1024 * 1024))], code: 2, output: /^FAIL .*garbage\.yaml:\d+: /m },
    {
      what: 'a 7 MiB document',
      args: ['-f', file('huge.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata:\n  a: ${'x'.repeat(7 * 1024 * 1024)}\n`)],
      code: 0,
      output: /^OK ConfigMap default\/huge/m,
    },
  ];
  for (const row of rows) {
    const result = run(row.args, row.input);
    t.equal(result.signal, null, `${row.what}: not killed (${result.error?.message ?? 'no spawn error'})`);
    t.equal(result.status, row.code, `${row.what}: exit ${row.code}`);
    t.match(`${result.stdout}${result.stderr}`, row.output, `${row.what}: says why`);
    t.notMatch(result.stderr, /at .*\.(ts|js):\d+/, `${row.what}: no stack trace`);
  }
});

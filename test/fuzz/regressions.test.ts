/**
 * Inputs the fuzz tests found that broke a promise, one row each, over real HTTPS (admission) or through
 * `runValidate` (the CLI): each now gets a clear answer instead of a crash, an internal error or a hang.
 */
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { admissionRules } from '../../src/domain/admission-rules.js';
import { runValidate } from '../../src/commands/validate.js';
import { formatReport } from '../../src/validate/format-verdicts.js';
import { yamlMessage } from '../../src/validate/parse-documents.js';
import { buildApp } from '../../src/server/app.js';
import { captureStream, stdinWith } from '../helpers/streams.js';
import { httpsRequest, throwawayCertificates } from '../helpers/tls-fixtures.js';

const pems = await throwawayCertificates();

const deep = (depth: number, open: string, close: string): string => `${open.repeat(depth)}1${close.repeat(depth)}`;
const reviewText = (objectText: string, operation = 'CREATE'): string =>
  `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"regression-1","kind":{"group":"core.kubestash.com","version":"v1alpha1","kind":"BackupConfiguration"},"operation":"${operation}","namespace":"demo",` +
  `"${operation === 'DELETE' ? 'oldObject' : 'object'}":${objectText}}}`;
const configurationWithSpec = (specText: string): string =>
  `{"apiVersion":"core.kubestash.com/v1alpha1","kind":"BackupConfiguration","metadata":{"name":"c","namespace":"demo"},"spec":${specText}}`;

t.test('admission regressions', async (t) => {
  const app = buildApp({ rules: admissionRules, https: { key: pems.key, cert: pems.cert }, logger: false });
  t.teardown(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;

  const rows: Array<{ found: string; path: string; body: string; status: number; message: RegExp }> = [
    {
      found: 'a spec 10,000 arrays deep overflowed the stack in defaulting: a 500 "internal error" denial',
      path: '/mutate',
      body: reviewText(configurationWithSpec(deep(10_000, '[', ']'))),
      status: 400,
      message: /^request\.object nests deeper than 128 levels \(at spec\[0\]\[0\]\[0\]\[0\]\[0\]…\): no Kubernetes object does$/,
    },
    {
      found: 'the same on /validate with objects 100,001 levels deep',
      path: '/validate',
      body: reviewText(configurationWithSpec(deep(100_001, '{"a":', '}'))),
      status: 400,
      message: /^request\.object nests deeper than 128 levels \(at spec\.a\.a\.a\.a\.a…\)/,
    },
    {
      found: 'a DELETE whose oldObject is too deep',
      path: '/validate',
      body: reviewText(configurationWithSpec(deep(5_000, '[', ']')), 'DELETE'),
      status: 400,
      message: /^request\.oldObject nests deeper than 128 levels/,
    },
    {
      found: 'an UPDATE of a Repository whose object had apiVersion 30: parseApiVersion threw in the policy layer (500 internal error)',
      path: '/validate',
      body: reviewText('{"apiVersion":30,"kind":"Repository","metadata":{"name":"r","namespace":"demo"},"spec":{}}', 'UPDATE'),
      status: 400,
      message: /^request\.object\.apiVersion: must be a string, got a number$/,
    },
    {
      found: 'the same through the auto-backup preview of an annotated StatefulSet (apiVersion 7)',
      path: '/mutate',
      body: reviewText('{"apiVersion":7,"kind":"StatefulSet","metadata":{"name":"s","namespace":"demo","annotations":{"blueprint.kubestash.com/name":"b","blueprint.kubestash.com/namespace":"demo"}}}', 'UPDATE'),
      status: 400,
      message: /^request\.object\.apiVersion: must be a string, got a number$/,
    },
    {
      found: 'labels that are not strings, on a DELETE oldObject',
      path: '/validate',
      body: reviewText('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"app":["x"]}}}', 'DELETE'),
      status: 400,
      message: /^request\.oldObject\.metadata\.labels\["app"\]: must be a string, got an array$/,
    },
  ];
  for (const row of rows) {
    const reply = await httpsRequest(port, pems.ca, 'POST', row.path, { body: row.body });
    t.equal(reply.status, row.status, row.found);
    t.match(JSON.parse(reply.body), { statusCode: 400, error: 'Bad Request', message: row.message }, row.found);
  }
  const fine = await httpsRequest(port, pems.ca, 'POST', '/validate', { body: reviewText(configurationWithSpec(`{"x":${deep(100, '[', ']')}}`)) });
  t.equal(fine.status, 200, 'an object within the limit still reaches the rules');
});

t.test('validate regressions', async (t) => {
  const rows: Array<{ found: string; yaml: string; code: number; output: string }> = [
    { found: '`metadata: null` crashed the CLI (Cannot read properties of null), exit 1 with no report', yaml: 'metadata: null\n', code: 1, output: 'FAIL <unknown> <unnamed>: metadata: must be an object, got null\n' },
    { found: 'a number as apiVersion, next to a good document', yaml: 'apiVersion: 7\nkind: BackupStorage\nmetadata: {name: s}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n', code: 1, output: 'FAIL BackupStorage s: apiVersion: must be a string, got a number\nOK ConfigMap default/c (not a KubeStash kind: only apiVersion, kind and metadata were checked)\n' },
    {
      found: 'a YAML complex key with a newline became a field name whose WARN line split into a second line',
      yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "a\\nFAIL\\tb"\n',
      code: 0,
      output: 'OK ConfigMap default/a\\nFAIL\\tb (not a KubeStash kind: only apiVersion, kind and metadata were checked)\n',
    },
    { found: 'labels that are a list', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: [a]}\n', code: 1, output: 'FAIL ConfigMap c: metadata.labels: must be a map of strings, got an array\n' },
    { found: 'a document nested 1,000 levels deep came back as "YAML: Maximum call stack size exceeded"', yaml: `data: ${'['.repeat(1000)}1${']'.repeat(1000)}\n`, code: 2, output: 'FAIL <stdin>:1: YAML: nests too deeply to be read (no Kubernetes object has more than 128 levels)\n' },
  ];
  for (const row of rows) {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await runValidate(['-'], { stdin: stdinWith(row.yaml), stdout, stderr });
    t.equal(code, row.code, row.found);
    t.equal(stdout.text(), row.output, row.found);
  }
});

t.test('a yaml library message quoting binary garbage prints as one short line without control characters', async (t) => {
  // Seen with 1 MiB of random bytes: "Unexpected scalar token in YAML stream" quoted the whole garbage, raw.
  const garbage = `\uFFFD\u000eR%\u0016\u007f${'x'.repeat(300)}\nsecond line`;
  const message = yamlMessage(`Unexpected scalar token in YAML stream: "${garbage}"`);
  t.equal(formatReport([{ source: 'g.yaml', line: 1, message }], [])[0], `FAIL g.yaml:1: YAML: Unexpected scalar token in YAML stream: "\uFFFD\\u000eR%\\u0016\\u007f${'x'.repeat(153)}…`);
  t.equal(yamlMessage('Maximum call stack size exceeded'), 'YAML: nests too deeply to be read (no Kubernetes object has more than 128 levels)');
});

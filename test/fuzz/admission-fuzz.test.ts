/**
 * Fuzzes the admission webhook over real HTTPS with keep-alive: FUZZ_RUNS (default 100,000) generated and
 * mutated AdmissionReviews (see fuzz-inputs.ts), several sockets in flight, against `buildApp` with the rules
 * `autostash serve` runs, in a child process started with --expose-gc. Properties:
 * - every answer is a well-formed AdmissionReview (apiVersion, kind, response.uid echoing the request uid,
 *   allowed boolean, a status message when denied, a decodable JSONPatch when patched) or a 400 with a JSON
 *   error; never a 5xx, never another status, never a dropped connection;
 * - the process never exits;
 * - no built-in prototype gains a property, in the server or here;
 * - the heap after full garbage collection returns close to its level after the warm-up.
 * Reproduce a failure with FUZZ_SEED=<seed printed in the output>.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:https';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import t from 'tap';
import { throwawayCertificates } from '../helpers/tls-fixtures.js';
import { corpus, exampleObjects, expectedUid, fuzzInputArb, type FuzzInput } from '../fixtures/fuzz/fuzz-inputs.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100_000);
/**
 * Time budget of the run: 100,000 requests take ~120 s in CI (2 cores, tap running two files at once), so they
 * fit; on a heavily loaded machine the run stops
 * at the budget and says how many were sent (at least MIN_RUNS must fit).
 */
const BUDGET_SECONDS = Number(process.env.FUZZ_SECONDS ?? 240);
const MIN_RUNS = Math.min(RUNS, 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_130);
const WARM_UP = Math.min(3_000, Math.floor(RUNS / 10));
const IN_FLIGHT = 24;
const SOCKETS = 8;
const BATCH = 1_000;
/** The webhook's default body limit (src/server/app.ts defaultBodyLimit). */
const BODY_LIMIT = 7 * 1024 * 1024;
/** Allowed heap growth after the run, over the level after the warm-up (both after full GCs). */
const HEAP_SLACK_BYTES = 16 * 1024 * 1024;

interface Reply {
  status: number;
  contentType: string | undefined;
  body: string;
}

function send(agent: Agent, port: number, ca: string, input: FuzzInput): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-length': input.body.length };
    if (input.contentType !== undefined) headers['content-type'] = input.contentType;
    const req = request({ host: '127.0.0.1', port, path: input.path, method: 'POST', ca, servername: 'localhost', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(input.body);
  });
}

/** Why an answer breaks the contract, or undefined when it keeps it. */
function contractViolation(input: FuzzInput, reply: Reply): string | undefined {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(reply.body) as Record<string, unknown>;
  } catch {
    return `status ${reply.status} with a body that is not JSON: ${reply.body.slice(0, 200)}`;
  }
  if (!reply.contentType?.startsWith('application/json')) return `content type ${reply.contentType ?? 'none'}`;
  if (reply.status === 400) {
    if (body.statusCode !== 400 || body.error !== 'Bad Request' || typeof body.message !== 'string' || body.message === '') return `400 without a JSON error: ${reply.body.slice(0, 200)}`;
    return undefined;
  }
  if (reply.status !== 200) return `status ${reply.status}: ${reply.body.slice(0, 300)}`;
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') return `200 that is not an admission.k8s.io/v1 AdmissionReview: ${reply.body.slice(0, 200)}`;
  const response = body.response as Record<string, unknown> | undefined;
  if (response === undefined || response === null || typeof response !== 'object') return 'AdmissionReview without a response';
  const uid = expectedUid(input.body);
  if (uid === undefined) return `200 for a body without a request uid: ${reply.body.slice(0, 200)}`;
  if (response.uid !== uid) return `response.uid ${JSON.stringify(response.uid)} does not echo the request uid ${JSON.stringify(uid)}`;
  if (typeof response.allowed !== 'boolean') return 'response.allowed is not a boolean';
  const status = response.status as Record<string, unknown> | undefined;
  if (response.allowed === false && (typeof status?.message !== 'string' || status.message === '' || typeof status.code !== 'number')) return `a denial without a status message and code: ${reply.body.slice(0, 300)}`;
  if (response.patch !== undefined) {
    if (response.patchType !== 'JSONPatch' || typeof response.patch !== 'string') return 'a patch without patchType JSONPatch';
    try {
      if (!Array.isArray(JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')))) return 'a patch that is not a JSON array';
    } catch {
      return 'a patch that is not base64 JSON';
    }
  }
  if (response.warnings !== undefined && (!Array.isArray(response.warnings) || response.warnings.some((w) => typeof w !== 'string'))) return 'warnings that are not strings';
  return undefined;
}

function ask<T>(child: ChildProcess, message: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (answer: Record<string, unknown>): void => {
      if (answer !== null && typeof answer === 'object' && key in answer) {
        child.off('message', onMessage);
        resolve(answer as T);
      }
    };
    child.on('message', onMessage);
    if (message !== '') child.send(message);
  });
}

const builtinsSnapshot = (): string[][] => [Object.prototype, Array.prototype, Function.prototype, String.prototype].map((proto) => Object.getOwnPropertyNames(proto).sort());

t.test(`the webhook keeps its contract over ${RUNS} hostile AdmissionReviews (seed ${SEED})`, { timeout: (BUDGET_SECONDS + 120) * 1000 }, async (t) => {
  const localBuiltins = builtinsSnapshot();
  const pems = await throwawayCertificates();
  const objects = exampleObjects();
  const child = fork(fileURLToPath(new URL('../fixtures/fuzz/webhook-child.ts', import.meta.url)), [], {
    execArgv: [...process.execArgv, '--expose-gc'],
    env: { ...process.env, FUZZ_SERVER: JSON.stringify({ key: pems.key, cert: pems.cert, cluster: objects.filter((o) => o.kind !== 'BackupConfiguration') }) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `the webhook process exited (code ${code}, signal ${signal}): ${stderr}`;
  });
  t.teardown(() => {
    if (exited === undefined) child.kill('SIGKILL');
  });
  const { port } = await ask<{ port: number }>(child, '', 'port');
  const agent = new Agent({ keepAlive: true, maxSockets: SOCKETS, ca: pems.ca });
  t.teardown(() => agent.destroy());

  const arbitrary = fuzzInputArb(corpus(), objects);
  const failures: Array<{ shape: string; path: string; why: string; body: string }> = [];
  const shapes = new Map<string, number>();
  const statuses = new Map<number, number>();
  let retriedResets = 0;
  let cutOffOverLimit = 0;
  let sent = 0;

  const internalErrors: Array<{ shape: string; message: string }> = [];
  const slowest = new Map<string, number>();
  const one = async (input: FuzzInput): Promise<void> => {
    const began = Date.now();
    await answer(input);
    slowest.set(input.shape, Math.max(slowest.get(input.shape) ?? 0, Date.now() - began));
  };
  const answer = async (input: FuzzInput): Promise<void> => {
    let reply: Reply;
    try {
      reply = await send(agent, port, pems.ca, input);
    } catch (error) {
      // A keep-alive socket the server closed after a refused body can race the next request on it; the
      // same request on a fresh connection must then get its answer.
      retriedResets += 1;
      try {
        reply = await send(new Agent({ keepAlive: false, ca: pems.ca }), port, pems.ca, input);
      } catch (again) {
        if (input.body.length > BODY_LIMIT) {
          // Over the limit the webhook answers before reading the body and closes; a client still writing sees the close.
          cutOffOverLimit += 1;
          return;
        }
        failures.push({ shape: input.shape, path: input.path, why: `transport error ${(error as Error).message}, again ${(again as Error).message}`, body: input.body.subarray(0, 300).toString('utf8') });
        return;
      }
    }
    statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    shapes.set(input.shape, (shapes.get(input.shape) ?? 0) + 1);
    if (reply.status === 200 && reply.body.includes('"code":500')) internalErrors.push({ shape: input.shape, message: reply.body.slice(0, 400) });
    const why = contractViolation(input, reply);
    if (why !== undefined) failures.push({ shape: input.shape, path: input.path, why, body: input.body.subarray(0, 300).toString('utf8') });
  };

  // Declared before `run` reads it; set right before the first request.
  let deadline = Number.POSITIVE_INFINITY;
  const run = async (count: number, seedOffset: number): Promise<void> => {
    for (let done = 0; done < count && exited === undefined && failures.length < 20 && Date.now() < deadline; done += BATCH) {
      const inputs = fc.sample(arbitrary, { numRuns: Math.min(BATCH, count - done), seed: SEED + seedOffset + done });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < inputs.length && exited === undefined) {
          const input = inputs[next++] as FuzzInput;
          await one(input);
          sent += 1;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    }
  };

  const started = Date.now();
  deadline = started + BUDGET_SECONDS * 1000;
  await run(WARM_UP, 1_000_000_000);
  const baseline = await ask<{ heapUsed: number; gcExposed: boolean }>(child, 'memory', 'heapUsed');
  t.ok(baseline.gcExposed, 'the webhook process can run full garbage collections');
  await run(RUNS - WARM_UP, 0);
  const seconds = (Date.now() - started) / 1000;
  agent.destroy();

  t.equal(exited, undefined, 'the webhook process is still running');
  t.ok(sent >= MIN_RUNS, `at least ${MIN_RUNS} requests were sent (${sent} of ${RUNS} within ${BUDGET_SECONDS} s)`);
  if (sent < RUNS) t.comment(`the time budget ran out after ${sent} of ${RUNS} requests: the machine is loaded (or slow)`);
  t.same(failures.slice(0, 5), [], `every answer keeps the contract (${failures.length} failures; reproduce with FUZZ_SEED=${SEED})`);
  const after = await ask<{ heapUsed: number }>(child, 'memory', 'heapUsed');
  const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  t.comment(`${sent} requests in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} req/s), ${retriedResets} retried after a reset, ${cutOffOverLimit} over-limit bodies cut off while being sent`);
  t.comment(`slowest answer per shape, ms (in flight ${IN_FLIGHT}): ${JSON.stringify(Object.fromEntries(slowest))}`);
  t.comment(`statuses ${JSON.stringify(Object.fromEntries(statuses))}; shapes ${JSON.stringify(Object.fromEntries(shapes))}`);
  t.comment(`heap after GC: ${mib(baseline.heapUsed)} after the warm-up, ${mib(after.heapUsed)} after the run`);
  t.ok(after.heapUsed < baseline.heapUsed + HEAP_SLACK_BYTES, `the heap returns to its baseline (${mib(after.heapUsed)} vs ${mib(baseline.heapUsed)} + ${mib(HEAP_SLACK_BYTES)})`);
  t.same(internalErrors.slice(0, 3), [], `no rule failed with an internal error (${internalErrors.length})`);
  t.ok((statuses.get(200) ?? 0) > sent / 10, 'a good share of the inputs reached the rules (200)');
  t.ok((statuses.get(400) ?? 0) > sent / 10, 'and a good share were refused as malformed (400)');

  const prototypes = await ask<{ added: Record<string, string[]>; inheritedOnPlainObject: string[]; polluted: unknown }>(child, 'prototypes', 'added');
  t.same(prototypes, { added: { Object: [], Array: [], Function: [], String: [] }, inheritedOnPlainObject: [], polluted: null }, 'no prototype of the webhook process was polluted');
  t.same(builtinsSnapshot(), localBuiltins, 'nor of this process');
  child.send('stop');
});

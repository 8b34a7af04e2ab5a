// Admission webhook benchmark: the real webhook vs a bare Fastify HTTPS server, same TLS, same bodies, same run.
//
//   npm run build && node bench/admission/run.mjs [--seconds 3] [--rounds 3] [--concurrency 16] [--rate 500] [--rate-seconds 5]
//
// Both servers run as child processes (bench/admission/server.mjs) so that the reported peak RSS is the webhook's own.
// The load generator is node:https with a keep-alive Agent on 127.0.0.1: a closed loop with N requests in flight
// (bounded by time) for req/s, p50 and p99, then an open loop at a fixed rate for p99 at that rate.
// Results go to stdout; bench/RESULTS.md records figures by hand. Not run by the test command.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { backupConfigurationCreate, certificates, sharedDir, startServer } from './fixtures.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '500' },
    'rate-seconds': { type: 'string', default: '5' },
  },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const concurrency = Number(values.concurrency);
const rate = Number(values.rate);
const rateSeconds = Number(values['rate-seconds']);
const maxRequestsPerRound = 200_000;

// --- bodies: a BackupConfiguration for /validate, a Deployment for /mutate, as the API server sends them ---

const validateBody = backupConfigurationCreate({ lastApplied: true });
const deploymentRequest = JSON.parse(readFileSync(join(sharedDir, 'admission', 'pepr_src_fixtures_data_admission-create-deployment.json'), 'utf8'));
const mutateBody = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: deploymentRequest });

// --- load generation ---

function send(agent, port, path, body) {
  return new Promise((resolveSend, reject) => {
    const started = performance.now();
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200 || !text.includes('"allowed":true')) reject(new Error(`unexpected answer ${response.statusCode}: ${text.slice(0, 300)}`));
          else resolveSend(performance.now() - started);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One request, answered as a short description of the AdmissionReview response. */
function probe(agent, port, path, body) {
  return new Promise((resolveProbe, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const { response: answer } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        resolveProbe(`allowed=${answer.allowed}${answer.patch ? ' with a patch' : ''}${answer.warnings ? ` warnings=${JSON.stringify(answer.warnings)}` : ''}`);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** N requests in flight until the time (or request count) runs out. */
async function closedLoop(agent, port, path, body, durationMs) {
  const latencies = [];
  const started = performance.now();
  const end = started + durationMs;
  let issued = 0;
  const worker = async () => {
    while (performance.now() < end && issued < maxRequestsPerRound) {
      issued += 1;
      latencies.push(await send(agent, port, path, body));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { reqPerSec: latencies.length / elapsedSeconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Requests started on a fixed schedule, whatever the answers do (open loop). */
async function fixedRate(agent, port, path, body) {
  const total = Math.round(rate * rateSeconds);
  const interval = 1000 / rate;
  const started = performance.now();
  const pending = [];
  for (let i = 0; i < total; i += 1) {
    const wait = started + i * interval - performance.now();
    if (wait >= 1) await new Promise((done) => setTimeout(done, wait));
    pending.push(send(agent, port, path, body));
  }
  const latencies = (await Promise.all(pending)).sort((a, b) => a - b);
  const elapsedSeconds = (performance.now() - started) / 1000;
  return { achieved: total / elapsedSeconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] };
}

// --- run ---

const dir = mkdtempSync(join(tmpdir(), 'autostash-bench-'));
const pems = await certificates();
writeFileSync(join(dir, 'tls.key'), pems.key, { mode: 0o600 });
writeFileSync(join(dir, 'tls.crt'), pems.cert);
const webhook = await startServer('webhook', join(dir, 'tls.key'), join(dir, 'tls.crt'));
const bare = await startServer('bare', join(dir, 'tls.key'), join(dir, 'tls.crt'));
const agentFor = () => new Agent({ keepAlive: true, maxSockets: concurrency, ca: pems.ca });

const fmt = (n, digits = 2) => n.toFixed(digits);
console.log(`node ${process.version}, concurrency ${concurrency}, ${rounds} rounds x ${seconds}s per server and path, then ${rate} req/s for ${rateSeconds}s`);
console.log(`bodies: /validate BackupConfiguration ${validateBody.length} B, /mutate Deployment ${mutateBody.length} B`);
const idleRss = (await webhook.rss()).rssBytes;

const report = [];
try {
  for (const [path, body] of [['/validate', validateBody], ['/mutate', mutateBody]]) {
    const agents = { webhook: agentFor(), bare: agentFor() };
    console.log(`\n${path}: the webhook answers ${await probe(agents.webhook, webhook.port, path, body)}`);
    for (const server of [webhook, bare]) await closedLoop(agents[server.mode], server.port, path, body, 1500); // warm-up
    const results = { webhook: [], bare: [] };
    for (let round = 0; round < rounds; round += 1) {
      // Alternate the order so that neither server always runs on a warmer or a noisier moment.
      const order = round % 2 === 0 ? [webhook, bare] : [bare, webhook];
      for (const server of order) results[server.mode].push(await closedLoop(agents[server.mode], server.port, path, body, seconds * 1000));
    }
    const summary = (mode) => ({
      reqPerSec: median(results[mode].map((r) => r.reqPerSec)),
      p50: median(results[mode].map((r) => r.p50)),
      p99: median(results[mode].map((r) => r.p99)),
    });
    const w = summary('webhook');
    const b = summary('bare');
    const steady = await fixedRate(agentFor(), webhook.port, path, body);
    const steadyBare = await fixedRate(agentFor(), bare.port, path, body);
    report.push({ path, w, b, steady, steadyBare });
    for (const agent of Object.values(agents)) agent.destroy();
    console.log(`  webhook  ${fmt(w.reqPerSec, 0).padStart(6)} req/s  p50 ${fmt(w.p50)} ms  p99 ${fmt(w.p99)} ms   (median of ${rounds})`);
    console.log(`  bare     ${fmt(b.reqPerSec, 0).padStart(6)} req/s  p50 ${fmt(b.p50)} ms  p99 ${fmt(b.p99)} ms`);
    console.log(`  ratio    ${fmt((100 * w.reqPerSec) / b.reqPerSec, 1)}% of bare req/s (target >= 70%)`);
    console.log(`  at ${rate} req/s: webhook p50 ${fmt(steady.p50)} ms p99 ${fmt(steady.p99)} ms max ${fmt(steady.max)} ms (achieved ${fmt(steady.achieved, 0)} req/s; target p99 <= 5 ms)`);
    console.log(`               bare    p50 ${fmt(steadyBare.p50)} ms p99 ${fmt(steadyBare.p99)} ms`);
  }
  const { maxRssBytes } = await webhook.rss();
  const bareRss = (await bare.rss()).maxRssBytes;
  const mib = (bytes) => fmt(bytes / (1024 * 1024), 1);
  console.log(`\nwebhook RSS: ${mib(idleRss)} MiB idle, ${mib(maxRssBytes)} MiB peak (target <= 128 MiB); bare server peak ${mib(bareRss)} MiB`);
} finally {
  await Promise.all([webhook.stop(), bare.stop()]);
  rmSync(dir, { recursive: true, force: true });
}

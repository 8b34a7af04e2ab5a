// Sustained load on the admission webhook: twice the foundation's admission target (500 req/s, bench/RESULTS.md)
// for 60 s, once over keep-alive connections and once with a new TLS connection per request, against the real
// webhook and, at the same rate in the same run, a bare Fastify HTTPS echo (the baseline).
//
//   npm run build && node bench/load/run.mjs [--rate 1000] [--seconds 60] [--modes keepalive,fresh] [--timeout-ms 2000]
//
// Open loop: requests start on a fixed schedule whatever the answers do, and latency counts from the scheduled
// start, so a server that falls behind shows it in p99 instead of slowing the generator down. Servers are child
// processes (bench/admission/server.mjs: the webhook with the rules `autostash serve` runs, load shedding at its
// defaults; the bare server parses the same body and answers allowed). Prints achieved req/s, p50/p99/max,
// counts of 200s, 503s (shed), other 5xx and transport errors, and the webhook/bare ratios.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { backupConfigurationCreate, certificates, startServer } from '../admission/fixtures.mjs';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    modes: { type: 'string', default: 'keepalive,fresh' },
    'timeout-ms': { type: 'string', default: '2000' },
    sockets: { type: 'string', default: '16' },
  },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const modes = values.modes.split(',');
const timeoutMs = Number(values['timeout-ms']);
const sockets = Number(values.sockets);

// --- the body: the BackupConfiguration CREATE of bench/admission, as the API server sends it ---

const body = backupConfigurationCreate({ lastApplied: false });

/** One request; resolves with {status} or {error}, never rejects. */
function send(port, agent, ca) {
  return new Promise((resolveSend) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/validate', method: 'POST', agent, ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        let allowed = false;
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => {
          allowed = Buffer.concat(chunks).toString('utf8').includes('"allowed":true');
          resolveSend({ status: response.statusCode, allowed });
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', (error) => resolveSend({ error: error.code ?? error.message }));
    req.end(body);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** `rate` requests per second for `seconds`, on schedule; latency from each request's scheduled start. */
async function openLoop(server, mode, ca) {
  const agent = mode === 'keepalive' ? new Agent({ keepAlive: true, maxSockets: sockets, ca }) : false;
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies = [];
  const counts = { ok: 0, shed503: 0, other5xx: 0, other: 0, errors: 0 };
  const errorKinds = new Map();
  const pending = [];
  const started = performance.now();
  let issued = 0;
  while (issued < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - started) / interval) + 1);
    for (; issued < due; issued += 1) {
      const scheduled = started + issued * interval;
      pending.push(
        send(server.port, agent, ca).then((result) => {
          latencies.push(performance.now() - scheduled);
          if (result.error !== undefined) {
            counts.errors += 1;
            errorKinds.set(result.error, (errorKinds.get(result.error) ?? 0) + 1);
          } else if (result.status === 200 && result.allowed) counts.ok += 1;
          else if (result.status === 503) counts.shed503 += 1;
          else if (result.status >= 500) counts.other5xx += 1;
          else counts.other += 1;
        }),
      );
    }
    await new Promise((done) => setTimeout(done, Math.max(1, started + issued * interval - performance.now())));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  if (agent) agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    achieved: total / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
    counts,
    errorKinds: Object.fromEntries(errorKinds),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'autostash-load-'));
const pems = await certificates();
writeFileSync(join(dir, 'tls.key'), pems.key, { mode: 0o600 });
writeFileSync(join(dir, 'tls.crt'), pems.cert);
const webhook = await startServer('webhook', join(dir, 'tls.key'), join(dir, 'tls.crt'));
const bare = await startServer('bare', join(dir, 'tls.key'), join(dir, 'tls.crt'));
const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

console.log(`node ${process.version}; ${rate} req/s (${rate / 500}x the 500 req/s admission target) for ${seconds} s per server and mode; /validate with a ${body.length} B BackupConfiguration; webhook timeout ${timeoutMs} ms`);
try {
  // Warm-up: JIT, schema compilation, TLS session setup.
  for (const server of [webhook, bare]) await Promise.all(Array.from({ length: 200 }, () => send(server.port, new Agent({ keepAlive: true, ca: pems.ca }), pems.ca)));
  for (const mode of modes) {
    const results = {};
    for (const server of [webhook, bare]) results[server.mode] = await openLoop(server, mode, pems.ca);
    const w = results.webhook;
    const b = results.bare;
    console.log(`\n${mode === 'keepalive' ? `keep-alive (${sockets} sockets)` : 'a new TLS connection per request'}:`);
    for (const [name, r] of [['webhook', w], ['bare', b]]) {
      console.log(
        `  ${name.padEnd(7)} ${fmt(r.achieved, 0).padStart(5)} req/s  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  max ${fmt(r.max, 0)} ms  ` +
          `ok ${r.counts.ok}  503 ${r.counts.shed503}  other 5xx ${r.counts.other5xx}  other ${r.counts.other}  errors ${r.counts.errors}${r.counts.errors > 0 ? ` ${JSON.stringify(r.errorKinds)}` : ''}`,
      );
    }
    console.log(`  ratio   req/s ${fmt((100 * w.achieved) / b.achieved)}% of bare, p99 ${fmt(w.p99 / b.p99, 2)}x bare; webhook p99 ${w.p99 <= timeoutMs ? 'within' : 'OVER'} the ${timeoutMs} ms webhook timeout`);
  }
} finally {
  await Promise.all([webhook.stop(), bare.stop()]);
  rmSync(dir, { recursive: true, force: true });
}

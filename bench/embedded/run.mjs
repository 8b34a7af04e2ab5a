// Embedded control plane benchmark: create N objects and watch them all arrive.
//
//   npm run build && node bench/embedded/run.mjs [--objects 1000] [--concurrency 16] [--rounds 3]
//
// Two paths in the same run, so the ratio holds on a noisy machine:
//   in-process  EmbeddedApi.create + EmbeddedApi.watch (the store alone: the baseline)
//   raw-https   node:https with a keep-alive Agent (16 sockets) POSTing JSON, and a client-node Watch:
//               what the HTTP front, auth and JSON encoding cost on top of the store
//   client-node CoreV1Api.createNamespacedConfigMap with a client-node Watch: what the product's own
//               Kubernetes adapter gets from the embedded plane
// Each round starts a fresh control plane (port 0, temp data dir) in this process; the time runs
// from the first create until the watcher has seen all N ADDED events. Reports objects/s and the
// process RSS growth. Not run by the test command; results are recorded in bench/RESULTS.md.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import { parse } from 'yaml';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
  },
});
const objects = Number(values.objects);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);

const { startControlPlane } = await import('../../dist/embedded/control-plane.js');
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const logger = pino({ level: 'warn' });
const mib = (bytes) => (bytes / (1024 * 1024)).toFixed(1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const configMap = (i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { bench: 'embedded' } }, data: { index: String(i), payload: 'x'.repeat(256) } });

async function inParallel(count, limit, task) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  });
  await Promise.all(workers);
}

async function withPlane(body) {
  const dataDir = mkdtempSync(join(tmpdir(), 'autostash-bench-embedded-'));
  const plane = await startControlPlane({ dataDir, port: 0, logger });
  try {
    return await body(plane);
  } finally {
    await plane.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function inProcessRound() {
  return withPlane(async (plane) => {
    let seen = 0;
    let done;
    const allSeen = new Promise((resolve) => (done = resolve));
    const handle = plane.api.watch(CONFIGMAPS, { namespace: 'default', resourceVersion: plane.api.currentResourceVersion() }, (event) => {
      if (event.type === 'ADDED' && ++seen === objects) done();
    });
    const rssBefore = process.memoryUsage().rss;
    const start = performance.now();
    await inParallel(objects, concurrency, (i) => plane.api.create(CONFIGMAPS, 'default', configMap(i)));
    await allSeen;
    const seconds = (performance.now() - start) / 1000;
    handle.stop();
    return { rate: objects / seconds, seconds, rssGrowth: process.memoryUsage().rss - rssBefore };
  });
}

function rawCreator(plane) {
  const token = parse(readFileSync(plane.kubeconfigPath, 'utf8')).users[0].user.token;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: plane.caCert });
  const port = new URL(plane.url).port;
  return (i) =>
    new Promise((resolve, reject) => {
      const req = request(
        { hostname: '127.0.0.1', port, servername: 'localhost', agent, method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`create answered ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(configMap(i)));
    });
}

async function httpsRound(useClientNode) {
  return withPlane(async (plane) => {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const create = useClientNode ? (i) => core.createNamespacedConfigMap({ namespace: 'default', body: configMap(i) }) : rawCreator(plane);
    let seen = 0;
    let done;
    const allSeen = new Promise((resolve) => (done = resolve));
    const watchStarted = await new Watch(kc).watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: plane.api.currentResourceVersion() },
      (type) => {
        if (type === 'ADDED' && ++seen === objects) done();
      },
      () => undefined,
    );
    const rssBefore = process.memoryUsage().rss;
    const start = performance.now();
    await inParallel(objects, concurrency, create);
    await allSeen;
    const seconds = (performance.now() - start) / 1000;
    watchStarted.abort();
    return { rate: objects / seconds, seconds, rssGrowth: process.memoryUsage().rss - rssBefore };
  });
}

console.log(`node ${process.version}, ${objects} ConfigMaps per round, ${concurrency} creates in flight, ${rounds} rounds`);
const results = { 'in-process': [], 'raw-https': [], 'client-node': [] };
for (let round = 0; round < rounds; round++) {
  results['in-process'].push(await inProcessRound());
  results['raw-https'].push(await httpsRound(false));
  results['client-node'].push(await httpsRound(true));
}
for (const [name, list] of Object.entries(results)) {
  console.log(`${name.padEnd(12)} ${median(list.map((r) => r.rate)).toFixed(0).padStart(7)} objects/s  (all ${objects} watched in ${median(list.map((r) => r.seconds)).toFixed(2)} s; RSS +${mib(median(list.map((r) => r.rssGrowth)))} MiB)   rounds: ${list.map((r) => r.rate.toFixed(0)).join(', ')}`);
}
const rateOf = (name) => median(results[name].map((r) => r.rate));
console.log(`raw-https / in-process: ${((rateOf('raw-https') / rateOf('in-process')) * 100).toFixed(1)}%   client-node / raw-https: ${((rateOf('client-node') / rateOf('raw-https')) * 100).toFixed(1)}%`);
console.log(`peak RSS of this process: ${mib(process.resourceUsage().maxRSS * 1024)} MiB`);

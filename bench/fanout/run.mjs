// Auto-backup fan-out benchmark: N annotated Deployments applied to the embedded control plane.
//
//   npm run build && node bench/fanout/run.mjs [--sizes 100,1000,5000] [--concurrency 16]
//
// For each size, a fresh `autostash serve` stack runs in this process (embedded control plane,
// webhook registered with it, leader-elected controller). The Deployments are POSTed over HTTPS
// with a keep-alive client, so each one passes through the workload admission webhook, which hands
// it to the controller queue. Reported per size:
//   - time from the first create until every BackupConfiguration exists,
//   - delay from each Deployment's create answer to its configuration's ADDED event (p50, p99, max),
//   - configurations per second over the run (each is one reconcile that writes),
// and across sizes the time per Deployment, which stays flat when the growth is linear.
// A burst saturates the process (API server, webhook and controller share one Node process and
// two cores), so its delays are mostly queueing; the paced run (--rate Deployments per second,
// --paced-size of them) measures the admission-to-configuration delay of a system keeping up.
// Baseline in the same run: the same creates with the annotations left off (no configuration is
// generated), which is what the API server and webhook cost without auto backup.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parse } from 'yaml';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    concurrency: { type: 'string', default: '16' },
    rate: { type: 'string', default: '100' },
    'paced-size': { type: 'string', default: '1000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const concurrency = Number(values.concurrency);
const rate = Number(values.rate);
const pacedSize = Number(values['paced-size']);

const { startServer } = await import('../../dist/commands/serve.js');
const { loadConfig } = await import('../../dist/config.js');

const BCS = { group: 'core.kubestash.com', version: 'v1alpha1', resource: 'backupconfigurations' };
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function inParallel(count, limit, task) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

function httpsClient(plane) {
  const token = parse(readFileSync(plane.kubeconfigPath, 'utf8')).users[0].user.token;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: plane.caCert });
  const port = new URL(plane.url).port;
  return (path, body) =>
    new Promise((resolve, reject) => {
      const req = request({ hostname: '127.0.0.1', port, servername: 'localhost', agent, method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`${path}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`))));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
}

const deployment = (i, annotated) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: `app-${i}`,
    namespace: 'demo',
    ...(annotated ? { annotations: { 'blueprint.kubestash.com/name': 'nightly', 'blueprint.kubestash.com/namespace': 'demo', 'variables.kubestash.com/targetName': `app-${i}` } } : {}),
  },
  spec: { selector: { matchLabels: { app: `app-${i}` } }, template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
});

async function round(size, annotated, perSecond = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'autostash-bench-fanout-'));
  const config = loadConfig({ host: '127.0.0.1', port: '0', certDir: join(dir, 'certs'), dataDir: join(dir, 'data'), embeddedPort: '0', logLevel: 'warn' }, { HOME: dir });
  const server = await startServer(config, pino({ level: 'warn' }));
  try {
    const plane = server.controlPlane;
    const post = httpsClient(plane);
    await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
    await post('/apis/storage.kubestash.com/v1alpha1/namespaces/demo/backupstorages', { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage', metadata: { name: 'store', namespace: 'demo' }, spec: { storage: { provider: 'gcs', gcs: { bucket: 'b' } }, usagePolicy: { allowedNamespaces: { from: 'All' } } } });
    await post('/apis/storage.kubestash.com/v1alpha1/namespaces/demo/retentionpolicies', { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'keep', namespace: 'demo' }, spec: { maxRetentionPeriod: '30d', usagePolicy: { allowedNamespaces: { from: 'All' } } } });
    await post('/apis/core.kubestash.com/v1alpha1/namespaces/demo/backupblueprints', {
      apiVersion: 'core.kubestash.com/v1alpha1',
      kind: 'BackupBlueprint',
      metadata: { name: 'nightly', namespace: 'demo' },
      spec: {
        usagePolicy: { allowedNamespaces: { from: 'All' } },
        backupConfigurationTemplate: {
          backends: [{ name: 'b', storageRef: { name: 'store', namespace: 'demo' }, retentionPolicy: { name: 'keep', namespace: 'demo' } }],
          sessions: [{ name: 'nightly', scheduler: { schedule: '0 1 * * *', jobTemplate: {} }, repositories: [{ name: '${targetName}', backend: 'b', directory: '/demo/${targetName}', encryptionSecret: { name: 'e', namespace: 'demo' } }], addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/data' } }] } }],
        },
      },
    });
    // Wait until the webhook and the controller see the blueprint, so no creation races its arrival.
    while (!server.clusterView().get('BackupBlueprint', 'demo', 'nightly') || !server.manager.isLeader() || !server.manager.hasSynced()) await new Promise((r) => setTimeout(r, 20));

    const createdAt = new Map();
    const delays = [];
    let done;
    const allGenerated = new Promise((resolve) => (done = resolve));
    const watch = plane.api.watch(BCS, { namespace: 'demo', resourceVersion: plane.api.currentResourceVersion() }, (event) => {
      if (event.type !== 'ADDED') return;
      const name = event.object.spec.target.name;
      delays.push(performance.now() - createdAt.get(name));
      if (delays.length === size) done();
    });
    const start = performance.now();
    await inParallel(size, concurrency, async (i) => {
      if (perSecond > 0) {
        const due = start + (i * 1000) / perSecond;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await post('/apis/apps/v1/namespaces/demo/deployments', deployment(i, annotated));
      createdAt.set(`app-${i}`, performance.now());
    });
    const createSeconds = (performance.now() - start) / 1000;
    if (annotated) await allGenerated;
    const seconds = (performance.now() - start) / 1000;
    watch.stop();
    delays.sort((a, b) => a - b);
    return { size, seconds, createSeconds, delays };
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`node ${process.version}, ${concurrency} creates in flight`);
for (const size of sizes) {
  const baseline = await round(size, false);
  const fanout = await round(size, true);
  const d = fanout.delays;
  console.log(
    `${String(size).padStart(5)} deployments: all configurations in ${fanout.seconds.toFixed(2)} s ` +
      `(${((fanout.seconds * 1000) / size).toFixed(2)} ms per deployment; creates alone ${fanout.createSeconds.toFixed(2)} s) | ` +
      `admission->configuration p50 ${quantile(d, 0.5).toFixed(0)} ms p99 ${quantile(d, 0.99).toFixed(0)} ms max ${d[d.length - 1].toFixed(0)} ms | ` +
      `${(size / fanout.seconds).toFixed(0)} configurations/s | without annotations ${baseline.seconds.toFixed(2)} s (fan-out/baseline ${(fanout.seconds / baseline.seconds).toFixed(2)})`,
  );
}
const paced = await round(pacedSize, true, rate);
const p = paced.delays;
console.log(`paced ${pacedSize} deployments at ${rate}/s: admission->configuration p50 ${quantile(p, 0.5).toFixed(0)} ms p99 ${quantile(p, 0.99).toFixed(0)} ms max ${p[p.length - 1].toFixed(0)} ms`);
console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB`);

// Server under test for bench/admission/run.mjs, started as a child process so that its RSS is its own.
// argv: <webhook|bare> <key file> <cert file>. Reports {port} when listening and {maxRssBytes} on request.
import { readFileSync } from 'node:fs';
import fastify from 'fastify';

const [mode, keyFile, certFile] = process.argv.slice(2);
const https = { key: readFileSync(keyFile), cert: readFileSync(certFile) };

async function webhookApp() {
  // The compiled product (npm run build): the bench measures what `autostash serve` runs.
  const { buildApp } = await import('../../dist/server/app.js');
  // The same rules `autostash serve` uses: schema + KubeStash rules, and auto-backup previews for workloads.
  const { admissionRules } = await import('../../dist/domain/admission-rules.js');
  const { createMemoryView } = await import('../../dist/domain/memory-view.js');
  const cluster = JSON.parse(process.env.BENCH_CLUSTER ?? '[]');
  const view = createMemoryView(cluster);
  return buildApp({ rules: admissionRules, clusterView: () => view, https, logger: { level: 'info' } });
}

function bareApp() {
  // The baseline: Fastify over the same TLS, parsing the same body with the same default JSON parser.
  const app = fastify({ https, bodyLimit: 7 * 1024 * 1024 });
  const allow = (request) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.body.request.uid, allowed: true } });
  app.post('/mutate', async (request) => allow(request));
  app.post('/validate', async (request) => allow(request));
  return app;
}

const app = mode === 'webhook' ? await webhookApp() : bareApp();
await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ port: app.server.address().port });
process.on('message', async (message) => {
  if (message === 'rss') process.send({ maxRssBytes: process.resourceUsage().maxRSS * 1024, rssBytes: process.memoryUsage().rss });
  if (message === 'stop') {
    await app.close();
    process.exit(0);
  }
});

// kubedump benchmark: dump N ConfigMaps and Secrets from the embedded control plane, and show that the
// dumper's memory stays flat as N grows (it streams: one page in memory at a time).
//
//   npm run build && node bench/kubedump/run.mjs [--counts 1000,5000] [--namespaces 10] [--payload 1024]
//
// The control plane runs in this process; each measurement runs in a fresh child process so its peak RSS
// and heap are the dumper's alone. Per N, two children against the same objects:
//   list  the baseline: a raw paged list (limit 500 / continue, KubeClient.list) of the same types and
//         namespaces, objects counted and dropped, nothing written
//   dump  dumpResources (discovery, filter, sanitize, YAML, one file per object) into a temp directory
// Prints objects/s of each and dump/list; per child the peak RSS (kernel maxRSS), the peak heapUsed (sampled every
// 5 ms, includes garbage not yet collected) and the peak live heap (heapUsed right after a forced full GC, every
// 500 objects: what the dumper really holds); and the ratio of the dump's peaks at the largest N to the smallest
// (flat memory means ≈ 1).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';

const { values } = parseArgs({
  options: {
    counts: { type: 'string', default: '1000,5000' },
    namespaces: { type: 'string', default: '10' },
    payload: { type: 'string', default: '1024' },
    child: { type: 'string' },
    kubeconfig: { type: 'string' },
  },
});
const namespaceCount = Number(values.namespaces);
const namespaces = Array.from({ length: namespaceCount }, (_, i) => `bench-${i}`);
const mib = (bytes) => (bytes / (1024 * 1024)).toFixed(1);

if (values.child !== undefined) {
  // Child: one measurement, answered as one JSON message.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const { createKubeClient } = await import('../../dist/kube/client.js');
  const { parseKubedumpFilter } = await import('../../dist/domain/kubedump/filter.js');
  const { dumpResources } = await import('../../dist/executor/kubedump/dump.js');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(values.kubeconfig);
  const client = createKubeClient(kubeConfig);
  let peakHeap = process.memoryUsage().heapUsed;
  const sample = () => {
    const heap = process.memoryUsage().heapUsed;
    if (heap > peakHeap) peakHeap = heap;
  };
  const sampler = setInterval(sample, 5);
  // Live heap: heapUsed right after a full GC, every 500 objects (what the dumper really holds, not GC timing).
  let peakLiveHeap = 0;
  const sampleLive = () => {
    globalThis.gc();
    const heap = process.memoryUsage().heapUsed;
    if (heap > peakLiveHeap) peakLiveHeap = heap;
  };
  let objects = 0;
  let out;
  const start = performance.now();
  if (values.child === 'list') {
    for (const kind of ['ConfigMap', 'Secret']) {
      for (const namespace of namespaces) {
        let next;
        do {
          const page = await client.list({ apiVersion: 'v1', kind }, { namespace, limit: 500, ...(next ? { continue: next } : {}) });
          sample();
          // Same forced-GC cadence as the dump: one per 500 objects.
          if (Math.floor((objects + page.items.length) / 500) > Math.floor(objects / 500)) sampleLive();
          objects += page.items.length;
          next = page.continue;
        } while (next !== undefined);
      }
    }
  } else {
    out = mkdtempSync(join(tmpdir(), 'autostash-bench-kubedump-'));
    const parsed = parseKubedumpFilter({ IncludeNamespaces: namespaces.join(','), IncludeResources: 'configmaps,secrets' });
    const summary = await dumpResources({
      client,
      logger: pino({ level: 'warn' }),
      filter: parsed.filter,
      outputDir: out,
      onObjectWritten: () => {
        if (++objects % 50 === 0) sample();
        if (objects % 500 === 0) sampleLive();
      },
    });
    objects = summary.objects;
  }
  const seconds = (performance.now() - start) / 1000;
  if (out !== undefined) rmSync(out, { recursive: true, force: true });
  clearInterval(sampler);
  sample();
  client.close();
  process.send({ objects, seconds, peakHeap, peakLiveHeap, maxRss: process.resourceUsage().maxRSS * 1024 });
  process.disconnect();
} else {
  const counts = values.counts.split(',').map(Number).sort((a, b) => a - b);
  const { startControlPlane } = await import('../../dist/embedded/control-plane.js');
  const dataDir = mkdtempSync(join(tmpdir(), 'autostash-bench-kubedump-plane-'));
  const plane = await startControlPlane({ dataDir, port: 0, logger: pino({ level: 'warn' }) });
  const payload = 'x'.repeat(Number(values.payload));
  const self = fileURLToPath(import.meta.url);
  const measure = (mode) =>
    new Promise((resolve, reject) => {
      const child = fork(self, ['--child', mode, '--kubeconfig', plane.kubeconfigPath, '--namespaces', String(namespaceCount)], { execArgv: ['--expose-gc', ...(process.env.KUBEDUMP_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.KUBEDUMP_PROFILE_DIR}`] : [])] });
      child.once('message', resolve);
      child.once('error', reject);
      child.once('exit', (code) => code !== 0 && reject(new Error(`${mode} child exited ${code}`)));
    });
  try {
    for (const name of namespaces) await plane.api.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    console.log(`node ${process.version}; ConfigMaps and Secrets (half each, ${values.payload} B payload) across ${namespaceCount} namespaces`);
    const results = [];
    let created = 0;
    for (const count of counts) {
      for (; created < count; created++) {
        const secret = created % 2 === 1;
        const namespace = namespaces[created % namespaceCount];
        const body = secret
          ? { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${created}`, namespace, labels: { bench: 'kubedump' } }, data: { payload: Buffer.from(payload).toString('base64') } }
          : { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${created}`, namespace, labels: { bench: 'kubedump' } }, data: { payload } };
        await plane.api.create({ group: '', version: 'v1', resource: secret ? 'secrets' : 'configmaps' }, namespace, body);
      }
      const list = await measure('list');
      const dump = await measure('dump');
      if (list.objects !== count || dump.objects !== count) throw new Error(`expected ${count} objects, list saw ${list.objects}, dump wrote ${dump.objects}`);
      results.push({ count, list, dump });
      console.log(
        `N=${String(count).padStart(6)}  list ${(count / list.seconds).toFixed(0).padStart(6)} obj/s  dump ${(count / dump.seconds).toFixed(0).padStart(6)} obj/s  dump/list ${((list.seconds / dump.seconds) * 100).toFixed(1)}%` +
          `\n           peak RSS list ${mib(list.maxRss)} MiB, dump ${mib(dump.maxRss)} MiB;  peak heapUsed list ${mib(list.peakHeap)} MiB, dump ${mib(dump.peakHeap)} MiB;  peak live heap list ${mib(list.peakLiveHeap)} MiB, dump ${mib(dump.peakLiveHeap)} MiB`,
      );
    }
    const first = results[0];
    const last = results[results.length - 1];
    if (results.length > 1) {
      console.log(
        `dump peak memory at N=${last.count} vs N=${first.count}: RSS ×${(last.dump.maxRss / first.dump.maxRss).toFixed(2)}, heapUsed ×${(last.dump.peakHeap / first.dump.peakHeap).toFixed(2)}, live heap ×${(last.dump.peakLiveHeap / first.dump.peakLiveHeap).toFixed(2)}` +
          `   (objects ×${(last.count / first.count).toFixed(0)}; flat ≈ 1.00)`,
      );
    }
  } finally {
    await plane.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

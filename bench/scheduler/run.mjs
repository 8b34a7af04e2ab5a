// Scheduler benchmark: 1,000 → 5,000 → 10,000 BackupConfigurations (one session each) on the
// embedded control plane, one scheduler (src/controllers/scheduler) watching them over HTTPS.
//
//   npx tsc -p tsconfig.build.json && node --expose-gc bench/scheduler/run.mjs [--sizes 1000,5000,10000] [--spread 60] [--boundaries 3] [--idle-seconds 5] [--no-burst]
//   (one real minute per measured boundary: about 11 minutes with the defaults)
//
// Schedules: five-field cron fires on minute boundaries, so "spread over a minute" can only mean
// spread over minute boundaries. With the default --spread 60 configuration i gets `<i % 60> * * * *`
// (hourly, at minute i % 60): a sixtieth of the configurations is due at each boundary (~17 / 83 / 167
// at the three sizes). Another spread s gives `<i % s>-59/<s> * * * *` (every s minutes). Each size is
// measured over --boundaries consecutive boundaries. After the spread rounds every configuration is
// switched to `* * * * *` and one boundary is measured with all of them due at once (the burst: a
// stress line, bounded by how fast one process creates BackupSessions over HTTPS).
//
// Clock: the scheduler's wall clock is the real one shifted by a constant offset chosen so that the
// first minute boundary comes ~25 s after start; time runs at its real rate and timers are real
// setTimeout, so delays are real. Delay of a slot = time its BackupSession's ADDED event reaches an
// in-process watch of the plane (shifted clock) − its scheduled-at annotation. Idle CPU =
// process.cpuUsage over --idle-seconds ending 3 s before a boundary, once the previous one's work is
// done (the whole process: control plane + scheduler, both idle; the scheduler's connection warm-up,
// 2 s before a slot, falls outside the window and is paid in the slot's own second). Memory: heap after GC (with --expose-gc) and RSS of
// the whole process, which holds the plane's store as well as the scheduler's informer caches.
// Everything (API server, informers, scheduler, load generator) shares one Node process and 2 cores.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,5000,10000' },
    spread: { type: 'string', default: '60' },
    boundaries: { type: 'string', default: '3' },
    'no-burst': { type: 'boolean', default: false },
    'idle-seconds': { type: 'string', default: '5' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const spread = Number(values.spread);
const boundaries = Number(values.boundaries);
const idleSeconds = Number(values['idle-seconds']);

const { startControlPlane } = await import('../../dist/embedded/control-plane.js');
const { installCrds } = await import('../../dist/embedded/install-autostash.js');
const { createKubeClient } = await import('../../dist/kube/client.js');
const { createSharedInformers } = await import('../../dist/controllers/informer.js');
const { createEventRecorder } = await import('../../dist/controllers/event-recorder.js');
const { schedulerController } = await import('../../dist/controllers/scheduler/scheduler-controller.js');

const BCS = { group: 'core.kubestash.com', version: 'v1alpha1', resource: 'backupconfigurations' };
const BSS = { group: 'core.kubestash.com', version: 'v1alpha1', resource: 'backupsessions' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const NS = 'bench';
const MINUTE = 60_000;
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const ms = (value) => `${value.toFixed(0)} ms`;
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
const sleep = (delay) => new Promise((resolve) => setTimeout(resolve, delay));
const gc = () => {
  if (globalThis.gc) {
    globalThis.gc();
    globalThis.gc();
  }
};
const memory = () => {
  gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
};
if (!globalThis.gc) console.log('note: run with node --expose-gc for heap figures after GC');

const dir = mkdtempSync(join(tmpdir(), 'autostash-bench-scheduler-'));
const logger = pino({ level: 'warn' });
const plane = await startControlPlane({ dataDir: join(dir, 'data'), port: 0, logger });
await installCrds(plane.api);
await plane.api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });

const configuration = (i, schedule) => ({
  apiVersion: 'core.kubestash.com/v1alpha1',
  kind: 'BackupConfiguration',
  metadata: { name: `app-${i}`, namespace: NS },
  spec: {
    backends: [{ name: 'gcs', storageRef: { name: 'gcs', namespace: NS }, retentionPolicy: { name: 'keep', namespace: NS } }],
    sessions: [{
      name: 'frequent',
      scheduler: { schedule, jobTemplate: {}, concurrencyPolicy: 'Allow' },
      repositories: [{ name: `app-${i}`, backend: 'gcs', directory: `/bench/app-${i}`, encryptionSecret: { name: 'e', namespace: NS } }],
      addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/data' } }] },
    }],
  },
});
const spreadSchedule = (i) => (spread === 60 ? `${i % 60} * * * *` : `${i % spread}-59/${spread} * * * *`);

const baseMemory = memory();
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(plane.kubeconfigPath);
const client = createKubeClient(kubeConfig);
const informers = createSharedInformers(client, { logger });
const recorder = createEventRecorder({ client, logger });
const registry = new Registry();
// The scheduler's clock: real time shifted so that the first boundary comes ~25 s after start.
const startedAt = Date.now();
const offset = Math.ceil(startedAt / MINUTE) * MINUTE - startedAt - 25_000;
const now = () => new Date(Date.now() + offset);
const scheduler = schedulerController({ now, registry, initialBackup: false });
const abort = new AbortController();
informers.start();
const running = scheduler.start({ client, informers, recorder, signal: abort.signal, logger });

// Every BackupSession's arrival, by the in-process watch (the plane's own event stream).
const arrivals = [];
const watch = plane.api.watch(BSS, { namespace: NS, resourceVersion: plane.api.currentResourceVersion() }, (event) => {
  if (event.type !== 'ADDED') return;
  const slot = Date.parse(event.object.metadata.annotations?.['autostash.dev/scheduled-at'] ?? '');
  arrivals.push({ at: now().getTime(), slot });
});

async function createConfigurations(from, to) {
  const started = performance.now();
  for (let i = from; i < to; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(to, i + 64); j++) batch.push(plane.api.create(BCS, NS, configuration(j, spreadSchedule(j))));
    await Promise.all(batch);
  }
  return performance.now() - started;
}

/** Waits until the scheduler holds `count` slots and every status write is done. */
async function takenOver(count) {
  const started = performance.now();
  while (scheduler.scheduledCount() < count) await sleep(20);
  await scheduler.whenIdle();
  return performance.now() - started;
}

/** Configurations of `size` due at `boundary` (their minute group). */
const dueAt = (boundary, size, everyMinute) => {
  if (everyMinute) return size;
  const group = ((boundary / MINUTE) % 60) % spread;
  return Math.floor(size / spread) + (group < size % spread ? 1 : 0);
};

/** The idle window ends this long before a boundary: before the scheduler's connection warm-up (2 s before). */
const IDLE_ENDS_BEFORE_MS = 3000;

/**
 * Measures the idle CPU just before the next boundary (the previous one's work done), then the delays
 * of that boundary's slots.
 */
async function measureBoundary(size, everyMinute = false) {
  const idleMs = idleSeconds * 1000;
  const boundary = Math.ceil((now().getTime() + idleMs + IDLE_ENDS_BEFORE_MS + 500) / MINUTE) * MINUTE;
  await sleep(Math.max(0, boundary - idleMs - IDLE_ENDS_BEFORE_MS - now().getTime()));
  await scheduler.whenIdle();
  const cpuBefore = process.cpuUsage();
  const idleStarted = performance.now();
  await sleep(Math.max(0, boundary - IDLE_ENDS_BEFORE_MS - now().getTime()));
  const cpu = process.cpuUsage(cpuBefore);
  const idleWindow = performance.now() - idleStarted;
  const idleCpu = (cpu.user + cpu.system) / 1000 / idleWindow;
  const seen = arrivals.length;
  const expected = dueAt(boundary, size, everyMinute);
  await sleep(Math.max(0, boundary - now().getTime()));
  const ofBoundary = () => arrivals.slice(seen).filter((a) => a.slot === boundary);
  const deadline = performance.now() + 50_000;
  while (ofBoundary().length < expected && performance.now() < deadline) await sleep(20);
  const delays = ofBoundary().map((a) => a.at - a.slot).sort((a, b) => a - b);
  await scheduler.whenIdle();
  return { boundary, expected, delays, idleCpu, idleMs: idleWindow };
}

const describeDelays = (delays) =>
  `delay p50 ${ms(quantile(delays, 0.5) ?? NaN)}, p99 ${ms(quantile(delays, 0.99) ?? NaN)}, max ${ms(delays[delays.length - 1] ?? NaN)}, within 1 s ${delays.filter((d) => d <= 1000).length}/${delays.length}`;

const rows = [];
let created = 0;
try {
  for (const size of sizes) {
    const createMs = await createConfigurations(created, size);
    created = size;
    const takeOverMs = await takenOver(size);
    const mem = memory();
    rows.push({ size, mem });
    console.log(
      `${String(size).padStart(6)} configurations: created in ${ms(createMs)}, scheduled (status written) ${ms(takeOverMs)} later; ` +
        `heap ${mib(mem.heap)} (+${mib(mem.heap - baseMemory.heap)} over the empty plane), RSS ${mib(mem.rss)}`,
    );
    const all = [];
    for (let round = 0; round < boundaries; round++) {
      const result = await measureBoundary(size);
      all.push(...result.delays);
      console.log(
        `        boundary ${new Date(result.boundary).toISOString().slice(11, 16)}: idle CPU before it ${(result.idleCpu * 100).toFixed(2)} % of one core over ${(result.idleMs / 1000).toFixed(1)} s; ` +
          `${result.delays.length}/${result.expected} created, ${describeDelays(result.delays)}`,
      );
    }
    all.sort((a, b) => a - b);
    const after = memory();
    console.log(`        ${size} over ${boundaries} boundaries: ${describeDelays(all)}; heap ${mib(after.heap)}, RSS ${mib(after.rss)}`);
  }

  if (!values['no-burst']) {
    // Every configuration due at the same boundary.
    const all = await plane.api.list(BCS, { namespace: NS });
    const started = performance.now();
    for (let i = 0; i < all.items.length; i += 64) {
      await Promise.all(all.items.slice(i, i + 64).map((item) => plane.api.patch(BCS, NS, item.metadata.name, 'merge', { spec: { sessions: [{ ...item.spec.sessions[0], scheduler: { ...item.spec.sessions[0].scheduler, schedule: '* * * * *' } }] } })));
    }
    await sleep(500);
    await scheduler.whenIdle();
    const switchMs = performance.now() - started;
    const result = await measureBoundary(all.items.length, true);
    console.log(`burst: all ${all.items.length} configurations due at ${new Date(result.boundary).toISOString().slice(11, 16)} (schedules switched in ${ms(switchMs)}): ${result.delays.length}/${result.expected} created, ${describeDelays(result.delays)}`);
  }
  const memRows = rows.map((row) => ({ size: row.size, heap: row.mem.heap - baseMemory.heap, rss: row.mem.rss }));
  if (memRows.length >= 2) {
    const perConfig = memRows.slice(1).map((row, i) => ((row.heap - memRows[i].heap) / (row.size - memRows[i].size) / 1024).toFixed(2));
    console.log(`heap growth per added configuration (plane store + informer caches + scheduler): ${perConfig.join(' KiB, ')} KiB`);
  }
} finally {
  watch.stop();
  abort.abort();
  await running;
  await recorder.flush();
  await informers.stop();
  client.close();
  await plane.close();
  rmSync(dir, { recursive: true, force: true });
}

// Where the time of one fired slot goes, piece by piece, on the embedded control plane (no watchers
// but one informer-less client): cron-parser next() and slotDecision, a BackupSession create over
// HTTPS (keep-alive client) at several concurrencies, the same create straight into the in-process
// API (no HTTP), and the status write of status.sessions[].nextSchedule.
//
//   npx tsc -p tsconfig.build.json && node bench/scheduler/profile.mjs [--count 1000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' } } });
const count = Number(values.count);
const { startControlPlane } = await import('../../dist/embedded/control-plane.js');
const { installCrds } = await import('../../dist/embedded/install-autostash.js');
const { createKubeClient } = await import('../../dist/kube/client.js');
const { parseSchedule, nextSlot, slotDecision, buildBackupSession, buildSessionStatuses } = await import('../../dist/domain/schedule/index.js');
const { generateBackupSessionName } = await import('../../dist/domain/naming.js');

const NS = 'bench';
const BCS = { group: 'core.kubestash.com', version: 'v1alpha1', resource: 'backupconfigurations' };
const BSS = { group: 'core.kubestash.com', version: 'v1alpha1', resource: 'backupsessions' };
const per = (total, n) => `${((total / n) * 1000).toFixed(0)} µs/op`;
const rate = (total, n) => `${((n / total) * 1000).toFixed(0)}/s`;

// cron
{
  const schedules = Array.from({ length: count }, (_, i) => parseSchedule(`${i % 60} * * * *`).schedule);
  const at = new Date('2025-01-01T10:00:30Z');
  for (const s of schedules) nextSlot(s, at); // warm the per-schedule iterators
  let started = performance.now();
  for (const s of schedules) nextSlot(s, at);
  const nextMs = performance.now() - started;
  started = performance.now();
  for (const s of schedules) {
    const slot = nextSlot(s, new Date('2025-01-01T09:59:59Z'));
    slotDecision({ schedule: s, lastScheduled: slot, now: new Date(slot.getTime() + 100) });
  }
  const decisionMs = performance.now() - started;
  console.log(`cron-parser next(): ${per(nextMs, count)}; slotDecision of an on-time slot: ${per(decisionMs, count)}`);
}

const dir = mkdtempSync(join(tmpdir(), 'autostash-profile-scheduler-'));
const plane = await startControlPlane({ dataDir: join(dir, 'data'), port: 0, logger: pino({ level: 'warn' }) });
try {
  await installCrds(plane.api);
  await plane.api.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  const client = createKubeClient(kubeConfig);
  const configurations = [];
  for (let i = 0; i < count; i += 64) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 64); j++) {
      batch.push(plane.api.create(BCS, NS, {
        apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration', metadata: { name: `app-${j}`, namespace: NS },
        spec: { backends: [{ name: 'gcs', storageRef: { name: 'gcs', namespace: NS } }], sessions: [{ name: 'frequent', scheduler: { schedule: `${j % 60} * * * *`, jobTemplate: {} }, repositories: [], addon: { name: 'workload-addon', tasks: [] } }] },
      }));
    }
    configurations.push(...(await Promise.all(batch)));
  }
  const sessionOf = (bc, seconds) =>
    buildBackupSession({ configuration: bc, session: bc.spec.sessions[0], name: generateBackupSessionName(bc.metadata.name, 'frequent', seconds), triggeredBy: 'scheduler', scheduledAt: new Date(seconds * 1000), retryLeft: 0 });
  const pool = async (items, limit, work) => {
    let next = 0;
    await Promise.all(Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]);
    }));
  };
  let seconds = 1_735_725_600;
  for (const limit of [1, 16, 32, 64]) {
    seconds += 60;
    const started = performance.now();
    await pool(configurations, limit, (bc) => client.create(sessionOf(bc, seconds)));
    const total = performance.now() - started;
    console.log(`create BackupSession over HTTPS, ${limit} in flight: ${rate(total, count)} (${per(total, count)} of wall time each)`);
  }
  seconds += 60;
  {
    const started = performance.now();
    await pool(configurations, 32, (bc) => plane.api.create(BSS, NS, sessionOf(bc, seconds)));
    const total = performance.now() - started;
    console.log(`create BackupSession in-process (no HTTP), 32 in flight: ${rate(total, count)}`);
  }
  {
    const started = performance.now();
    await pool(configurations, 16, async (bc) => {
      const sessions = buildSessionStatuses(bc.status?.sessions, [{ name: 'frequent', nextSchedule: new Date(seconds * 1000 + 3_600_000) }], new Date(seconds * 1000));
      await client.updateStatus({ ...bc, status: { ...bc.status, sessions } });
    });
    const total = performance.now() - started;
    console.log(`updateStatus status.sessions over HTTPS, 16 in flight: ${rate(total, count)}`);
  }
  client.close();
} finally {
  await plane.close();
  rmSync(dir, { recursive: true, force: true });
}

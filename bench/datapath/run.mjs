// Data path benchmark: the same data set backed up by raw `restic backup` and through autostash
// (BackupSession created -> Snapshot Succeeded) in the same run, on the same disk.
//
//   npm run build && node bench/datapath/run.mjs [--large-mib 1024] [--small-files 100000] [--sets large,small]
//
// Data sets (written once into the PersistentVolume of a PVC on the embedded control plane):
//   large: --large-mib MiB of random data in 64 MiB files (incompressible, no duplicate chunks),
//   small: --small-files files of 1 KiB random data in directories of 1,000.
// For each set, in this order: raw restic init + full backup, autostash full backup, raw restic second
// (unchanged) backup, autostash second backup. Both write to fresh repositories on the same disk,
// with the same password and the same restic binary; raw restic runs from inside the data
// directory backing up `.` (as the executor does) with its own cache directory.
// Printed: seconds for each run, throughput (MiB/s) and the ratios
//   full:  raw seconds / autostash seconds   (target >= 0.90 on the large set)
//   again: autostash seconds / raw seconds   (target <= 1.2 for the unchanged second backup)
// autostash's time includes what a user waits for: the controller creating the Snapshot and the
// Job, the Job process starting (node + executor), reading Secrets through the API, restic, and
// the status round trip until the Snapshot reports Succeeded.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pino } from 'pino';

const { values } = parseArgs({
  options: {
    'large-mib': { type: 'string', default: '1024' },
    'small-files': { type: 'string', default: '100000' },
    sets: { type: 'string', default: 'large,small' },
  },
});
const largeMiB = Number(values['large-mib']);
const smallFiles = Number(values['small-files']);
const sets = values.sets.split(',');

const { startServer } = await import('../../dist/commands/serve.js');
const { loadConfig } = await import('../../dist/config.js');
const { createKubeClient } = await import('../../dist/kube/client.js');
const { loadKubeConfigWithSource } = await import('../../dist/kube/kubeconfig.js');

const PASSWORD = 'bench password';
const NS = 'bench';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function writeLarge(dir) {
  const file = 64 * 1024 * 1024;
  let left = largeMiB * 1024 * 1024;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(file, left);
    writeFileSync(join(dir, `large-${i}.bin`), randomBytes(size));
    left -= size;
  }
  return largeMiB * 1024 * 1024;
}

function writeSmall(dir) {
  for (let i = 0; i < smallFiles; i++) {
    const sub = join(dir, `d${Math.floor(i / 1000)}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}`), randomBytes(1024));
  }
  return smallFiles * 1024;
}

function rawRestic(args, cwd, repo, cache) {
  const started = performance.now();
  const result = spawnSync('restic', ['--cache-dir', cache, '-r', repo, ...args], { cwd, env: { ...process.env, RESTIC_PASSWORD: PASSWORD }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`restic ${args[0]} failed: ${result.stderr}`);
  return (performance.now() - started) / 1000;
}

async function waitFor(what, check, timeoutMs = 30 * 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const work = mkdtempSync(join(tmpdir(), 'autostash-datapath-'));
const backendDir = join(work, 'backend');
mkdirSync(backendDir);
const config = loadConfig({ host: '127.0.0.1', port: '0', certDir: join(work, 'certs'), dataDir: join(work, 'data'), embeddedPort: '0', initialBackup: false }, { HOME: work });
const server = await startServer(config, pino({ level: 'warn' }));
const loaded = loadKubeConfigWithSource({ kubeconfigPath: server.controlPlane.kubeconfigPath, env: {} });
const client = createKubeClient(loaded.kubeConfig);

try {
  await waitFor('readiness', async () => (await server.app.inject('/readyz')).statusCode === 200);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt-secret', namespace: NS }, stringData: { RESTIC_PASSWORD: PASSWORD } });
  await client.create({
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'BackupStorage',
    metadata: { name: 'local', namespace: NS },
    spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backendDir } } }, default: true, deletionPolicy: 'WipeOut' },
  });

  await client.create({
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'RetentionPolicy',
    metadata: { name: 'keep-all', namespace: NS },
    spec: { default: true, successfulSnapshots: { last: 10 } },
  });

  const results = [];
  for (const set of sets) {
    const claim = `${set}-data`;
    await client.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim, namespace: NS }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } });
    const dataDir = await waitFor(`claim ${claim} bound`, async () => {
      const pvc = await client.find({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: NS, name: claim });
      if (!pvc?.spec?.volumeName) return undefined;
      const pv = await client.find({ apiVersion: 'v1', kind: 'PersistentVolume', name: pvc.spec.volumeName });
      return pv?.spec?.hostPath?.path;
    });
    process.stderr.write(`writing the ${set} data set into ${dataDir}\n`);
    const bytes = set === 'large' ? writeLarge(dataDir) : writeSmall(dataDir);

    const configuration = `${set}-backup`;
    await client.create({
      apiVersion: 'core.kubestash.com/v1alpha1',
      kind: 'BackupConfiguration',
      metadata: { name: configuration, namespace: NS },
      spec: {
        target: { apiGroup: '', kind: 'PersistentVolumeClaim', name: claim, namespace: NS },
        backends: [{ name: 'local', storageRef: { name: 'local', namespace: NS } }],
        sessions: [
          {
            name: 'bench',
            scheduler: { schedule: '0 0 1 1 *', jobTemplate: { backoffLimit: 0 } },
            repositories: [{ name: `${set}-repo`, backend: 'local', directory: `/bench/${set}`, encryptionSecret: { name: 'encrypt-secret', namespace: NS } }],
            addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] },
          },
        ],
      },
    });
    await waitFor(`repository ${set}-repo ready`, async () => (await client.find({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository', namespace: NS, name: `${set}-repo` }))?.status?.phase === 'Ready');

    const autostashBackup = async (n) => {
      const name = `${configuration}-${n}`;
      const started = performance.now();
      await client.create({
        apiVersion: 'core.kubestash.com/v1alpha1',
        kind: 'BackupSession',
        metadata: { name, namespace: NS },
        spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: configuration }, session: 'bench' },
      });
      const snapshot = await waitFor(`snapshot of ${name}`, async () => {
        const session = await client.find({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', namespace: NS, name });
        const snapshotName = session?.status?.snapshots?.[0]?.name;
        if (['Failed', 'Skipped'].includes(session?.status?.phase)) throw new Error(`session ${name} ${session.status.phase}: ${JSON.stringify(session.status)}`);
        if (!snapshotName) return undefined;
        const found = await client.find({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Snapshot', namespace: NS, name: snapshotName });
        if (found?.status?.phase === 'Failed') throw new Error(`snapshot ${snapshotName} failed: ${JSON.stringify(found.status)}`);
        return found?.status?.phase === 'Succeeded' ? found : undefined;
      });
      const seconds = (performance.now() - started) / 1000;
      // The session goes on with retention and history cleanup; the next one would be skipped (Forbid) meanwhile.
      await waitFor(`session ${name} finished`, async () => {
        const session = await client.find({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', namespace: NS, name });
        return ['Succeeded', 'Failed', 'Skipped'].includes(session?.status?.phase);
      });
      return { seconds, snapshot: snapshot.metadata.name };
    };

    const rawRepo = join(work, `raw-${set}`);
    const rawCache = join(work, `raw-cache-${set}`);
    // Both start from no repository: the first autostash backup initialises its restic repository too.
    const rawFull = rawRestic(['init'], dataDir, rawRepo, rawCache) + rawRestic(['backup', '--host', 'dump', '.'], dataDir, rawRepo, rawCache);
    const ours = await autostashBackup(1);
    const rawAgain = rawRestic(['backup', '--host', 'dump', '.'], dataDir, rawRepo, rawCache);
    const oursAgain = await autostashBackup(2);
    const mib = bytes / 1024 / 1024;
    results.push({
      set,
      data: set === 'large' ? `${largeMiB} MiB` : `${smallFiles} files`,
      'raw full s': rawFull.toFixed(2),
      'autostash full s': ours.seconds.toFixed(2),
      'raw MiB/s': (mib / rawFull).toFixed(1),
      'autostash MiB/s': (mib / ours.seconds).toFixed(1),
      'full ratio (raw/autostash)': (rawFull / ours.seconds).toFixed(3),
      'raw again s': rawAgain.toFixed(2),
      'autostash again s': oursAgain.seconds.toFixed(2),
      'again ratio (autostash/raw)': (oursAgain.seconds / rawAgain).toFixed(2),
    });
    rmSync(rawRepo, { recursive: true, force: true });
  }
  console.table(results);
  console.log(JSON.stringify(results));
} finally {
  client.close();
  await server.close();
  rmSync(work, { recursive: true, force: true });
}

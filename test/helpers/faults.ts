/**
 * What the fault suite (test/faults/) shares: a PVC backed up by a BackupConfiguration into a local
 * BackupStorage on the embedded plane, restic run against that repository from the test, and the
 * proof lines `npm run faults` (scripts/faults.mjs) turns into its table.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import type { KubeObject } from '../../src/domain/kube-object.js';
import type { KubeClient } from '../../src/kube/client.js';
import { eventually } from './eventually.js';
import { describeTree, type TreeEntry } from './file-tree.js';

const run = promisify(execFile);
export const CORE = 'core.kubestash.com/v1alpha1';
export const STORAGE = 'storage.kubestash.com/v1alpha1';
export const PASSWORD = 'fault-suite-password-7d1e';
/** Container path of the local backends in the fault suite. */
export const MOUNT_PATH = '/safe/data';
export const LONG = 150_000;

export type Phased = KubeObject & {
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    snapshots?: Array<{ name?: string; repository?: string; phase?: string }>;
    components?: Record<string, { phase?: string; error?: string; resticStats?: Array<{ summary?: { id?: string } }> }>;
  };
};

/**
 * Records what a scenario proved: `npm run faults` prints `verified` in its table. Call it last, after
 * every data assertion passed (a scenario that failed earlier never prints a line, and shows "not verified").
 */
export function dataVerified(t: Test, scenario: string, verified: string): void {
  if (!t.passing()) return;
  t.comment(`FAULT-RESULT ${JSON.stringify({ scenario, verified })}`);
}

export const b64 = (value: string): string => Buffer.from(value).toString('base64');

/** Objects of one scenario `name` in `namespace`: encryption Secret, local BackupStorage on `hostDir`, a PVC and its BackupConfiguration. */
export function pvcScenario(namespace: string, name: string, hostDir: string, options: { concurrencyPolicy?: string; retention?: boolean; keepLast?: number } = {}): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-encryption`, namespace }, data: { RESTIC_PASSWORD: b64(PASSWORD) } },
    {
      apiVersion: STORAGE,
      kind: 'BackupStorage',
      metadata: { name: `${name}-storage`, namespace },
      spec: { storage: { provider: 'local', local: { mountPath: MOUNT_PATH, hostPath: { path: hostDir } } }, usagePolicy: { allowedNamespaces: { from: 'Same' } }, deletionPolicy: 'WipeOut' },
    },
    {
      apiVersion: STORAGE,
      kind: 'RetentionPolicy',
      metadata: { name: `${name}-keep`, namespace },
      spec: { successfulSnapshots: { last: options.keepLast ?? 30 }, failedSnapshots: { last: options.keepLast ?? 30 }, usagePolicy: { allowedNamespaces: { from: 'Same' } } },
    },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `${name}-data`, namespace }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
    {
      apiVersion: CORE,
      kind: 'BackupConfiguration',
      metadata: { name: `${name}-backup`, namespace },
      spec: {
        target: { apiGroup: '', kind: 'PersistentVolumeClaim', namespace, name: `${name}-data` },
        backends: [{ name: 'backend', storageRef: { name: `${name}-storage`, namespace }, ...(options.retention === false ? {} : { retentionPolicy: { name: `${name}-keep`, namespace } }) }],
        sessions: [
          {
            name: 'manual',
            scheduler: { schedule: '0 2 * * *', jobTemplate: { backoffLimit: 0 }, ...(options.concurrencyPolicy ? { concurrencyPolicy: options.concurrencyPolicy } : {}) },
            sessionHistoryLimit: 30,
            repositories: [{ name: `${name}-repo`, backend: 'backend', directory: `/${name}`, encryptionSecret: { name: `${name}-encryption`, namespace } }],
            addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] },
          },
        ],
      },
    },
  ];
}

/** The restic repository of the pvc-addon component `dump` of session `manual` of scenario `name`. */
export const resticRepository = (hostDir: string, name: string): string => join(hostDir, name, 'repository', 'v1', 'manual', 'dump');

/** Runs restic on `repository` with the suite's password; rejects on a non-zero exit. */
export async function restic(repository: string, args: string[], password = PASSWORD): Promise<string> {
  const { stdout } = await run('restic', ['-r', repository, '--no-cache', ...args], {
    env: { PATH: process.env.PATH ?? '', RESTIC_PASSWORD: password },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

export const resticSnapshots = async (repository: string): Promise<Array<{ id: string; short_id: string; tags?: string[] }>> =>
  JSON.parse(await restic(repository, ['snapshots', '--json'])) as Array<{ id: string; short_id: string; tags?: string[] }>;

/** The restic ids a Snapshot object recorded (short ids). */
export const resticIdsOf = (snapshot: Phased | undefined): string[] =>
  Object.values(snapshot?.status?.components ?? {}).flatMap((c) => (c.resticStats ?? []).map((s) => s.summary?.id ?? '')).filter((id) => id !== '');

/** Restores restic snapshot `id` into a temporary directory and describes the tree (for comparing with the source). */
export async function restoredTree(repository: string, id: string, password = PASSWORD): Promise<Record<string, TreeEntry>> {
  const target = await mkdtemp(join(tmpdir(), 'autostash-fault-restore-'));
  try {
    await restic(repository, ['restore', id, '--target', target], password);
    return await describeTree(target);
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}

/** Writes `files` random files of `bytes` each under `dir/big` (incompressible, so restic has work to do). */
export async function writeRandomFiles(dir: string, files: number, bytes: number): Promise<void> {
  await mkdir(join(dir, 'big'), { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(join(dir, 'big', `part-${i}.bin`), randomBytes(bytes));
}

/** Creates a BackupSession for configuration `name`-backup session `manual` (what `autostash trigger` does). */
export async function createSession(client: KubeClient, namespace: string, configuration: string, sessionName: string): Promise<void> {
  await createAll(client, [{
    apiVersion: CORE,
    kind: 'BackupSession',
    metadata: { name: sessionName, namespace },
    spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: configuration }, session: 'manual' },
  }]);
}

/** Waits until the object's phase is one of `phases`; the failure names the last status seen. */
export async function waitFor(client: KubeClient, apiVersion: string, kind: string, namespace: string, name: string, phases: string[], timeoutMs = LONG): Promise<Phased> {
  let last: Phased | undefined;
  try {
    return await eventually(`${kind} ${namespace}/${name} in ${phases.join('|')}`, async () => {
      last = await client.find<Phased>({ apiVersion, kind, namespace, name });
      return phases.includes(last?.status?.phase ?? '') ? last : undefined;
    }, timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last status: ${JSON.stringify(last?.status)}`);
  }
}

/** The Snapshot objects a finished session lists. */
export async function snapshotsOfSession(client: KubeClient, namespace: string, session: Phased): Promise<Phased[]> {
  const out: Phased[] = [];
  for (const entry of session.status?.snapshots ?? []) {
    const snapshot = await client.find<Phased>({ apiVersion: STORAGE, kind: 'Snapshot', namespace, name: entry.name ?? '' });
    if (snapshot) out.push(snapshot);
  }
  return out;
}

/** Every False condition message and component error of a session and its Snapshots, as one text. */
export function failureText(session: Phased, snapshots: Phased[]): string {
  const falseConditions = (object: Phased) => (object.status?.conditions ?? []).filter((c) => c.status === 'False').map((c) => c.message ?? '');
  return [...falseConditions(session), ...snapshots.flatMap((s) => [...falseConditions(s), ...Object.values(s.status?.components ?? {}).map((c) => c.error ?? '')])].join('\n');
}

/**
 * Creates `objects` in order. A create the webhook shed under load (503 "overloaded", failurePolicy Fail) is
 * tried again after a pause, as kubectl users would: the fault suite runs on a shared, loaded machine where
 * the in-process webhook's event-loop delay can pass the shedding limit (see docs/RELIABILITY.md).
 */
export async function createAll(client: KubeClient, objects: KubeObject[]): Promise<void> {
  for (const object of objects) await retryShed(() => client.create(object));
}

/** Runs `write`, again after a pause while the webhook sheds it (see createAll). */
export async function retryShed<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 20 || !/overloaded/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** An `autostash serve --no-embedded` child process (webhook + controllers) against a test plane, restartable on the same port. */
export interface ChildController {
  port: number;
  certDir: string;
  /** Everything the processes wrote (pino JSON lines and stderr), across restarts. */
  output(): string;
  start(): Promise<void>;
  /** SIGKILL: no Lease release, no cleanup. */
  kill(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (listen on 0, close). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function childController(t: Test, options: { cliPath: string; kubeconfig: string; dir: string; port: number; args?: string[] }): ChildController {
  const certDir = join(options.dir, 'certs');
  const chunks: string[] = [];
  let child: import('node:child_process').ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const kill = async (): Promise<void> => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  t.teardown(kill);
  return {
    port: options.port,
    certDir,
    output: () => chunks.join(''),
    async start() {
      const { spawn } = await import('node:child_process');
      const { request } = await import('node:https');
      child = spawn(
        process.execPath,
        [
          options.cliPath, 'serve', '--no-embedded', '--kubeconfig', options.kubeconfig, '--host', '127.0.0.1', '--port', String(options.port),
          '--cert-dir', certDir, '--namespace', 'autostash', '--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms', ...(options.args ?? []),
        ],
        { env: { PATH: process.env.PATH ?? '', HOME: options.dir }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const current = child;
      exited = new Promise((resolve) => current.once('exit', () => resolve()));
      current.stdout?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
      current.stderr?.setEncoding('utf8').on('data', (chunk: string) => chunks.push(chunk));
      const ready = (): Promise<boolean> =>
        new Promise((resolve) => {
          // A child that accepts and never answers must not stall the poll: each probe gives up after 5 s.
          const outgoing = request({ host: '127.0.0.1', port: options.port, path: '/readyz', rejectUnauthorized: false, timeout: 5_000 }, (response) => {
            response.resume();
            resolve(response.statusCode === 200);
          });
          outgoing.on('timeout', () => outgoing.destroy(new Error('readiness probe timed out')));
          outgoing.on('error', () => resolve(false));
          outgoing.end();
        });
      await eventually('the autostash child process ready', async () => {
        if (current.exitCode !== null) throw new Error(`autostash serve exited with ${current.exitCode}: ${chunks.join('').slice(-2000)}`);
        return ready();
      }, LONG);
    },
    kill,
  };
}

/**
 * The failure stories of a backup on the embedded control plane with the real executor and real
 * restic: a wrong encryption password, a missing encryption Secret, an unreachable backend and a full
 * disk. Each one ends the BackupSession Failed with a message naming the cause, leaves earlier
 * Snapshots and their restic data intact (`restic snapshots` lists them, `restic check` passes), and
 * the next run after the fix succeeds. The password never shows in status, Events or Job logs.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { builtCliMissing } from '../../helpers/control-plane.js';
import { namespaceObject, resticMissing, startHarness, triggerAndWait, waitPhase, type Harness, type Phased } from '../../helpers/story-harness.js';

const run = promisify(execFile);
const CORE = 'core.kubestash.com/v1alpha1';
const STORAGE = 'storage.kubestash.com/v1alpha1';
const ns = 'failures';
const RIGHT_PASSWORD = 'right-password-5e1c9a7d';
const WRONG_PASSWORD = 'wrong-password-0b44f2e6';
/** Container path of every local backend in this file. */
const MOUNT_PATH = '/safe/data';

interface Component {
  phase?: string;
  error?: string;
  resticStats?: Array<{ summary?: { id?: string } }>;
}
type SnapshotObject = Phased & { spec?: { repository?: string }; status?: { components?: Record<string, Component> } };

const b64 = (value: string) => Buffer.from(value).toString('base64');

function encryptionSecret(name: string, password = RIGHT_PASSWORD): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: ns }, data: { RESTIC_PASSWORD: b64(password) } };
}

/** A local BackupStorage on `hostDir`, a PVC with a small file and a BackupConfiguration backing it up with the pvc-addon. */
function scenarioObjects(name: string, hostDir: string): KubeObject[] {
  return [
    encryptionSecret(`${name}-encryption`),
    {
      apiVersion: STORAGE,
      kind: 'BackupStorage',
      metadata: { name: `${name}-storage`, namespace: ns },
      spec: {
        storage: { provider: 'local', local: { mountPath: MOUNT_PATH, hostPath: { path: hostDir } } },
        usagePolicy: { allowedNamespaces: { from: 'Same' } },
        deletionPolicy: 'WipeOut',
      },
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `${name}-data`, namespace: ns },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
    configurationFor(name, `${name}-storage`),
  ];
}

function configurationFor(name: string, storage: string): KubeObject {
  return {
    apiVersion: CORE,
    kind: 'BackupConfiguration',
    metadata: { name: `${name}-backup`, namespace: ns },
    spec: {
      target: { apiGroup: '', kind: 'PersistentVolumeClaim', namespace: ns, name: `${name}-data` },
      backends: [{ name: 'backend', storageRef: { name: storage, namespace: ns }, retentionPolicy: { name: 'keep-all', namespace: ns } }],
      sessions: [
        {
          name: 'manual',
          scheduler: { schedule: '0 2 * * *', jobTemplate: { backoffLimit: 0 } },
          sessionHistoryLimit: 10,
          repositories: [{ name: `${name}-repo`, backend: 'backend', directory: `/${name}`, encryptionSecret: { name: `${name}-encryption`, namespace: ns } }],
          addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] },
        },
      ],
    },
  };
}

/** The restic repository of the pvc-addon component `dump` of session `manual`. */
const resticRepository = (hostDir: string, name: string) => join(hostDir, name, 'repository', 'v1', 'manual', 'dump');

async function restic(repository: string, args: string[]): Promise<string> {
  const { stdout } = await run('restic', ['-r', repository, '--no-cache', ...args], {
    env: { PATH: process.env.PATH ?? '', RESTIC_PASSWORD: RIGHT_PASSWORD },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

const resticSnapshotIds = async (repository: string): Promise<string[]> =>
  (JSON.parse(await restic(repository, ['snapshots', '--json'])) as Array<{ id: string }>).map((s) => s.id);

const snapshotIdsOf = (snapshot: SnapshotObject | undefined): string[] =>
  Object.values(snapshot?.status?.components ?? {}).flatMap((c) => (c.resticStats ?? []).map((s) => s.summary?.id ?? ''));

/** Every component error and every False condition of the session and its Snapshots, as one text. */
function failureText(session: Phased, snapshots: SnapshotObject[]): string {
  const falseConditions = (object: Phased) => (object.status?.conditions ?? []).filter((c) => c.status === 'False').map((c) => c.message ?? '');
  return [
    ...falseConditions(session),
    ...snapshots.flatMap((s) => [...falseConditions(s), ...Object.values(s.status?.components ?? {}).map((c) => c.error ?? '')]),
  ].join('\n');
}

async function backupSucceeds(t: Test, h: Harness, name: string): Promise<SnapshotObject> {
  const { session, snapshots } = await triggerAndWait(t, h, ns, `${name}-backup`);
  t.equal(session.status?.phase, 'Succeeded', `the backup of ${name} succeeds: ${JSON.stringify(session.status)}`);
  t.equal(snapshots.length, 1);
  const snapshot = snapshots[0] as SnapshotObject;
  t.equal(snapshot.status?.phase, 'Succeeded', JSON.stringify(snapshot.status));
  t.equal(snapshotIdsOf(snapshot).length, 1, 'one restic snapshot recorded');
  return snapshot;
}

async function backupFails(t: Test, h: Harness, name: string): Promise<{ message: string; snapshots: SnapshotObject[] }> {
  const { session, snapshots } = await triggerAndWait(t, h, ns, `${name}-backup`);
  t.equal(session.status?.phase, 'Failed', `the backup of ${name} fails: ${JSON.stringify(session.status)}`);
  for (const snapshot of snapshots) t.equal(snapshot.status?.phase, 'Failed', `Snapshot ${snapshot.metadata?.name} Failed`);
  return { message: failureText(session, snapshots as SnapshotObject[]), snapshots: snapshots as SnapshotObject[] };
}

/** Nothing half-deleted: the earlier Snapshots exist and Succeeded, restic still lists their data and the repository checks clean. */
async function earlierDataIntact(t: Test, h: Harness, repository: string, earlier: SnapshotObject[]): Promise<void> {
  const ids = await resticSnapshotIds(repository);
  for (const snapshot of earlier) {
    const current = await h.get<SnapshotObject>(STORAGE, 'Snapshot', ns, snapshot.metadata?.name ?? '');
    t.equal(current?.status?.phase, 'Succeeded', `Snapshot ${snapshot.metadata?.name} is still there and Succeeded`);
    // status records restic's short ids.
    for (const id of snapshotIdsOf(snapshot)) t.ok(id !== '' && ids.some((full) => full.startsWith(id)), `restic still lists ${id}`);
  }
  await t.resolves(restic(repository, ['check']), 'restic check passes');
  const oldest = snapshotIdsOf(earlier[0])[0] ?? '';
  t.equal(await restic(repository, ['dump', oldest, '/hello.txt']), `hello from ${earlier[0]?.spec?.repository?.replace(/-repo$/, '')}\n`, 'the oldest backup still restores');
}

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith(suffix)).map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

// About two minutes on an idle machine (13 sessions, each a backup Job and a retention Job); the default 180 s
// file timeout is too tight when other work shares the two cores.
t.setTimeout(360_000);

t.test('backup failure stories on the embedded control plane with restic', { skip: builtCliMissing }, async (t) => {
  const missing = await resticMissing;
  if (missing) {
    t.comment(missing);
    return;
  }
  const h = await startHarness(t);
  await h.apply([
    namespaceObject(ns),
    {
      apiVersion: STORAGE,
      kind: 'RetentionPolicy',
      metadata: { name: 'keep-all', namespace: ns },
      spec: { successfulSnapshots: { last: 20 }, failedSnapshots: { last: 20 }, usagePolicy: { allowedNamespaces: { from: 'Same' } } },
    },
  ]);

  /** Applies a scenario's objects, writes a small file into its PVC and waits until its Repository is Ready. */
  async function setUp(name: string, hostDir: string): Promise<{ source: string; repository: string }> {
    await mkdir(hostDir, { recursive: true });
    await h.apply(scenarioObjects(name, hostDir));
    const source = await h.claimDir(ns, `${name}-data`);
    await writeFile(join(source, 'hello.txt'), `hello from ${name}\n`);
    await waitPhase(h, STORAGE, 'BackupStorage', ns, `${name}-storage`, ['Ready']);
    await waitPhase(h, STORAGE, 'Repository', ns, `${name}-repo`, ['Ready']);
    return { source, repository: resticRepository(hostDir, name) };
  }

  // The scenarios are independent (own Secret, storage, claim and configuration); most of their time is
  // spent waiting for Jobs, so they run side by side to keep the file well under its timeout.
  await t.test('failure scenarios', async (t) => {
  t.jobs = 5;
  t.test('wrong encryption password -> Failed naming the password; the repository is untouched; the right password works again', async (t) => {
    const name = 'wrongpass';
    const { source, repository } = await setUp(name, join(h.backendDir, name));
    const first = await backupSucceeds(t, h, name);

    await h.client.patch({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: `${name}-encryption` }, { type: 'merge', patch: { data: { RESTIC_PASSWORD: b64(WRONG_PASSWORD) } } });
    await writeFile(join(source, 'second.txt'), 'changed\n');
    const failed = await backupFails(t, h, name);
    t.match(failed.message, /wrong password/i, `the message names the password: ${failed.message}`);
    t.match(failed.message, /encryption secret/i);
    await earlierDataIntact(t, h, repository, [first]);
    t.equal((await resticSnapshotIds(repository)).length, 1, 'no restic snapshot was added under the wrong password');

    await h.client.patch({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: `${name}-encryption` }, { type: 'merge', patch: { data: { RESTIC_PASSWORD: b64(RIGHT_PASSWORD) } } });
    const fixed = await backupSucceeds(t, h, name);
    await earlierDataIntact(t, h, repository, [first, fixed]);
  });

  t.test('missing encryption Secret -> Failed naming the Secret after the wait bound; recreated -> Succeeded', async (t) => {
    const name = 'nosecret';
    const { repository } = await setUp(name, join(h.backendDir, name));
    const first = await backupSucceeds(t, h, name);

    await h.client.delete({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name: `${name}-encryption` });
    // The session's backupTimeout bounds how long it waits for its prerequisites (else 5 minutes); it is set
    // for the failing run only, so a slow good run is not cut short.
    const configurationRef = { apiVersion: CORE, kind: 'BackupConfiguration', namespace: ns, name: `${name}-backup` };
    await h.client.patch(configurationRef, { type: 'json', patch: [{ op: 'add', path: '/spec/sessions/0/backupTimeout', value: '15s' }] });
    const failed = await backupFails(t, h, name);
    await h.client.patch(configurationRef, { type: 'json', patch: [{ op: 'remove', path: '/spec/sessions/0/backupTimeout' }] });
    t.match(failed.message, `encryption Secret ${ns}/${name}-encryption`, `the message names the Secret: ${failed.message}`);
    t.match(failed.message, /does not exist|not found/);
    await earlierDataIntact(t, h, repository, [first]);

    await h.apply([encryptionSecret(`${name}-encryption`)]);
    const fixed = await backupSucceeds(t, h, name);
    await earlierDataIntact(t, h, repository, [first, fixed]);
  });

  t.test('unreachable local backend (an unmounted share leaves an empty mount point) -> Failed naming the backend root, no new repository; back -> Succeeded', async (t) => {
    const name = 'unreachable';
    const hostDir = join(h.backendDir, name);
    const { repository } = await setUp(name, hostDir);
    const first = await backupSucceeds(t, h, name);

    await rename(hostDir, `${hostDir}.away`);
    await mkdir(hostDir);
    const failed = await backupFails(t, h, name);
    t.match(failed.message, `the local backend root ${MOUNT_PATH} has no metadata.yaml: the backend is not mounted`, `the message names the backend: ${failed.message}`);
    t.same(await readdir(hostDir), [], 'no restic repository was started on the empty mount point');
    await rm(hostDir, { recursive: true });
    await rename(`${hostDir}.away`, hostDir);
    await earlierDataIntact(t, h, repository, [first]);

    const fixed = await backupSucceeds(t, h, name);
    await earlierDataIntact(t, h, repository, [first, fixed]);
  });

  t.test('unreachable s3 backend (a closed localhost port) -> Failed naming the unreachable backend', async (t) => {
    const name = 'nos3';
    await h.apply([
      encryptionSecret(`${name}-encryption`),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-credentials`, namespace: ns }, data: { AWS_ACCESS_KEY_ID: b64('access'), AWS_SECRET_ACCESS_KEY: b64('secret-key-3c8d') } },
      {
        apiVersion: STORAGE,
        kind: 'BackupStorage',
        metadata: { name: `${name}-storage`, namespace: ns },
        spec: {
          // Port 9 (discard) on loopback: nothing listens, so connections are refused at once.
          storage: { provider: 's3', s3: { endpoint: 'http://127.0.0.1:9', bucket: 'backups', region: 'us-east-1', prefix: 'autostash', secretName: `${name}-credentials` } },
          usagePolicy: { allowedNamespaces: { from: 'Same' } },
          deletionPolicy: 'WipeOut',
        },
      },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: `${name}-data`, namespace: ns }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
      configurationFor(name, `${name}-storage`),
    ]);
    await writeFile(join(await h.claimDir(ns, `${name}-data`), 'hello.txt'), 'hello\n');
    await waitPhase(h, STORAGE, 'Repository', ns, `${name}-repo`, ['Ready']);
    const failed = await backupFails(t, h, name);
    t.match(failed.message, /unreachable/i, `the message says the backend is unreachable: ${failed.message}`);
    t.notMatch(failed.message, /secret-key-3c8d/, 'no credential in the message');
  });

  t.test('full disk (a 1 MiB tmpfs backend) -> Failed naming the lack of space; earlier data intact; grown -> Succeeded', async (t) => {
    const name = 'fulldisk';
    const hostDir = join(h.backendDir, name);
    await mkdir(hostDir, { recursive: true });
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', hostDir]);
    } catch (error) {
      t.comment(`cannot mount a tmpfs here (${(error as Error).message.split('\n')[0]}): full disk not tested`);
      return;
    }
    // Unmounted when the subtest ends, and also if the process is stopped early (a timeout), so no mount outlives the run.
    const unmount = () => void spawnSync('umount', ['-l', hostDir]);
    process.once('exit', unmount);
    t.teardown(() => {
      process.off('exit', unmount);
      unmount();
    });
    const { source, repository } = await setUp(name, hostDir);
    const first = await backupSucceeds(t, h, name);

    // 3 MiB of incompressible data cannot fit into 1 MiB.
    await writeFile(join(source, 'big.bin'), randomBytes(3 * 1024 * 1024));
    const failed = await backupFails(t, h, name);
    t.match(failed.message, /no space/i, `the message names the lack of space: ${failed.message}`);
    await earlierDataIntact(t, h, repository, [first]);

    await run('mount', ['-o', 'remount,size=32m', hostDir]);
    const fixed = await backupSucceeds(t, h, name);
    await earlierDataIntact(t, h, repository, [first, fixed]);
  });

  });

  t.test('the password never appears in status, Events or Job logs', async (t) => {
    const types = [
      { apiVersion: CORE, kind: 'BackupSession' },
      { apiVersion: CORE, kind: 'BackupConfiguration' },
      { apiVersion: STORAGE, kind: 'Snapshot' },
      { apiVersion: STORAGE, kind: 'Repository' },
      { apiVersion: STORAGE, kind: 'BackupStorage' },
      { apiVersion: 'batch/v1', kind: 'Job' },
      { apiVersion: 'v1', kind: 'Pod' },
      { apiVersion: 'v1', kind: 'Event' },
    ];
    let events = 0;
    for (const type of types) {
      const list = await h.client.list(type, { namespace: ns });
      if (type.kind === 'Event') events = list.items.length;
      const text = JSON.stringify(list.items);
      for (const secret of [RIGHT_PASSWORD, WRONG_PASSWORD, b64(RIGHT_PASSWORD), b64(WRONG_PASSWORD), 'secret-key-3c8d']) {
        t.notOk(text.includes(secret), `no secret value in ${type.kind} objects`);
      }
    }
    t.ok(events > 0, 'there are Events to look at');
    // The embedded plane keeps its kubeconfig at the root of its data directory.
    const dataDir = dirname(h.kubeconfig);
    const logs = await filesUnder(join(dataDir, 'jobs'), '.log');
    t.ok(logs.length > 0, 'there are Job logs to look at');
    for (const log of logs) {
      const text = await readFile(log, 'utf8');
      for (const secret of [RIGHT_PASSWORD, WRONG_PASSWORD, 'secret-key-3c8d']) t.notOk(text.includes(secret), `no secret value in ${log.slice(dataDir.length)}`);
    }
  });
});

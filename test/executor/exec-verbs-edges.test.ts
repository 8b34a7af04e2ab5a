/**
 * The exec verbs where things are not simple: retention over several repositories with different fates
 * (no policy, a rotated password, a lost encryption Secret), wipes of cloud and half-configured
 * repositories, init on every provider and on broken local roots, and status writes that race.
 * Real restic repositories on disk and the embedded control plane, as in exec-verbs.test.ts.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { BackupSession, BackupStorage, Repository, Snapshot } from '../../src/api/index.js';
import { BACKUP_SESSION_LABEL, CLEANUP_FINALIZER, REPOSITORY_NAME_LABEL } from '../../src/domain/execution/labels.js';
import { runBackup } from '../../src/executor/backup.js';
import {
  BACKUP_SESSION_TYPE,
  BACKUP_STORAGE_TYPE,
  REPOSITORY_TYPE,
  SNAPSHOT_TYPE,
  updateStatusRetrying,
  type ExecOptions,
} from '../../src/executor/context.js';
import { fileFailure, initRepository, initStorage } from '../../src/executor/init.js';
import { createRestic } from '../../src/executor/restic.js';
import { runRetention } from '../../src/executor/retention.js';
import { wipeRepository, wipeSnapshot } from '../../src/executor/wipe.js';
import { createKubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { silentLogger, startTestControlPlane } from '../helpers/control-plane.js';

const NS = 'edges';
const PASSWORD = 'edges-Pa55-never-shown-4f1a';
const resticAvailable = spawnSync('restic', ['version']).status === 0;
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: NS },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

t.test('fileFailure names the path and the reason for each file-system error', async (t) => {
  const rows: Array<[string | undefined, string]> = [
    ['ENOENT', 'the root does not exist'],
    ['EACCES', 'the root is not writable (EACCES)'],
    ['EPERM', 'the root is not writable (EPERM)'],
    ['EROFS', 'the root is not writable (EROFS)'],
    ['ENOSPC', 'the root has no space left (ENOSPC)'],
    ['EDQUOT', 'the root has no space left (EDQUOT)'],
    ['ENOTDIR', 'the root is not a directory'],
    ['EIO', 'the root: i/o error'],
    [undefined, 'the root: i/o error'],
  ];
  for (const [code, expected] of rows) t.equal(fileFailure(Object.assign(new Error('i/o error'), code === undefined ? {} : { code }), 'the root'), expected, code ?? 'no code');
});

t.test('exec verbs off the happy path', { skip: resticAvailable ? false : 'restic is not installed' }, async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await mkdtemp(join(tmpdir(), 'autostash-edges-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const backend = join(root, 'backend');
  const data = join(root, 'data');
  const scratch = join(root, 'scratch');
  await Promise.all([mkdir(backend), mkdir(data), mkdir(scratch)]);
  await writeFile(join(data, 'file.txt'), 'some data\n');
  const volumeMap = { '/backend': backend, '/kubestash-data': data, '/kubestash-tmp': scratch };
  const base = (): ExecOptions => ({ client, namespace: NS, volumeMap, logger: silentLogger(), podName: 'edges-job-abcde' });

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'policies' } });
  for (const name of ['encrypt', 'rotated', 'lost']) await client.create(secret(name, { RESTIC_PASSWORD: PASSWORD }));
  await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 'local', namespace: NS }, spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backend } } } } });
  t.ok((await initStorage({ ...base(), storage: 'local', operatorVersion: '1' })).ok, 'the local backend is initialised');
  const makeRepository = (name: string, spec: Record<string, unknown>): Promise<Repository> =>
    client.create<Repository>({ ...REPOSITORY_TYPE, metadata: { name, namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, ...spec } });
  const setStatus = async <T extends KubeObject>(type: { apiVersion: string; kind: string }, name: string, status: Record<string, unknown>): Promise<T> => {
    const current = await client.get<T>({ ...type, namespace: NS, name });
    return client.updateStatus<T>({ ...current, status: { ...(current.status as object), ...status } });
  };
  const getSnapshot = (name: string) => client.find<Snapshot>({ ...SNAPSHOT_TYPE, namespace: NS, name });
  const makeSnapshot = (name: string, repository: string, bs: string, finalizers = [CLEANUP_FINALIZER]) =>
    client.create<Snapshot>({
      ...SNAPSHOT_TYPE,
      metadata: { name, namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: repository, [BACKUP_SESSION_LABEL]: bs }, finalizers },
      spec: { repository, session: 'nightly', backupSession: bs },
    });
  /** A session backed up into one Snapshot per repository; the Snapshots end Succeeded at `time`. */
  const backedUpSession = async (bs: string, repositories: string[], time: string, invoker = 'bc'): Promise<void> => {
    await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name: bs, namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: invoker }, session: 'nightly' } });
    for (const repository of repositories) await makeSnapshot(`${repository}-${bs}`, repository, bs);
    await setStatus(BACKUP_SESSION_TYPE, bs, { snapshots: repositories.map((repository) => ({ name: `${repository}-${bs}`, repository, phase: 'Running' })) });
    const result = await runBackup({ ...base(), backupSession: bs, component: 'dump', paths: ['/kubestash-data'] });
    t.ok(result.ok, result.message);
    for (const repository of repositories) await setStatus(SNAPSHOT_TYPE, `${repository}-${bs}`, { phase: 'Succeeded', snapshotTime: time });
  };
  const resticOf = (path: string, component = 'dump') =>
    createRestic({ repository: join(backend, path, 'repository/v1/nightly', component), password: PASSWORD, logger: silentLogger() });

  t.test('retention over several repositories: each gets its own outcome, data first', async (t) => {
    await makeRepository('r-keep', { path: 'ret/keep', encryptionSecret: { name: 'encrypt' } });
    await makeRepository('r-rotated', { path: 'ret/rotated', encryptionSecret: { name: 'rotated' } });
    await makeRepository('r-lost', { path: 'ret/lost', encryptionSecret: { name: 'lost' } });
    await client.create({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'keep-one', namespace: 'policies' }, spec: { successfulSnapshots: { last: 1 } } });
    await client.create({
      apiVersion: 'core.kubestash.com/v1alpha1',
      kind: 'BackupConfiguration',
      metadata: { name: 'bc', namespace: NS },
      spec: {
        backends: [
          { name: 'b-keep', storageRef: { name: 'local', namespace: NS }, retentionPolicy: { name: 'keep-one', namespace: 'policies' } },
          { name: 'b-none', storageRef: { name: 'local', namespace: NS } },
          { name: 'b-absent', storageRef: { name: 'local', namespace: NS }, retentionPolicy: { name: 'absent' } },
        ],
        sessions: [
          { name: 'weekly', repositories: [{ name: 'r-nopolicy', backend: 'b-none', directory: 'ret/nopolicy' }] },
          {
            name: 'nightly',
            repositories: [
              { name: 'r-keep', backend: 'b-keep', directory: 'ret/keep' },
              { name: 'r-rotated', backend: 'b-keep', directory: 'ret/rotated' },
              { name: 'r-lost', backend: 'b-keep', directory: 'ret/lost' },
              { name: 'r-nobackend', backend: 'gone', directory: 'ret/nobackend' },
              { name: 'r-policy-absent', backend: 'b-absent', directory: 'ret/absent' },
            ],
          },
        ],
      },
    });
    await backedUpSession('bs-1', ['r-keep', 'r-rotated', 'r-lost'], '2026-03-01T00:00:00Z');
    await backedUpSession('bs-2', ['r-keep', 'r-rotated', 'r-lost'], '2026-03-02T00:00:00Z');
    // Older than both: a Succeeded Snapshot of an empty volume (no restic snapshot) and without finalizer; and
    // one nobody wrote status for yet (in progress: never removed).
    await makeSnapshot('r-keep-empty', 'r-keep', 'bs-0', []);
    await setStatus(SNAPSHOT_TYPE, 'r-keep-empty', { phase: 'Succeeded', snapshotTime: '2026-02-01T00:00:00Z', components: { dump: { phase: 'Succeeded', resticStats: [{ summary: { hostPath: '/kubestash-data' } }] } } });
    await makeSnapshot('r-keep-pending', 'r-keep', 'bs-3');
    // The password of r-rotated changes after its backups; the encryption Secret of r-lost is deleted.
    const rotated = await client.get<KubeObject>({ apiVersion: 'v1', kind: 'Secret', namespace: NS, name: 'rotated' });
    await client.update({ ...rotated, data: { RESTIC_PASSWORD: b64('a-new-password') } });
    await client.delete({ apiVersion: 'v1', kind: 'Secret', namespace: NS, name: 'lost' });
    // Another writer's entry is kept; this run's repositories replace theirs.
    await setStatus(BACKUP_SESSION_TYPE, 'bs-2', {
      snapshots: ['r-keep', 'r-rotated', 'r-lost', 'r-nopolicy', 'r-nobackend', 'r-policy-absent'].map((repository) => ({ name: `${repository}-bs-2`, repository, phase: 'Succeeded' })),
      retentionPolicy: [{ repository: 'elsewhere', phase: 'Applied' }, { repository: 'r-keep', phase: 'FailedToApply', error: 'an older run' }],
    });

    const result = await runRetention({ ...base(), backupSession: 'bs-2', staleLockSeconds: 600, now: () => new Date('2026-03-10T00:00:00Z') });
    t.notOk(result.ok, 'some repositories failed');
    const byRepository = Object.fromEntries(result.repositories.map((r) => [r.repository, r]));
    t.match(byRepository['r-keep'], { phase: 'Applied', policy: { name: 'keep-one', namespace: 'policies' }, kept: [] });
    t.same(byRepository['r-keep']?.removed.sort(), ['r-keep-bs-1', 'r-keep-empty']);
    t.same((await resticOf('ret/keep').snapshots()).map((s) => s.tags.find((tag) => tag.startsWith('snapshot='))), ['snapshot=r-keep-bs-2'], 'only the kept snapshot stays in restic');
    t.equal(await getSnapshot('r-keep-bs-1'), undefined, 'the removed Snapshot object is deleted');
    t.equal(await getSnapshot('r-keep-empty'), undefined, 'a Snapshot without data or finalizer is deleted too');
    t.ok(await getSnapshot('r-keep-pending'), 'a Snapshot without status is in progress and kept');

    t.match(byRepository['r-rotated'], { phase: 'FailedToApply', kept: ['r-rotated-bs-1'], removed: [], error: /^restic data of 1 snapshot\(s\) could not be removed \(repository\/v1\/nightly\/dump: wrong password.*\); those Snapshots are kept$/ });
    t.ok(await getSnapshot('r-rotated-bs-1'), 'the Snapshot whose data could not be forgotten stays');
    t.equal((await resticOf('ret/rotated').snapshots()).length, 2, 'and so does its data');
    t.match(byRepository['r-lost'], { phase: 'FailedToApply', error: 'cannot reach the data of 1 snapshot(s) to remove: encryption Secret edges/lost not found' });
    t.ok(await getSnapshot('r-lost-bs-1'));
    t.match(byRepository['r-nopolicy'], { phase: 'FailedToApply', error: 'backend "b-none" of BackupConfiguration edges/bc has no retentionPolicy' });
    t.match(byRepository['r-nobackend'], { phase: 'FailedToApply', error: 'BackupConfiguration edges/bc has no backend "gone" for repository r-nobackend' });
    t.match(byRepository['r-policy-absent'], { phase: 'FailedToApply', policy: { name: 'absent', namespace: NS }, error: 'RetentionPolicy edges/absent not found' });
    t.notMatch(result.message, PASSWORD);

    const bs = await client.get<BackupSession>({ ...BACKUP_SESSION_TYPE, namespace: NS, name: 'bs-2' });
    const entries = Object.fromEntries((bs.status?.retentionPolicy ?? []).map((e) => [e.repository, e]));
    t.same(Object.keys(entries).sort(), ['elsewhere', 'r-keep', 'r-lost', 'r-nobackend', 'r-nopolicy', 'r-policy-absent', 'r-rotated']);
    t.same(entries['r-keep'], { ref: { name: 'keep-one', namespace: 'policies' }, repository: 'r-keep', phase: 'Applied' }, 'the older entry is replaced');
    t.same(entries['r-nobackend'], { repository: 'r-nobackend', phase: 'FailedToApply', error: 'BackupConfiguration edges/bc has no backend "gone" for repository r-nobackend' }, 'no ref without a policy');
    t.same(entries.elsewhere, { repository: 'elsewhere', phase: 'Applied' });

    // Nothing left to remove: applied, nothing touched.
    const again = await runRetention({ ...base(), backupSession: 'bs-1', now: () => new Date('2026-03-10T00:00:00Z') });
    t.match(again.repositories.find((r) => r.repository === 'r-keep'), { phase: 'Applied', removed: [], kept: [] });
  });

  t.test('retention without an invoking BackupConfiguration fails every repository with the reason', async (t) => {
    await makeRepository('r-orphan', { path: 'ret/orphan', encryptionSecret: { name: 'encrypt' } });
    await backedUpSession('bs-orphan', ['r-orphan'], '2026-03-01T00:00:00Z', 'no-such-bc');
    const orphan = await runRetention({ ...base(), backupSession: 'bs-orphan' });
    t.same(orphan, { ok: false, repositories: [{ repository: 'r-orphan', phase: 'FailedToApply', error: 'BackupConfiguration edges/no-such-bc not found', removed: [], kept: [] }], message: 'repository r-orphan: BackupConfiguration edges/no-such-bc not found' });

    await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name: 'bs-manual', namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'RestoreSession', name: 'x' }, session: 'nightly' } });
    await setStatus(BACKUP_SESSION_TYPE, 'bs-manual', { snapshots: [{ name: 'r-orphan-bs-orphan', repository: 'r-orphan' }, { name: 'no-repository' }] });
    const manual = await runRetention({ ...base(), backupSession: 'bs-manual' });
    t.match(manual, { ok: false, repositories: [{ repository: 'r-orphan', error: 'BackupSession spec.invoker is not a BackupConfiguration' }] });
    t.equal(manual.repositories.length, 1, 'a status entry without repository is skipped');
    t.ok(await getSnapshot('r-orphan-bs-orphan'), 'nothing removed');
  });

  t.test('wipe-snapshot: components without path or data, a missing restic repository, a Repository without secret', async (t) => {
    await makeRepository('r-wipe', { path: 'wipe/one', encryptionSecret: { name: 'encrypt' } });
    await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name: 'bs-w', namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'bc' }, session: 'nightly' } });
    await makeSnapshot('r-wipe-bs-w', 'r-wipe', 'bs-w');
    t.ok((await runBackup({ ...base(), backupSession: 'bs-w', component: 'dump', paths: ['/kubestash-data'] })).ok);
    const written = await getSnapshot('r-wipe-bs-w');
    const { path: _path, ...withoutPath } = written?.status?.components?.dump ?? {};
    // A component status without path (another writer's) is found at the layout's path; one without restic data is skipped.
    await setStatus(SNAPSHOT_TYPE, 'r-wipe-bs-w', { components: { dump: withoutPath, empty: { phase: 'Succeeded', resticStats: [{ summary: { hostPath: '/x' } }] } } });
    t.equal((await resticOf('wipe/one').snapshots()).length, 1);
    const wiped = await wipeSnapshot({ ...base(), snapshot: 'r-wipe-bs-w', staleLockSeconds: 600 });
    t.same(wiped, { ok: true, message: 'wiped 1 restic snapshot(s) of Snapshot r-wipe-bs-w' });
    t.equal((await resticOf('wipe/one').snapshots()).length, 0, 'the data is forgotten');

    // The restic repository of a component is gone already: nothing to forget, success.
    await makeSnapshot('r-wipe-moved', 'r-wipe', 'bs-w');
    await setStatus(SNAPSHOT_TYPE, 'r-wipe-moved', { components: { other: { path: 'repository/v1/nightly/other', resticStats: [{ summary: { id: 'deadbeef' } }] } } });
    t.same(await wipeSnapshot({ ...base(), snapshot: 'r-wipe-moved' }), { ok: true, message: 'wiped 0 restic snapshot(s) of Snapshot r-wipe-moved' });

    await makeSnapshot('r-wipe-nodata', 'r-wipe', 'bs-w');
    t.same(await wipeSnapshot({ ...base(), snapshot: 'r-wipe-nodata' }), { ok: true, message: 'Snapshot r-wipe-nodata has no restic data' });

    const withData = { components: { dump: { path: 'repository/v1/nightly/dump', resticStats: [{ summary: { id: 'deadbeef' } }] } } };
    await makeRepository('r-nosecret', { path: 'wipe/nosecret' });
    await makeSnapshot('r-nosecret-s', 'r-nosecret', 'bs-w');
    await setStatus(SNAPSHOT_TYPE, 'r-nosecret-s', withData);
    await t.rejects(wipeSnapshot({ ...base(), snapshot: 'r-nosecret-s' }), { message: 'Repository edges/r-nosecret has no spec.encryptionSecret' });
    await client.create(secret('empty', {}));
    await makeRepository('r-emptysecret', { path: 'wipe/empty', encryptionSecret: { name: 'empty', namespace: NS } });
    await makeSnapshot('r-emptysecret-s', 'r-emptysecret', 'bs-w');
    await setStatus(SNAPSHOT_TYPE, 'r-emptysecret-s', withData);
    await t.rejects(wipeSnapshot({ ...base(), snapshot: 'r-emptysecret-s' }), { message: 'encryption Secret edges/empty has no RESTIC_PASSWORD key' });
    await makeRepository('r-escape', { path: 'wipe/../../etc', encryptionSecret: { name: 'encrypt' } });
    await makeSnapshot('r-escape-s', 'r-escape', 'bs-w');
    await setStatus(SNAPSHOT_TYPE, 'r-escape-s', withData);
    await t.rejects(wipeSnapshot({ ...base(), snapshot: 'r-escape-s' }), { message: 'Repository spec.path "wipe/../../etc" must not contain ".." segments' });
    await makeRepository('r-nostorage', { storageRef: { name: 'no-such-storage' }, path: 'wipe/x', encryptionSecret: { name: 'encrypt' } });
    await makeSnapshot('r-nostorage-s', 'r-nostorage', 'bs-w');
    await setStatus(SNAPSHOT_TYPE, 'r-nostorage-s', withData);
    await t.rejects(wipeSnapshot({ ...base(), snapshot: 'r-nostorage-s' }), { message: 'BackupStorage edges/no-such-storage not found' });
  });

  t.test('wipe-repository on a local backend needs no password; an absent directory is fine', async (t) => {
    await makeRepository('r-local-lost', { path: 'wipe/local-lost', encryptionSecret: { name: 'lost' } });
    await mkdir(join(backend, 'wipe/local-lost/repository'), { recursive: true });
    t.same(await wipeRepository({ ...base(), repository: 'r-local-lost' }), { ok: true, message: 'removed wipe/local-lost from the local backend' });
    await t.rejects(stat(join(backend, 'wipe/local-lost')));
    t.same(await wipeRepository({ ...base(), repository: 'r-local-lost' }), { ok: true, message: 'wipe/local-lost was already absent from the local backend' });
    await makeRepository('r-storage-gone', { storageRef: { name: 'no-such-storage' }, path: 'wipe/gone', encryptionSecret: { name: 'lost' } });
    await t.rejects(wipeRepository({ ...base(), repository: 'r-storage-gone' }), { message: 'BackupStorage edges/no-such-storage not found' });
  });

  t.test('wipe-repository on a cloud backend forgets each component path; an unreachable one fails instead of claiming success', async (t) => {
    await client.create(secret('s3-creds', { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'key-value-secret', CA_CERT_DATA: '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n' }));
    // Port 9 (discard) refuses connections on this machine: the backend is down.
    await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 's3-down', namespace: NS }, spec: { storage: { provider: 's3', s3: { bucket: 'backups', endpoint: 'http://127.0.0.1:9', secretName: 's3-creds' } } } });
    await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 's3-nocreds', namespace: NS }, spec: { storage: { provider: 's3', s3: { bucket: 'backups', endpoint: 'http://127.0.0.1:9', secretName: 'absent' } } } });
    await makeRepository('r-s3', { storageRef: { name: 's3-down' }, path: 'cloud/app', encryptionSecret: { name: 'encrypt' } });
    t.same(await wipeRepository({ ...base(), repository: 'r-s3' }), { ok: true, message: 'forgot every snapshot in 0 component path(s) of Repository r-s3' }, 'no backup yet: nothing to forget');
    await setStatus(REPOSITORY_TYPE, 'r-s3', { componentPaths: ['repository/v1/nightly/dump'] });
    const failure = await wipeRepository({ ...base(), repository: 'r-s3', staleLockSeconds: 60 }).then(() => undefined, (error: unknown) => error);
    t.match(failure, { name: 'ResticError', code: 'Unreachable' }, 'the wipe fails: the data may still be there');
    t.notMatch(String((failure as Error | undefined)?.message), /key-value-secret/, 'no credential in the failure');
    await makeRepository('r-s3-nocreds', { storageRef: { name: 's3-nocreds' }, path: 'cloud/app', encryptionSecret: { name: 'encrypt' } });
    await t.rejects(wipeRepository({ ...base(), repository: 'r-s3-nocreds' }), { message: 'storage Secret edges/absent of BackupStorage s3-nocreds not found' });
  });

  t.test('init-storage maps the credentials of every cloud provider and of credential-less s3', async (t) => {
    await client.create(secret('gcs-creds', { GOOGLE_PROJECT_ID: 'p', GOOGLE_SERVICE_ACCOUNT_JSON_KEY: '{"type":"service_account"}' }));
    await client.create(secret('azure-creds', { AZURE_ACCOUNT_KEY: 'k' }));
    await client.create(secret('azure-nokey', { OTHER: 'x' }));
    const rows: Array<[string, Record<string, unknown>, boolean, RegExp, string | undefined]> = [
      ['gcs', { provider: 'gcs', gcs: { bucket: 'b', secretName: 'gcs-creds' } }, true, /^the gcs credentials are complete/, 'True'],
      ['azure', { provider: 'azure', azure: { container: 'c', storageAccount: 'acct', secretName: 'azure-creds' } }, true, /^the azure credentials are complete/, 'True'],
      ['azure-nokey', { provider: 'azure', azure: { container: 'c', storageAccount: 'acct', secretName: 'azure-nokey' } }, false, /AZURE_ACCOUNT_KEY/, 'True'],
      ['s3-irsa', { provider: 's3', s3: { bucket: 'b', endpoint: 's3.amazonaws.com' } }, true, /^the s3 credentials are complete/, undefined],
      ['local-nomount', { provider: 'local', local: { hostPath: { path: '/x' } } }, false, /mount path of the local backend is required/, undefined],
    ];
    for (const [name, storage, ok, message, secretFound] of rows) {
      await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name, namespace: NS }, spec: { storage } });
      const result = await initStorage({ ...base(), storage: name, operatorVersion: '1' });
      t.equal(result.ok, ok, name);
      t.match(result.message, message, name);
      const conditions = (await client.get<BackupStorage>({ ...BACKUP_STORAGE_TYPE, namespace: NS, name })).status?.conditions ?? [];
      t.equal(conditions.find((c) => c.type === 'BackendSecretFound')?.status, secretFound, `${name}: BackendSecretFound`);
      t.equal(conditions.find((c) => c.type === 'BackendInitialized')?.status, ok ? 'True' : 'False', `${name}: BackendInitialized`);
    }
  });

  t.test('init-storage on broken local roots: beneath a file, a symlink loop, metadata.yaml unreadable or not a file', async (t) => {
    const file = join(root, 'plain-file');
    await writeFile(file, 'x');
    const loop = join(root, 'loop');
    await symlink(loop, loop);
    const corrupt = join(root, 'corrupt');
    await mkdir(corrupt);
    await writeFile(join(corrupt, 'metadata.yaml'), 'creationTimestamp: [unclosed\n');
    const occupied = join(root, 'occupied');
    await mkdir(join(occupied, 'metadata.yaml'), { recursive: true });
    const noTimestamp = join(root, 'no-timestamp');
    await mkdir(noTimestamp);
    await writeFile(join(noTimestamp, 'metadata.yaml'), 'kind: BackendMeta\n');
    const rows: Array<[string, string, boolean, RegExp]> = [
      ['beneath-file', join(file, 'sub'), false, /^the local backend root \/root is not a directory$/],
      ['loop', loop, false, /^the local backend root \/root: ELOOP/],
      ['occupied', occupied, false, /^the local backend root \/root: EISDIR/],
      ['corrupt', corrupt, true, /^metadata.yaml written at \/root$/],
      ['no-timestamp', noTimestamp, true, /^metadata.yaml written at \/root$/],
    ];
    const now = new Date('2026-05-05T05:05:05Z');
    for (const [name, hostDir, ok, message] of rows) {
      await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name, namespace: NS }, spec: { storage: { provider: 'local', local: { mountPath: '/root', hostPath: { path: '/x' } } } } });
      const result = await initStorage({ ...base(), volumeMap: { '/root': hostDir }, storage: name, operatorVersion: '2', now: () => now });
      t.equal(result.ok, ok, name);
      t.match(result.message, message, name);
      if (ok) t.equal((parse(await readFile(join(hostDir, 'metadata.yaml'), 'utf8')) as { creationTimestamp: string }).creationTimestamp, '2026-05-05T05:05:05Z', `${name}: a fresh creation time`);
    }
    // The same outcome again writes nothing: the condition is unchanged.
    const before = await client.get<BackupStorage>({ ...BACKUP_STORAGE_TYPE, namespace: NS, name: 'loop' });
    await initStorage({ ...base(), volumeMap: { '/root': loop }, storage: 'loop', operatorVersion: '2', now: () => now });
    const after = await client.get<BackupStorage>({ ...BACKUP_STORAGE_TYPE, namespace: NS, name: 'loop' });
    t.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion, 'no status write');
  });

  t.test('init-repository: every way it refuses, cloud backends, and a write that fails', async (t) => {
    await client.create(secret('s3-ok', { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'key' }));
    await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 's3-good', namespace: NS }, spec: { storage: { provider: 's3', s3: { bucket: 'b', endpoint: 'minio:9000', secretName: 's3-ok' } } } });
    await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 's3-nokey', namespace: NS }, spec: { storage: { provider: 's3', s3: { bucket: 'b', endpoint: 'minio:9000', secretName: 'empty' } } } });
    await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 'local-missing', namespace: NS }, spec: { storage: { provider: 'local', local: { mountPath: '/not-mounted', hostPath: { path: '/x' } } } } });
    await writeFile(join(backend, 'a-file'), 'x');
    const rows: Array<[string, Record<string, unknown>, boolean, RegExp]> = [
      ['i-nopath', { path: '/' }, false, /^Repository spec.path is empty$/],
      ['i-nostorage-ref', { storageRef: { name: '' }, path: 'p' }, false, /^Repository spec.storageRef is not set$/],
      ['i-storage-gone', { storageRef: { name: 'no-such-storage' }, path: 'p' }, false, /^BackupStorage edges\/no-such-storage not found$/],
      ['i-s3-secret-gone', { storageRef: { name: 's3-down' }, path: 'p' }, false, /^storage Secret edges\/s3-creds not found$/],
      ['i-s3-nokey', { storageRef: { name: 's3-nokey' }, path: 'p' }, false, /AWS_ACCESS_KEY_ID/],
      ['i-dot', { path: 'demo/./x' }, false, /must not contain "\." or "\.\." segments/],
      ['i-s3', { storageRef: { name: 's3-good' }, path: 'cloud/app' }, true, /^the s3 credentials are complete; repository.yaml is written for local backends only$/],
      ['i-local-missing', { storageRef: { name: 'local-missing' }, path: 'p' }, false, /^the local backend root \/not-mounted does not exist$/],
      ['i-beneath-file', { path: 'a-file/repo' }, false, /^the repository directory \/backend\/a-file\/repo is not a directory$/],
    ];
    await client.delete({ apiVersion: 'v1', kind: 'Secret', namespace: NS, name: 's3-creds' });
    for (const [name, spec, ok, message] of rows) {
      await makeRepository(name, spec);
      const result = await initRepository({ ...base(), repository: name });
      t.equal(result.ok, ok, name);
      t.match(result.message, message, name);
      const conditions = (await client.get<Repository>({ ...REPOSITORY_TYPE, namespace: NS, name })).status?.conditions;
      t.match(conditions, [{ type: 'RepositoryInitialized', status: ok ? 'True' : 'False', message }], name);
    }
  });

  t.test('updateStatusRetrying re-reads on 409, skips unchanged objects and tolerates a vanished one', async (t) => {
    await makeRepository('r-race', { path: 'race', encryptionSecret: { name: 'encrypt' } });
    // Another writer gets in between our read and our write, once: a client whose first read is followed by that write.
    let interleaved = false;
    const racing = {
      ...client,
      find: async <T extends KubeObject>(ref: Parameters<typeof client.find>[0]): Promise<T | undefined> => {
        const read = await client.find<T>(ref);
        if (!interleaved && read !== undefined) {
          interleaved = true;
          await client.updateStatus({ ...read, status: { snapshotCount: 7 } });
        }
        return read;
      },
    };
    let calls = 0;
    const written = await updateStatusRetrying<Repository>(racing, REPOSITORY_TYPE, NS, 'r-race', (current) => {
      calls++;
      current.status = { ...current.status, size: '1 B' };
    });
    t.equal(calls, 2, 'the 409 made it read again and mutate the fresh object');
    t.same(written?.status, { snapshotCount: 7, size: '1 B' }, "the other writer's field is kept");
    const unchanged = await updateStatusRetrying<Repository>(client, REPOSITORY_TYPE, NS, 'r-race', () => false);
    t.equal(unchanged?.metadata?.resourceVersion, written?.metadata?.resourceVersion, 'nothing written');
    t.equal(await updateStatusRetrying(client, REPOSITORY_TYPE, NS, 'never-existed', () => t.fail('not called')), undefined);
  });
});

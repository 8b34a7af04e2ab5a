import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { BackupSession, BackupStorage, Repository, RestoreSession, Snapshot } from '../../src/api/index.js';
import { selectSnapshots } from '../../src/domain/retention/select-snapshots.js';
import {
  BACKUP_SESSION_LABEL,
  CLEANUP_FINALIZER,
  JOB_COMPONENT_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REPOSITORY_LABEL,
  REPOSITORY_NAME_LABEL,
} from '../../src/domain/execution/labels.js';
import { runBackup } from '../../src/executor/backup.js';
import {
  BACKUP_SESSION_TYPE,
  BACKUP_STORAGE_TYPE,
  REPOSITORY_TYPE,
  RESTORE_SESSION_TYPE,
  SNAPSHOT_TYPE,
  type ExecOptions,
} from '../../src/executor/context.js';
import { initRepository, initStorage } from '../../src/executor/init.js';
import { createRestic } from '../../src/executor/restic.js';
import { runRestore } from '../../src/executor/restore.js';
import { runRetention } from '../../src/executor/retention.js';
import { removeStaleLocks } from '../../src/executor/stale-locks.js';
import { wipeRepository, wipeSnapshot } from '../../src/executor/wipe.js';
import { createKubeClient } from '../../src/kube/client.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { silentLogger, startTestControlPlane } from '../helpers/control-plane.js';
import { describeTree, writeSampleTree } from '../helpers/file-tree.js';

const NS = 'exec';
const PASSWORD = 'exec-test-Pa55-never-shown-91c2';
const resticAvailable = spawnSync('restic', ['version']).status === 0;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

t.test('exec verbs against the embedded control plane and real restic', { skip: resticAvailable ? false : 'restic is not installed' }, async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await mkdtemp(join(tmpdir(), 'autostash-exec-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const backend = join(root, 'backend');
  const data = join(root, 'data');
  const scratch = join(root, 'scratch');
  await Promise.all([mkdir(backend), mkdir(data), mkdir(scratch)]);
  await writeSampleTree(data, { largeBytes: 512 * 1024 });
  const volumeMap = { '/backend': backend, '/kubestash-data': data, '/kubestash-tmp': scratch };
  const base = (): ExecOptions => ({ client, namespace: NS, volumeMap, logger: silentLogger(), podName: 'exec-job-abcde' });

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, data: { RESTIC_PASSWORD: b64(PASSWORD) } });
  await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'no-password', namespace: NS }, data: { OTHER: b64('x') } });
  await client.create<BackupStorage>({
    ...BACKUP_STORAGE_TYPE,
    metadata: { name: 'local', namespace: NS },
    spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backend } } } },
  });
  const makeRepository = (name: string, path: string, secret = 'encrypt'): Promise<Repository> =>
    client.create<Repository>({
      ...REPOSITORY_TYPE,
      metadata: { name, namespace: NS },
      spec: { storageRef: { name: 'local', namespace: NS }, path, encryptionSecret: { name: secret } },
    });
  await makeRepository('repo', 'demo/app');

  const setStatus = async <T extends KubeObject>(type: { apiVersion: string; kind: string }, name: string, status: Record<string, unknown>): Promise<T> => {
    const current = await client.get<T>({ ...type, namespace: NS, name });
    return client.updateStatus<T>({ ...current, status: { ...(current.status as object), ...status } });
  };
  /** A BackupSession with one Snapshot per repository, as the session controller would create them. */
  const makeSession = async (bs: string, repositories: string[], listInStatus = true): Promise<string[]> => {
    await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name: bs, namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'bc' }, session: 'nightly' } });
    const names: string[] = [];
    for (const repository of repositories) {
      const name = `${repository}-${bs}`;
      await client.create<Snapshot>({
        ...SNAPSHOT_TYPE,
        metadata: { name, namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: repository, [BACKUP_SESSION_LABEL]: bs }, finalizers: [CLEANUP_FINALIZER] },
        spec: { repository, session: 'nightly', backupSession: bs },
      });
      names.push(name);
    }
    if (listInStatus) await setStatus(BACKUP_SESSION_TYPE, bs, { snapshots: repositories.map((repository, i) => ({ name: names[i], repository, phase: 'Running' })) });
    return names;
  };
  const component = async (snapshot: string, name = 'dump') =>
    (await client.get<Snapshot>({ ...SNAPSHOT_TYPE, namespace: NS, name: snapshot })).status?.components?.[name];
  const resticFor = (path: string, password = PASSWORD) =>
    createRestic({ repository: join(backend, path, 'repository/v1/nightly/dump'), password, logger: silentLogger() });

  t.test('init-storage writes metadata.yaml and sets conditions; re-running keeps the creation time', async (t) => {
    const first = await initStorage({ ...base(), storage: 'local', operatorVersion: '9.9.9', now: () => new Date('2026-01-01T00:00:00Z') });
    t.ok(first.ok, first.message);
    const meta = parse(await readFile(join(backend, 'metadata.yaml'), 'utf8')) as Record<string, unknown>;
    t.same(meta, { apiVersion: 'config.kubestash.com/v1alpha1', kind: 'BackendMeta', creationTimestamp: '2026-01-01T00:00:00Z', operatorVersion: '9.9.9' });
    await initStorage({ ...base(), storage: 'local', operatorVersion: '9.9.10', now: () => new Date('2026-02-01T00:00:00Z') });
    const again = parse(await readFile(join(backend, 'metadata.yaml'), 'utf8')) as Record<string, unknown>;
    t.equal(again.creationTimestamp, '2026-01-01T00:00:00Z', 'creationTimestamp kept');
    t.equal(again.operatorVersion, '9.9.10');
    const storage = await client.get<BackupStorage>({ ...BACKUP_STORAGE_TYPE, namespace: NS, name: 'local' });
    const conditions = storage.status?.conditions ?? [];
    t.match(conditions, [{ type: 'BackendInitialized', status: 'True', reason: 'BackendInitializationSucceeded' }]);
    t.notOk(conditions.some((c) => c.type === 'BackendSecretFound'), 'no secret condition for a credential-less local backend');
  });

  t.test('init-storage reports a missing or unusable root, a missing Secret and a missing key', async (t) => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    const cases: Array<[string, Record<string, unknown>, RegExp, Array<{ type: string; status: string }>]> = [
      ['missing-root', { provider: 'local', local: { mountPath: '/nowhere', hostPath: { path: '/x' } } }, /local backend root \/nowhere does not exist/, []],
      ['file-root', { provider: 'local', local: { mountPath: '/file-root', hostPath: { path: '/x' } } }, /is not a directory/, []],
      ['s3-no-secret', { provider: 's3', s3: { bucket: 'b', endpoint: 'minio:9000', secretName: 'absent' } }, /storage Secret exec\/absent not found/, [{ type: 'BackendSecretFound', status: 'False' }]],
      ['s3-no-key', { provider: 's3', s3: { bucket: 'b', endpoint: 'minio:9000', secretName: 'no-password' } }, /AWS_ACCESS_KEY_ID/, [{ type: 'BackendSecretFound', status: 'True' }]],
    ];
    for (const [name, storage, reason, secretCondition] of cases) {
      await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name, namespace: NS }, spec: { storage } });
      const result = await initStorage({ ...base(), volumeMap: { ...volumeMap, '/file-root': file }, storage: name, operatorVersion: '1' });
      t.notOk(result.ok, name);
      t.match(result.message, reason, name);
      const written = await client.get<BackupStorage>({ ...BACKUP_STORAGE_TYPE, namespace: NS, name });
      t.match(written.status?.conditions, [...secretCondition, { type: 'BackendInitialized', status: 'False', reason: 'BackendInitializationFailed', message: reason }], name);
    }
    await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3-creds', namespace: NS }, data: { AWS_ACCESS_KEY_ID: b64('id'), AWS_SECRET_ACCESS_KEY: b64('key-value-secret') } });
    await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 's3-ok', namespace: NS }, spec: { storage: { provider: 's3', s3: { bucket: 'b', endpoint: 'minio:9000', secretName: 's3-creds' } } } });
    const cloud = await initStorage({ ...base(), storage: 's3-ok', operatorVersion: '1' });
    t.ok(cloud.ok);
    t.match(cloud.message, /metadata.yaml is written for local backends only/);
    const written = await client.get<BackupStorage>({ ...BACKUP_STORAGE_TYPE, namespace: NS, name: 's3-ok' });
    t.notMatch(JSON.stringify(written.status), /key-value-secret/, 'no secret value in status');
    await t.rejects(initStorage({ ...base(), storage: 'absent', operatorVersion: '1' }), /BackupStorage exec\/absent not found/);
  });

  t.test('init-repository writes repository.yaml and refuses ".."', async (t) => {
    const ok = await initRepository({ ...base(), repository: 'repo' });
    t.ok(ok.ok, ok.message);
    const doc = parse(await readFile(join(backend, 'demo/app/repository.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    t.equal(doc.kind, 'Repository');
    t.equal(doc.metadata?.name, 'repo');
    t.notOk('status' in doc, 'no status');
    t.notOk('managedFields' in (doc.metadata ?? {}), 'no managedFields');
    t.same(doc.spec?.path, 'demo/app');
    const repo = await client.get<Repository>({ ...REPOSITORY_TYPE, namespace: NS, name: 'repo' });
    t.match(repo.status?.conditions, [{ type: 'RepositoryInitialized', status: 'True', reason: 'RepositoryInitializationSucceeded' }]);

    await makeRepository('escape', '../outside');
    const refused = await initRepository({ ...base(), repository: 'escape' });
    t.notOk(refused.ok);
    t.match(refused.message, /must not contain "\.\."/);
    const escaped = await client.get<Repository>({ ...REPOSITORY_TYPE, namespace: NS, name: 'escape' });
    t.match(escaped.status?.conditions, [{ type: 'RepositoryInitialized', status: 'False', reason: 'RepositoryInitializationFailed' }]);
    await t.rejects(stat(join(root, 'outside')), 'nothing written outside the backend');
  });

  let backedUp = '';
  t.test('backup of a data tree, then restore into another directory gives the same tree', async (t) => {
    const [snapshot] = await makeSession('bs-1', ['repo'], false);
    backedUp = snapshot as string;
    const result = await runBackup({ ...base(), backupSession: 'bs-1', component: 'dump', paths: ['/kubestash-data'], exclude: [] });
    t.ok(result.ok, result.message);
    const written = await component(backedUp);
    t.match(written, { phase: 'Succeeded', driver: 'Restic', path: 'repository/v1/nightly/dump', integrity: true, size: /B$/, duration: /s$/ });
    t.equal(written?.resticStats?.length, 1);
    const summary = written?.resticStats?.[0]?.summary;
    t.match(summary, { id: /^[0-9a-f]{8,}$/, hostPath: '/kubestash-data', size: /B$/, uploaded: /B$/, startTime: /Z$/, endTime: /Z$/ });
    const snapshots = await resticFor('demo/app').snapshots();
    t.equal(snapshots.length, 1);
    t.equal(snapshots[0]?.host, 'dump');
    t.same(snapshots[0]?.tags.sort(), ['session=bs-1', `snapshot=${backedUp}`].sort());
    t.notMatch(JSON.stringify(await client.get({ ...SNAPSHOT_TYPE, namespace: NS, name: backedUp })), PASSWORD, 'no password in the Snapshot');

    await setStatus(SNAPSHOT_TYPE, backedUp, { phase: 'Succeeded', snapshotTime: '2026-01-01T00:00:00Z' });
    const target = join(root, 'restored');
    await client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name: 'rs-1', namespace: NS }, spec: { dataSource: { repository: 'repo', snapshot: 'latest' } } });
    const restored = await runRestore({ ...base(), volumeMap: { ...volumeMap, '/kubestash-data': target }, restoreSession: 'rs-1', component: 'dump' });
    t.ok(restored.ok, restored.message);
    t.equal(restored.snapshot, backedUp, 'latest resolves to the newest Succeeded Snapshot');
    t.same(await describeTree(target), await describeTree(data), 'sha256, modes and symlinks equal');
    const rs = await client.get<RestoreSession>({ ...RESTORE_SESSION_TYPE, namespace: NS, name: 'rs-1' });
    t.match(rs.status?.components?.dump, { phase: 'Succeeded', duration: /s$/ });
  });

  t.test('backup excludes and restore includes work on container paths', async (t) => {
    await makeSession('bs-ex', ['repo']);
    const result = await runBackup({ ...base(), backupSession: 'bs-ex', component: 'dump', paths: ['/kubestash-data'], exclude: ['/kubestash-data/nested', '*.bin'] });
    t.ok(result.ok, result.message);
    await client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name: 'rs-ex', namespace: NS }, spec: { dataSource: { repository: 'repo', snapshot: 'repo-bs-ex' } } });
    const target = join(root, 'restored-ex');
    const restored = await runRestore({ ...base(), volumeMap: { ...volumeMap, '/kubestash-data': target }, restoreSession: 'rs-ex', component: 'dump', exclude: ['/kubestash-data/secret.key'] });
    t.ok(restored.ok, restored.message);
    const tree = await describeTree(target);
    t.ok(tree['hello.txt'], 'kept file restored');
    t.notOk(tree.nested, 'excluded directory not backed up');
    t.notOk(tree['large.bin'], 'excluded pattern not backed up');
    t.notOk(tree['secret.key'], 'restore exclude honoured');
  });

  t.test('an empty volume is a good backup of nothing, and restores as an empty directory', async (t) => {
    const empty = join(root, 'empty-volume');
    await mkdir(empty);
    await makeSession('bs-empty', ['repo']);
    const result = await runBackup({ ...base(), volumeMap: { ...volumeMap, '/kubestash-data': empty }, backupSession: 'bs-empty', component: 'dump', paths: ['/kubestash-data'] });
    t.ok(result.ok, result.message);
    const written = await component('repo-bs-empty');
    t.match(written, { phase: 'Succeeded', integrity: true });
    t.equal(written?.resticStats?.[0]?.summary?.id, undefined, 'no restic snapshot for an empty path');
    t.equal(written?.resticStats?.[0]?.summary?.hostPath, '/kubestash-data');
    await setStatus(SNAPSHOT_TYPE, 'repo-bs-empty', { phase: 'Succeeded' });
    await client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name: 'rs-empty', namespace: NS }, spec: { dataSource: { repository: 'repo', snapshot: 'repo-bs-empty' } } });
    const target = join(root, 'restored-empty');
    const restored = await runRestore({ ...base(), volumeMap: { ...volumeMap, '/kubestash-data': target }, restoreSession: 'rs-empty', component: 'dump' });
    t.ok(restored.ok, restored.message);
    t.same(await describeTree(target), {}, 'an empty directory');
  });

  t.test('a restore into a volume mounted elsewhere (PVC restore of a workload backup) uses --target-path; outside every volume is refused', async (t) => {
    await setStatus(SNAPSHOT_TYPE, backedUp, { phase: 'Succeeded' });
    await client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name: 'rs-moved', namespace: NS }, spec: { dataSource: { repository: 'repo', snapshot: backedUp } } });
    const target = join(root, 'restored-moved');
    const { '/kubestash-data': _data, ...withoutData } = volumeMap;
    const moved = await runRestore({ ...base(), volumeMap: { ...withoutData, '/restore-here': target }, restoreSession: 'rs-moved', component: 'dump', targetPath: '/restore-here' });
    t.ok(moved.ok, moved.message);
    t.same(moved.restoredPaths, ['/restore-here']);
    t.same(await describeTree(target), await describeTree(data), 'the data lands in the mounted target');

    await client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name: 'rs-nowhere', namespace: NS }, spec: { dataSource: { repository: 'repo', snapshot: backedUp } } });
    const nowhere = await runRestore({ ...base(), volumeMap: withoutData, restoreSession: 'rs-nowhere', component: 'dump' });
    t.notOk(nowhere.ok);
    t.match(nowhere.message, /the restore target \/kubestash-data is not inside a volume mounted in the restore Job/);
  });

  t.test('a backup refused because of a lock clears stale locks and tries once more', async (t) => {
    // A shim around the real restic: the first backup answers as restic does when a crashed prune left an
    // exclusive lock; everything else (and the retry) is the real restic.
    const shim = join(root, 'restic-locked-once');
    const marker = join(root, 'locked-once');
    await writeFile(shim, `#!/bin/sh\nif [ "$1" = backup ] && [ ! -e "${marker}" ]; then : > "${marker}"; echo 'Fatal: unable to create lock in backend: repository is already locked exclusively by PID 4242 on crashed-pod by root' >&2; exit 1; fi\nexec restic "$@"\n`);
    await chmod(shim, 0o755);
    await makeSession('bs-locked', ['repo']);
    const result = await runBackup({ ...base(), resticBinary: shim, backupSession: 'bs-locked', component: 'dump', paths: ['/kubestash-data'] });
    t.ok(result.ok, result.message);
    t.ok(existsSync(marker), 'the first attempt met the lock');
    t.match(await component('repo-bs-locked'), { phase: 'Succeeded' });
  });

  t.test('a wrong password fails its snapshot only; the other snapshot of the session succeeds', async (t) => {
    await makeRepository('repo-wrong', 'demo/wrong');
    const other = createRestic({ repository: join(backend, 'demo/wrong/repository/v1/nightly/dump'), password: 'another-password', logger: silentLogger() });
    await other.init();
    const [wrong, good] = await makeSession('bs-2', ['repo-wrong', 'repo']);
    const result = await runBackup({ ...base(), backupSession: 'bs-2', component: 'dump', paths: ['/kubestash-data'] });
    t.notOk(result.ok);
    t.match(result.message, /wrong password/);
    t.match(await component(wrong as string), { phase: 'Failed', integrity: false, error: /wrong password/ });
    t.notMatch((await component(wrong as string))?.error ?? '', PASSWORD);
    t.match(await component(good as string), { phase: 'Succeeded' });
  });

  t.test('missing encryption secret, missing key, missing path and relative path are named', async (t) => {
    await makeRepository('repo-nosecret', 'demo/nosecret', 'absent');
    await makeRepository('repo-nokey', 'demo/nokey', 'no-password');
    const [noSecret, noKey] = await makeSession('bs-3', ['repo-nosecret', 'repo-nokey']);
    const result = await runBackup({ ...base(), backupSession: 'bs-3', component: 'dump', paths: ['/kubestash-data'] });
    t.notOk(result.ok);
    t.match(await component(noSecret as string), { phase: 'Failed', error: 'encryption Secret exec/absent not found' });
    t.match(await component(noKey as string), { phase: 'Failed', error: 'encryption Secret exec/no-password has no RESTIC_PASSWORD key' });

    const [missing] = await makeSession('bs-4', ['repo']);
    const gone = await runBackup({ ...base(), backupSession: 'bs-4', component: 'dump', paths: ['/kubestash-data/not-there'] });
    t.notOk(gone.ok);
    t.match(await component(missing as string), { phase: 'Failed', error: 'the path /kubestash-data/not-there does not exist in the backup Job' });

    const [relative] = await makeSession('bs-5', ['repo']);
    const rel = await runBackup({ ...base(), backupSession: 'bs-5', component: 'dump', paths: ['data/..'] });
    t.notOk(rel.ok);
    t.match(await component(relative as string), { phase: 'Failed', error: /must be an absolute path/ });
    const [dotdot] = await makeSession('bs-6', ['repo']);
    await runBackup({ ...base(), backupSession: 'bs-6', component: 'dump', paths: ['/kubestash-data/../etc'] });
    t.match(await component(dotdot as string), { phase: 'Failed', error: /must not contain "\.\." segments/ });

    await t.rejects(runBackup({ ...base(), backupSession: 'absent', component: 'dump' }), /BackupSession exec\/absent not found/);
  });

  t.test('restore failures are written into the RestoreSession', async (t) => {
    await client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name: 'rs-bad', namespace: NS }, spec: { dataSource: { repository: 'repo', snapshot: 'no-such-snapshot' } } });
    const result = await runRestore({ ...base(), restoreSession: 'rs-bad', component: 'dump' });
    t.notOk(result.ok);
    t.match(result.message, /Snapshot exec\/no-such-snapshot not found/);
    const rs = await client.get<RestoreSession>({ ...RESTORE_SESSION_TYPE, namespace: NS, name: 'rs-bad' });
    t.match(rs.status?.components?.dump, { phase: 'Failed', error: /no-such-snapshot not found/ });
    const other = await runRestore({ ...base(), restoreSession: 'rs-bad', component: 'dump-pod-9', snapshot: backedUp });
    t.match(other.message, /has no restic data for component dump-pod-9/);
    await client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name: 'rs-none', namespace: NS }, spec: { dataSource: { repository: 'repo-wrong', snapshot: 'latest' } } });
    const none = await runRestore({ ...base(), restoreSession: 'rs-none', component: 'dump' });
    t.match(none.message, /has no Succeeded Snapshot to restore as latest/);
  });

  t.test('retention removes exactly what selectSnapshots selects, data first', async (t) => {
    await makeRepository('repo-ret', 'demo/ret');
    await client.create({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'keep-two', namespace: NS }, spec: { successfulSnapshots: { last: 2 } } });
    await client.create({
      apiVersion: 'core.kubestash.com/v1alpha1',
      kind: 'BackupConfiguration',
      metadata: { name: 'bc', namespace: NS },
      spec: {
        backends: [{ name: 'b1', storageRef: { name: 'local', namespace: NS }, retentionPolicy: { name: 'keep-two' } }],
        sessions: [{ name: 'nightly', repositories: [{ name: 'repo-ret', backend: 'b1', directory: 'demo/ret' }] }],
      },
    });
    const names: string[] = [];
    for (let i = 1; i <= 4; i++) {
      await writeFile(join(data, 'changing.txt'), `version ${i}\n`);
      const [name] = await makeSession(`bs-r${i}`, ['repo-ret']);
      const result = await runBackup({ ...base(), backupSession: `bs-r${i}`, component: 'dump', paths: ['/kubestash-data'] });
      t.ok(result.ok, result.message);
      await setStatus(SNAPSHOT_TYPE, name as string, { phase: 'Succeeded', snapshotTime: `2026-03-0${i}T00:00:00Z` });
      names.push(name as string);
    }
    const restic = resticFor('demo/ret');
    t.equal((await restic.snapshots()).length, 4);
    const now = new Date('2026-03-10T00:00:00Z');
    const expected = selectSnapshots(names.map((name, i) => ({ name, time: new Date(`2026-03-0${i + 1}T00:00:00Z`), phase: 'Succeeded' as const })), { successfulSnapshots: { last: 2 } }, now);

    const result = await runRetention({ ...base(), backupSession: 'bs-r4', now: () => now });
    t.ok(result.ok, result.message);
    t.same(result.repositories[0]?.removed.sort(), expected.remove.map((r) => r.name).sort());
    t.equal((await restic.snapshots()).length, 2, 'restic snapshots of the removed Snapshots are forgotten');
    const left = await client.list<Snapshot>(SNAPSHOT_TYPE, { namespace: NS, labelSelector: `${REPOSITORY_NAME_LABEL}=repo-ret` });
    t.same(left.items.map((s) => s.metadata?.name).sort(), expected.keep.map((k) => k.name).sort(), 'removed Snapshot objects are deleted');
    const bs = await client.get<BackupSession>({ ...BACKUP_SESSION_TYPE, namespace: NS, name: 'bs-r4' });
    t.same(bs.status?.retentionPolicy, [{ ref: { name: 'keep-two', namespace: NS }, repository: 'repo-ret', phase: 'Applied' }]);
    t.ok(bs.status?.snapshots?.length, 'other status fields kept');

    // A repository the configuration does not list is reported, not guessed.
    await makeSession('bs-unlisted', ['repo']);
    const unlisted = await runRetention({ ...base(), backupSession: 'bs-unlisted' });
    t.notOk(unlisted.ok);
    t.match(unlisted.message, /lists no repository repo/);
    const unlistedBs = await client.get<BackupSession>({ ...BACKUP_SESSION_TYPE, namespace: NS, name: 'bs-unlisted' });
    t.match(unlistedBs.status?.retentionPolicy, [{ repository: 'repo', phase: 'FailedToApply', error: /lists no repository repo/ }]);
  });

  t.test('stale locks: kept while young, owned by us or maybe in use; removed otherwise', async (t) => {
    const repositoryPath = join(backend, 'demo/ret/repository/v1/nightly/dump');
    const holder = spawn('restic', ['backup', '--stdin', '--host', 'crashed'], { env: { ...process.env, RESTIC_REPOSITORY: repositoryPath, RESTIC_PASSWORD: PASSWORD }, stdio: ['pipe', 'ignore', 'ignore'] });
    t.teardown(() => void holder.kill('SIGKILL'));
    const restic = resticFor('demo/ret');
    for (let i = 0; i < 100 && (await restic.listLocks()).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const locks = await restic.listLocks();
    t.equal(locks.length, 1, 'a live process holds a lock');
    const options = { restic, client, namespaces: [NS], repository: 'repo-ret', logger: silentLogger() };

    const young = await removeStaleLocks({ ...options, podName: 'me-abcde', staleAfterMs: 3_600_000, now: new Date() });
    t.match(young, { removedAll: false, remaining: 1, keptBecause: /younger than/ });
    const mine = await removeStaleLocks({ ...options, podName: hostname(), staleAfterMs: 0, now: new Date(Date.now() + 1000) });
    t.match(mine, { removedAll: false, keptBecause: 'a lock belongs to this pod' });

    // A suspended Job never runs on the embedded plane but counts as active.
    const job = (name: string, labels: Record<string, string>): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: NS, labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, ...labels } },
      spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x', command: ['true'] }] } } },
    });
    await client.create(job('other-repo-cleanup', { [JOB_COMPONENT_LABEL]: 'cleaner', [REPOSITORY_LABEL]: 'some-other-repo' }));
    await client.create(job('me', { [JOB_COMPONENT_LABEL]: 'backup', [BACKUP_SESSION_LABEL]: 'bs-r4' }));
    await client.create(job('bs-r3-dump', { [JOB_COMPONENT_LABEL]: 'backup', [BACKUP_SESSION_LABEL]: 'bs-r3' }));
    const inUse = await removeStaleLocks({ ...options, podName: 'me-abcde', staleAfterMs: 0, now: new Date(Date.now() + 1000) });
    t.match(inUse, { removedAll: false, keptBecause: `Job ${NS}/bs-r3-dump may be using the repository` });
    await client.delete({ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name: 'bs-r3-dump' });

    const removed = await removeStaleLocks({ ...options, podName: 'me-abcde', staleAfterMs: 0, now: new Date(Date.now() + 1000) });
    t.match(removed, { removedAll: true, remaining: 1 });
    t.same(await restic.listLocks(), [], 'the leftover lock is gone');
  });

  t.test('wipe-snapshot forgets the data of a Snapshot; a gone Snapshot is success', async (t) => {
    const before = (await resticFor('demo/app').snapshots()).length;
    const result = await wipeSnapshot({ ...base(), snapshot: backedUp });
    t.ok(result.ok, result.message);
    t.equal((await resticFor('demo/app').snapshots()).length, before - 1);
    const again = await wipeSnapshot({ ...base(), snapshot: backedUp });
    t.ok(again.ok, 'forgetting an id restic no longer has is fine');
    const gone = await wipeSnapshot({ ...base(), snapshot: 'never-existed' });
    t.match(gone, { ok: true, message: /already gone/ });
  });

  t.test('wipe-repository removes the directory and refuses the root and ".."', async (t) => {
    const result = await wipeRepository({ ...base(), repository: 'repo-ret' });
    t.ok(result.ok, result.message);
    await t.rejects(stat(join(backend, 'demo/ret')), 'directory removed');
    t.ok((await stat(join(backend, 'demo/app'))).isDirectory(), 'other repositories untouched');
    await t.rejects(wipeRepository({ ...base(), repository: 'escape' }), /contains "\.\." segments/);
    await makeRepository('at-root', '/');
    await t.rejects(wipeRepository({ ...base(), repository: 'at-root' }), /names the backend root/);
    t.ok((await stat(backend)).isDirectory(), 'backend root untouched');
  });
});


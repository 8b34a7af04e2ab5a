/**
 * Defence in depth against path traversal in the executor, with real files, real restic repositories and the
 * embedded control plane: symbolic links out of a volume and `..` patterns are refused at backup and at
 * restore, the refusal is recorded in the Snapshot / RestoreSession, and nothing outside the volume is read or
 * written.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { BackupSession, BackupStorage, Repository, RestoreSession, Snapshot } from '../../src/api/index.js';
import { BACKUP_SESSION_LABEL, REPOSITORY_NAME_LABEL } from '../../src/domain/execution/labels.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { runBackup } from '../../src/executor/backup.js';
import {
  BACKUP_SESSION_TYPE,
  BACKUP_STORAGE_TYPE,
  REPOSITORY_TYPE,
  RESTORE_SESSION_TYPE,
  SNAPSHOT_TYPE,
  type ExecOptions,
} from '../../src/executor/context.js';
import { initStorage } from '../../src/executor/init.js';
import { runRestore } from '../../src/executor/restore.js';
import { createKubeClient } from '../../src/kube/client.js';
import { silentLogger, startTestControlPlane } from '../helpers/control-plane.js';

const NS = 'traversal';
const resticAvailable = spawnSync('restic', ['version']).status === 0;

t.test('the executor refuses paths that lead out of the Job volumes', { skip: resticAvailable ? false : 'restic is not installed' }, async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const root = await realpath(await mkdtemp(join(tmpdir(), 'autostash-traversal-')));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const [backend, data, scratch, outside, restoreVolume] = ['backend', 'data', 'scratch', 'outside', 'restore'].map((name) => join(root, name)) as [string, string, string, string, string];
  await Promise.all([backend, data, scratch, outside, restoreVolume].map((dir) => mkdir(dir)));
  await writeFile(join(data, 'app.txt'), 'application data\n');
  await writeFile(join(outside, 'shadow'), 'outside the volume\n');
  await symlink(outside, join(data, 'escape'));
  await symlink(outside, join(restoreVolume, 'escape'));
  const volumeMap = { '/backend': backend, '/kubestash-data': data, '/kubestash-tmp': scratch, '/restore': restoreVolume };
  const base = (): ExecOptions => ({ client, namespace: NS, volumeMap, logger: silentLogger(), podName: 'traversal-job-abcde' });

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'encrypt', namespace: NS }, data: { RESTIC_PASSWORD: Buffer.from('traversal-Pa55').toString('base64') } });
  await client.create<BackupStorage>({ ...BACKUP_STORAGE_TYPE, metadata: { name: 'local', namespace: NS }, spec: { storage: { provider: 'local', local: { mountPath: '/backend', hostPath: { path: backend } } } } });
  t.ok((await initStorage({ ...base(), storage: 'local', operatorVersion: '1' })).ok, 'the local backend is initialised');
  await client.create<Repository>({ ...REPOSITORY_TYPE, metadata: { name: 'repo', namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, path: 'traversal', encryptionSecret: { name: 'encrypt' } } });

  const session = async (name: string): Promise<string> => {
    await client.create<BackupSession>({ ...BACKUP_SESSION_TYPE, metadata: { name, namespace: NS }, spec: { invoker: { apiGroup: 'core.kubestash.com', kind: 'BackupConfiguration', name: 'bc' }, session: 'nightly' } });
    const snapshot = `repo-${name}`;
    await client.create<Snapshot>({ ...SNAPSHOT_TYPE, metadata: { name: snapshot, namespace: NS, labels: { [REPOSITORY_NAME_LABEL]: 'repo', [BACKUP_SESSION_LABEL]: name } }, spec: { repository: 'repo', session: 'nightly', backupSession: name } });
    return snapshot;
  };
  const componentOf = async (snapshot: string) => (await client.get<Snapshot>({ ...SNAPSHOT_TYPE, namespace: NS, name: snapshot })).status?.components?.dump;

  t.test('backup: a path through a symbolic link out of the volume fails the Snapshot with the reason', async (t) => {
    const snapshot = await session('bs-escape');
    const result = await runBackup({ ...base(), backupSession: 'bs-escape', component: 'dump', paths: ['/kubestash-data/escape'] });
    t.notOk(result.ok);
    const reason = '--paths entry "/kubestash-data/escape" leads out of the volume mounted at /kubestash-data through a symbolic link: refused';
    t.equal(result.snapshots[0]?.error, reason);
    t.match(await componentOf(snapshot), { phase: 'Failed', error: reason });
    t.same(await readdir(join(backend, 'traversal')).catch(() => []), [], 'no restic repository was even created');
  });

  t.test('backup: an exclude pattern with ".." fails the Snapshot before anything runs', async (t) => {
    const snapshot = await session('bs-exclude');
    const result = await runBackup({ ...base(), backupSession: 'bs-exclude', component: 'dump', paths: ['/kubestash-data'], exclude: ['../outside'] });
    t.notOk(result.ok);
    t.match(await componentOf(snapshot), { phase: 'Failed', error: '--exclude pattern "../outside" must not contain ".." segments: it would lead out of the volumes the Job mounts' });
  });

  t.test('backup of the volume itself keeps the link as a link, and restore refuses targets and patterns that leave the volume', async (t) => {
    const snapshot = await session('bs-good');
    const result = await runBackup({ ...base(), backupSession: 'bs-good', component: 'dump', paths: ['/kubestash-data'] });
    t.ok(result.ok, result.message);
    const restoreSession = async (name: string) =>
      client.create<RestoreSession>({ ...RESTORE_SESSION_TYPE, metadata: { name, namespace: NS }, spec: { dataSource: { repository: 'repo', snapshot } } });
    const restoreStatus = async (name: string) => (await client.get<RestoreSession>({ ...RESTORE_SESSION_TYPE, namespace: NS, name })).status?.components?.dump;

    await restoreSession('rs-escape');
    const escaped = await runRestore({ ...base(), restoreSession: 'rs-escape', component: 'dump', targetPath: '/restore/escape/landing' });
    t.notOk(escaped.ok);
    t.equal(escaped.message, 'restore target "/restore/escape/landing" leads out of the volume mounted at /restore through a symbolic link: refused');
    t.match(await restoreStatus('rs-escape'), { phase: 'Failed', error: escaped.message });
    t.same(await readdir(outside), ['shadow'], 'nothing was created outside the volume (not even the landing directory)');

    for (const [name, targetPath] of [['rs-backend', '/backend/traversal'], ['rs-backend-dot', '/./backend'], ['rs-above-backend', '/']] as const) {
      await restoreSession(name);
      const intoBackend = await runRestore({ ...base(), restoreSession: name, component: 'dump', targetPath });
      t.notOk(intoBackend.ok, `${targetPath}: ${intoBackend.message}`);
      t.equal(intoBackend.message, `the restore target ${targetPath} overlaps the backend volume mounted at /backend: restore into the target's data volume`);
    }
    t.notOk((await readdir(backend)).includes('app.txt'), 'nothing was restored into the backend');

    await restoreSession('rs-include');
    const included = await runRestore({ ...base(), restoreSession: 'rs-include', component: 'dump', targetPath: '/restore/ok', include: ['/kubestash-data/../../etc'] });
    t.notOk(included.ok);
    t.equal(included.message, '--include pattern "/kubestash-data/../../etc" must not contain ".." segments: it would lead out of the volumes the Job mounts');

    await restoreSession('rs-good');
    const restored = await runRestore({ ...base(), restoreSession: 'rs-good', component: 'dump', targetPath: '/restore/ok' });
    t.ok(restored.ok, restored.message);
    t.equal(await readFile(join(restoreVolume, 'ok', 'app.txt'), 'utf8'), 'application data\n');
    t.same(await readdir(outside), ['shadow'], 'the restored link did not write through to its target');
  });
});

/**
 * The guard that keeps a backup from starting a new restic repository on an unmounted local backend:
 * one row per outcome of requireInitialisedLocalRoot.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { BackupStorage } from '../../src/api/index.js';
import { requireInitialisedLocalRoot } from '../../src/executor/backup.js';
import { METADATA_FILE } from '../../src/executor/init.js';

const storage = (provider: string, mountPath?: string): BackupStorage =>
  ({
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'BackupStorage',
    metadata: { name: 'backend', namespace: 'demo' },
    spec: { storage: { provider, ...(provider === 'local' ? { local: { ...(mountPath ? { mountPath } : {}), hostPath: { path: '/srv' } } } : { s3: { bucket: 'b' } }) } },
  }) as BackupStorage;

t.test('requireInitialisedLocalRoot', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'autostash-local-root-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const initialised = join(dir, 'initialised');
  const empty = join(dir, 'empty');
  const file = join(dir, 'file');
  await mkdir(initialised);
  await writeFile(join(initialised, METADATA_FILE), 'kind: BackendMeta\n');
  await mkdir(empty);
  await writeFile(file, 'not a directory');

  const rows: Array<{ name: string; storage: BackupStorage; hostDir?: string; error?: RegExp }> = [
    { name: 'an s3 backend has no local root to check', storage: storage('s3') },
    { name: 'a local backend without mountPath is left to resticTarget', storage: storage('local') },
    { name: 'an initialised root passes', storage: storage('local', '/backend'), hostDir: initialised },
    { name: 'a missing root is named', storage: storage('local', '/backend'), hostDir: join(dir, 'gone'), error: /^the local backend root \/backend does not exist \(is the backend mounted\?\)$/ },
    { name: 'a file in place of the root is named', storage: storage('local', '/backend'), hostDir: file, error: /^the local backend root \/backend is not a directory$/ },
    {
      name: 'an empty root (an unmounted share) is refused',
      storage: storage('local', '/backend'),
      hostDir: empty,
      error: /^the local backend root \/backend has no metadata\.yaml: the backend is not mounted or was not initialised/,
    },
  ];
  for (const row of rows) {
    const volumeMap = row.hostDir === undefined ? undefined : { '/backend': row.hostDir };
    if (row.error === undefined) await t.resolves(requireInitialisedLocalRoot(row.storage, volumeMap), row.name);
    else await t.rejects(requireInitialisedLocalRoot(row.storage, volumeMap), { name: 'ExecError', message: row.error }, row.name);
  }
});

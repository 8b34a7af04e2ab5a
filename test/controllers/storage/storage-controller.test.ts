import t from 'tap';
import type { BackupStorage } from '../../../src/api/storage.js';
import { storageController } from '../../../src/controllers/storage/storage-controller.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { eventually } from '../../helpers/control-plane.js';
import { JOB, localStorage, NS, REPOSITORY, startMaintenancePlane, STORAGE, writeCondition } from './maintenance-plane.js';

const jobStatus = (job: KubeObject | undefined) => (job?.status ?? {}) as { conditions?: Array<{ type: string; status: string }> };
const finished = (job: KubeObject | undefined, type: 'Complete' | 'Failed') => jobStatus(job).conditions?.some((c) => c.type === type && c.status === 'True') === true;

t.test('init Job per generation; a failed Job says why; the executor conditions decide the phase; repositories are listed', async (t) => {
  const controller = storageController({ image: 'autostash:test', serviceAccountName: 'autostash-job', initRetry: { baseMs: 60_000 } });
  const { client, dataDir } = await startMaintenancePlane(t, [controller]);
  await client.create(localStorage('local', dataDir, 1));
  const getStorage = () => client.get<BackupStorage>({ ...STORAGE, namespace: NS, name: 'local' });

  const job = await eventually('the init Job', () => client.find({ ...JOB, namespace: NS, name: 'init-storage-local' }));
  const storage = await getStorage();
  t.same(job.metadata?.ownerReferences?.[0], { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage', name: 'local', uid: storage.metadata?.uid, controller: true, blockOwnerDeletion: true });
  t.equal(job.metadata?.annotations?.['autostash.dev/observed-generation'], String(storage.metadata?.generation));
  t.equal(job.metadata?.annotations?.['autostash.dev/attempt'], '1');
  const pod = (job.spec as { template: { spec: { serviceAccountName: string; containers: Array<{ command: string[]; args: string[]; env: unknown[]; volumeMounts: Array<{ mountPath: string }> }>; volumes: Array<Record<string, unknown>> } } }).template.spec;
  t.same(pod.containers[0]?.command, ['autostash']);
  t.same(pod.containers[0]?.args, ['exec', 'init-storage', '--namespace=demo', '--storage=local']);
  t.equal(pod.serviceAccountName, 'autostash-job');
  t.ok(pod.containers[0]?.volumeMounts.some((mount) => mount.mountPath === '/safe/data'), 'the local backend is mounted');
  t.ok(pod.volumes.some((volume) => volume.hostPath !== undefined), 'the backend volume is the storage volume source');
  t.same(pod.containers[0]?.env, [{ name: 'STANDIN_EXIT', value: '1' }, { name: 'STANDIN_DELAY_MS', value: '0' }], 'runtimeSettings reach the container');

  // The stand-in exits 1 without writing a condition: the controller says why, from the Job.
  const failed = await eventually('BackendInitialized False', async () => {
    const current = await getStorage();
    return current.status?.conditions?.find((c) => c.type === 'BackendInitialized' && c.status === 'False') ? current : undefined;
  });
  t.equal(failed.status?.phase, 'NotReady');
  t.match(failed.status?.conditions?.find((c) => c.type === 'BackendInitialized')?.message, /^the storage initializer Job failed: /);
  t.equal(failed.status?.conditions?.find((c) => c.type === 'BackendInitialized')?.reason, 'BackendInitializationFailed');

  // A spec change (fixed credentials, here: the Job now succeeds) runs a new Job for the new generation.
  const fixed = localStorage('local', dataDir, 0);
  await client.update({ ...failed, spec: fixed.spec });
  const second = await eventually('the Job of generation 2', async () => {
    const current = await client.find({ ...JOB, namespace: NS, name: 'init-storage-local' });
    return current?.metadata?.annotations?.['autostash.dev/observed-generation'] === '2' && finished(current, 'Complete') ? current : undefined;
  });
  t.ok(second, 'the new Job completed');
  // The executor would write its conditions now; the phase follows them.
  await writeCondition(client, { ...STORAGE, name: 'local' }, { type: 'BackendSecretFound', status: 'False', reason: 'BackendSecretNotAvailable' });
  await writeCondition(client, { ...STORAGE, name: 'local' }, { type: 'BackendInitialized', status: 'True', reason: 'BackendInitializationSucceeded' });
  await eventually('NotReady while the secret is missing', async () => (await getStorage()).status?.phase === 'NotReady' && (await getStorage()).status?.conditions?.find((c) => c.type === 'BackendInitialized')?.status === 'True');
  await writeCondition(client, { ...STORAGE, name: 'local' }, { type: 'BackendSecretFound', status: 'True', reason: 'BackendSecretAvailable' });
  await eventually('Ready', async () => (await getStorage()).status?.phase === 'Ready');

  // Repositories in the storage are listed with their sizes.
  for (const [name, size] of [['b-repo', '1 KiB'], ['a-repo', '2 KiB']] as const) {
    const created = await client.create({ ...REPOSITORY, metadata: { name, namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, path: `dir/${name}` } });
    await client.updateStatus({ ...created, status: { size } });
  }
  await client.create({ ...REPOSITORY, metadata: { name: 'elsewhere', namespace: NS }, spec: { storageRef: { name: 'other' }, path: 'x' } });
  const listed = await eventually('repositories listed', async () => {
    const current = await getStorage();
    return current.status?.totalSize === '3 KiB' ? current : undefined;
  });
  t.same(listed.status?.repositories, [
    { name: 'a-repo', namespace: NS, path: 'dir/a-repo', size: '2 KiB', synced: true },
    { name: 'b-repo', namespace: NS, path: 'dir/b-repo', size: '1 KiB', synced: true },
  ]);
  t.equal(listed.status?.conditions?.find((c) => c.type === 'BackendInitialized')?.status, 'True', 'the executor conditions are kept');
});

t.test('a failed init Job runs again after the backoff, numbered', async (t) => {
  const controller = storageController({ image: 'autostash:test', initRetry: { baseMs: 300, maxMs: 1000 } });
  const { client, dataDir } = await startMaintenancePlane(t, [controller]);
  await client.create(localStorage('flaky', dataDir, 1));
  const third = await eventually('the third run', async () => {
    const job = await client.find({ ...JOB, namespace: NS, name: 'init-storage-flaky' });
    return job?.metadata?.annotations?.['autostash.dev/attempt'] === '3' ? job : undefined;
  }, 20_000);
  t.ok(third);
  // Fixing the environment heals without a spec change: write the condition the executor would after a good run.
  await writeCondition(client, { ...STORAGE, name: 'flaky' }, { type: 'BackendInitialized', status: 'True', reason: 'BackendInitializationSucceeded' });
  const current = await eventually('Ready', async () => {
    const storage = await client.get<BackupStorage>({ ...STORAGE, namespace: NS, name: 'flaky' });
    return storage.status?.phase === 'Ready' ? storage : undefined;
  });
  t.equal(current.status?.phase, 'Ready');
});

import t, { type Test } from 'tap';
import type { BackupConfiguration } from '../../../src/api/core.js';
import type { Repository, Snapshot } from '../../../src/api/storage.js';
import { configurationController } from '../../../src/controllers/configuration/configuration-controller.js';
import { repositoryController } from '../../../src/controllers/repository/repository-controller.js';
import { snapshotController } from '../../../src/controllers/snapshot/snapshot-controller.js';
import { storageController } from '../../../src/controllers/storage/storage-controller.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import type { KubeClient } from '../../../src/kube/client.js';
import { eventually } from '../../helpers/control-plane.js';
import { BC, JOB, localStorage, NS, REPOSITORY, SNAPSHOT, startMaintenancePlane, STORAGE, writeCondition } from '../storage/maintenance-plane.js';

const options = { image: 'autostash:test', retry: { baseMs: 60_000 } };

async function setup(t: Test, storageExit: number, storageDelayMs = 0) {
  const plane = await startMaintenancePlane(t, [
    storageController({ image: 'autostash:test' }),
    repositoryController(options),
    configurationController({ targetRecheckMs: 200 }),
    snapshotController(options),
  ]);
  const { client, dataDir } = plane;
  await client.create(localStorage('local', dataDir, storageExit, storageDelayMs));
  // The executor would write this after init-storage; the storage controller turns it into Ready.
  await eventually('init Job', () => client.find({ ...JOB, namespace: NS, name: 'init-storage-local' }));
  await writeCondition(client, { ...STORAGE, name: 'local' }, { type: 'BackendInitialized', status: 'True', reason: 'BackendInitializationSucceeded' });
  await eventually('storage Ready', async () => ((await client.get({ ...STORAGE, namespace: NS, name: 'local' })).status as { phase?: string } | undefined)?.phase === 'Ready' || undefined);
  const getRepository = (name: string) => client.find<Repository>({ ...REPOSITORY, namespace: NS, name });
  const getConfiguration = (name: string) => client.find<BackupConfiguration>({ ...BC, namespace: NS, name });
  return { ...plane, getRepository, getConfiguration };
}

function configuration(name: string, repositories: Array<Record<string, unknown>>, target = { apiGroup: 'apps', kind: 'Deployment', name: 'app' }): KubeObject {
  return {
    ...BC,
    metadata: { name, namespace: NS },
    spec: {
      target,
      backends: [{ name: 'main', storageRef: { name: 'local', namespace: NS }, retentionPolicy: { name: 'keep', namespace: NS } }],
      sessions: [{ name: 'nightly', scheduler: { schedule: '0 * * * *', jobTemplate: {} }, addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup' }] }, repositories }],
    },
  };
}

const deployment = (name: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
});

/** Sets status fields as their writer (executor, scheduler, session controller) would: read-modify-write, retried on 409. */
async function writeStatus(client: KubeClient, object: KubeObject, status: Record<string, unknown>) {
  for (;;) {
    const current = await client.get({ apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', namespace: NS, name: object.metadata?.name ?? '' });
    try {
      return await client.updateStatus({ ...current, status: { ...(current.status as object), ...status } });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
}

t.test('a configuration gets its Repository; init, phases and the status of both follow', async (t) => {
  const { client, getRepository, getConfiguration } = await setup(t, 0);
  await client.create(configuration('app-backup', [{ name: 'app-repo', backend: 'main', directory: 'demo/app', encryptionSecret: { name: 'enc' }, deletionPolicy: 'Retain' }]));

  const repository = await eventually('the Repository', () => getRepository('app-repo'));
  t.same(repository.spec, {
    appRef: { apiGroup: 'apps', kind: 'Deployment', name: 'app', namespace: NS },
    storageRef: { name: 'local', namespace: NS },
    path: 'demo/app',
    encryptionSecret: { name: 'enc', namespace: NS },
    deletionPolicy: 'Delete',
  }, 'Retain maps to Delete on the Repository');
  t.equal(repository.metadata?.labels?.['autostash.dev/backup-configuration'], 'app-backup');
  t.equal(repository.metadata?.labels?.['app.kubernetes.io/managed-by'], 'autostash');

  const job = await eventually('the init-repo Job', () => client.find({ ...JOB, namespace: NS, name: 'init-repo-app-repo' }));
  const container = (job.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0];
  t.same(container?.args, ['exec', 'init-repository', '--namespace=demo', '--repository=app-repo']);
  t.equal(job.metadata?.ownerReferences?.[0]?.kind, 'Repository');
  await eventually('the finalizer', async () => (await getRepository('app-repo'))?.metadata?.finalizers?.includes('kubestash.com/cleanup'));

  // Not ready yet: the target is missing, the repository not initialized, no retention policy, no scheduler.
  const early = await eventually('configuration status', async () => {
    const current = await getConfiguration('app-backup');
    return current?.status?.repositories !== undefined ? current : undefined;
  });
  t.equal(early.status?.phase, 'NotReady');
  t.equal(early.status?.targetFound, false);
  t.same(early.status?.dependencies, [{ apiGroup: 'addons.kubestash.com', kind: 'Addon', name: 'workload-addon', found: false }]);
  t.match(early.status?.backends?.[0], { name: 'main', ready: false, storage: { phase: 'Ready' }, retentionPolicy: { found: false } });
  t.equal(early.status?.conditions?.find((c) => c.type === 'ValidationPassed')?.status, 'True');
  t.ok(early.metadata?.finalizers?.includes('kubestash.com/cleanup'));

  await writeCondition(client, { ...REPOSITORY, name: 'app-repo' }, { type: 'RepositoryInitialized', status: 'True', reason: 'RepositoryInitializationSucceeded' });
  await eventually('Repository Ready', async () => (await getRepository('app-repo'))?.status?.phase === 'Ready');
  await client.create(deployment('app'));
  await client.create({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'keep', namespace: NS }, spec: {} });
  await client.create({ apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Addon', metadata: { name: 'workload-addon' }, spec: {} });
  // The scheduler's part: SchedulerEnsured decides the last step to Ready.
  await writeStatus(client, configuration('app-backup', []), { sessions: [{ name: 'nightly', conditions: [{ type: 'SchedulerEnsured', status: 'True', reason: 'SchedulerEnsured', lastTransitionTime: '2025-01-01T00:00:00Z' }] }] });
  const ready = await eventually('configuration Ready', async () => {
    const current = await getConfiguration('app-backup');
    return current?.status?.phase === 'Ready' ? current : undefined;
  });
  t.same(ready.status?.repositories, [{ name: 'app-repo', phase: 'Ready' }]);
  t.equal(ready.status?.targetFound, true);
  t.equal(ready.status?.backends?.[0]?.ready, true);
  t.equal(ready.status?.sessions?.length, 1, "the scheduler's sessions[] is kept");

  // Snapshots feed the Repository status.
  const times = ['2025-01-01T01:00:00Z', '2025-01-01T02:00:00Z', '2025-01-01T03:00:00Z'];
  for (const [index, time] of times.entries()) {
    const created = await client.create({ ...SNAPSHOT, metadata: { name: `app-repo-s${index}`, namespace: NS, labels: { 'kubestash.com/repo-name': 'app-repo' } }, spec: { repository: 'app-repo', session: 'nightly' } });
    await writeStatus(client, created, { phase: index === 2 ? 'Failed' : 'Succeeded', snapshotTime: time, size: `${index + 1} MiB`, integrity: index !== 2, components: { dump: { path: 'repository/v1/nightly/dump' } } });
  }
  const summarized = await eventually('repository summary', async () => {
    const current = await getRepository('app-repo');
    // Every Snapshot's status seen (a Snapshot is counted as soon as it exists, before its status is written).
    return current?.status?.snapshotCount === 3 && current.status.recentSnapshots?.length === 3 && current.status.recentSnapshots.every((s) => s.phase !== undefined) ? current : undefined;
  });
  t.equal(summarized.status?.lastBackupTime, '2025-01-01T02:00:00Z');
  t.equal(summarized.status?.size, '2 MiB');
  t.equal(summarized.status?.integrity, false);
  t.same(summarized.status?.componentPaths, ['repository/v1/nightly/dump']);
  t.same(summarized.status?.recentSnapshots?.map((s) => s.name), ['app-repo-s2', 'app-repo-s1', 'app-repo-s0']);
  t.equal(summarized.status?.phase, 'Ready');
});

t.test('a Repository not made for the configuration is not taken over; a changed directory is an error', async (t) => {
  const { client, getRepository, getConfiguration, events } = await setup(t, 0);
  await client.create({ ...REPOSITORY, metadata: { name: 'taken', namespace: NS }, spec: { storageRef: { name: 'local', namespace: NS }, path: 'user/made' } });
  await client.create(configuration('intruder', [{ name: 'taken', backend: 'main', directory: 'demo/intruder' }]));
  const invalid = await eventually('Invalid', async () => {
    const current = await getConfiguration('intruder');
    return current?.status?.phase === 'Invalid' ? current : undefined;
  });
  t.match(invalid.status?.conditions?.find((c) => c.type === 'ValidationPassed'), { status: 'False', reason: 'ResourceValidationFailed', message: /Repository demo\/taken exists and was not created for this BackupConfiguration/ });
  t.match(invalid.status?.repositories, [{ name: 'taken', phase: 'NotReady', reason: /not created for this BackupConfiguration/ }]);
  const conflicts = await eventually('conflict Event', async () => {
    const found = await events('RepositoryConflict');
    return found.length > 0 ? found : undefined;
  });
  t.equal(conflicts[0]?.type, 'Warning');
  const untouched = await getRepository('taken');
  t.equal(untouched?.spec?.path, 'user/made');
  t.equal(untouched?.metadata?.labels?.['autostash.dev/backup-configuration'], undefined, 'the foreign Repository is left alone');

  // Path immutability: our own Repository, directory changed in the configuration.
  await client.create(configuration('mover', [{ name: 'moving', backend: 'main', directory: 'demo/one' }]));
  await eventually('the Repository', () => getRepository('moving'));
  const mover = await getConfiguration('mover');
  const spec = structuredClone(mover?.spec) as { sessions: Array<{ repositories: Array<{ directory: string; encryptionSecret?: unknown }> }> };
  spec.sessions[0]!.repositories[0]!.directory = 'demo/two';
  spec.sessions[0]!.repositories[0]!.encryptionSecret = { name: 'new-secret' };
  await client.update({ ...mover, spec } as KubeObject);
  const moved = await eventually('Invalid after the directory changed', async () => {
    const current = await getConfiguration('mover');
    return current?.status?.phase === 'Invalid' ? current : undefined;
  });
  t.match(moved.status?.conditions?.find((c) => c.type === 'ValidationPassed')?.message, /directory "demo\/two" differs from the Repository's spec.path "demo\/one"/);
  const kept = await getRepository('moving');
  t.equal(kept?.spec?.path, 'demo/one', 'spec.path is not changed');
  t.equal(kept?.spec?.encryptionSecret, undefined, 'nothing else is changed while the configuration is in conflict');
});

t.test('deleting a configuration: Delete deletes, WipeOut wipes then deletes, Retain keeps (unlabelled)', async (t) => {
  const { client, getRepository, getConfiguration, events } = await setup(t, 0, 1500);
  await client.create(configuration('gone', [
    { name: 'r-delete', backend: 'main', directory: 'd/delete', deletionPolicy: 'Delete' },
    { name: 'r-wipe', backend: 'main', directory: 'd/wipe', deletionPolicy: 'WipeOut' },
    { name: 'r-retain', backend: 'main', directory: 'd/retain', deletionPolicy: 'Retain' },
  ]));
  for (const name of ['r-delete', 'r-wipe', 'r-retain']) await eventually(`${name} with finalizer`, async () => (await getRepository(name))?.metadata?.finalizers?.includes('kubestash.com/cleanup'));
  t.equal((await getRepository('r-wipe'))?.spec?.deletionPolicy, 'WipeOut');
  await eventually('configuration finalizer', async () => (await getConfiguration('gone'))?.metadata?.finalizers?.includes('kubestash.com/cleanup'));
  // A Snapshot of the deleted repository must not block its garbage collection.
  const repo = await getRepository('r-delete');
  await client.create({
    ...SNAPSHOT,
    metadata: { name: 'r-delete-snap', namespace: NS, finalizers: ['kubestash.com/cleanup'], labels: { 'kubestash.com/repo-name': 'r-delete' }, ownerReferences: [{ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository', name: 'r-delete', uid: repo?.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }] },
    spec: { repository: 'r-delete', deletionPolicy: 'WipeOut' },
  });

  await client.delete({ ...BC, namespace: NS, name: 'gone' });
  await eventually('configuration gone', async () => (await getConfiguration('gone')) === undefined);
  await eventually('r-delete gone', async () => (await getRepository('r-delete')) === undefined);
  await eventually('its Snapshot gone', async () => (await client.find({ ...SNAPSHOT, namespace: NS, name: 'r-delete-snap' })) === undefined);
  t.equal(await client.find({ ...JOB, namespace: NS, name: 'cleanup-r-delete-snap' }), undefined, 'no wipe of a Snapshot whose Repository is deleted');

  const wiping = await eventually('the wipe Job', () => client.find({ ...JOB, namespace: NS, name: 'cleanup-repo-r-wipe' }));
  t.same((wiping.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]?.args, ['exec', 'wipe-repository', '--namespace=demo', '--repository=r-wipe']);
  const during = await getRepository('r-wipe');
  t.ok(during?.metadata?.deletionTimestamp, 'r-wipe is being deleted');
  t.ok(during?.metadata?.finalizers?.includes('kubestash.com/cleanup'), 'and waits for the wipe');
  await eventually('r-wipe gone after the wipe', async () => (await getRepository('r-wipe')) === undefined);
  // Events are written asynchronously by the recorder: wait for it rather than read at once.
  await eventually('a WipeOutSucceeded Event', async () => (await events('WipeOutSucceeded')).length > 0);
  t.pass('the wipe is reported as an Event');

  const retained = await getRepository('r-retain');
  t.ok(retained, 'r-retain is kept');
  t.equal(retained?.metadata?.deletionTimestamp, undefined);
  t.equal(retained?.metadata?.labels?.['autostash.dev/backup-configuration'], undefined, 'no longer labelled as the configuration’s');
});

t.test('Snapshot deletion: WipeOut waits for its Job, a failed wipe keeps the finalizer, Delete lets go at once', async (t) => {
  const { client, getRepository } = await setup(t, 0, 1200);
  await client.create(configuration('snaps', [{ name: 'snap-repo', backend: 'main', directory: 'd/snaps' }]));
  await eventually('repository', () => getRepository('snap-repo'));
  const snapshot = (name: string, deletionPolicy: string): KubeObject => ({
    ...SNAPSHOT,
    metadata: { name, namespace: NS, finalizers: ['kubestash.com/cleanup'], labels: { 'kubestash.com/repo-name': 'snap-repo' } },
    spec: { repository: 'snap-repo', deletionPolicy },
  });
  await client.create(snapshot('plain', 'Delete'));
  await client.delete({ ...SNAPSHOT, namespace: NS, name: 'plain' });
  await eventually('plain gone', async () => (await client.find({ ...SNAPSHOT, namespace: NS, name: 'plain' })) === undefined);

  await client.create(snapshot('wiped', 'WipeOut'));
  await client.delete({ ...SNAPSHOT, namespace: NS, name: 'wiped' });
  const job = await eventually('the wipe Job', () => client.find({ ...JOB, namespace: NS, name: 'cleanup-wiped' }));
  t.same((job.spec as { template: { spec: { containers: Array<{ args: string[] }> } } }).template.spec.containers[0]?.args, ['exec', 'wipe-snapshot', '--namespace=demo', '--snapshot=wiped']);
  const waiting = await client.find<Snapshot>({ ...SNAPSHOT, namespace: NS, name: 'wiped' });
  t.ok(waiting?.metadata?.finalizers?.includes('kubestash.com/cleanup'), 'the Snapshot waits while the Job runs');
  await eventually('wiped gone once the Job completed', async () => (await client.find({ ...SNAPSHOT, namespace: NS, name: 'wiped' })) === undefined);
  await eventually('the Job cleaned up', async () => (await client.find({ ...JOB, namespace: NS, name: 'cleanup-wiped' })) === undefined);
});

t.test('a failed Snapshot wipe keeps the finalizer and says so', async (t) => {
  const { client, getRepository, events } = await setup(t, 1);
  await client.create(configuration('snaps', [{ name: 'snap-repo', backend: 'main', directory: 'd/snaps' }]));
  await eventually('repository', () => getRepository('snap-repo'));
  await client.create({ ...SNAPSHOT, metadata: { name: 'stuck', namespace: NS, finalizers: ['kubestash.com/cleanup'], labels: { 'kubestash.com/repo-name': 'snap-repo' } }, spec: { repository: 'snap-repo', deletionPolicy: 'WipeOut' } });
  await client.delete({ ...SNAPSHOT, namespace: NS, name: 'stuck' });
  const warnings = await eventually('WipeOutFailed', async () => {
    const found = await events('WipeOutFailed');
    return found.length > 0 ? found : undefined;
  });
  t.match(warnings[0]?.message, /^Job cleanup-stuck failed: .*stand-in executor failed on purpose; the finalizer stays/);
  const still = await client.find<Snapshot>({ ...SNAPSHOT, namespace: NS, name: 'stuck' });
  t.ok(still?.metadata?.finalizers?.includes('kubestash.com/cleanup'));
});

t.test('targets in other API groups, no target, and a backend whose storage is missing', async (t) => {
  const { client, getConfiguration, getRepository } = await setup(t, 0);
  const settled = (name: string) =>
    eventually(`${name} status`, async () => {
      const current = await getConfiguration(name);
      return current?.status?.backends !== undefined ? current : undefined;
    });
  // A kind the API server does not serve (a CRD group that is not installed) is a target that is not there.
  await client.create(configuration('widget', [{ name: 'widget-repo', backend: 'main', directory: 'demo/widget' }], { apiGroup: 'example.com', kind: 'Widget', name: 'w' }));
  await client.create(configuration('pg', [{ name: 'pg-repo', backend: 'main', directory: 'demo/pg' }], { apiGroup: 'kubedb.com', kind: 'Postgres', name: 'pg' }));
  t.equal((await settled('widget')).status?.targetFound, false);
  t.equal((await settled('pg')).status?.targetFound, false);

  const untargeted = configuration('untargeted', [{ name: 'u-repo', backend: 'main', directory: 'demo/u' }]);
  delete (untargeted.spec as { target?: unknown }).target;
  (untargeted.spec as { backends: unknown[] }).backends = [{ name: 'main', storageRef: { name: 'nowhere' } }, { name: 'bare' }];
  (untargeted.spec as { sessions: Array<{ repositories: unknown[] }> }).sessions[0]!.repositories = [{ name: 'u-repo', backend: 'main', directory: 'demo/u' }];
  await client.create(untargeted);
  const lost = await settled('untargeted');
  t.equal(lost.status?.targetFound, undefined, 'no target: not reported');
  t.same(lost.status?.backends, [
    { name: 'main', storage: { ref: { name: 'nowhere', namespace: NS }, phase: 'NotReady', reason: `BackupStorage ${NS}/nowhere not found` }, ready: false },
    { name: 'bare', ready: false },
  ]);
  // Its Repository exists but cannot be initialised: no init Job while the storage is missing.
  const repository = await eventually('u-repo with finalizer', async () => {
    const current = await getRepository('u-repo');
    return current?.metadata?.finalizers?.includes('kubestash.com/cleanup') && current.status?.phase !== undefined ? current : undefined;
  });
  t.equal(repository.status?.phase, 'NotReady');
  t.equal(await client.find({ ...JOB, namespace: NS, name: 'init-repo-u-repo' }), undefined, 'no init Job without its storage');
  const state = await eventually('repository state', async () => (await getConfiguration('untargeted'))?.status?.repositories?.[0]);
  t.match(state, { name: 'u-repo', phase: 'NotReady', reason: /not initialized yet|Repository/ });
});

import t from 'tap';
import type { BackupStorage, Repository, Snapshot } from '../../../src/api/storage.js';
import { buildInitRepositoryJob, buildInitStorageJob, buildWipeRepositoryJob, buildWipeSnapshotJob, jobOutcome } from '../../../src/domain/execution/maintenance-jobs.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';

const storage: BackupStorage = {
  metadata: { name: 'local', namespace: 'stash', uid: 'u-s', generation: 4 },
  spec: {
    storage: { provider: 'local', local: { mountPath: '/backend', subPath: 'sub', hostPath: { path: '/data' } } as never },
    runtimeSettings: { pod: { nodeSelector: { disk: 'ssd' } }, container: { env: [{ name: 'A', value: '1' }] } },
  },
};
const repository: Repository = { metadata: { name: 'repo', namespace: 'demo', uid: 'u-r', generation: 2 }, spec: { storageRef: { name: 'local', namespace: 'stash' }, path: 'p' } };
const snapshot: Snapshot = { metadata: { name: 'repo-snap', namespace: 'demo' }, spec: { repository: 'repo' } };
const settings = { image: 'img:1', serviceAccountName: 'sa', jobTemplate: { backoffLimit: 2 } };

type PodSpec = { nodeSelector?: unknown; serviceAccountName?: string; containers: Array<{ image: string; command: string[]; args: string[]; env?: unknown; volumeMounts: Array<{ mountPath: string; subPath?: string }> }> };
const podOf = (job: KubeObject) => (job.spec as { backoffLimit: number; template: { spec: PodSpec } });

t.test('one row per Job kind: name, args, labels, owner, mounts, runtime settings', async (t) => {
  const rows = [
    { kind: 'init-storage', built: buildInitStorageJob(storage, settings), name: 'init-storage-local', namespace: 'stash', args: ['exec', 'init-storage', '--namespace=stash', '--storage=local'], labels: { 'autostash.dev/backup-storage': 'local', 'autostash.dev/job-component': 'storage-initializer' }, owner: 'BackupStorage', annotations: { 'autostash.dev/observed-generation': '4', 'autostash.dev/attempt': '1' } },
    { kind: 'init-repository', built: buildInitRepositoryJob(repository, storage, settings, 3), name: 'init-repo-repo', namespace: 'demo', args: ['exec', 'init-repository', '--namespace=demo', '--repository=repo'], labels: { 'autostash.dev/repository': 'repo', 'autostash.dev/job-component': 'repository-initializer' }, owner: 'Repository', annotations: { 'autostash.dev/observed-generation': '2', 'autostash.dev/attempt': '3' } },
    { kind: 'wipe-snapshot', built: buildWipeSnapshotJob(snapshot, storage, settings), name: 'cleanup-repo-snap', namespace: 'demo', args: ['exec', 'wipe-snapshot', '--namespace=demo', '--snapshot=repo-snap'], labels: { 'autostash.dev/snapshot': 'repo-snap', 'autostash.dev/repository': 'repo', 'autostash.dev/job-component': 'cleaner' }, owner: undefined, annotations: undefined },
    { kind: 'wipe-repository', built: buildWipeRepositoryJob(repository, storage, settings), name: 'cleanup-repo-repo', namespace: 'demo', args: ['exec', 'wipe-repository', '--namespace=demo', '--repository=repo'], labels: { 'autostash.dev/repository': 'repo', 'autostash.dev/job-component': 'cleaner' }, owner: undefined, annotations: undefined },
  ];
  for (const row of rows) {
    const { job, errors } = row.built;
    t.same(errors, [], `${row.kind}: no errors`);
    t.equal(job.metadata?.name, row.name, `${row.kind}: name`);
    t.equal(job.metadata?.namespace, row.namespace, `${row.kind}: namespace`);
    t.match(job.metadata?.labels, { ...row.labels, 'app.kubernetes.io/managed-by': 'autostash' }, `${row.kind}: labels`);
    t.same(job.metadata?.annotations, row.annotations, `${row.kind}: annotations`);
    t.equal(job.metadata?.ownerReferences?.[0]?.kind, row.owner, `${row.kind}: owner`);
    const spec = podOf(job);
    const container = spec.template.spec.containers[0];
    t.equal(spec.backoffLimit, 2, `${row.kind}: jobTemplate`);
    t.equal(container?.image, 'img:1');
    t.same(container?.command, ['autostash']);
    t.same(container?.args, row.args, `${row.kind}: args`);
    t.same(container?.env, [{ name: 'A', value: '1' }], `${row.kind}: container runtime settings`);
    t.same(spec.template.spec.nodeSelector, { disk: 'ssd' }, `${row.kind}: pod runtime settings`);
    t.equal(spec.template.spec.serviceAccountName, 'sa');
    t.ok(container?.volumeMounts.some((mount) => mount.mountPath === '/backend' && mount.subPath === 'sub'), `${row.kind}: backend mounted`);
  }
});

t.test('without a storage there is nothing to mount; a broken local storage is an error', async (t) => {
  const { job } = buildWipeRepositoryJob(repository, undefined, { image: 'i' });
  t.same(podOf(job).template.spec.containers[0]?.volumeMounts.map((m) => m.mountPath), ['/kubestash-tmp']);
  const broken: BackupStorage = { metadata: { name: 'b', namespace: 'n' }, spec: { storage: { provider: 'local', local: { mountPath: 'relative' } as never } } };
  t.match(buildInitStorageJob(broken, { image: 'i' }).errors, [{ path: 'spec.storage.local.mountPath' }]);
  t.equal(buildInitStorageJob({}, { image: 'i' }).job.metadata?.name, 'init-storage', 'nameless objects do not throw');
});

t.test('jobOutcome: one row per state', async (t) => {
  const job = (conditions: unknown[]): KubeObject => ({ status: { conditions } });
  t.same(jobOutcome(undefined), { state: 'Running' }, 'no Job');
  t.same(jobOutcome(job([])), { state: 'Running' }, 'no conditions');
  t.same(jobOutcome(job([{ type: 'Complete', status: 'True' }])), { state: 'Complete' });
  t.same(jobOutcome(job([{ type: 'Failed', status: 'True', message: 'line one\n  line two\n' }])), { state: 'Failed', message: 'line one line two' }, 'message on one line');
  t.same(jobOutcome(job([{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }])), { state: 'Failed', message: 'DeadlineExceeded' }, 'reason without message');
  t.same(jobOutcome(job([{ type: 'Failed', status: 'True' }])), { state: 'Failed', message: 'the Job failed' });
  t.same(jobOutcome(job([{ type: 'Failed', status: 'False' }])), { state: 'Running' }, 'a False condition is no outcome');
});

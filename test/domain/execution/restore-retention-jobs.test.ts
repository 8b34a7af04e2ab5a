import t from 'tap';
import { buildRestoreJobs, type BuildRestoreJobsInput } from '../../../src/domain/execution/restore-jobs.js';
import { buildRetentionJob } from '../../../src/domain/execution/retention-job.js';
import { targetComponents, type TargetComponent } from '../../../src/domain/execution/target-components.js';
import { backupSession, bsOwner, localStorage, resolved, restoreSession, rsOwner } from '../../helpers/execution-fixtures.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const dump: TargetComponent = { name: 'dump', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'new-data' } }], volumeMounts: [{ name: 'data', mountPath: '/source/data' }], variables: { COMPONENT_NAME: 'dump' } };
const input = (edit: Partial<BuildRestoreJobsInput> & { spec?: Record<string, unknown> } = {}): BuildRestoreJobsInput => ({
  restoreSession: restoreSession(edit.spec),
  resolved: resolved('workload-addon', 'logical-backup-restore', 'restore'),
  components: [dump],
  storages: [localStorage('local')],
  snapshotName: 'repo-deployment-web-frequent-backup-1704431400',
  snapshotComponents: ['dump'],
  image: 'img',
  owner: rsOwner,
  ...edit,
});

t.test('a restore Job: name, labels, owner, args, read-write mounts, timeout', async (t) => {
  const result = buildRestoreJobs(input({ spec: { restoreTimeout: '10m', addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup-restore', params: { include: ['/source/data/a'] } }] } } }));
  t.same(result.errors, []);
  const job = result.jobs[0] as Any;
  t.equal(job.metadata.name, 'restore-restore-web-dump');
  t.match(job.metadata.labels, { 'autostash.dev/restore-session': 'restore-web', 'autostash.dev/component': 'dump', 'autostash.dev/job-component': 'restore', 'kubestash.com/invoker-kind': 'RestoreSession' });
  t.match(job.metadata.ownerReferences, [{ kind: 'RestoreSession', uid: 'rs-uid' }]);
  t.same(job.spec.template.spec.containers[0].args, ['exec', 'restore', '--namespace=demo', '--restoresession=restore-web', '--component=dump', '--snapshot=repo-deployment-web-frequent-backup-1704431400', '--include=/source/data/a', '--exclude=']);
  t.same(job.spec.template.spec.containers[0].volumeMounts.find((m: Any) => m.name === 'data'), { name: 'data', mountPath: '/source/data' });
  t.equal(job.spec.activeDeadlineSeconds, 600);
  t.equal(job.spec.backoffLimit, 0);
});

t.test('StatefulSet to StatefulSet: one Job per snapshot component, paired by name', async (t) => {
  const sts = targetComponents({ mode: 'restore', target: { kind: 'StatefulSet', metadata: { namespace: 'demo', name: 'db2' }, spec: { replicas: 3, volumeClaimTemplates: [{ metadata: { name: 'data' } }], template: { spec: { containers: [{ volumeMounts: [{ name: 'data', mountPath: '/d' }] }] } } } } });
  const result = buildRestoreJobs(input({ components: sts.components, snapshotComponents: ['dump-pod-0', 'dump-pod-1', 'dump-pod-2'] }));
  t.same(result.errors, []);
  t.same(result.jobs.map((j) => j.metadata?.name), ['restore-restore-web-dump-pod-0', 'restore-restore-web-dump-pod-1', 'restore-restore-web-dump-pod-2']);
  t.same(result.jobs.map((j) => (j as Any).spec.template.spec.volumes.find((v: Any) => v.name === 'data').persistentVolumeClaim.claimName), ['data-db2-0', 'data-db2-1', 'data-db2-2']);
  const some = buildRestoreJobs(input({ components: sts.components, snapshotComponents: ['dump-pod-0', 'dump-pod-1', 'dump-pod-2'], spec: { dataSource: { repository: 'repo', snapshot: 'latest', components: ['dump-pod-2'] } } }));
  t.same(some.jobs.map((j) => j.metadata?.name), ['restore-restore-web-dump-pod-2'], 'only the listed components');
});

t.test('one snapshot component into a single-component target (dump-pod-0 into a PVC)', async (t) => {
  const pvc = targetComponents({ mode: 'restore', target: { kind: 'PersistentVolumeClaim', metadata: { namespace: 'demo', name: 'restored' } } });
  const result = buildRestoreJobs(input({ components: pvc.components, snapshotComponents: ['dump-pod-0', 'dump-pod-1'], spec: { dataSource: { repository: 'repo', snapshot: 's', components: ['dump-pod-0'] } } }));
  t.same(result.errors, []);
  const job = result.jobs[0] as Any;
  t.ok(job.spec.template.spec.containers[0].args.includes('--component=dump-pod-0'), 'restores the snapshot component');
  t.same(job.spec.template.spec.volumes.find((v: Any) => v.name === 'kubestash-data-volume').persistentVolumeClaim, { claimName: 'restored' });
});

const errorRows: Array<{ name: string; input: BuildRestoreJobsInput; path: string; message: RegExp }> = [
  { name: 'a listed component the snapshot lacks', input: input({ spec: { dataSource: { repository: 'repo', snapshot: 's', components: ['dump', 'dump-pod-9'] } } }), path: 'spec.dataSource.components[1]', message: /Snapshot repo-deployment-web-frequent-backup-1704431400 has no component dump-pod-9; it has: dump/ },
  { name: 'a snapshot without components', input: input({ snapshotComponents: [] }), path: 'spec.dataSource.snapshot', message: /has no component to restore/ },
  { name: 'more snapshot components than target components', input: input({ snapshotComponents: ['dump-pod-0', 'dump-pod-1'] }), path: 'spec.target', message: /snapshot component dump-pod-0 has no matching target component \(the target has: dump\)/ },
  { name: 'no target component', input: input({ components: [] }), path: 'spec.target', message: /the target has: none/ },
  { name: 'invalid restoreTimeout', input: input({ spec: { restoreTimeout: 'later' } }), path: 'spec.restoreTimeout', message: /invalid/ },
  { name: 'two local storages at one mountPath', input: input({ storages: [localStorage('a'), localStorage('b')] }), path: 'spec.storage.local.mountPath', message: /both mount at \/backup/ },
];
for (const row of errorRows) {
  t.test(`restore error: ${row.name}`, async (t) => {
    const result = buildRestoreJobs(row.input);
    const error = result.errors.find((e) => e.path === row.path);
    t.ok(error, `error at ${row.path}: ${JSON.stringify(result.errors)}`);
    t.match(error?.message, row.message);
  });
}

t.test('restore Job settings from the RestoreSession addon', async (t) => {
  const job = buildRestoreJobs(
    input({
      serviceAccountName: 'sa',
      components: [{ ...dump, nodeName: 'n1' }],
      spec: { addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup-restore' }], jobTemplate: { spec: { tolerations: [{ operator: 'Exists' }] } }, containerRuntimeSettings: { securityContext: { runAsUser: 0 } } } },
    }),
  ).jobs[0] as Any;
  t.match(job.spec.template.spec, { serviceAccountName: 'sa', nodeName: 'n1', tolerations: [{ operator: 'Exists' }] });
  t.match(job.spec.template.spec.containers[0].securityContext, { runAsUser: 0, capabilities: { add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] } });
  t.equal(job.spec.activeDeadlineSeconds, undefined);
});

t.test('restore without addon or namespace still names things', async (t) => {
  const rs = restoreSession();
  delete rs.spec!.addon;
  delete rs.metadata!.namespace;
  const result = buildRestoreJobs(input({ restoreSession: rs }));
  t.same(result.errors, []);
  t.equal((result.jobs[0] as Any).metadata.namespace, '');
});

t.test('the retention Job', async (t) => {
  const result = buildRetentionJob({ backupSession: backupSession(), storages: [localStorage('a', '/a'), localStorage('b', '/b'), { metadata: { name: 's3' }, spec: { storage: { provider: 's3' } } }], image: 'img:1', serviceAccountName: 'sa', owner: bsOwner });
  t.same(result.errors, []);
  const job = result.job as Any;
  t.equal(job.metadata.name, 'retentionpolicy-deployment-web-frequent-backup-1704431400');
  t.same(job.metadata.labels, {
    'kubestash.com/invoker-kind': 'BackupConfiguration',
    'kubestash.com/invoker-name': 'deployment-web',
    'kubestash.com/session-name': 'frequent-backup',
    'autostash.dev/backup-session': 'deployment-web-frequent-backup-1704431400',
    'app.kubernetes.io/managed-by': 'autostash',
    'autostash.dev/job-component': 'retention-policy',
  });
  t.match(job.spec.template.spec.containers[0], { image: 'img:1', command: ['autostash'], args: ['exec', 'retention', '--namespace=demo', '--backupsession=deployment-web-frequent-backup-1704431400'] });
  t.same(job.spec.template.spec.containers[0].volumeMounts.map((m: Any) => m.mountPath), ['/kubestash-tmp', '/a', '/b'], 'every local storage, no remote one');
  t.equal(job.spec.template.spec.serviceAccountName, 'sa');
  t.match(job.metadata.ownerReferences, [{ kind: 'BackupSession' }]);

  const bare = buildRetentionJob({ backupSession: { metadata: { name: 'x' } }, storages: [localStorage('a'), localStorage('b')], image: 'i', owner: bsOwner });
  t.same(Object.keys((bare.job as Any).metadata.labels).sort(), ['app.kubernetes.io/managed-by', 'autostash.dev/backup-session', 'autostash.dev/job-component']);
  t.match(bare.errors[0]?.message, /both mount at \/backup/);
  t.equal((bare.job as Any).spec.template.spec.serviceAccountName, undefined);
});

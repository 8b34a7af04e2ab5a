import t from 'tap';
import type { Session } from '../../../src/api/core.js';
import { buildBackupJobs, deadlineSeconds, type BuildBackupJobsInput } from '../../../src/domain/execution/backup-jobs.js';
import { targetComponents, type TargetComponent } from '../../../src/domain/execution/target-components.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { backupSession, bsOwner, configuration, localStorage, resolved } from '../../helpers/execution-fixtures.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type TestLike = Pick<typeof t, 'equal' | 'same' | 'match' | 'ok'>;
const dump: TargetComponent = {
  name: 'dump',
  volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'app-data' } }],
  volumeMounts: [{ name: 'data', mountPath: '/source/data', readOnly: true }],
  variables: { COMPONENT_NAME: 'dump' },
};

function input(edit: { session?: Record<string, unknown>; bs?: Record<string, unknown>; components?: readonly TargetComponent[] | undefined; storages?: BuildBackupJobsInput['storages']; extra?: Partial<BuildBackupJobsInput> | undefined } = {}): BuildBackupJobsInput {
  const bc = configuration(edit.session);
  return {
    backupSession: backupSession(edit.bs),
    configuration: bc,
    session: bc.spec!.sessions![1] as Session,
    resolved: resolved('workload-addon', 'logical-backup', 'backup'),
    components: edit.components ?? [dump],
    storages: edit.storages ?? [localStorage('local')],
    image: 'fallback:image',
    owner: bsOwner,
    ...edit.extra,
  };
}
const only = (result: { jobs: KubeObject[] }): Any => {
  if (result.jobs.length !== 1) throw new Error(`expected one job, got ${result.jobs.length}`);
  return result.jobs[0] as Any;
};

t.test('a backup Job: name, labels, owner, container, volumes', async (t) => {
  const result = buildBackupJobs(input());
  t.same(result.errors, []);
  const job = only(result);
  t.equal(job.metadata.name, 'deployment-web-frequent-backup-1704431400-dump');
  t.same(job.metadata.labels, {
    'kubestash.com/invoker-kind': 'BackupConfiguration',
    'kubestash.com/invoker-name': 'deployment-web',
    'kubestash.com/session-name': 'frequent-backup',
    'autostash.dev/backup-session': 'deployment-web-frequent-backup-1704431400',
    'autostash.dev/component': 'dump',
    'app.kubernetes.io/managed-by': 'autostash',
    'autostash.dev/job-component': 'backup',
  });
  t.match(job.metadata.ownerReferences, [{ kind: 'BackupSession', name: bsOwner.name, uid: 'bs-uid', controller: true }]);
  const container = job.spec.template.spec.containers[0];
  t.equal(container.image, 'ghcr.io/example/autostash:test', 'the Function image');
  t.same(container.command, ['autostash']);
  t.same(container.args, [
    'exec', 'backup', '--namespace=demo', '--backupsession=deployment-web-frequent-backup-1704431400', '--component=dump',
    '--paths=/source/data', '--exclude=*.tmp,*.log', '--scratch-dir=/kubestash-tmp', '--enable-cache=true',
  ]);
  t.same(container.volumeMounts, [
    { name: 'kubestash-tmp-volume', mountPath: '/kubestash-tmp' },
    { name: 'autostash-backend-0', mountPath: '/backup' },
    { name: 'data', mountPath: '/source/data', readOnly: true },
  ]);
  t.same(job.spec.template.spec.volumes.map((v: Any) => v.name), ['kubestash-tmp-volume', 'autostash-backend-0', 'data']);
  t.equal(job.spec.backoffLimit, 1, 'scheduler.jobTemplate.backoffLimit');
  t.equal(job.spec.template.spec.restartPolicy, 'Never');
});

t.test('one Job per component (StatefulSet), each with its claim and ordinal', async (t) => {
  const sts = targetComponents({
    target: { kind: 'StatefulSet', metadata: { namespace: 'demo', name: 'db' }, spec: { replicas: 3, volumeClaimTemplates: [{ metadata: { name: 'data' } }], template: { spec: { containers: [{ volumeMounts: [{ name: 'data', mountPath: '/source/data' }] }] } } } },
  });
  const result = buildBackupJobs(input({ components: sts.components }));
  t.same(result.errors, []);
  t.same(result.jobs.map((j) => j.metadata?.name), [0, 1, 2].map((i) => `deployment-web-frequent-backup-1704431400-dump-pod-${i}`));
  t.same(result.jobs.map((j) => (j as Any).spec.template.spec.volumes.find((v: Any) => v.name === 'data').persistentVolumeClaim.claimName), ['data-db-0', 'data-db-1', 'data-db-2']);
  t.same(result.jobs.map((j) => (j as Any).spec.template.spec.containers[0].args[4]), ['--component=dump-pod-0', '--component=dump-pod-1', '--component=dump-pod-2']);
});

t.test('a long BackupSession name is shortened to 63 characters, keeping the component', async (t) => {
  const name = `${'x'.repeat(60)}-1704431400`;
  const job = only(buildBackupJobs(input({ components: [{ ...dump, name: 'dump-pod-12' }], extra: { backupSession: backupSession({}, name) } })));
  t.ok(job.metadata.name.length <= 63 && job.metadata.name.length >= 62, 'cut to 63, then the trailing dash of the empty suffix trimmed');
  t.match(job.metadata.name, /1704431400-dump-pod-12$/);
});

interface SettingRow { setting: string; session?: Record<string, unknown>; bs?: Record<string, unknown>; extra?: Partial<BuildBackupJobsInput>; check: (job: Any, t: TestLike) => void }
const rows: SettingRow[] = [
  { setting: 'backoffLimit from scheduler.jobTemplate', session: { scheduler: { schedule: '@daily', jobTemplate: { backoffLimit: 3 } } }, check: (job, t) => t.equal(job.spec.backoffLimit, 3) },
  { setting: 'backoffLimit defaults to 0 (retries belong to sessions)', session: { scheduler: { schedule: '@daily', jobTemplate: {} } }, check: (job, t) => t.equal(job.spec.backoffLimit, 0) },
  { setting: 'activeDeadlineSeconds from the session backupTimeout', session: { backupTimeout: '1h30m' }, check: (job, t) => t.equal(job.spec.activeDeadlineSeconds, 5400) },
  { setting: 'the BackupSession backupTimeout wins over the session', session: { backupTimeout: '1h' }, bs: { backupTimeout: '30m' }, check: (job, t) => t.equal(job.spec.activeDeadlineSeconds, 1800) },
  { setting: 'backupTimeout wins over jobTemplate.activeDeadlineSeconds', session: { backupTimeout: '2m', scheduler: { schedule: '@daily', jobTemplate: { activeDeadlineSeconds: 10 } } }, check: (job, t) => t.equal(job.spec.activeDeadlineSeconds, 120) },
  { setting: 'jobTemplate.activeDeadlineSeconds without a timeout', session: { scheduler: { schedule: '@daily', jobTemplate: { activeDeadlineSeconds: 10 } } }, check: (job, t) => t.equal(job.spec.activeDeadlineSeconds, 10) },
  { setting: 'no timeout, no deadline', check: (job, t) => t.equal(job.spec.activeDeadlineSeconds, undefined) },
  { setting: 'ttlSecondsAfterFinished', session: { scheduler: { schedule: '@daily', jobTemplate: { ttlSecondsAfterFinished: 600 } } }, check: (job, t) => t.equal(job.spec.ttlSecondsAfterFinished, 600) },
  {
    setting: 'nodeSelector, tolerations, securityContext from scheduler.jobTemplate.template',
    session: { scheduler: { schedule: '@daily', jobTemplate: { template: { spec: { nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'k', operator: 'Exists' }], securityContext: { runAsUser: 1000 } } } } } },
    check: (job, t) => t.match(job.spec.template.spec, { nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'k' }], securityContext: { runAsUser: 1000 } }),
  },
  {
    setting: 'addon.jobTemplate applies over the scheduler template',
    session: {
      scheduler: { schedule: '@daily', jobTemplate: { template: { spec: { nodeSelector: { disk: 'ssd' } } } } },
      addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/p' } }], jobTemplate: { metadata: { labels: { team: 'a' } }, spec: { nodeSelector: { disk: 'hdd' }, serviceAccountName: 'backup-sa', containerSecurityContext: { runAsNonRoot: true } } } },
    },
    check: (job, t) => {
      t.same(job.spec.template.spec.nodeSelector, { disk: 'hdd' });
      t.equal(job.spec.template.spec.serviceAccountName, 'backup-sa', 'addon template wins over the default service account');
      t.match(job.spec.template.spec.containers[0].securityContext, { runAsNonRoot: true });
      t.equal(job.spec.template.metadata.labels.team, 'a');
    },
  },
  {
    setting: 'addon.containerRuntimeSettings (resources, env)',
    session: { addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/p' } }], containerRuntimeSettings: { resources: { limits: { memory: '1Gi' } }, env: [{ name: 'GOGC', value: '50' }] } } },
    check: (job, t) => {
      t.same(job.spec.template.spec.containers[0].resources, { limits: { memory: '1Gi' } });
      t.same(job.spec.template.spec.containers[0].env, [{ name: 'GOGC', value: '50' }]);
    },
  },
  { setting: 'serviceAccountName given by the controller', extra: { serviceAccountName: 'autostash-job' }, check: (job, t) => t.equal(job.spec.template.spec.serviceAccountName, 'autostash-job') },
  { setting: 'RWO placement: nodeName from the component', extra: { components: [{ ...dump, nodeName: 'node-3' }] }, check: (job, t) => t.equal(job.spec.template.spec.nodeName, 'node-3') },
  {
    setting: 'task variables become env and substitution variables',
    session: { addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '/p' }, variables: [{ name: 'exclude', value: 'from-var' }] }] } },
    check: (job, t) => {
      t.ok(job.spec.template.spec.containers[0].args.includes('--exclude=from-var'));
      t.same(job.spec.template.spec.containers[0].env, [{ name: 'exclude', value: 'from-var' }]);
    },
  },
  { setting: 'the given image when the Function has none', extra: { resolved: { ...resolved('workload-addon', 'logical-backup', 'backup'), fn: { metadata: { name: 'bare' }, spec: { args: ['x'] } } } }, check: (job, t) => t.match(job.spec.template.spec.containers[0], { image: 'fallback:image', command: ['autostash'], args: ['x'] }) },
  { setting: 'the Function workingDir', extra: { resolved: { ...resolved('workload-addon', 'logical-backup', 'backup'), fn: { metadata: { name: 'w' }, spec: { image: 'i', command: ['sh'], args: [], workingDir: '/w' } } } }, check: (job, t) => t.match(job.spec.template.spec.containers[0], { image: 'i', command: ['sh'], workingDir: '/w' }) },
  { setting: 'invoker from configuration when the BackupSession has none', bs: { invoker: undefined }, check: (job, t) => t.match(job.metadata.labels, { 'kubestash.com/invoker-kind': 'BackupConfiguration', 'kubestash.com/invoker-name': 'deployment-web' }) },
];
for (const row of rows) {
  t.test(`job setting: ${row.setting}`, async (t) => {
    const result = buildBackupJobs(input({ session: row.session, bs: row.bs, ...(row.extra?.components ? { components: row.extra.components } : {}), extra: row.extra }));
    t.same(result.errors, []);
    row.check(only(result), t);
  });
}

t.test('pvc-addon: the claim volume from the volumeTemplate with ${PVC_NAME}, overridable by addonVolumes', async (t) => {
  const pvc = targetComponents({ target: { kind: 'PersistentVolumeClaim', metadata: { namespace: 'demo', name: 'nfs-pvc' } } }).components;
  const plain = only(buildBackupJobs(input({ components: pvc, extra: { resolved: resolved('pvc-addon', 'logical-backup', 'backup') }, session: { addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] } } })));
  t.same(plain.spec.template.spec.volumes.find((v: Any) => v.name === 'kubestash-data-volume'), { name: 'kubestash-data-volume', persistentVolumeClaim: { claimName: 'nfs-pvc' } });
  t.ok(plain.spec.template.spec.containers[0].args.includes('--paths=/kubestash-data'), 'paths defaults to /kubestash-data');
  t.same(plain.spec.template.spec.containers[0].volumeMounts.find((m: Any) => m.mountPath === '/kubestash-data'), { name: 'kubestash-data-volume', mountPath: '/kubestash-data', readOnly: true });

  // Without a component claim, the addon template resolves ${PVC_NAME} itself; addonVolumes override a template volume by name.
  const noTarget: TargetComponent = { name: 'dump', volumes: [], volumeMounts: [{ name: 'x', mountPath: '/x' }], variables: { COMPONENT_NAME: 'dump', PVC_NAME: 'from-var' } };
  const templated = only(buildBackupJobs(input({ components: [noTarget], extra: { resolved: resolved('pvc-addon', 'logical-backup', 'backup') }, session: { addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup', addonVolumes: [{ name: 'kubestash-tmp-volume', source: { emptyDir: { medium: 'Memory' } } }, { source: {} }] }] } } })));
  t.same(templated.spec.template.spec.volumes.find((v: Any) => v.name === 'kubestash-data-volume').persistentVolumeClaim, { claimName: 'from-var' });
  t.same(templated.spec.template.spec.volumes.find((v: Any) => v.name === 'kubestash-tmp-volume'), { name: 'kubestash-tmp-volume', emptyDir: {} }, 'the scratch volume of the skeleton comes first');
});

t.test('addonVolumes replace a template volume by name', async (t) => {
  const task = { ...resolved('pvc-addon', 'logical-backup', 'backup').task, volumeTemplate: [{ name: 'work', source: { emptyDir: {} } }], volumeMounts: [{ name: 'work', mountPath: '/work' }] };
  const job = only(buildBackupJobs(input({ extra: { resolved: { ...resolved('pvc-addon', 'logical-backup', 'backup'), task } }, session: { addon: { name: 'pvc-addon', tasks: [{ name: 'logical-backup', addonVolumes: [{ name: 'work', source: { persistentVolumeClaim: { claimName: 'scratch' } } }] }] } } })));
  t.same(job.spec.template.spec.volumes.find((v: Any) => v.name === 'work'), { name: 'work', persistentVolumeClaim: { claimName: 'scratch' } });
  t.ok(job.spec.template.spec.containers[0].volumeMounts.some((m: Any) => m.mountPath === '/work'));
});

interface ErrorRow { name: string; build: () => BuildBackupJobsInput; path: RegExp; message: RegExp }
const errorRows: ErrorRow[] = [
  { name: 'invalid backupTimeout', build: () => input({ session: { backupTimeout: '30 minutes' } }), path: /^spec\.sessions\[1\]\.backupTimeout$/, message: /time: .*write a duration such as 30m/ },
  { name: 'invalid BackupSession backupTimeout', build: () => input({ bs: { backupTimeout: 'soon' } }), path: /^spec\.backupTimeout$/, message: /invalid/ },
  { name: 'zero timeout', build: () => input({ session: { backupTimeout: '0s' } }), path: /backupTimeout/, message: /not positive/ },
  { name: 'required param paths missing', build: () => input({ session: { addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup' }] } } }), path: /^spec\.sessions\[1\]\.addon\.tasks\[0\]\.params\.paths$/, message: /requires param paths/ },
  { name: 'no components', build: () => input({ components: [] }), path: /^spec\.target$/, message: /no component/ },
  { name: 'two local storages at the same mountPath', build: () => input({ storages: [localStorage('a', '/backup'), localStorage('b', '/backup')] }), path: /^spec\.storage\.local\.mountPath$/, message: /demo\/a and demo\/b both mount at \/backup/ },
  { name: 'a target volume at the backend mountPath', build: () => input({ components: [{ ...dump, volumeMounts: [{ name: 'data', mountPath: '/backup' }] }] }), path: /^spec\.storage\.local\.mountPath$/, message: /the target's volume data and a local BackupStorage both mount at \/backup/ },
  { name: 'a Function arg with an unset variable', build: () => input({ extra: { resolved: { ...resolved('workload-addon', 'logical-backup', 'backup'), fn: { metadata: { name: 'strict' }, spec: { args: ['--x=${nothing}'] } } } } }), path: /^Function strict\.spec\.args\[0\]$/, message: /needs variable nothing/ },
  { name: 'a volumeTemplate with an unset variable', build: () => { const r = resolved('pvc-addon', 'logical-backup', 'backup'); return input({ extra: { resolved: { ...r, task: { ...r.task, volumeTemplate: [{ name: 'v', source: { hostPath: { path: '${HOST}' } } }] } } } }); }, path: /^Addon pvc-addon task logical-backup volumeTemplate\[0\]\.source\.hostPath\.path$/, message: /variable HOST is not set/ },
  { name: 'a volumeTemplate with bad syntax', build: () => { const r = resolved('pvc-addon', 'logical-backup', 'backup'); return input({ extra: { resolved: { ...r, task: { ...r.task, volumeTemplate: [{ name: 'v', source: { hostPath: { path: '${HOST,,}' } } }] } } } }); }, path: /volumeTemplate\[0\]/, message: /not supported/ },
];
for (const row of errorRows) {
  t.test(`error: ${row.name}`, async (t) => {
    const result = buildBackupJobs(row.build());
    t.ok(result.errors.length >= 1, 'reported');
    const error = result.errors.find((e) => row.path.test(e.path));
    t.ok(error, `an error at ${row.path}: ${JSON.stringify(result.errors)}`);
    t.match(error?.message, row.message);
    t.equal(new Set(result.errors.map((e) => e.message)).size, result.errors.length, 'each error once, even with several components');
  });
}

t.test('deadlineSeconds rounds up to whole seconds', async (t) => {
  t.same(deadlineSeconds('1500ms', 'p'), { seconds: 2, errors: [] });
  t.same(deadlineSeconds(undefined, 'p'), { errors: [] });
  t.same(deadlineSeconds('', 'p'), { errors: [] });
});

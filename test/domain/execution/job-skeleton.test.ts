import t from 'tap';
import { executorJob, localBackendVolumes, type ExecutorJobInput } from '../../../src/domain/execution/job-skeleton.js';
import { localStorage } from '../../helpers/execution-fixtures.js';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type TestLike = Pick<typeof t, 'same' | 'equal' | 'match' | 'ok'>;
const base: ExecutorJobInput = { name: 'j', namespace: 'demo', component: 'backup', container: { image: 'i', command: ['autostash'], args: ['exec', 'x'] } };
const build = (extra: Partial<ExecutorJobInput> = {}) => executorJob({ ...base, ...extra });

t.test('local backend volumes', async (t) => {
  const nfs = localStorage('nfs', '/nfs', { nfs: { server: 'srv', path: '/exports' }, subPath: 'team-a', maxConnections: 4 });
  const result = localBackendVolumes([
    localStorage('a', '/a'),
    { metadata: { namespace: 'demo', name: 's3' }, spec: { storage: { provider: 's3', s3: { bucket: 'b' } } } as never },
    nfs,
    localStorage('a-again', '/a'),
    localStorage('relative', 'backup'),
    { metadata: {}, spec: { storage: { provider: 'local', local: {} as never } } },
  ]);
  t.same(result.volumes, [
    { name: 'autostash-backend-0', hostPath: { path: '/srv/a', type: 'DirectoryOrCreate' } },
    { name: 'autostash-backend-1', nfs: { server: 'srv', path: '/exports' } },
  ], 'the inline source without mountPath/subPath/maxConnections; s3 skipped');
  t.same(result.volumeMounts, [{ name: 'autostash-backend-0', mountPath: '/a' }, { name: 'autostash-backend-1', mountPath: '/nfs', subPath: 'team-a' }]);
  t.same(result.errors.map((e) => [e.code, e.path]), [['FieldValueInvalid', 'spec.storage.local.mountPath'], ['FieldValueRequired', 'spec.storage.local.mountPath'], ['FieldValueRequired', 'spec.storage.local.mountPath']]);
  t.match(result.errors[0]?.message, /BackupStorages demo\/a and demo\/a-again both mount at \/a with different volumes/);
  t.match(result.errors[1]?.message, /BackupStorage demo\/relative needs an absolute spec.storage.local.mountPath/);
  t.same(localBackendVolumes([localStorage('x', '/x'), { ...localStorage('x2', '/x'), spec: localStorage('x', '/x').spec }]).errors, [], 'the same volume at the same path is mounted once, no error');
});

t.test('the skeleton: scratch volume, restartPolicy Never, backoffLimit 0, labels, no owner', async (t) => {
  const { job, errors } = build();
  t.same(errors, []);
  const spec = job.spec as Any;
  t.same(job.metadata, { name: 'j', namespace: 'demo', labels: { 'app.kubernetes.io/managed-by': 'autostash', 'autostash.dev/job-component': 'backup' } });
  t.equal(spec.backoffLimit, 0);
  t.same(spec.template.metadata, { labels: { 'app.kubernetes.io/managed-by': 'autostash', 'autostash.dev/job-component': 'backup' } });
  t.same(spec.template.spec, {
    restartPolicy: 'Never',
    containers: [{ name: 'executor', image: 'i', command: ['autostash'], args: ['exec', 'x'], volumeMounts: [{ name: 'kubestash-tmp-volume', mountPath: '/kubestash-tmp' }], securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['DAC_OVERRIDE'] }, seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 0 } }],
    volumes: [{ name: 'kubestash-tmp-volume', emptyDir: {} }],
  });
  t.equal(build({ defaultBackoffLimit: 2 }).job.spec && (build({ defaultBackoffLimit: 2 }).job.spec as Any).backoffLimit, 2, 'defaultBackoffLimit');
});

const rows: Array<{ name: string; input: Partial<ExecutorJobInput>; check: (job: Any, t: TestLike) => void }> = [
  {
    name: 'template order: jobTemplate.template, then podTemplate, then pod runtime settings',
    input: {
      jobTemplate: { backoffLimit: 4, ttlSecondsAfterFinished: 60, activeDeadlineSeconds: 30, template: { metadata: { labels: { a: '1' }, annotations: { x: 'job' } }, spec: { nodeSelector: { tier: 'job' }, priorityClassName: 'low', env: [{ name: 'A', value: '1' }], resources: { requests: { cpu: '1' } }, volumes: [{ name: 'extra', configMap: { name: 'c' } }], volumeMounts: [{ name: 'extra', mountPath: '/extra' }] } } },
      podTemplate: { metadata: { labels: { b: '2' }, annotations: { x: 'addon' } }, spec: { nodeSelector: { tier: 'addon' }, containerSecurityContext: { privileged: false }, env: [{ name: 'B', value: '2' }] } },
      podRuntimeSettings: { nodeSelector: { tier: 'runtime' }, podLabels: { c: '3' }, podAnnotations: { y: 'rt' }, nodeName: 'rt-node' },
      containerRuntimeSettings: { resources: { limits: { memory: '1Gi' } }, securityContext: { runAsUser: 7 }, env: [{ name: 'C', value: '3' }], envFrom: [{ secretRef: { name: 's' } }] },
    },
    check: (job, t) => {
      t.equal(job.spec.backoffLimit, 4);
      t.equal(job.spec.ttlSecondsAfterFinished, 60);
      t.equal(job.spec.activeDeadlineSeconds, 30);
      t.same(job.spec.template.spec.nodeSelector, { tier: 'runtime' });
      t.equal(job.spec.template.spec.priorityClassName, 'low');
      t.equal(job.spec.template.spec.nodeName, 'rt-node');
      t.match(job.spec.template.metadata.labels, { a: '1', b: '2', c: '3' });
      t.same(job.spec.template.metadata.annotations, { x: 'addon', y: 'rt' });
      const container = job.spec.template.spec.containers[0];
      t.same(container.env.map((e: Any) => e.name), ['A', 'B', 'C']);
      t.same(container.resources, { limits: { memory: '1Gi' } });
      t.same(container.securityContext, { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' }, runAsNonRoot: true, runAsUser: 7 }, 'hardened under the given runAsUser');
      t.same(container.envFrom, [{ secretRef: { name: 's' } }]);
      t.ok(container.volumeMounts.some((m: Any) => m.mountPath === '/extra'));
      t.ok(job.spec.template.spec.volumes.some((v: Any) => v.name === 'extra'));
    },
  },
  { name: 'activeDeadlineSeconds input wins over the jobTemplate', input: { activeDeadlineSeconds: 99, jobTemplate: { activeDeadlineSeconds: 5 } }, check: (job, t) => t.equal(job.spec.activeDeadlineSeconds, 99) },
  { name: 'nodeName input wins over runtime settings', input: { nodeName: 'rwo-node', podRuntimeSettings: { nodeName: 'x' } }, check: (job, t) => t.equal(job.spec.template.spec.nodeName, 'rwo-node') },
  { name: 'serviceAccountName input is a default', input: { serviceAccountName: 'default-sa' }, check: (job, t) => t.equal(job.spec.template.spec.serviceAccountName, 'default-sa') },
  { name: 'a template serviceAccountName wins', input: { serviceAccountName: 'default-sa', podTemplate: { spec: { serviceAccountName: 'mine' } } }, check: (job, t) => t.equal(job.spec.template.spec.serviceAccountName, 'mine') },
  {
    name: 'owner reference',
    input: { owner: { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', name: 'bs', uid: 'u' } },
    check: (job, t) => t.same(job.metadata.ownerReferences, [{ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', name: 'bs', uid: 'u', controller: true, blockOwnerDeletion: true }]),
  },
  {
    name: 'volumes dedupe by name and mounts by path (first wins); workingDir and env kept',
    input: {
      container: { image: 'i', command: ['c'], args: [], workingDir: '/w', env: [{ name: 'E', value: 'e' }] },
      volumes: [{ name: 'kubestash-tmp-volume', hostPath: { path: '/nope' } }, { name: 'd', hostPath: { path: '/d' } }],
      volumeMounts: [{ name: 'd', mountPath: '/kubestash-tmp' }, { name: 'd', mountPath: '/d' }],
    },
    check: (job, t) => {
      t.same(job.spec.template.spec.volumes, [{ name: 'kubestash-tmp-volume', emptyDir: {} }, { name: 'd', hostPath: { path: '/d' } }]);
      t.same(job.spec.template.spec.containers[0].volumeMounts, [{ name: 'kubestash-tmp-volume', mountPath: '/kubestash-tmp' }, { name: 'd', mountPath: '/d' }]);
      t.equal(job.spec.template.spec.containers[0].workingDir, '/w');
      t.same(job.spec.template.spec.containers[0].env, [{ name: 'E', value: 'e' }]);
    },
  },
  { name: 'undefined template fields are ignored', input: { podTemplate: { spec: { nodeSelector: undefined } } }, check: (job, t) => t.equal(job.spec.template.spec.nodeSelector, undefined) },
];
for (const row of rows) {
  t.test(row.name, async (t) => {
    const { job, errors } = build(row.input);
    t.same(errors, []);
    row.check(job as Any, t);
  });
}

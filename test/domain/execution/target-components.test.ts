import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { targetComponents, type TargetComponentsInput } from '../../../src/domain/execution/target-components.js';

const podTemplate = (extra: Record<string, unknown> = {}) => ({
  spec: {
    containers: [
      { name: 'app', volumeMounts: [{ name: 'data', mountPath: '/source/data' }, { name: 'cache', mountPath: '/cache' }, { name: 'conf', mountPath: '/etc/conf', subPath: 'app.conf' }] },
      { name: 'side', volumeMounts: [{ name: 'data', mountPath: '/source/data' }, { name: 'other', mountPath: '/source/data' }, { name: 'ghost', mountPath: '/ghost' }, {}] },
    ],
    volumes: [
      { name: 'data', persistentVolumeClaim: { claimName: 'app-data' } },
      { name: 'cache', emptyDir: {} },
      { name: 'conf', configMap: { name: 'app-config' } },
      { name: 'other', hostPath: { path: '/srv' } },
    ],
    ...extra,
  },
});
const deployment = (spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { namespace: 'demo', name: 'web' }, spec: { template: podTemplate(), ...spec } });
const statefulSet = (replicas: number | undefined): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { namespace: 'demo', name: 'db' },
  spec: {
    ...(replicas !== undefined ? { replicas } : {}),
    volumeClaimTemplates: [{ metadata: { name: 'data' } }],
    template: { spec: { containers: [{ name: 'db', volumeMounts: [{ name: 'data', mountPath: '/var/lib/db' }, { name: 'conf', mountPath: '/etc/db' }] }], volumes: [{ name: 'conf', secret: { secretName: 'db-conf' } }] } },
  },
});
const daemonSet = (nodeSelector?: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { namespace: 'demo', name: 'agent' },
  spec: { template: { spec: { ...(nodeSelector ? { nodeSelector } : {}), containers: [{ name: 'a', volumeMounts: [{ name: 'logs', mountPath: '/var/log/app' }] }], volumes: [{ name: 'logs', hostPath: { path: '/var/log/app' } }] } } },
});
const pvc = (name: string, accessModes: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { namespace: 'demo', name }, spec: { accessModes } });
const node = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
const pod = (name: string, claim: string, nodeName: string, phase = 'Running', namespace = 'demo'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name },
  spec: { nodeName, volumes: [{ name: 'v', persistentVolumeClaim: { claimName: claim } }] },
  status: { phase },
});

interface Row {
  name: string;
  input: TargetComponentsInput;
  components?: Array<{ name: string; claims?: string[]; mounts?: string[]; variables?: Record<string, string>; nodeName?: string }>;
  error?: { path: string; message: RegExp };
  note?: RegExp;
}
const claimsOf = (volumes: Array<Record<string, unknown>>) => volumes.map((v) => (v.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName).filter(Boolean);

const rows: Row[] = [
  {
    name: 'Deployment: one dump with its persistent mounts; emptyDir skipped with a note',
    input: { target: deployment() },
    components: [{ name: 'dump', claims: ['app-data'], mounts: ['/source/data', '/etc/conf'], variables: { COMPONENT_NAME: 'dump' } }],
    note: /volume cache at \/cache is emptyDir/,
  },
  { name: 'Deployment: two volumes at one path: the first wins, with a note', input: { target: deployment() }, note: /\/source\/data is mounted from volume data and from other/ },
  { name: 'Deployment: a mount naming no declared volume is noted', input: { target: deployment() }, note: /mount \/ghost names volume ghost, which the pod template does not declare/ },
  {
    name: 'Deployment: RWO claim in use by a running pod pins the node',
    input: { target: deployment(), claims: [pvc('app-data', ['ReadWriteOnce'])], pods: [pod('web-1', 'app-data', 'node-b', 'Pending'), pod('web-x', 'app-data', 'node-z', 'Running', 'other'), pod('web-2', 'app-data', 'node-a')] },
    components: [{ name: 'dump', nodeName: 'node-a' }],
  },
  {
    name: 'Deployment: RWX claim does not pin',
    input: { target: deployment(), claims: [pvc('app-data', ['ReadWriteMany'])], pods: [pod('web-2', 'app-data', 'node-a')] },
    components: [{ name: 'dump', nodeName: undefined }],
  },
  {
    name: 'Deployment: RWO claim not in use by a running pod does not pin',
    input: { target: deployment(), claims: [pvc('app-data', ['ReadWriteOnce'])], pods: [] },
    components: [{ name: 'dump', nodeName: undefined }],
  },
  {
    name: 'Deployment: only emptyDir mounts → error',
    input: { target: { ...deployment(), spec: { template: { spec: { containers: [{ volumeMounts: [{ name: 'c', mountPath: '/c' }] }], volumes: [{ name: 'c', emptyDir: {} }] } } } } },
    error: { path: 'spec.target', message: /Deployment demo\/web mounts no volume autostash can back up/ },
  },
  {
    name: 'Deployment: targetVolumes replace the workload mounts',
    input: { target: deployment(), taskTargetVolumes: { volumes: [{ name: 'x', persistentVolumeClaim: { claimName: 'other-claim' } }], volumeMounts: [{ name: 'x', mountPath: '/x' }] } },
    components: [{ name: 'dump', claims: ['other-claim'], mounts: ['/x'] }],
  },
  {
    name: 'StatefulSet with 3 replicas: dump-pod-<i> with the replica claims',
    input: { target: statefulSet(3) },
    components: [0, 1, 2].map((i) => ({ name: `dump-pod-${i}`, claims: [`data-db-${i}`], mounts: ['/var/lib/db', '/etc/db'], variables: { COMPONENT_NAME: `dump-pod-${i}`, POD_ORDINAL: String(i) } })),
  },
  { name: 'StatefulSet without replicas field: one replica', input: { target: statefulSet(undefined) }, components: [{ name: 'dump-pod-0' }] },
  { name: 'StatefulSet with 0 replicas → error', input: { target: statefulSet(0) }, error: { path: 'spec.target', message: /^StatefulSet demo\/db has no replicas to back up: scale it to at least 1$/ } },
  {
    name: 'StatefulSet: each replica pinned to its pod node for RWO claims',
    input: { target: statefulSet(2), claims: [pvc('data-db-0', ['ReadWriteOnce']), pvc('data-db-1', ['ReadWriteOncePod'])], pods: [pod('db-0', 'data-db-0', 'n0'), pod('db-1', 'data-db-1', 'n1')] },
    components: [{ name: 'dump-pod-0', nodeName: 'n0' }, { name: 'dump-pod-1', nodeName: 'n1' }],
  },
  {
    name: 'StatefulSet: targetVolumes claim templates per replica (plain and ${POD_ORDINAL})',
    input: { target: statefulSet(2), taskTargetVolumes: { volumeClaimTemplates: [{ metadata: { name: 'data' } }, { metadata: { name: 'extra-${POD_ORDINAL}' } }, { metadata: {} }], volumeMounts: [{ name: 'data', mountPath: '/d' }] } },
    components: [{ name: 'dump-pod-0', claims: ['data-db-0', 'extra-0'], mounts: ['/d'] }, { name: 'dump-pod-1', claims: ['data-db-1', 'extra-1'] }],
  },
  {
    name: 'DaemonSet: one component per node matching its nodeSelector, pinned there',
    input: { target: daemonSet({ role: 'worker' }), nodes: [node('n1', { role: 'worker' }), node('n2', { role: 'master' }), node('n3', { role: 'worker' })] },
    components: [{ name: 'dump-n1', nodeName: 'n1', mounts: ['/var/log/app'], variables: { COMPONENT_NAME: 'dump-n1' } }, { name: 'dump-n3', nodeName: 'n3' }],
  },
  { name: 'DaemonSet without nodeSelector: every node', input: { target: daemonSet(), nodes: [node('a'), node('b')] }, components: [{ name: 'dump-a' }, { name: 'dump-b' }] },
  { name: 'DaemonSet: no matching node → error', input: { target: daemonSet({ role: 'gpu' }), nodes: [node('a')] }, error: { path: 'spec.target', message: /DaemonSet demo\/agent has no node matching nodeSelector \{"role":"gpu"\} to back up/ } },
  {
    name: 'DaemonSet: targetVolumes',
    input: { target: daemonSet(), nodes: [node('a')], taskTargetVolumes: { volumes: [{ name: 'h', hostPath: { path: '/h' } }], volumeMounts: [{ name: 'h', mountPath: '/h' }] } },
    components: [{ name: 'dump-a', mounts: ['/h'] }],
  },
  {
    name: 'PersistentVolumeClaim: dump with the claim at /kubestash-data',
    input: { target: pvc('nfs-pvc', ['ReadWriteOnce']), claims: [pvc('nfs-pvc', ['ReadWriteOnce'])], pods: [pod('user', 'nfs-pvc', 'node-7')] },
    components: [{ name: 'dump', claims: ['nfs-pvc'], mounts: ['/kubestash-data'], variables: { COMPONENT_NAME: 'dump', PVC_NAME: 'nfs-pvc' }, nodeName: 'node-7' }],
  },
  {
    name: 'PersistentVolumeClaim: targetVolumes add mounts, never replace the claim',
    input: { target: pvc('c', []), taskTargetVolumes: { volumes: [{ name: 'kubestash-data-volume', emptyDir: {} }, { name: 'x', secret: { secretName: 's' } }], volumeMounts: [{ name: 'x', mountPath: '/kubestash-data' }, { name: 'x', mountPath: '/x' }] } },
    components: [{ name: 'dump', claims: ['c'], mounts: ['/kubestash-data', '/x'] }],
  },
  { name: 'manifest task: one manifest component, no volumes', input: { target: undefined, manifest: true }, components: [{ name: 'manifest', claims: [], mounts: [], variables: { COMPONENT_NAME: 'manifest' } }] },
  { name: 'no target → error', input: { target: undefined, targetPath: 'spec.target' }, error: { path: 'spec.target', message: /the target object was not found/ } },
  { name: 'unsupported kind → error', input: { target: { kind: 'ReplicaSet', metadata: { namespace: 'demo', name: 'r' } } }, error: { path: 'spec.target.kind', message: /cannot back up or restore a ReplicaSet.*Deployment, StatefulSet, DaemonSet and PersistentVolumeClaim/ } },
  { name: 'target without kind → error', input: { target: { metadata: { name: 'r' } } }, error: { path: 'spec.target.kind', message: /a target without kind/ } },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const result = targetComponents(row.input);
    if (row.error) {
      t.same(result.components, []);
      t.equal(result.errors.length, 1);
      t.equal(result.errors[0]?.path, row.error.path);
      t.match(result.errors[0]?.message, row.error.message);
    } else {
      t.same(result.errors, []);
    }
    if (row.note) t.ok(result.notes.some((note) => row.note!.test(note)), `a note matches ${row.note}: ${result.notes.join(' | ')}`);
    if (row.components) {
      t.same(result.components.map((c) => c.name), row.components.map((c) => c.name));
      row.components.forEach((want, index) => {
        const got = result.components[index]!;
        if (want.claims) t.same(claimsOf(got.volumes), want.claims, `${want.name} claims`);
        if (want.mounts) t.same(got.volumeMounts.map((m) => m.mountPath), want.mounts, `${want.name} mounts`);
        if (want.variables) t.same(got.variables, want.variables, `${want.name} variables`);
        if ('nodeName' in want) t.equal(got.nodeName, want.nodeName, `${want.name} node`);
        for (const mount of got.volumeMounts) t.equal(mount.readOnly, true, 'backup mounts are read-only');
        for (const mount of got.volumeMounts) t.ok(got.volumes.some((v) => v.name === mount.name), `mount ${mount.mountPath} has its volume`);
      });
    }
  });
}

t.test('restore mode mounts read-write and words errors for restore', async (t) => {
  const result = targetComponents({ target: statefulSet(1), mode: 'restore' });
  t.same(result.components[0]?.volumeMounts.map((m) => m.readOnly), [undefined, undefined]);
  t.match(targetComponents({ target: statefulSet(0), mode: 'restore' }).errors[0]?.message, /no replicas to restore into/);
});

t.test('subPath is kept on the mount', async (t) => {
  const mount = targetComponents({ target: deployment() }).components[0]?.volumeMounts.find((m) => m.mountPath === '/etc/conf');
  t.equal(mount?.subPath, 'app.conf');
});

t.test('RWO claims in use on two nodes: the first node wins, with a note', async (t) => {
  const target: KubeObject = {
    kind: 'Deployment',
    metadata: { namespace: 'demo', name: 'two' },
    spec: { template: { spec: { containers: [{ volumeMounts: [{ name: 'a', mountPath: '/a' }, { name: 'b', mountPath: '/b' }] }], volumes: [{ name: 'a', persistentVolumeClaim: { claimName: 'ca' } }, { name: 'b', persistentVolumeClaim: { claimName: 'cb' } }] } } },
  };
  const result = targetComponents({ target, claims: [pvc('ca', ['ReadWriteOnce']), pvc('cb', ['ReadWriteOnce'])], pods: [pod('p1', 'ca', 'n1'), pod('p2', 'cb', 'n2')] });
  t.equal(result.components[0]?.nodeName, 'n1');
  t.match(result.notes.join('\n'), /ReadWriteOnce claims ca \(node n1\) and cb \(node n2\) are in use on different nodes; the Job runs on n1/);
});

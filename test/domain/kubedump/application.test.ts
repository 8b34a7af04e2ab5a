import t from 'tap';
import { applicationReferences, belongsToApplication, ownedClosure, ownerUids } from '../../../src/domain/kubedump/application.js';
import type { DumpResourceType } from '../../../src/domain/kubedump/layout.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';

const podSpec = {
  serviceAccountName: 'sa',
  imagePullSecrets: [{ name: 'pull' }],
  volumes: [
    { name: 'a', configMap: { name: 'cm-volume' } },
    { name: 'b', secret: { secretName: 'secret-volume' } },
    { name: 'c', persistentVolumeClaim: { claimName: 'claim' } },
    { name: 'd', projected: { sources: [{ configMap: { name: 'cm-projected' } }, { secret: { name: 'secret-projected' } }, { serviceAccountToken: {} }] } },
    { name: 'e', emptyDir: {} },
  ],
  containers: [
    {
      name: 'app',
      envFrom: [{ configMapRef: { name: 'cm-envfrom' } }, { secretRef: { name: 'secret-envfrom' } }],
      env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cm-env', key: 'k' } } }, { name: 'B', value: 'plain' }],
    },
  ],
  initContainers: [{ name: 'init', env: [{ name: 'C', valueFrom: { secretKeyRef: { name: 'secret-init', key: 'k' } } }] }],
};
const template = { metadata: { labels: { app: 'web', tier: 'front' } }, spec: podSpec };

t.test('references: one row per place a pod spec names an object', async (t) => {
  const refs = applicationReferences({ kind: 'Deployment', metadata: { name: 'web' }, spec: { template } });
  t.same([...refs.configmaps].sort(), ['cm-env', 'cm-envfrom', 'cm-projected', 'cm-volume']);
  t.same([...refs.secrets].sort(), ['pull', 'secret-envfrom', 'secret-init', 'secret-projected', 'secret-volume']);
  t.same([...refs.persistentvolumeclaims], ['claim']);
  t.same([...refs.serviceaccounts], ['sa']);
  t.same(refs.podLabels, { app: 'web', tier: 'front' });
  t.same(refs.claimPrefixes, []);
});

t.test('references by workload kind', async (t) => {
  const rows: Array<[string, KubeObject, string[]]> = [
    ['a Pod uses its own spec and labels', { kind: 'Pod', metadata: { name: 'p', labels: { app: 'p' } }, spec: podSpec }, ['cm-env', 'cm-envfrom', 'cm-projected', 'cm-volume']],
    ['a CronJob uses its job template', { kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template } } } }, ['cm-env', 'cm-envfrom', 'cm-projected', 'cm-volume']],
    ['a kind without a pod template names nothing', { kind: 'ConfigMap', metadata: { name: 'x' }, data: {} }, []],
    ['a template without metadata or spec names nothing', { kind: 'Deployment', metadata: { name: 'x' }, spec: { template: {} } }, []],
  ];
  for (const [name, workload, configmaps] of rows) t.same([...applicationReferences(workload).configmaps].sort(), configmaps, name);
  const sts = applicationReferences({ kind: 'StatefulSet', metadata: { name: 'db' }, spec: { template, volumeClaimTemplates: [{ metadata: { name: 'data' } }, { metadata: {} }] } });
  t.same(sts.claimPrefixes, ['data-db-'], 'claim templates with a name give a prefix');
});

t.test('ownership: owner uids and their transitive closure', async (t) => {
  t.same(ownerUids({ metadata: { ownerReferences: [{ uid: 'a' }, { name: 'no-uid' }, 'junk' as never] } }), ['a']);
  t.same(ownerUids({}), []);
  const owners = new Map<string, string[]>([
    ['pod', ['rs']],
    ['rs', ['deploy']],
    ['other-pod', ['other-rs']],
    ['multi', ['x', 'pod']],
  ]);
  t.same([...ownedClosure('deploy', owners)].sort(), ['deploy', 'multi', 'pod', 'rs'], 'owned through any depth and any owner');
  t.same([...ownedClosure('lonely', owners)], ['lonely']);
});

t.test('membership: one row per rule', async (t) => {
  const refs = applicationReferences({ kind: 'StatefulSet', metadata: { name: 'db' }, spec: { template, volumeClaimTemplates: [{ metadata: { name: 'data' } }] } });
  const owned = new Set(['owned-uid']);
  const core = (resource: string): DumpResourceType => ({ group: '', version: 'v1', resource, kind: 'K', namespaced: true });
  const object = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ metadata: { name, uid: `${name}-uid` }, ...extra });
  const rows: Array<[string, DumpResourceType, KubeObject, boolean]> = [
    ['an owned object of any group', { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true }, { metadata: { name: 'rs', uid: 'owned-uid' } }, true],
    ['an unowned object of another group', { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true }, object('rs'), false],
    ['a named ConfigMap', core('configmaps'), object('cm-volume'), true],
    ['another ConfigMap', core('configmaps'), object('cm-other'), false],
    ['a named Secret', core('secrets'), object('pull'), true],
    ['the ServiceAccount', core('serviceaccounts'), object('sa'), true],
    ['a named claim', core('persistentvolumeclaims'), object('claim'), true],
    ['a claim of the template', core('persistentvolumeclaims'), object('data-db-2'), true],
    ['a claim with the prefix but no ordinal', core('persistentvolumeclaims'), object('data-db-x'), false],
    ['a Service selecting the pods', core('services'), object('svc', { spec: { selector: { app: 'web' } } }), true],
    ['a Service selecting other pods', core('services'), object('svc', { spec: { selector: { app: 'db' } } }), false],
    ['a Service without a selector', core('services'), object('svc', { spec: {} }), false],
    ['another core kind', core('endpoints'), object('cm-volume'), false],
  ];
  for (const [name, type, input, expected] of rows) t.equal(belongsToApplication(refs, owned, type, input), expected, name);
});

import t from 'tap';
import { backupConfigurationName } from '../../../src/domain/auto-backup/configuration-name.js';
import {
  AUTOSTASH_BLUEPRINT_ANNOTATION,
  AUTOSTASH_BLUEPRINT_DELETION_POLICY_ANNOTATION,
  AUTOSTASH_TARGET_UID_ANNOTATION,
  INVOKER_NAME_LABEL,
  INVOKER_NAMESPACE_LABEL,
  MANAGED_BY_LABEL,
  readGeneratedMarkers,
} from '../../../src/domain/auto-backup/markers.js';

const repeat = (char: string, count: number): string => char.repeat(count);

t.test('configuration names: one row per case', async (t) => {
  const name52 = `${repeat('a', 26)}${repeat('z', 26)}`; // deployment- (11) + 52 = 63: fits exactly
  const name53 = `${name52}q`;
  const longName = `app-${repeat('m', 80)}-blue`;
  const rows: Array<[string, { kind: string; name: string; namespace: string }, string, string]> = [
    ['Deployment in its own namespace', { kind: 'Deployment', name: 'kubestash-demo', namespace: 'demo' }, 'demo', 'deployment-kubestash-demo'],
    ['StatefulSet', { kind: 'StatefulSet', name: 'sample-sts', namespace: 'demo' }, 'demo', 'statefulset-sample-sts'],
    ['DaemonSet', { kind: 'DaemonSet', name: 'ks-demo', namespace: 'demo' }, 'demo', 'daemonset-ks-demo'],
    ['PersistentVolumeClaim', { kind: 'PersistentVolumeClaim', name: 'nfs-pvc', namespace: 'demo' }, 'demo', 'persistentvolumeclaim-nfs-pvc'],
    ['another namespace prefixes the target namespace', { kind: 'Deployment', name: 'web', namespace: 'shop' }, 'backups', 'shop-deployment-web'],
    ['exactly 63 characters is kept whole', { kind: 'Deployment', name: name52, namespace: 'demo' }, 'demo', `deployment-${name52}`],
    [
      '64 characters: the first 32 and the last 30 are kept',
      { kind: 'Deployment', name: name53, namespace: 'demo' },
      'demo',
      `deployment-${name53}`.slice(0, 32) + `deployment-${name53}`.slice(-30),
    ],
    [
      'a long name keeps its distinguishing tail',
      { kind: 'PersistentVolumeClaim', name: longName, namespace: 'demo' },
      'demo',
      `persistentvolumeclaim-${longName}`.slice(0, 32) + `persistentvolumeclaim-${longName}`.slice(-30),
    ],
    [
      'a long cross-namespace name: first 32 and last 31 of ns-kind-name (§2.1)',
      { kind: 'StatefulSet', name: longName, namespace: 'production-eu' },
      'backups',
      `production-eu-statefulset-${longName}`.slice(0, 32) + `production-eu-statefulset-${longName}`.slice(-31),
    ],
    [
      'shortening never leaves a dash at the cut',
      { kind: 'Deployment', name: `${repeat('b', 21)}-${repeat('c', 40)}`, namespace: 'demo' },
      'demo',
      `deployment-${repeat('b', 21)}${repeat('c', 30)}`,
    ],
  ];
  for (const [name, target, configurationNamespace, expected] of rows) {
    const actual = backupConfigurationName(target, configurationNamespace);
    t.equal(actual, expected, name);
    t.ok(actual.length <= 63, `${name}: at most 63 characters`);
    t.notMatch(actual, /^-|-$/, `${name}: no leading or trailing dash`);
  }
});

t.test('long names that differ only at the end stay distinct', async (t) => {
  const a = backupConfigurationName({ kind: 'Deployment', name: `${repeat('x', 70)}-blue`, namespace: 'demo' }, 'demo');
  const b = backupConfigurationName({ kind: 'Deployment', name: `${repeat('x', 70)}-green`, namespace: 'demo' }, 'demo');
  t.not(a, b);
});

t.test('readGeneratedMarkers: ours only when the labels and the blueprint annotation agree', async (t) => {
  const labels = { [MANAGED_BY_LABEL]: 'kubestash.com', [INVOKER_NAME_LABEL]: 'bp', [INVOKER_NAMESPACE_LABEL]: 'tools' };
  const annotations = { [AUTOSTASH_BLUEPRINT_ANNOTATION]: 'tools/bp', [AUTOSTASH_TARGET_UID_ANNOTATION]: 'uid-1' };
  const rows: Array<[string, Record<string, string> | undefined, Record<string, string> | undefined, unknown]> = [
    ['generated, with a target uid', labels, annotations, { blueprint: { name: 'bp', namespace: 'tools' }, targetUid: 'uid-1', deleteWithBlueprint: false }],
    ['generated, without a target uid', labels, { [AUTOSTASH_BLUEPRINT_ANNOTATION]: 'tools/bp' }, { blueprint: { name: 'bp', namespace: 'tools' }, deleteWithBlueprint: false }],
    ['an empty target uid counts as none', labels, { ...annotations, [AUTOSTASH_TARGET_UID_ANNOTATION]: '' }, { blueprint: { name: 'bp', namespace: 'tools' }, deleteWithBlueprint: false }],
    ['deleted with its blueprint (template deletionPolicy OnDelete)', labels, { ...annotations, [AUTOSTASH_BLUEPRINT_DELETION_POLICY_ANNOTATION]: 'OnDelete' }, { blueprint: { name: 'bp', namespace: 'tools' }, targetUid: 'uid-1', deleteWithBlueprint: true }],
    ['hand-written: no labels', undefined, annotations, undefined],
    ['hand-written: no autostash annotation (KubeStash generated it)', labels, {}, undefined],
    ['no annotations at all', labels, undefined, undefined],
    ['managed by someone else', { ...labels, [MANAGED_BY_LABEL]: 'helm' }, annotations, undefined],
    ['labels name another blueprint', { ...labels, [INVOKER_NAME_LABEL]: 'other' }, annotations, undefined],
    ['labels name another namespace', { ...labels, [INVOKER_NAMESPACE_LABEL]: 'other' }, annotations, undefined],
    ['a malformed blueprint annotation', labels, { [AUTOSTASH_BLUEPRINT_ANNOTATION]: 'bp' }, undefined],
  ];
  for (const [name, l, a, expected] of rows) {
    t.same(readGeneratedMarkers({ metadata: { name: 'x', labels: l, annotations: a } }), expected, name);
  }
});

import t from 'tap';
import { autostashAddons } from '../../../src/domain/execution/addons-catalog.js';
import { addonReferenceWarnings } from '../../../src/domain/rules/addon-reference.js';
import { kubeStashRules } from '../../../src/domain/kubestash-rules.js';
import { createMemoryView } from '../../../src/domain/memory-view.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';

const catalog = autostashAddons('img');
const installed = createMemoryView(catalog);
const addonsOnly = createMemoryView(catalog.filter((o) => o.kind === 'Addon'));
const noFunctionFor = createMemoryView(catalog.filter((o) => o.metadata?.name !== 'workload-backup'));

const bc = (addon: Record<string, unknown>): KubeObject => ({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration', metadata: { namespace: 'demo', name: 'bc' }, spec: { sessions: [{ name: 's', addon }] } });
const bb = (addon: Record<string, unknown>): KubeObject => ({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupBlueprint', metadata: { namespace: 'demo', name: 'bb' }, spec: { backupConfigurationTemplate: { sessions: [{ name: 's' }, { name: 't', addon }] } } });
const rs = (addon: Record<string, unknown>): KubeObject => ({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'RestoreSession', metadata: { namespace: 'demo', name: 'rs' }, spec: { addon } });

const rows: Array<{ rule: string; object: KubeObject; view?: typeof installed; warnings: RegExp[] }> = [
  { rule: 'BackupConfiguration: installed addon and task', object: bc({ name: 'workload-addon', tasks: [{ name: 'logical-backup' }] }), warnings: [] },
  { rule: 'BackupConfiguration: doc spelling resolves', object: bc({ name: 'workload-addon', tasks: [{ name: 'LogicalBackup' }] }), warnings: [] },
  { rule: 'BackupConfiguration: unknown addon, once for all its tasks', object: bc({ name: 'mysql-addon', tasks: [{ name: 'a' }, { name: 'b' }] }), warnings: [/^spec\.sessions\[0\]\.addon\.name: Addon mysql-addon is not installed; installed Addons: workload-addon, pvc-addon, kubedump-addon; sessions using it fail until it is installed$/] },
  { rule: 'BackupConfiguration: unknown task', object: bc({ name: 'workload-addon', tasks: [{ name: 'logical-backup' }, { name: 'volume-snapshot' }] }), warnings: [/^spec\.sessions\[0\]\.addon\.tasks\[1\]\.name: Addon workload-addon has no backup task volume-snapshot; its backup tasks: logical-backup/] },
  { rule: 'BackupConfiguration: a restore task named for backup', object: bc({ name: 'pvc-addon', tasks: [{ name: 'logical-backup-restore' }] }), warnings: [/tasks\[0\]\.name: Addon pvc-addon has no backup task logical-backup-restore/] },
  { rule: 'BackupConfiguration: Function not installed', object: bc({ name: 'workload-addon', tasks: [{ name: 'logical-backup' }] }), view: noFunctionFor, warnings: [/tasks\[0\]\.name: backup task logical-backup of Addon workload-addon runs Function workload-backup, which is not installed/] },
  { rule: 'no Function in view: functions are not judged', object: bc({ name: 'workload-addon', tasks: [{ name: 'logical-backup' }] }), view: addonsOnly, warnings: [] },
  { rule: 'no Addon in view (offline): nothing judged', object: bc({ name: 'nope', tasks: [{ name: 'x' }] }), view: createMemoryView([]), warnings: [] },
  { rule: 'empty names are the schema rules’ business', object: bc({ tasks: [{}] }), warnings: [] },
  { rule: 'BackupBlueprint: path under backupConfigurationTemplate', object: bb({ name: 'workload-addon', tasks: [{ name: 'nope' }] }), warnings: [/^spec\.backupConfigurationTemplate\.sessions\[1\]\.addon\.tasks\[0\]\.name: Addon workload-addon has no backup task nope/] },
  { rule: 'BackupBlueprint: ${var} names are not judged', object: bb({ name: '${addon}', tasks: [{ name: 'x' }] }), warnings: [] },
  { rule: 'BackupBlueprint: ${var} task names are not judged', object: bb({ name: 'workload-addon', tasks: [{ name: '${task}' }] }), warnings: [] },
  { rule: 'RestoreSession: restore tasks', object: rs({ name: 'pvc-addon', tasks: [{ name: 'logical-backup-restore' }] }), warnings: [] },
  { rule: 'RestoreSession: a backup task named for restore', object: rs({ name: 'pvc-addon', tasks: [{ name: 'logical-backup' }] }), warnings: [/^spec\.addon\.tasks\[0\]\.name: Addon pvc-addon has no restore task logical-backup; its restore tasks: logical-backup-restore/] },
  { rule: 'RestoreSession: unknown addon', object: rs({ name: 'x-addon', tasks: [{ name: 'y' }] }), warnings: [/^spec\.addon\.name: Addon x-addon is not installed/] },
  { rule: 'other kinds', object: { kind: 'Repository', spec: {} }, warnings: [] },
];
for (const row of rows) {
  t.test(row.rule, async (t) => {
    const warnings = addonReferenceWarnings(row.object, row.view ?? installed);
    t.equal(warnings.length, row.warnings.length, warnings.join('\n'));
    row.warnings.forEach((pattern, index) => t.match(warnings[index], pattern));
  });
}

t.test('registered: the webhook rules warn and never deny for it', async (t) => {
  const rules = kubeStashRules.get('core.kubestash.com/RestoreSession')!;
  const object = { ...rs({ name: 'x-addon', tasks: [{ name: 'y' }] }), spec: { ...(rs({ name: 'x-addon', tasks: [{ name: 'y' }] }).spec as object), dataSource: { repository: 'r', snapshot: 'latest' } } };
  const verdict = rules.validate({ operation: 'CREATE', object, view: installed });
  t.same(verdict.errors, []);
  t.match(verdict.warnings, [/Addon x-addon is not installed/]);
  t.same(rules.validate({ operation: 'CREATE', object, view: createMemoryView([]) }).warnings, [], 'nothing added without news');
  t.same(rules.validate({ operation: 'DELETE', object, view: installed }).warnings, [], 'not on DELETE');
  t.same(rules.applyDefaults(object, installed), object, 'defaults unchanged');
  for (const kind of ['BackupConfiguration', 'BackupBlueprint']) {
    t.not(kubeStashRules.get(`core.kubestash.com/${kind}`), undefined);
  }
  const bcVerdict = kubeStashRules.get('core.kubestash.com/BackupConfiguration')!.validate({ operation: 'UPDATE', object: bc({ name: 'x-addon', tasks: [{ name: 'y' }] }), view: installed });
  t.ok(bcVerdict.warnings.some((w) => /x-addon is not installed/.test(w)), 'BackupConfiguration too (alongside its own errors)');
});

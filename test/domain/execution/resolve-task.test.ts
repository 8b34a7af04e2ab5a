import t from 'tap';
import type { Addon, AddonFunction } from '../../../src/api/index.js';
import { autostashAddons } from '../../../src/domain/execution/addons-catalog.js';
import { normalizeTaskName, resolveTask, type ResolveTaskInput } from '../../../src/domain/execution/resolve-task.js';

const catalog = autostashAddons('img');
const addons = catalog.filter((o) => o.kind === 'Addon') as Addon[];
const functions = catalog.filter((o) => o.kind === 'Function') as AddonFunction[];
const ambiguous: Addon = { metadata: { name: 'odd-addon' }, spec: { backupTasks: [{ name: 'logical-backup', function: 'f' }, { name: 'Logical_Backup', function: 'f' }, { name: 'no-fn' }] } };
const all = { addons: [...addons, ambiguous], functions };

const rows: Array<{ name: string; input: Omit<ResolveTaskInput, 'addons' | 'functions'>; task?: string; fn?: string; reason?: string; message?: RegExp }> = [
  { name: 'exact backup task', input: { addonName: 'workload-addon', taskName: 'logical-backup', kind: 'backup' }, task: 'logical-backup', fn: 'workload-backup' },
  { name: 'exact restore task', input: { addonName: 'pvc-addon', taskName: 'logical-backup-restore', kind: 'restore' }, task: 'logical-backup-restore', fn: 'pvc-restore' },
  { name: 'kubedump manifest-backup', input: { addonName: 'kubedump-addon', taskName: 'manifest-backup', kind: 'backup' }, task: 'manifest-backup', fn: 'kubedump-backup' },
  { name: 'kubedump manifest-restore', input: { addonName: 'kubedump-addon', taskName: 'manifest-restore', kind: 'restore' }, task: 'manifest-restore', fn: 'kubedump-restore' },
  { name: 'doc spelling LogicalBackup', input: { addonName: 'workload-addon', taskName: 'LogicalBackup', kind: 'backup' }, task: 'logical-backup', fn: 'workload-backup' },
  { name: 'doc spelling LogicalBackupRestore', input: { addonName: 'pvc-addon', taskName: 'LogicalBackupRestore', kind: 'restore' }, task: 'logical-backup-restore', fn: 'pvc-restore' },
  { name: 'exact name wins over a normalized twin', input: { addonName: 'odd-addon', taskName: 'Logical_Backup', kind: 'backup' }, task: 'Logical_Backup', fn: 'f', reason: 'FunctionNotFound' },
  { name: 'AddonNotFound lists installed addons', input: { addonName: 'mysql-addon', taskName: 'logical-backup', kind: 'backup' }, reason: 'AddonNotFound', message: /^Addon mysql-addon is not installed; installed Addons: workload-addon, pvc-addon, kubedump-addon, odd-addon$/ },
  { name: 'TaskNotFound lists the tasks of that kind', input: { addonName: 'workload-addon', taskName: 'volume-snapshot', kind: 'backup' }, reason: 'TaskNotFound', message: /^Addon workload-addon has no backup task volume-snapshot; its backup tasks: logical-backup$/ },
  { name: 'a restore task is not a backup task', input: { addonName: 'workload-addon', taskName: 'logical-backup-restore', kind: 'backup' }, reason: 'TaskNotFound', message: /no backup task logical-backup-restore/ },
  { name: 'ambiguous spelling is not guessed', input: { addonName: 'odd-addon', taskName: 'LOGICALBACKUP', kind: 'backup' }, reason: 'TaskNotFound', message: /could mean logical-backup or Logical_Backup: write the name exactly/ },
  { name: 'FunctionNotFound names the function', input: { addonName: 'odd-addon', taskName: 'logical-backup', kind: 'backup' }, reason: 'FunctionNotFound', message: /^backup task logical-backup of Addon odd-addon runs Function f, which is not installed$/ },
  { name: 'FunctionNotFound when the task names none', input: { addonName: 'odd-addon', taskName: 'no-fn', kind: 'backup' }, reason: 'FunctionNotFound', message: /runs Function \(none named\)/ },
  { name: 'an addon without restore tasks', input: { addonName: 'odd-addon', taskName: 'x', kind: 'restore' }, reason: 'TaskNotFound', message: /its restore tasks: none$/ },
];
for (const row of rows) {
  t.test(row.name, async (t) => {
    const result = resolveTask({ ...all, ...row.input });
    if (row.reason !== undefined) {
      t.equal(result.ok, false);
      if (!result.ok) {
        t.equal(result.reason, row.reason);
        if (row.message) t.match(result.message, row.message);
      }
      return;
    }
    t.equal(result.ok, true);
    if (result.ok) {
      t.equal(result.task.name, row.task);
      t.equal(result.fn.metadata?.name, row.fn);
      t.equal(result.addon.metadata?.name, row.input.addonName);
    }
  });
}

t.test('no addons at all', async (t) => {
  t.match(resolveTask({ addons: [{ metadata: {} }], functions: [], addonName: 'a', taskName: 'b', kind: 'backup' }), { ok: false, reason: 'AddonNotFound', message: /installed Addons: none/ });
});

t.test('normalizeTaskName', async (t) => {
  t.equal(normalizeTaskName('Logical_Backup-Restore'), 'logicalbackuprestore');
});

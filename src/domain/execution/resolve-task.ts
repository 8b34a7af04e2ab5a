/**
 * Which Addon task and Function run a session's `addon.name` + `tasks[].name` (SPEC §5). Pure: the
 * caller passes the Addons and Functions it sees (informer caches).
 */
import type { Addon, AddonFunction, AddonTask } from '../../api/index.js';

export type TaskKind = 'backup' | 'restore';

export interface ResolveTaskInput {
  addons: readonly Addon[];
  functions: readonly AddonFunction[];
  addonName: string;
  taskName: string;
  kind: TaskKind;
}

export type TaskResolutionFailure = 'AddonNotFound' | 'TaskNotFound' | 'FunctionNotFound';

export type ResolvedTask =
  | { ok: true; addon: Addon; task: AddonTask; fn: AddonFunction }
  | { ok: false; reason: TaskResolutionFailure; message: string };

/**
 * A task name in a comparable form: lower case without `-` and `_`, so KubeStash's doc spellings
 * (`LogicalBackup`, `logical_backup`) meet the catalog's `logical-backup`.
 */
export const normalizeTaskName = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

const tasksOf = (addon: Addon, kind: TaskKind): AddonTask[] => (kind === 'backup' ? addon.spec?.backupTasks : addon.spec?.restoreTasks) ?? [];

const listed = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '));

/**
 * Finds the Addon by exact name, then its backup or restore task: the exact name first, else the one
 * task whose {@link normalizeTaskName} form equals the given one (two such tasks: no guess, TaskNotFound
 * naming both), then the Function the task names. Failures say what was looked for and what exists.
 */
export function resolveTask(input: ResolveTaskInput): ResolvedTask {
  const { addonName, taskName, kind } = input;
  const addon = input.addons.find((candidate) => candidate.metadata?.name === addonName);
  if (addon === undefined) {
    const names = input.addons.map((candidate) => candidate.metadata?.name ?? '').filter((name) => name !== '');
    return { ok: false, reason: 'AddonNotFound', message: `Addon ${addonName} is not installed; installed Addons: ${listed(names)}` };
  }
  const tasks = tasksOf(addon, kind);
  const taskNames = tasks.map((task) => task.name ?? '').filter((name) => name !== '');
  let task = tasks.find((candidate) => candidate.name === taskName);
  if (task === undefined) {
    const wanted = normalizeTaskName(taskName);
    const matches = tasks.filter((candidate) => normalizeTaskName(candidate.name ?? '') === wanted);
    if (matches.length > 1) {
      return {
        ok: false,
        reason: 'TaskNotFound',
        message: `Addon ${addonName} has no ${kind} task ${taskName}; it could mean ${matches.map((m) => m.name).join(' or ')}: write the name exactly`,
      };
    }
    task = matches[0];
  }
  if (task === undefined) {
    return { ok: false, reason: 'TaskNotFound', message: `Addon ${addonName} has no ${kind} task ${taskName}; its ${kind} tasks: ${listed(taskNames)}` };
  }
  const fnName = task.function ?? '';
  const fn = input.functions.find((candidate) => candidate.metadata?.name === fnName);
  if (fn === undefined) {
    return {
      ok: false,
      reason: 'FunctionNotFound',
      message: `${kind} task ${task.name} of Addon ${addonName} runs Function ${fnName === '' ? '(none named)' : fnName}, which is not installed`,
    };
  }
  return { ok: true, addon, task, fn };
}

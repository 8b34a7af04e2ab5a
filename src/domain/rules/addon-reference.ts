/**
 * Warnings (never denials) when a BackupConfiguration, a BackupBlueprint's template or a RestoreSession
 * names an Addon, task or Function the cluster does not have: the object is still stored (the addon may
 * be installed later, KubeStash accepts it too), but its sessions would fail until then, so the user
 * hears about it at apply time with the field and the names that do exist.
 */
import type { Addon, AddonFunction } from '../../api/index.js';
import type { ClusterView } from '../cluster-view.js';
import { joinPath, type Verdict } from '../errors.js';
import { resolveTask, type TaskKind } from '../execution/resolve-task.js';
import type { KindRules } from '../kind-rules.js';
import { asArray, asObject, asString, type JsonObject } from '../json-access.js';
import type { KubeObject } from '../kube-object.js';
import { specOf } from './common.js';

/** A blueprint value still holding `${var}` is resolved per workload later; it cannot be checked now. */
const templated = (value: string): boolean => value.includes('${');

function addonWarnings(addonInfo: JsonObject | undefined, path: string, kind: TaskKind, addons: readonly Addon[], functions: readonly AddonFunction[]): string[] {
  const addonName = asString(addonInfo?.name);
  if (addonName === '' || templated(addonName)) return [];
  const warnings: string[] = [];
  const tasks = asArray(addonInfo?.tasks);
  let addonReported = false;
  tasks.forEach((task, index) => {
    const taskName = asString(asObject(task)?.name);
    if (taskName === '' || templated(taskName)) return;
    const resolved = resolveTask({ addons, functions, addonName, taskName, kind });
    if (resolved.ok) return;
    if (resolved.reason === 'AddonNotFound') {
      if (!addonReported) warnings.push(`${joinPath(path, 'name')}: ${resolved.message}; sessions using it fail until it is installed`);
      addonReported = true;
      return;
    }
    // Without any Function in view, the view cannot see Functions (e.g. offline validation): no guess.
    if (resolved.reason === 'FunctionNotFound' && functions.length === 0) return;
    warnings.push(`${joinPath(path, 'tasks', index, 'name')}: ${resolved.message}; sessions using it fail until it is installed`);
  });
  return warnings;
}

/**
 * The warnings for `object` (BackupConfiguration: spec.sessions[].addon, backup tasks; BackupBlueprint:
 * spec.backupConfigurationTemplate.sessions[].addon, backup tasks; RestoreSession: spec.addon, restore
 * tasks). When the view holds no Addon at all it cannot see Addons (offline `autostash validate`, or a
 * cluster autostash has not set up yet), and nothing is reported.
 */
export function addonReferenceWarnings(object: KubeObject, view: ClusterView): string[] {
  const addons = view.list('Addon') as readonly Addon[];
  if (addons.length === 0) return [];
  const functions = view.list('Function') as readonly AddonFunction[];
  const spec = specOf(object);
  switch (object.kind) {
    case 'BackupConfiguration':
      return asArray(spec.sessions).flatMap((session, index) =>
        addonWarnings(asObject(asObject(session)?.addon), joinPath('spec', 'sessions', index, 'addon'), 'backup', addons, functions),
      );
    case 'BackupBlueprint':
      return asArray(asObject(spec.backupConfigurationTemplate)?.sessions).flatMap((session, index) =>
        addonWarnings(asObject(asObject(session)?.addon), joinPath('spec', 'backupConfigurationTemplate', 'sessions', index, 'addon'), 'backup', addons, functions),
      );
    case 'RestoreSession':
      return addonWarnings(asObject(spec.addon), 'spec.addon', 'restore', addons, functions);
    default:
      return [];
  }
}

/** `rules` plus the addon-reference warnings on CREATE and UPDATE (after the rules' own verdict). */
export function withAddonReferenceWarnings(rules: KindRules): KindRules {
  return {
    applyDefaults: (object, view) => rules.applyDefaults(object, view),
    validate(context): Verdict {
      const verdict = rules.validate(context);
      if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return verdict;
      const warnings = addonReferenceWarnings(context.object, context.view);
      return warnings.length === 0 ? verdict : { errors: verdict.errors, warnings: [...verdict.warnings, ...warnings] };
    },
  };
}

/**
 * allowedStorage: BackupConfigurations and BackupBlueprints may only reference approved BackupStorages
 * (by label selector and provider); with forbidUsagePolicyAll, a BackupStorage open to every namespace
 * violates the rule itself. A storage reference the view cannot resolve is not a violation here (the
 * BackupConfiguration rules report missing storages); blueprint references with ${variables} are skipped.
 */
import type { ClusterView } from '../cluster-view.js';
import { asArray, asObject, asString } from '../json-access.js';
import { labelSelectorMatches } from '../label-selector.js';
import type { KubeObject } from '../kube-object.js';
import { NamespacesFrom, usagePolicyFrom } from '../usage-policy.js';
import { describeSubject, type RuleFinding } from './violation.js';

interface BackendRefs {
  /** Path of the backends list in the object. */
  base: string;
  backends: unknown[];
}

function backendsOf(object: KubeObject): BackendRefs | undefined {
  const spec = asObject(object.spec);
  if (object.kind === 'BackupConfiguration') return { base: 'spec.backends', backends: asArray(spec?.backends) };
  if (object.kind === 'BackupBlueprint') {
    return { base: 'spec.backupConfigurationTemplate.backends', backends: asArray(asObject(spec?.backupConfigurationTemplate)?.backends) };
  }
  return undefined;
}

/** Why `storage` is not approved by `rule`, or undefined when it is. */
function disapproval(rule: Record<string, unknown>, storage: KubeObject): string | undefined {
  const selector = rule.storageSelector;
  if (selector !== undefined && selector !== null && !labelSelectorMatches(selector, storage.metadata?.labels)) {
    return 'its labels do not match the rule\'s storageSelector';
  }
  const providers = asArray(rule.providers).map(asString);
  const provider = asString(asObject(asObject(storage.spec)?.storage)?.provider);
  if (providers.length > 0 && !providers.includes(provider)) {
    return `its provider "${provider}" is not one of ${providers.map((p) => `"${p}"`).join(', ')}`;
  }
  return undefined;
}

/** Findings of allowedStorage for `object` (already known to be in a selected namespace). */
export function checkAllowedStorage(rule: Record<string, unknown>, object: KubeObject, view: ClusterView): RuleFinding[] {
  if (object.kind === 'BackupStorage') {
    if (rule.forbidUsagePolicyAll !== true || usagePolicyFrom(object) !== NamespacesFrom.All) return [];
    return [
      {
        path: 'spec.usagePolicy.allowedNamespaces.from',
        message: `${describeSubject(object)} allows every namespace to use it (usagePolicy.allowedNamespaces.from: All): use Same, or Selector with a namespace selector`,
      },
    ];
  }
  const refs = backendsOf(object);
  if (refs === undefined) return [];
  const findings: RuleFinding[] = [];
  refs.backends.forEach((backend, index) => {
    const ref = asObject(asObject(backend)?.storageRef);
    const name = asString(ref?.name);
    const namespace = asString(ref?.namespace) || (object.metadata?.namespace ?? '');
    if (name === '' || `${name}${namespace}`.includes('${')) return;
    const storage = view.get('BackupStorage', namespace, name);
    if (storage === undefined) return;
    const why = disapproval(rule, storage);
    if (why === undefined) return;
    findings.push({
      path: `${refs.base}[${index}].storageRef`,
      message: `${describeSubject(object)} uses BackupStorage ${namespace}/${name}, which is not approved (${why}): reference an approved BackupStorage`,
    });
  });
  return findings;
}

import type { ClusterView } from './cluster-view.js';
import type { KubeObject } from './kube-object.js';
import { asObject } from './json-access.js';
import { labelSelectorMatches } from './label-selector.js';
import { NamespacesFrom, usagePolicyFrom, usagePolicySelector } from './usage-policy.js';

export type DefaultableKind = 'BackupStorage' | 'RetentionPolicy';

/** Which step of the lookup order found the default (SPEC §6.2). */
export type DefaultLookupStep = 'same-namespace' | 'selector' | 'all';

export interface DefaultLookupResult {
  object: KubeObject;
  step: DefaultLookupStep;
}

const isDefault = (object: KubeObject): boolean => asObject(object.spec)?.default === true;

/**
 * KubeStash's default BackupStorage / RetentionPolicy lookup for an object in `namespace`, over all
 * namespaces, in this order (the first match wins, in list order):
 * 1. `default: true` and `from: Same`, in `namespace` itself;
 * 2. `default: true`, `from: Selector`, selector matching the labels of the Namespace object;
 * 3. `default: true` and `from: All` (so a same-namespace default with `from: All` is only found here).
 * An object with `from` unset or unknown matches no step. KubeStash stops before steps 2 and 3 when it
 * cannot read the Namespace; that cannot happen in a real cluster, so an unknown Namespace is treated
 * here as one without labels and the lookup goes on.
 */
export function findDefault(view: ClusterView, kind: DefaultableKind, namespace: string): DefaultLookupResult | undefined {
  const candidates = view.list(kind).filter(isDefault);
  const sameNamespace = candidates.find(
    (object) => (object.metadata?.namespace ?? '') === namespace && usagePolicyFrom(object) === NamespacesFrom.Same,
  );
  if (sameNamespace) return { object: sameNamespace, step: 'same-namespace' };
  const labels = view.namespace(namespace)?.metadata.labels ?? {};
  const bySelector = candidates.find(
    (object) => usagePolicyFrom(object) === NamespacesFrom.Selector && labelSelectorMatches(usagePolicySelector(object), labels),
  );
  if (bySelector) return { object: bySelector, step: 'selector' };
  const forAll = candidates.find((object) => usagePolicyFrom(object) === NamespacesFrom.All);
  if (forAll) return { object: forAll, step: 'all' };
  return undefined;
}

/** The default BackupStorage for `namespace`, if any (see findDefault). */
export const findDefaultBackupStorage = (view: ClusterView, namespace: string): DefaultLookupResult | undefined =>
  findDefault(view, 'BackupStorage', namespace);

/** The default RetentionPolicy for `namespace`, if any (see findDefault). */
export const findDefaultRetentionPolicy = (view: ClusterView, namespace: string): DefaultLookupResult | undefined =>
  findDefault(view, 'RetentionPolicy', namespace);

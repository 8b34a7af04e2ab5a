import type { KubeObject, NamespaceObject } from './kube-object.js';
import { asObject, asString, isNil } from './json-access.js';
import { compileLabelSelector } from './label-selector.js';

/** Kinds that carry `spec.usagePolicy` (SPEC §2). */
export type UsagePolicyOwnerKind = 'BackupStorage' | 'RetentionPolicy' | 'BackupBlueprint' | 'HookTemplate';

export const NamespacesFrom = { All: 'All', Same: 'Same', Selector: 'Selector' } as const;

/** The namespace asking to use an object: its name, and its Namespace object when the view knows it. */
export interface RequestingNamespace {
  name: string;
  object?: NamespaceObject | undefined;
}

/**
 * allowed: true/false as KubeStash's UsageAllowed decides; undefined when the answer depends on the
 * labels of a Namespace the view does not know (only possible outside a real cluster).
 * reason: a sentence for messages.
 */
export interface UsageDecision {
  allowed: boolean | undefined;
  reason: string;
}

/**
 * `spec.usagePolicy.allowedNamespaces.from` of an object as KubeStash sees it once stored: a missing
 * usagePolicy reads as `Same` (the mutating webhook always sets it); a usagePolicy without `from` reads
 * as undefined (Go: a nil pointer).
 */
export function usagePolicyFrom(owner: KubeObject): string | undefined {
  const spec = asObject(owner.spec);
  if (isNil(spec?.usagePolicy)) return NamespacesFrom.Same;
  const from = asObject(asObject(spec?.usagePolicy)?.allowedNamespaces)?.from;
  return isNil(from) ? undefined : asString(from);
}

/** `spec.usagePolicy.allowedNamespaces.selector` (undefined when absent). */
export function usagePolicySelector(owner: KubeObject): unknown {
  return asObject(asObject(asObject(owner.spec)?.usagePolicy)?.allowedNamespaces)?.selector;
}

/**
 * UsageAllowed (SPEC §2): may `requester` use `owner`?
 * - from absent: BackupStorage and RetentionPolicy answer false; BackupBlueprint and HookTemplate make
 *   KubeStash's webhook crash (nil pointer), which denies the request too, so they answer false as well.
 * - All: true. Same: owner namespace == requester name.
 * - anything else (Selector): the selector must match the requester Namespace's labels; a nil selector
 *   matches nothing, `{}` everything, an invalid one nothing.
 */
export function evaluateUsagePolicy(owner: KubeObject, kind: UsagePolicyOwnerKind, requester: RequestingNamespace): UsageDecision {
  const ownerName = `${kind} ${owner.metadata?.namespace ?? ''}/${owner.metadata?.name ?? ''}`;
  const from = usagePolicyFrom(owner);
  if (from === undefined) {
    const consequence = kind === 'BackupStorage' || kind === 'RetentionPolicy' ? 'allows no namespace' : 'cannot be evaluated (KubeStash fails on it)';
    return { allowed: false, reason: `${ownerName} has usagePolicy.allowedNamespaces.from unset, which ${consequence}` };
  }
  if (from === NamespacesFrom.All) return { allowed: true, reason: `${ownerName} allows all namespaces` };
  if (from === NamespacesFrom.Same) {
    const same = (owner.metadata?.namespace ?? '') === requester.name;
    return {
      allowed: same,
      reason: same ? `${ownerName} allows its own namespace` : `${ownerName} allows only its own namespace (usagePolicy.allowedNamespaces.from: Same)`,
    };
  }
  const compiled = compileLabelSelector(usagePolicySelector(owner));
  if (!compiled.ok) return { allowed: false, reason: `${ownerName} has an invalid usagePolicy selector, which matches no namespace` };
  if (compiled.selector.kind === 'nothing') return { allowed: false, reason: `${ownerName} has from: Selector but no selector, which matches no namespace` };
  if (compiled.selector.kind === 'everything') return { allowed: true, reason: `${ownerName} has an empty selector, which matches every namespace` };
  if (requester.object === undefined) {
    return { allowed: undefined, reason: `Namespace "${requester.name}" is unknown, so the usagePolicy selector of ${ownerName} cannot be checked` };
  }
  const matches = compiled.selector.matches(requester.object.metadata.labels);
  return {
    allowed: matches,
    reason: matches
      ? `${ownerName} selects namespace "${requester.name}" by its labels`
      : `${ownerName} allows only namespaces whose labels match usagePolicy.allowedNamespaces.selector, and namespace "${requester.name}" does not match`,
  };
}

/** The boolean UsageAllowed, with an unknown Namespace treated as one without labels. */
export function usageAllowed(owner: KubeObject, kind: UsagePolicyOwnerKind, requester: RequestingNamespace): boolean {
  const decision = evaluateUsagePolicy(owner, kind, requester);
  if (decision.allowed !== undefined) return decision.allowed;
  const compiled = compileLabelSelector(usagePolicySelector(owner));
  return compiled.ok && compiled.selector.matches({});
}

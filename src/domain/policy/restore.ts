/**
 * restore: no RestoreSession may restore into a protected namespace (one the rule's namespaceSelector
 * selects). The target namespace is spec.target.namespace, else the RestoreSession's own namespace
 * (manifest restores without a target land there too).
 */
import { asObject, asString } from '../json-access.js';
import type { KubeObject } from '../kube-object.js';
import { describeSubject, type RuleFinding } from './violation.js';

/** The namespace a RestoreSession writes into, and the field that says so; undefined for other kinds. */
export function restoreTargetNamespace(object: KubeObject): { namespace: string; path: string } | undefined {
  if (object.kind !== 'RestoreSession') return undefined;
  const target = asString(asObject(asObject(object.spec)?.target)?.namespace);
  return target !== '' ? { namespace: target, path: 'spec.target.namespace' } : { namespace: object.metadata?.namespace ?? '', path: 'metadata.namespace' };
}

/** Findings of restore for a RestoreSession whose target namespace is already known to be protected. */
export function checkRestore(object: KubeObject): RuleFinding[] {
  const target = restoreTargetNamespace(object);
  if (target === undefined) return [];
  return [
    {
      path: target.path,
      message: `${describeSubject(object)} restores into protected namespace "${target.namespace}": restore into another namespace (spec.target.namespace), or ask an admin to lift the policy`,
    },
  ];
}

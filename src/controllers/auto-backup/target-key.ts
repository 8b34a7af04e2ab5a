import { AUTO_BACKUP_TARGET_KINDS } from '../../domain/auto-backup/expand.js';
import { formatApiVersion, groupKindKey, parseApiVersion, type KubeObject } from '../../domain/kube-object.js';

/** A workload or PVC that auto backup may target, as the queue knows it. */
export interface TargetRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** The target kinds, with the apiVersion their informers list. */
export const TARGET_TYPES: ReadonlyArray<{ apiVersion: string; kind: string }> = [...AUTO_BACKUP_TARGET_KINDS.keys()].map((key) => {
  const [group = '', kind = ''] = key.split('/');
  return { apiVersion: formatApiVersion(group, 'v1'), kind };
});

/** Queue key of a target: `<apiVersion>|<kind>|<namespace>|<name>` (no part contains `|`). */
export const targetKey = (ref: TargetRef): string => `${ref.apiVersion}|${ref.kind}|${ref.namespace}|${ref.name}`;

/** Parses a queue key; undefined for anything else. */
export function parseTargetKey(key: string): TargetRef | undefined {
  const [apiVersion, kind, namespace, name, ...rest] = key.split('|');
  if (rest.length > 0 || !apiVersion || !kind || !namespace || !name) return undefined;
  return { apiVersion, kind, namespace, name };
}

/** The target ref of an object of a target kind, or undefined. */
export function targetRefOf(object: KubeObject): TargetRef | undefined {
  const { apiVersion, kind } = object;
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name;
  if (!apiVersion || !kind || !namespace || !name) return undefined;
  if (!AUTO_BACKUP_TARGET_KINDS.has(groupKindKey({ group: parseApiVersion(apiVersion).group, kind }))) return undefined;
  return { apiVersion, kind, namespace, name };
}

/** The target a generated configuration's spec.target names, or undefined. */
export function targetRefOfConfiguration(configuration: KubeObject): TargetRef | undefined {
  const target = (configuration.spec as { target?: { apiGroup?: string; kind?: string; namespace?: string; name?: string } } | undefined)?.target;
  if (!target?.kind || !target.name || !target.namespace) return undefined;
  const group = target.apiGroup ?? '';
  if (!AUTO_BACKUP_TARGET_KINDS.has(groupKindKey({ group, kind: target.kind }))) return undefined;
  return { apiVersion: formatApiVersion(group, 'v1'), kind: target.kind, namespace: target.namespace, name: target.name };
}

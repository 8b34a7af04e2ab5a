/**
 * requireBackup: stateful workloads and standalone PVCs must be backed up.
 *
 * What counts as stateful: a Deployment, StatefulSet or DaemonSet (apps) whose pod template mounts a
 * `persistentVolumeClaim` volume, or a StatefulSet with volumeClaimTemplates. A PersistentVolumeClaim
 * counts on its own only when it is standalone, i.e. has no ownerReferences: claims created for a
 * StatefulSet (or by any other owner) are backed up through their owner. Claims a workload mounts but
 * that were applied on their own are checked too; exempt them by label if their workload is backed up.
 *
 * Backed up means: the object carries both blueprint.kubestash.com/name and …/namespace annotations
 * (auto backup), or a BackupConfiguration in the view has it as spec.target.
 */
import type { ClusterView } from '../cluster-view.js';
import { BLUEPRINT_NAME_ANNOTATION, BLUEPRINT_NAMESPACE_ANNOTATION } from '../auto-backup/annotations.js';
import { asArray, asObject, asString } from '../json-access.js';
import { labelSelectorMatches } from '../label-selector.js';
import { parseApiVersion, type KubeObject } from '../kube-object.js';
import { describeSubject, type RuleFinding } from './violation.js';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** True for the kinds requireBackup looks at (apps workloads and core PVCs). */
export function isRequireBackupKind(object: KubeObject): boolean {
  const group = parseApiVersion(object.apiVersion ?? '').group;
  return (group === 'apps' && WORKLOAD_KINDS.has(object.kind ?? '')) || (group === '' && object.kind === 'PersistentVolumeClaim');
}

/** Names of the claims a workload keeps data in: mounted PVC volumes and (StatefulSet) claim templates. */
export function persistentClaimsOf(workload: KubeObject): string[] {
  const spec = asObject(workload.spec);
  const podSpec = asObject(asObject(spec?.template)?.spec);
  const claims: string[] = [];
  for (const volume of asArray(podSpec?.volumes)) {
    const claim = asObject(asObject(volume)?.persistentVolumeClaim);
    if (claim !== undefined) claims.push(asString(claim.claimName) || asString(asObject(volume)?.name));
  }
  if (workload.kind === 'StatefulSet') {
    for (const template of asArray(spec?.volumeClaimTemplates)) claims.push(asString(asObject(asObject(template)?.metadata)?.name));
  }
  return claims;
}

function hasAutoBackupAnnotations(object: KubeObject): boolean {
  const annotations = object.metadata?.annotations;
  return typeof annotations?.[BLUEPRINT_NAME_ANNOTATION] === 'string' && typeof annotations[BLUEPRINT_NAMESPACE_ANNOTATION] === 'string';
}

function targetedByConfiguration(object: KubeObject, view: ClusterView): boolean {
  const namespace = object.metadata?.namespace ?? '';
  const name = object.metadata?.name ?? '';
  return view.list('BackupConfiguration', namespace).some((configuration) => {
    const target = asObject(asObject(configuration.spec)?.target);
    if (target === undefined) return false;
    const targetNamespace = asString(target.namespace) || (configuration.metadata?.namespace ?? '');
    return asString(target.kind) === object.kind && asString(target.name) === name && targetNamespace === namespace;
  });
}

/** How to exempt an object: the labels themselves when the selector is plain matchLabels. */
function exemptionHint(selector: unknown): string {
  const object = asObject(selector);
  if (object === undefined) return '';
  const labels = Object.entries(asObject(object.matchLabels) ?? {});
  if (labels.length > 0 && asArray(object.matchExpressions).length === 0) {
    return `, or label it ${labels.map(([key, value]) => `${key}=${String(value)}`).join(',')}`;
  }
  return ", or give it labels matching the rule's exemptions.objectSelector";
}

/** Findings of requireBackup for `object` (already known to be in a selected namespace). */
export function checkRequireBackup(rule: Record<string, unknown>, object: KubeObject, view: ClusterView): RuleFinding[] {
  if (!isRequireBackupKind(object)) return [];
  const exemptBy = asObject(rule.exemptions)?.objectSelector;
  if (exemptBy !== undefined && exemptBy !== null && labelSelectorMatches(exemptBy, object.metadata?.labels)) return [];
  let what: string;
  if (object.kind === 'PersistentVolumeClaim') {
    if (asArray(object.metadata?.ownerReferences).length > 0) return [];
    what = `${describeSubject(object)} is a standalone PVC`;
  } else {
    const claims = persistentClaimsOf(object);
    if (claims.length === 0) return [];
    what = `${describeSubject(object)} ${object.kind === 'StatefulSet' && claims.length > 0 ? 'keeps data in' : 'mounts'} PVC ${claims.join(', ')}`;
  }
  if (hasAutoBackupAnnotations(object) || targetedByConfiguration(object, view)) return [];
  const exemptHint = exemptionHint(exemptBy);
  return [
    {
      path: 'metadata.annotations',
      message: `${what} but has no auto backup: add ${BLUEPRINT_NAME_ANNOTATION} and ${BLUEPRINT_NAMESPACE_ANNOTATION} annotations naming a BackupBlueprint, or target it with a BackupConfiguration${exemptHint}`,
    },
  ];
}

/**
 * How a generated BackupConfiguration is marked: KubeStash's labels (SPEC §7.3) plus autostash's own
 * annotations. The controller decides ownership from these markers, never from the object's name.
 */
import type { KubeObject } from '../kube-object.js';
import type { BlueprintRef } from './annotations.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_KUBESTASH = 'kubestash.com';
export const INVOKER_NAME_LABEL = 'kubestash.com/invoker-name';
export const INVOKER_NAMESPACE_LABEL = 'kubestash.com/invoker-namespace';

/** `<namespace>/<name>` of the BackupBlueprint the configuration was generated from. */
export const AUTOSTASH_BLUEPRINT_ANNOTATION = 'autostash.dev/blueprint';
/** metadata.uid of the annotated object the configuration backs up. */
export const AUTOSTASH_TARGET_UID_ANNOTATION = 'autostash.dev/target-uid';

/**
 * Present (value `OnDelete`) when the blueprint's template asks for its configurations to be deleted
 * with the blueprint; recorded at generation because a deleted blueprint cannot be read any more.
 */
export const AUTOSTASH_BLUEPRINT_DELETION_POLICY_ANNOTATION = 'autostash.dev/blueprint-deletion-policy';

export interface GeneratedMarkers {
  blueprint: BlueprintRef;
  /** Absent when the target had no uid when it was expanded (e.g. `autostash render` of a manifest). */
  targetUid?: string;
  /** True when the configuration goes when its blueprint goes (template deletionPolicy OnDelete). */
  deleteWithBlueprint: boolean;
}

/**
 * The markers of a configuration autostash generated, or undefined when it is not one of ours: the
 * KubeStash labels must name the same blueprint as autostash's blueprint annotation. A configuration a
 * person wrote, even with the same name, has no such markers.
 */
export function readGeneratedMarkers(configuration: KubeObject): GeneratedMarkers | undefined {
  const labels = configuration.metadata?.labels;
  const annotations = configuration.metadata?.annotations;
  const blueprint = annotations?.[AUTOSTASH_BLUEPRINT_ANNOTATION];
  if (labels === undefined || blueprint === undefined || labels[MANAGED_BY_LABEL] !== MANAGED_BY_KUBESTASH) return undefined;
  const slash = blueprint.indexOf('/');
  if (slash < 0) return undefined;
  const ref = { namespace: blueprint.slice(0, slash), name: blueprint.slice(slash + 1) };
  if (labels[INVOKER_NAME_LABEL] !== ref.name || labels[INVOKER_NAMESPACE_LABEL] !== ref.namespace) return undefined;
  const targetUid = annotations?.[AUTOSTASH_TARGET_UID_ANNOTATION];
  const deleteWithBlueprint = annotations?.[AUTOSTASH_BLUEPRINT_DELETION_POLICY_ANNOTATION] === 'OnDelete';
  return targetUid === undefined || targetUid === '' ? { blueprint: ref, deleteWithBlueprint } : { blueprint: ref, targetUid, deleteWithBlueprint };
}

/**
 * The whole auto-backup decision for one object, shared by the admission webhook, the controller and
 * `autostash render`: annotations → blueprint → expansion → the BackupConfiguration rules.
 */
import { CORE_GROUP } from '../../api/kinds.js';
import type { ClusterView } from '../cluster-view.js';
import { AutoBackupErrorCodes, fieldError, type FieldError } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { groupKindKey, type KubeObject } from '../kube-object.js';
import { kubeStashRules } from '../kubestash-rules.js';
import { BLUEPRINT_NAME_ANNOTATION, BLUEPRINT_NAMESPACE_ANNOTATION, readAutoBackupRequest, type BlueprintRef } from './annotations.js';
import { expandBlueprint, targetProblems } from './expand.js';

export type AutoBackupPreview =
  /** The object carries no blueprint annotations: nothing to do. */
  | { status: 'none' }
  /** The annotated blueprint is not in the view (yet). Admission should warn, not deny. */
  | { status: 'blueprintNotFound'; blueprint: BlueprintRef; message: string; warnings: string[] }
  /** Expansion fails, or the generated configuration would be rejected; each error has an AutoBackup* code. */
  | { status: 'invalid'; blueprint?: BlueprintRef; errors: FieldError[]; warnings: string[] }
  /**
   * configuration: the object to create (as generated); defaulted: the same after defaulting, i.e.
   * what the API server would store, for comparing with an existing object.
   */
  | { status: 'ready'; blueprint: BlueprintRef; configuration: KubeObject; defaulted: KubeObject; warnings: string[] };

const BACKUP_CONFIGURATION_KEY = groupKindKey({ group: CORE_GROUP, kind: 'BackupConfiguration' });

/**
 * Decides what auto backup would do for `target` against `view`. The target must carry its namespace
 * (admission: fill it from the request). Never throws, never mutates its inputs. The generated
 * configuration is defaulted and validated (as a CREATE) with `rules`; its errors and warnings are
 * reported at the target, their paths prefixed with `BackupConfiguration <ns>/<name>: `.
 */
export function previewAutoBackup(target: KubeObject, view: ClusterView, rules: ReadonlyMap<string, KindRules> = kubeStashRules): AutoBackupPreview {
  const read = readAutoBackupRequest(target);
  if (read === undefined) return { status: 'none' };
  if (!read.ok) return { status: 'invalid', errors: read.errors, warnings: [] };
  const { request } = read;
  const blueprintRef = request.blueprint;
  const warnings = [...request.warnings];

  const unsupported = targetProblems(target);
  if (unsupported.length > 0) return { status: 'invalid', blueprint: blueprintRef, errors: unsupported, warnings };

  const blueprint = view.get('BackupBlueprint', blueprintRef.namespace, blueprintRef.name);
  if (blueprint === undefined) {
    return {
      status: 'blueprintNotFound',
      blueprint: blueprintRef,
      message: `BackupBlueprint ${blueprintRef.namespace}/${blueprintRef.name} (named by ${BLUEPRINT_NAME_ANNOTATION} and ${BLUEPRINT_NAMESPACE_ANNOTATION}) does not exist (yet): the BackupConfiguration is generated once it does; check the annotations if it should exist already`,
      warnings,
    };
  }

  const expanded = expandBlueprint({ blueprint, target, targetNamespace: view.namespace(target.metadata?.namespace ?? ''), request });
  warnings.push(...expanded.warnings);
  if (!expanded.ok) return { status: 'invalid', blueprint: blueprintRef, errors: expanded.errors, warnings };

  const { configuration } = expanded;
  const kindRules = rules.get(BACKUP_CONFIGURATION_KEY);
  if (kindRules === undefined) return { status: 'ready', blueprint: blueprintRef, configuration, defaulted: configuration, warnings };
  const defaulted = kindRules.applyDefaults(configuration, view);
  const verdict = kindRules.validate({ operation: 'CREATE', object: defaulted, view });
  const subject = `BackupConfiguration ${configuration.metadata?.namespace ?? ''}/${configuration.metadata?.name ?? ''}`;
  warnings.push(...verdict.warnings.map((warning) => `${subject}: ${warning}`));
  if (verdict.errors.length > 0) {
    const origin = `(in the BackupConfiguration generated from BackupBlueprint ${blueprintRef.namespace}/${blueprintRef.name}; fix the blueprint or this object's variables)`;
    const errors = verdict.errors.map((error) =>
      fieldError(AutoBackupErrorCodes.InvalidConfiguration, error.path === '' ? subject : `${subject}: ${error.path}`, `${error.message} ${origin}`),
    );
    return { status: 'invalid', blueprint: blueprintRef, errors, warnings };
  }
  return { status: 'ready', blueprint: blueprintRef, configuration, defaulted, warnings };
}

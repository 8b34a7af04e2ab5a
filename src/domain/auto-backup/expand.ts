/**
 * BackupBlueprint + annotated object → the BackupConfiguration KubeStash would generate (SPEC §7.3).
 * Pure: no cluster access; the caller passes the blueprint and the target's Namespace.
 */
import { AutoBackupErrorCodes, fieldError, joinPath, type FieldError } from '../errors.js';
import { asArray, asObject, asString, cloneJson, type JsonObject } from '../json-access.js';
import { groupKindKey, parseApiVersion, type KubeObject, type NamespaceObject } from '../kube-object.js';
import { evaluateUsagePolicy } from '../usage-policy.js';
import {
  annotationPath,
  BLUEPRINT_NAME_ANNOTATION,
  SESSION_NAMES_ANNOTATION,
  variableAnnotation,
  type AutoBackupRequest,
} from './annotations.js';
import { backupConfigurationName } from './configuration-name.js';
import {
  AUTOSTASH_BLUEPRINT_ANNOTATION,
  AUTOSTASH_BLUEPRINT_DELETION_POLICY_ANNOTATION,
  AUTOSTASH_TARGET_UID_ANNOTATION,
  INVOKER_NAME_LABEL,
  INVOKER_NAMESPACE_LABEL,
  MANAGED_BY_KUBESTASH,
  MANAGED_BY_LABEL,
} from './markers.js';
import { substituteString, substituteValues, type SubstitutionProblem } from './substitute.js';

export const BACKUP_CONFIGURATION_API_VERSION = 'core.kubestash.com/v1alpha1';

/** Kinds auto backup can target, keyed by groupKindKey, with the apiGroup written into spec.target. */
export const AUTO_BACKUP_TARGET_KINDS: ReadonlyMap<string, { apiGroup: string }> = new Map([
  [groupKindKey({ group: 'apps', kind: 'Deployment' }), { apiGroup: 'apps' }],
  [groupKindKey({ group: 'apps', kind: 'StatefulSet' }), { apiGroup: 'apps' }],
  [groupKindKey({ group: 'apps', kind: 'DaemonSet' }), { apiGroup: 'apps' }],
  [groupKindKey({ group: '', kind: 'PersistentVolumeClaim' }), { apiGroup: '' }],
]);

/** True for Deployment, StatefulSet, DaemonSet (apps) and PersistentVolumeClaim (core). */
export function isAutoBackupTargetKind(object: KubeObject): boolean {
  return AUTO_BACKUP_TARGET_KINDS.has(groupKindKey({ group: parseApiVersion(object.apiVersion ?? '').group, kind: object.kind ?? '' }));
}

/** Why `target` cannot be backed up automatically: unsupported kind, no name (generateName) or no namespace. */
export function targetProblems(target: KubeObject): FieldError[] {
  const errors: FieldError[] = [];
  if (!isAutoBackupTargetKind(target)) {
    errors.push(
      fieldError(
        AutoBackupErrorCodes.TargetUnsupported,
        'kind',
        `auto backup supports Deployment, StatefulSet and DaemonSet (apps/v1) and PersistentVolumeClaim (v1), not ${target.apiVersion ?? '<no apiVersion>'} ${target.kind ?? '<no kind>'}: remove the blueprint.kubestash.com annotations`,
      ),
    );
  }
  if (!target.metadata?.name) {
    errors.push(fieldError(AutoBackupErrorCodes.TargetUnsupported, 'metadata.name', 'the object has no name yet, so its BackupConfiguration cannot be named; it is generated once the name is assigned'));
  }
  if (!target.metadata?.namespace) {
    errors.push(fieldError(AutoBackupErrorCodes.TargetUnsupported, 'metadata.namespace', 'the object has no namespace; auto backup targets are namespaced'));
  }
  return errors;
}

export interface ExpandInput {
  /** The BackupBlueprint as stored (webhook-defaulted); never mutated. */
  blueprint: KubeObject;
  /** The annotated object; never mutated. Must have a name and a namespace. */
  target: KubeObject;
  /** The target's Namespace, for a `from: Selector` usage policy; undefined when unknown. */
  targetNamespace: NamespaceObject | undefined;
  /** What the target's annotations ask for (readAutoBackupRequest). */
  request: AutoBackupRequest;
}

export type ExpandResult =
  | { ok: true; configuration: KubeObject; warnings: string[] }
  | { ok: false; errors: FieldError[]; warnings: string[] };

const TEMPLATE_PATH = 'spec.backupConfigurationTemplate';

/**
 * Generates the BackupConfiguration for `target` from `blueprint` (SPEC §7.3): name and namespace,
 * KubeStash's labels over the blueprint's own, autostash's ownership annotations,
 * spec.target, the template's backends and its sessions (filtered by session-names) with `${var}`
 * resolved. The template's deletionPolicy is not copied (it concerns the blueprint's deletion).
 * Every problem is collected: target, usage policy, unknown sessions, every missing variable (one
 * error per variable, at its annotation), template syntax (at the blueprint field). The result is
 * neither defaulted nor validated; previewAutoBackup does that.
 */
export function expandBlueprint(input: ExpandInput): ExpandResult {
  const { blueprint, target, targetNamespace, request } = input;
  const warnings: string[] = [];
  const errors = targetProblems(target);
  if (errors.length > 0) return { ok: false, errors, warnings };

  // targetProblems guarantees a supported kind, a name and a namespace from here on.
  const targetName = target.metadata?.name as string;
  const targetNs = target.metadata?.namespace as string;
  const blueprintName = blueprint.metadata?.name ?? request.blueprint.name;
  const blueprintNs = blueprint.metadata?.namespace ?? request.blueprint.namespace;
  const blueprintId = `BackupBlueprint ${blueprintNs}/${blueprintName}`;
  const inBlueprint = (path: string): string => `${blueprintId}: ${path}`;

  const usage = evaluateUsagePolicy(blueprint, 'BackupBlueprint', { name: targetNs, object: targetNamespace });
  if (usage.allowed === false) {
    errors.push(
      fieldError(
        AutoBackupErrorCodes.NotAllowed,
        annotationPath(BLUEPRINT_NAME_ANNOTATION),
        `${usage.reason}, so namespace "${targetNs}" may not use it: pick a blueprint that allows this namespace, or widen spec.usagePolicy.allowedNamespaces of ${blueprintId}`,
      ),
    );
  } else if (usage.allowed === undefined) {
    warnings.push(`${usage.reason}; assuming it is allowed`);
  }

  const template = asObject(asObject(blueprint.spec)?.backupConfigurationTemplate);
  if (template === undefined) {
    errors.push(fieldError(AutoBackupErrorCodes.TemplateInvalid, inBlueprint(TEMPLATE_PATH), `${blueprintId} has no backupConfigurationTemplate, so there is nothing to generate: add backends and sessions to it`));
    return { ok: false, errors, warnings };
  }

  const problems: SubstitutionProblem[] = [];
  const sessions = selectSessions(template, request, blueprintId, errors);

  const namespaceTemplate = asString(template.namespace);
  const namespaceResult = substituteString(namespaceTemplate, request.variables, joinPath(TEMPLATE_PATH, 'namespace'));
  problems.push(...namespaceResult.problems);
  const backendsResult = template.backends === undefined ? undefined : substituteValues(template.backends, request.variables, joinPath(TEMPLATE_PATH, 'backends'));
  problems.push(...(backendsResult?.problems ?? []));
  const resolvedSessions = sessions.map(({ session, index }) => {
    const result = substituteValues(session, request.variables, joinPath(TEMPLATE_PATH, 'sessions', index));
    problems.push(...result.problems);
    return result.value;
  });

  errors.push(...missingVariableErrors(problems, blueprintId), ...syntaxErrors(problems, inBlueprint));
  if (errors.length > 0) return { ok: false, errors, warnings };

  const configurationNs = namespaceResult.value || blueprintNs;
  const spec: JsonObject = { target: targetReference(target, targetName, targetNs) };
  if (backendsResult !== undefined) spec.backends = backendsResult.value;
  spec.sessions = resolvedSessions;

  const annotations: Record<string, string> = { [AUTOSTASH_BLUEPRINT_ANNOTATION]: `${blueprintNs}/${blueprintName}` };
  if (target.metadata?.uid) annotations[AUTOSTASH_TARGET_UID_ANNOTATION] = target.metadata.uid;
  if (template.deletionPolicy === 'OnDelete') annotations[AUTOSTASH_BLUEPRINT_DELETION_POLICY_ANNOTATION] = 'OnDelete';
  const configuration: KubeObject = {
    apiVersion: BACKUP_CONFIGURATION_API_VERSION,
    kind: 'BackupConfiguration',
    metadata: {
      name: backupConfigurationName({ kind: target.kind as string, name: targetName, namespace: targetNs }, configurationNs),
      namespace: configurationNs,
      labels: {
        ...cloneJson(blueprint.metadata?.labels ?? {}),
        [MANAGED_BY_LABEL]: MANAGED_BY_KUBESTASH,
        [INVOKER_NAME_LABEL]: blueprintName,
        [INVOKER_NAMESPACE_LABEL]: blueprintNs,
      },
      annotations,
    },
    spec,
  };
  return { ok: true, configuration, warnings };
}

/** spec.target: `{apiGroup, kind, name, namespace}`; apiGroup left out for the core group (PVC). */
function targetReference(target: KubeObject, name: string, namespace: string): JsonObject {
  const group = parseApiVersion(target.apiVersion as string).group;
  const reference: JsonObject = {};
  if (group !== '') reference.apiGroup = group;
  reference.kind = target.kind;
  reference.name = name;
  reference.namespace = namespace;
  return reference;
}

/**
 * The template sessions to keep, in the blueprint's order, with their index in the blueprint. Session
 * names are compared after substitution (a name may itself use a variable). Unknown names are errors.
 */
function selectSessions(template: JsonObject, request: AutoBackupRequest, blueprintId: string, errors: FieldError[]): Array<{ session: unknown; index: number }> {
  const all = asArray(template.sessions).map((session, index) => {
    const raw = asString(asObject(session)?.name);
    const resolved = substituteString(raw, request.variables);
    return { session, index, name: resolved.problems.length === 0 ? resolved.value : raw };
  });
  if (request.sessionNames === undefined) return all;
  const known = new Set(all.map((entry) => entry.name));
  const unknown = request.sessionNames.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    const key = request.sessionNamesAnnotation ?? SESSION_NAMES_ANNOTATION;
    const available = all.length === 0 ? 'it has no sessions' : `its sessions are ${all.map((entry) => `"${entry.name}"`).join(', ')}`;
    errors.push(
      fieldError(
        AutoBackupErrorCodes.SessionUnknown,
        annotationPath(key),
        `${blueprintId} has no session ${unknown.map((name) => `"${name}"`).join(', ')}; ${available}: list only those, or remove ${key} to use all of them`,
      ),
    );
  }
  const wanted = new Set(request.sessionNames);
  return all.filter((entry) => wanted.has(entry.name));
}

/** One error per missing variable, at the annotation that would supply it, naming every place it is used. */
function missingVariableErrors(problems: readonly SubstitutionProblem[], blueprintId: string): FieldError[] {
  const usedAt = new Map<string, string[]>();
  for (const problem of problems) {
    if (problem.kind !== 'missing') continue;
    const paths = usedAt.get(problem.variable) ?? [];
    if (!paths.includes(problem.path)) paths.push(problem.path);
    usedAt.set(problem.variable, paths);
  }
  return [...usedAt].map(([variable, paths]) =>
    fieldError(
      AutoBackupErrorCodes.VariableMissing,
      annotationPath(variableAnnotation(variable)),
      `${blueprintId} needs variable "${variable}" (used in ${paths.join(', ')}) and gives it no default: add the annotation ${variableAnnotation(variable)} to this object, or give it a default in the blueprint, e.g. \${${variable}:=value}`,
    ),
  );
}

function syntaxErrors(problems: readonly SubstitutionProblem[], inBlueprint: (path: string) => string): FieldError[] {
  return problems.flatMap((problem) => (problem.kind === 'syntax' ? [fieldError(AutoBackupErrorCodes.TemplateInvalid, inBlueprint(problem.path), problem.message)] : []));
}

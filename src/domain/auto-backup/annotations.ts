/**
 * The annotations an app owner puts on a workload or PVC to ask for auto backup (SPEC §7.1).
 */
import { AutoBackupErrorCodes, fieldError, type FieldError } from '../errors.js';
import type { KubeObject } from '../kube-object.js';

export const BLUEPRINT_NAME_ANNOTATION = 'blueprint.kubestash.com/name';
export const BLUEPRINT_NAMESPACE_ANNOTATION = 'blueprint.kubestash.com/namespace';
export const SESSION_NAMES_ANNOTATION = 'blueprint.kubestash.com/session-names';
/** The key KubeStash read before apimachinery commit 1d425806 (2024-03-19); still accepted, with a warning. */
export const LEGACY_SESSIONS_ANNOTATION = 'blueprint.kubestash.com/sessions';
export const VARIABLE_ANNOTATION_PREFIX = 'variables.kubestash.com/';

/** `variables.kubestash.com/<variable>`: the annotation that supplies `${variable}`. */
export const variableAnnotation = (variable: string): string => `${VARIABLE_ANNOTATION_PREFIX}${variable}`;

/** `metadata.annotations[<key>]`: the field path of one annotation in error messages. */
export const annotationPath = (key: string): string => `metadata.annotations[${key}]`;

export interface BlueprintRef {
  name: string;
  namespace: string;
}

/** What the annotations of one object ask for. */
export interface AutoBackupRequest {
  blueprint: BlueprintRef;
  /** The sessions to keep, in the order written, without duplicates; undefined means all sessions. */
  sessionNames?: string[];
  /** The annotation the session list came from (the legacy key when only that is set). */
  sessionNamesAnnotation?: string;
  /** Variable name → value, from every `variables.kubestash.com/<name>` annotation (values as written). */
  variables: Record<string, string>;
  /** Advice that does not stop expansion (e.g. the legacy sessions key). */
  warnings: string[];
}

export type AutoBackupRequestResult = { ok: true; request: AutoBackupRequest } | { ok: false; errors: FieldError[] };

/**
 * Reads the auto-backup annotations of `target`.
 * Returns undefined when neither `blueprint.kubestash.com/name` nor `…/namespace` is present: that
 * costs at most two map lookups, so objects without the annotations pass for free. Otherwise returns
 * the request, or field errors (paths `metadata.annotations[<key>]`) when an annotation is empty,
 * only one of name/namespace is set, or the session list has empty entries.
 */
export function readAutoBackupRequest(target: KubeObject): AutoBackupRequestResult | undefined {
  const annotations = target.metadata?.annotations;
  if (annotations === undefined || annotations === null) return undefined;
  const name = annotations[BLUEPRINT_NAME_ANNOTATION];
  const namespace = annotations[BLUEPRINT_NAMESPACE_ANNOTATION];
  if (name === undefined && namespace === undefined) return undefined;

  const errors: FieldError[] = [];
  const warnings: string[] = [];
  const requireValue = (key: string, value: string | undefined, other: string): void => {
    if (value === undefined) {
      errors.push(fieldError(AutoBackupErrorCodes.AnnotationInvalid, annotationPath(key), `missing: ${other} is set, so ${key} must name the BackupBlueprint too (auto backup needs both)`));
    } else if (typeof value !== 'string' || value.trim() === '') {
      errors.push(fieldError(AutoBackupErrorCodes.AnnotationInvalid, annotationPath(key), `must not be empty: give the ${key === BLUEPRINT_NAME_ANNOTATION ? 'name' : 'namespace'} of the BackupBlueprint to use`));
    }
  };
  requireValue(BLUEPRINT_NAME_ANNOTATION, name, BLUEPRINT_NAMESPACE_ANNOTATION);
  requireValue(BLUEPRINT_NAMESPACE_ANNOTATION, namespace, BLUEPRINT_NAME_ANNOTATION);

  let sessionNames: string[] | undefined;
  const current = annotations[SESSION_NAMES_ANNOTATION];
  const legacy = annotations[LEGACY_SESSIONS_ANNOTATION];
  let sessionsKey: string | undefined;
  if (current !== undefined) {
    sessionsKey = SESSION_NAMES_ANNOTATION;
    if (legacy !== undefined) warnings.push(`${annotationPath(LEGACY_SESSIONS_ANNOTATION)}: ignored because ${SESSION_NAMES_ANNOTATION} is also set; remove it`);
  } else if (legacy !== undefined) {
    sessionsKey = LEGACY_SESSIONS_ANNOTATION;
    warnings.push(`${annotationPath(LEGACY_SESSIONS_ANNOTATION)}: deprecated key; rename it to ${SESSION_NAMES_ANNOTATION}`);
  }
  if (sessionsKey !== undefined) {
    const parsed = parseSessionNames(String(annotations[sessionsKey]));
    if (parsed === undefined) {
      errors.push(
        fieldError(
          AutoBackupErrorCodes.AnnotationInvalid,
          annotationPath(sessionsKey),
          `must be a comma-separated list of session names without empty entries (e.g. "daily,weekly"); remove the annotation to back up with every session of the blueprint`,
        ),
      );
    } else {
      sessionNames = parsed;
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(VARIABLE_ANNOTATION_PREFIX) && key.length > VARIABLE_ANNOTATION_PREFIX.length) {
      // defineProperty, not assignment: a variable named __proto__ must stay an ordinary key.
      Object.defineProperty(variables, key.slice(VARIABLE_ANNOTATION_PREFIX.length), { value: String(value), enumerable: true, writable: true, configurable: true });
    }
  }
  const request: AutoBackupRequest = { blueprint: { name: (name as string).trim(), namespace: (namespace as string).trim() }, variables, warnings };
  if (sessionNames !== undefined) {
    request.sessionNames = sessionNames;
    request.sessionNamesAnnotation = sessionsKey;
  }
  return { ok: true, request };
}

/** `a, b,c` → [a, b, c] (trimmed, first occurrence kept); undefined when empty or any entry is empty. */
function parseSessionNames(value: string): string[] | undefined {
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) return undefined;
  return [...new Set(entries)];
}

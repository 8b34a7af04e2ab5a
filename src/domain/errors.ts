/**
 * Field errors: every rejection names a stable code, the field path it concerns and the reason.
 * Codes follow Kubernetes' metav1.CauseType names so clients that parse API server causes understand ours.
 */
export const ErrorCodes = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  Duplicate: 'FieldValueDuplicate',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  TypeInvalid: 'FieldValueTypeInvalid',
  NotFound: 'FieldValueNotFound',
  Immutable: 'FieldValueImmutable',
  Conflict: 'FieldValueConflict',
  UnknownField: 'FieldValueUnknown',
} as const;

/**
 * Codes of auto-backup errors (blueprint expansion for an annotated workload, SPEC §7). They are reported
 * at the workload, so they name what the app owner or the blueprint author has to fix.
 */
export const AutoBackupErrorCodes = {
  /** A blueprint.kubestash.com/* annotation is empty or malformed, or only one of name/namespace is set. */
  AnnotationInvalid: 'AutoBackupAnnotationInvalid',
  /** The annotated object is not a kind auto backup supports, or lacks a name or namespace. */
  TargetUnsupported: 'AutoBackupTargetUnsupported',
  /** The blueprint uses ${var} without a default and no variables.kubestash.com/<var> annotation gives it. */
  VariableMissing: 'AutoBackupVariableMissing',
  /** The blueprint's template cannot be expanded (bad ${...} syntax, no backupConfigurationTemplate). */
  TemplateInvalid: 'AutoBackupTemplateInvalid',
  /** blueprint.kubestash.com/session-names names a session the blueprint does not have. */
  SessionUnknown: 'AutoBackupSessionUnknown',
  /** The blueprint's usagePolicy does not allow the workload's namespace. */
  NotAllowed: 'AutoBackupNotAllowed',
  /** The generated BackupConfiguration would be rejected by the BackupConfiguration rules. */
  InvalidConfiguration: 'AutoBackupInvalidConfiguration',
} as const;

/** Codes of backup policy outcomes (BackupPolicy, issue 7). */
export const PolicyErrorCodes = {
  /** A BackupPolicy rule with action Deny is violated; the message names the policy, the rule and the fix. */
  Violation: 'PolicyViolation',
} as const;

export type ErrorCode =
  | (typeof ErrorCodes)[keyof typeof ErrorCodes]
  | (typeof AutoBackupErrorCodes)[keyof typeof AutoBackupErrorCodes]
  | (typeof PolicyErrorCodes)[keyof typeof PolicyErrorCodes];

export interface FieldError {
  /** Stable machine-readable code (see ErrorCodes). */
  code: ErrorCode;
  /** Kubernetes-style field path, e.g. `spec.sessions[0].repositories[1].directory`; `` for the whole object. */
  path: string;
  /** Human reason, without the path; says what is wrong and, where possible, how to fix it. */
  message: string;
}

/** Outcome of validating one object: errors deny, warnings are returned to the client but allow. */
export interface Verdict {
  errors: FieldError[];
  warnings: string[];
}

export const fieldError = (code: ErrorCode, path: string, message: string): FieldError => ({ code, path, message });

/** Joins path segments: `joinPath('spec', 'sessions', 0, 'name')` → `spec.sessions[0].name`. */
export function joinPath(...segments: Array<string | number>): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (segment === '') continue;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** One line per error, `<path>: <message>`, in the order given. */
export function formatFieldError(error: FieldError): string {
  return error.path === '' ? error.message : `${error.path}: ${error.message}`;
}

/**
 * The message an admission denial carries, shaped like the API server's own:
 * `BackupConfiguration "demo/nightly" is invalid: [spec.backends: ..., spec.sessions[0].name: ...]`.
 */
export function formatDenial(kind: string, namespacedName: string, errors: readonly FieldError[]): string {
  const lines = errors.map(formatFieldError);
  const body = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
  return `${kind} "${namespacedName}" is invalid: ${body}`;
}

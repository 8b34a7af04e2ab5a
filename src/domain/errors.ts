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

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

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

/**
 * Builders for the `Status` failures kube-apiserver returns, with its reasons, codes and message
 * wording (clients such as kubectl and client-node match on reason and code, people read the message).
 */
import { ApiError } from '../api-types.js';

/** How errors name a resource: `configmaps` for the core group, `deployments.apps` otherwise. */
export interface QualifiedResource {
  group: string;
  resource: string;
  kind?: string;
}

export function qualifiedName(target: QualifiedResource): string {
  return target.group === '' ? target.resource : `${target.resource}.${target.group}`;
}

function details(target: QualifiedResource, name: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(name !== undefined ? { name } : {}), group: target.group, kind: target.resource, ...extra };
}

export function notFound(target: QualifiedResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedName(target)} "${name}" not found`, details(target, name));
}

export function alreadyExists(target: QualifiedResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedName(target)} "${name}" already exists`, details(target, name));
}

/** A write lost an optimistic-concurrency race or failed a precondition. */
export function conflict(target: QualifiedResource, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedName(target)} "${name}": ${why}`, details(target, name));
}

export const STALE_OBJECT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** One field-level problem of a 422 Invalid (a `StatusCause`). */
export interface InvalidCause {
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueNotSupported' | 'FieldValueDuplicate';
  field: string;
  message: string;
}

/** 422 Invalid: `Kind "name" is invalid: field: message, field: message`. */
export function invalid(target: QualifiedResource, kind: string, name: string, causes: InvalidCause[]): ApiError {
  const summary = causes.map((cause) => `${cause.field}: ${cause.message}`).join(', ');
  const shown = causes.length > 1 ? `[${summary}]` : summary;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${shown}`, {
    ...details(target, name),
    kind,
    causes: causes.map((cause) => ({ reason: cause.reason, message: cause.message, field: cause.field })),
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function forbidden(target: QualifiedResource, name: string, why: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedName(target)} "${name}" is forbidden: ${why}`, details(target, name));
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}

export function unsupportedMediaType(message: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', message);
}

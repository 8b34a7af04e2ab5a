import { ApiError } from '../api-types.js';

/** Status failures raised by the HTTP front itself (the store raises its own through ApiError). */
export const httpErrors = {
  badRequest: (message: string): ApiError => new ApiError(400, 'BadRequest', message),
  unauthorized: (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  notFound: (message = 'the server could not find the requested resource'): ApiError => new ApiError(404, 'NotFound', message),
  methodNotAllowed: (method: string, what: string): ApiError =>
    new ApiError(405, 'MethodNotAllowed', `the server does not allow the method ${method} on ${what}`),
  notAcceptable: (message: string): ApiError => new ApiError(406, 'NotAcceptable', message),
  entityTooLarge: (limit: number): ApiError =>
    new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than the limit of ${limit} bytes`),
  unsupportedMediaType: (contentType: string): ApiError =>
    new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${contentType || '(none)'}; accepted media types include application/json`),
  internal: (message: string): ApiError => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`),
};

/** An ApiError for anything thrown: ApiErrors as they are, anything else as a 500 InternalError. */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return httpErrors.internal(error instanceof Error ? error.message : String(error));
}

import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { httpErrors } from './api-errors.js';
import { decodeProtobufObject, protobufMediaType } from './protobuf-body.js';

/** kube-apiserver's default limit for a request body (3 MiB). */
export const maxRequestBodyBytes = 3 * 1024 * 1024;

/**
 * Reads the whole request body. Rejects with a 413 RequestEntityTooLarge ApiError as soon as more
 * than `limit` bytes arrive (or Content-Length announces more), without buffering the excess.
 */
export function readRequestBody(request: IncomingMessage, limit: number = maxRequestBodyBytes): Promise<Buffer> {
  const announced = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(announced) && announced > limit) {
    request.resume();
    return Promise.reject(httpErrors.entityTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    request.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(httpErrors.entityTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    request.on('error', (error) => {
      if (!failed) {
        failed = true;
        reject(error);
      }
    });
  });
}

/** Media types whose bodies are JSON (or, for apply, YAML); an absent Content-Type is read as JSON. */
const jsonMediaTypes = new Set([
  '',
  'application/json',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/yaml',
  '*/*',
]);

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Decodes a request body: JSON for every media type except `application/apply-patch+yaml` (YAML, of
 * which JSON is a subset). An empty body decodes to undefined. Malformed input is a 400 BadRequest.
 */
export function decodeBody(body: Buffer, type: string): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return undefined;
  if (type === protobufMediaType) {
    let decoded: Record<string, unknown> | undefined;
    try {
      decoded = decodeProtobufObject(body);
    } catch (error) {
      throw httpErrors.badRequest(`error decoding protobuf: ${(error as Error).message}`);
    }
    if (decoded === undefined) throw httpErrors.unsupportedMediaType(`${type} (only Namespace, ConfigMap, Secret and ServiceAccount; send JSON)`);
    return decoded;
  }
  if (!jsonMediaTypes.has(type)) throw httpErrors.unsupportedMediaType(type);
  if (type === 'application/apply-patch+yaml' || type === 'application/yaml') {
    try {
      return parseYaml(text) as unknown;
    } catch (error) {
      throw httpErrors.badRequest(`error decoding YAML: ${(error as Error).message}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw httpErrors.badRequest(`the body of the request was not valid JSON: ${(error as Error).message}`);
  }
}

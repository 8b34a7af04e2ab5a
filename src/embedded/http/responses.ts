import type { ServerResponse } from 'node:http';
import type { ApiError } from '../api-types.js';

/** Escapes a warning text for the quoted part of an RFC 7234 `Warning` header. */
const quoteWarning = (text: string): string => `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}"`;

/** `Warning` header values as kube-apiserver writes admission warnings: `299 - "<text>"`. */
export function warningHeaders(warnings: readonly string[]): string[] {
  return warnings.map((text) => `299 - ${quoteWarning(text)}`);
}

/** Sends a JSON body with an exact Content-Length (keep-alive friendly). */
export function sendJson(response: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
  sendRawJson(response, code, JSON.stringify(body), warnings);
}

/** Sends already serialized JSON. */
export function sendRawJson(response: ServerResponse, code: number, text: string, warnings: readonly string[] = []): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  const headers: Record<string, string | number | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length > 0) headers.Warning = warningHeaders(warnings);
  response.writeHead(code, headers);
  response.end(text);
}

/** Sends an ApiError as its `Status` body with its code. */
export function sendStatus(response: ServerResponse, error: ApiError, warnings: readonly string[] = []): void {
  sendJson(response, error.code, error.toStatus(), warnings);
}

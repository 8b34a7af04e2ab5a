import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * True when the `Authorization` header carries `Bearer <token>` with exactly the expected token.
 * Compares SHA-256 digests in constant time, so neither the token's content nor its length leaks
 * through timing.
 */
export function hasBearerToken(authorization: string | undefined, expected: string): boolean {
  if (authorization === undefined) return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  const presented = match?.[1];
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}

/** Paths kube-apiserver also answers without credentials (health and version probes). */
export const anonymousPaths: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz', '/version']);

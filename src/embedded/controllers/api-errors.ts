import type { KubeObject } from '../../domain/kube-object.js';
import { ApiError, type EmbeddedApi, type GroupVersionResource } from '../api-types.js';

/** True when `error` is an ApiError with HTTP status `code`. */
export function hasStatus(error: unknown, code: number): boolean {
  return error instanceof ApiError && error.code === code;
}

export const isNotFound = (error: unknown): boolean => hasStatus(error, 404);

/** AlreadyExists and Conflict share 409; `reason` tells them apart. */
export const isConflict = (error: unknown): boolean => error instanceof ApiError && error.code === 409 && error.reason === 'Conflict';

export const isAlreadyExists = (error: unknown): boolean => error instanceof ApiError && error.code === 409 && error.reason === 'AlreadyExists';

/**
 * Runs `attempt` again while it fails with a Conflict (a stale resourceVersion), up to `attempts`
 * times; each run must read the object afresh. Other errors, and the last conflict, are thrown.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, attempts = 5): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isConflict(error) || tries >= attempts) throw error;
    }
  }
}

/** Message of any thrown value, for logs and conditions. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `api.get`, with undefined for NotFound. */
export async function getIfExists(api: EmbeddedApi, gvr: GroupVersionResource, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  try {
    return await api.get(gvr, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

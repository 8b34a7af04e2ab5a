/**
 * Conditions as kmodules writes them, for every status autostash derives: set one (keeping its
 * lastTransitionTime while its status stays the same), find one, and ask whether one is True.
 * Pure: the time is an argument.
 */
import type { Condition } from '../../api/common.js';

/** What the caller wants a condition to say; the transition time is decided by `setCondition`. */
export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
  observedGeneration?: number;
}

/** RFC 3339 without fractions, the form Kubernetes writes timestamps in. */
export const conditionTime = (now: Date): string => now.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * `conditions` with `input` set:
 * - the same array (identity) when a condition of that type already says exactly this, so callers
 *   can tell that no write is needed;
 * - otherwise a new array where the condition of that type is replaced in place (appended when
 *   absent); its lastTransitionTime is kept when the status did not change, else it is `now`.
 * `conditions` itself is never modified; other types are kept as they are.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: Date): Condition[] {
  const list = conditions ?? [];
  const index = list.findIndex((condition) => condition.type === input.type);
  const current = index >= 0 ? list[index] : undefined;
  if (
    current !== undefined &&
    current.status === input.status &&
    current.reason === input.reason &&
    current.message === input.message &&
    current.observedGeneration === input.observedGeneration
  ) {
    return list as Condition[];
  }
  const lastTransitionTime = current !== undefined && current.status === input.status ? current.lastTransitionTime : conditionTime(now);
  const next: Condition = { type: input.type, status: input.status, reason: input.reason, lastTransitionTime };
  if (input.message !== undefined) next.message = input.message;
  if (input.observedGeneration !== undefined) next.observedGeneration = input.observedGeneration;
  const result = list.slice();
  if (index >= 0) result[index] = next;
  else result.push(next);
  return result;
}

/** The condition of `type`, if present. */
export const findCondition = (conditions: readonly Condition[] | undefined, type: string): Condition | undefined =>
  conditions?.find((condition) => condition.type === type);

/** True when the condition of `type` is present with status True. */
export const isConditionTrue = (conditions: readonly Condition[] | undefined, type: string): boolean =>
  findCondition(conditions, type)?.status === 'True';

/** `conditions` without the condition of `type`; the same array when there is none. */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  const list = conditions ?? [];
  return list.some((condition) => condition.type === type) ? list.filter((condition) => condition.type !== type) : (list as Condition[]);
}

/**
 * Small pure helpers for the session controller's status drafts: set a condition (keeping its
 * lastTransitionTime when its status did not change), read one, and RFC 3339 times.
 */
import type { Condition } from '../../api/common.js';

export const rfc3339 = (date: Date | number): string => new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface ConditionInput {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/**
 * The conditions with `input` set: replaced in place when its type exists (lastTransitionTime kept
 * when the status is the same), appended otherwise. Returns a new array; `conditions` is not changed.
 */
export function withCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: Date): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === input.type);
  const current = index >= 0 ? list[index] : undefined;
  if (current !== undefined && current.status === input.status && current.reason === input.reason && current.message === input.message) return list;
  const lastTransitionTime = current !== undefined && current.status === input.status ? current.lastTransitionTime : rfc3339(now);
  const next: Condition = { ...current, type: input.type, status: input.status, reason: input.reason, message: input.message, lastTransitionTime };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

export const findCondition = (conditions: readonly Condition[] | undefined, type: string): Condition | undefined =>
  conditions?.find((condition) => condition.type === type);

/**
 * What one audit pass writes into a BackupPolicy's status, and whether that is worth a write.
 * Pure: the time of the pass is passed in. The status counts every action (Deny, Warn, Audit):
 * what already exists predates the policy or was admitted while autostash was down.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../domain/kube-object.js';

/** One violation as the evaluation reports it (structurally P1's PolicyViolation). */
export interface AuditedViolation {
  policy: string;
  rule: string;
  action: string;
  object: { apiVersion: string; kind: string; namespace?: string; name: string };
  path: string;
  message: string;
}

/** One entry of `status.objects` (the CRD has no field path: the message names the field). */
export interface ListedViolation {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  rule: string;
  action: string;
  message: string;
}

export interface AuditCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** The status the audit owns on a BackupPolicy. */
export interface PolicyAuditStatus {
  observedGeneration?: number;
  /** When the result below was last confirmed (refreshed at most every `auditTimeRefreshMs` when nothing else changes). */
  lastAuditTime: string;
  /** Violations in all (one object may violate several rules). */
  violationCount: number;
  /** Violations per rule name; rules without violations are left out. */
  violations: Record<string, number>;
  /** The first violations in (kind, namespace, name, rule, path) order, at most `maxListed`. */
  objects: ListedViolation[];
  conditions: AuditCondition[];
}

export const AUDITED_CONDITION = 'Audited';
/** Longest message kept per listed violation: the status stays small whatever the rules say. */
export const MAX_LISTED_MESSAGE = 512;

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Stable order of violations: kind, namespace, name, then rule, path and message. */
export function compareViolations(a: AuditedViolation, b: AuditedViolation): number {
  return (
    compareText(a.object.kind, b.object.kind) ||
    compareText(a.object.namespace ?? '', b.object.namespace ?? '') ||
    compareText(a.object.name, b.object.name) ||
    compareText(a.rule, b.rule) ||
    compareText(a.path, b.path) ||
    compareText(a.message, b.message)
  );
}

/** Violations grouped by policy name, each group in {@link compareViolations} order. */
export function groupByPolicy(violations: readonly AuditedViolation[]): Map<string, AuditedViolation[]> {
  const groups = new Map<string, AuditedViolation[]>();
  for (const violation of violations) {
    let group = groups.get(violation.policy);
    if (group === undefined) groups.set(violation.policy, (group = []));
    group.push(violation);
  }
  for (const group of groups.values()) group.sort(compareViolations);
  return groups;
}

/** Counts per rule and action (the metric's label sets). */
export function countByRuleAndAction(violations: readonly AuditedViolation[]): Array<{ rule: string; action: string; count: number }> {
  const counts = new Map<string, { rule: string; action: string; count: number }>();
  for (const { rule, action } of violations) {
    const key = `${rule}\0${action}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { rule, action, count: 1 });
    else entry.count += 1;
  }
  return [...counts.values()].sort((a, b) => compareText(a.rule, b.rule) || compareText(a.action, b.action));
}

const listed = (violation: AuditedViolation): ListedViolation => ({
  apiVersion: violation.object.apiVersion,
  kind: violation.object.kind,
  ...(violation.object.namespace ? { namespace: violation.object.namespace } : {}),
  name: violation.object.name,
  rule: violation.rule,
  action: violation.action,
  message: violation.message.length > MAX_LISTED_MESSAGE ? `${violation.message.slice(0, MAX_LISTED_MESSAGE - 1)}…` : violation.message,
});

function summary(count: number, byRule: Record<string, number>): { reason: string; message: string } {
  if (count === 0) return { reason: 'NoViolations', message: 'no existing object violates this policy' };
  const rules = Object.entries(byRule).map(([rule, n]) => `${rule}: ${n}`).join(', ');
  return { reason: 'ViolationsFound', message: `${count} violation${count === 1 ? '' : 's'} by existing objects (${rules})` };
}

const conditionsOf = (policy: KubeObject): AuditCondition[] => ((policy.status as { conditions?: AuditCondition[] } | undefined)?.conditions ?? []);

/**
 * The status for `policy` after a pass that found `violations` (this policy's, sorted), at `now`.
 * Conditions of other types are kept; the Audited condition keeps its lastTransitionTime while its
 * status stays the same.
 */
export function auditStatus(policy: KubeObject, violations: readonly AuditedViolation[], now: Date, maxListed: number): PolicyAuditStatus {
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const violationsByRule: Record<string, number> = {};
  for (const { rule } of violations) violationsByRule[rule] = (violationsByRule[rule] ?? 0) + 1;
  const sortedByRule = Object.fromEntries(Object.entries(violationsByRule).sort(([a], [b]) => compareText(a, b)));
  const generation = policy.metadata?.generation;
  const { reason, message } = summary(violations.length, sortedByRule);
  const previous = conditionsOf(policy).find((condition) => condition.type === AUDITED_CONDITION);
  const condition: AuditCondition = {
    type: AUDITED_CONDITION,
    status: 'True',
    reason,
    message,
    lastTransitionTime: previous?.status === 'True' && previous.lastTransitionTime ? previous.lastTransitionTime : time,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastAuditTime: time,
    violationCount: violations.length,
    violations: sortedByRule,
    objects: violations.slice(0, Math.max(0, maxListed)).map(listed),
    conditions: [...conditionsOf(policy).filter((c) => c.type !== AUDITED_CONDITION), condition],
  };
}

/** The part of the status whose change is worth a write (everything but lastAuditTime). */
function substance(status: Partial<PolicyAuditStatus> | undefined): unknown {
  return {
    observedGeneration: status?.observedGeneration,
    violationCount: status?.violationCount,
    violations: status?.violations ?? {},
    objects: status?.objects ?? [],
    conditions: status?.conditions ?? [],
  };
}

/**
 * True when `desired` should be written over the stored status: anything but lastAuditTime
 * differs, or the stored lastAuditTime is missing or older than `auditTimeRefreshMs`. Writing the
 * audit time on every pass would be an update (and a watch event for every client) every few
 * minutes per policy for no news.
 */
export function needsWrite(stored: unknown, desired: PolicyAuditStatus, now: Date, auditTimeRefreshMs: number): boolean {
  const current = stored as Partial<PolicyAuditStatus> | undefined;
  if (!isDeepStrictEqual(substance(current), substance(desired))) return true;
  const last = typeof current?.lastAuditTime === 'string' ? Date.parse(current.lastAuditTime) : Number.NaN;
  return Number.isNaN(last) || now.getTime() - last >= auditTimeRefreshMs;
}

/** violationCount of a stored status; 0 when there is none yet. */
export function storedViolationCount(policy: KubeObject): number {
  const count = (policy.status as { violationCount?: unknown } | undefined)?.violationCount;
  return typeof count === 'number' ? count : 0;
}

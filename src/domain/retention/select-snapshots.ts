/**
 * Which Snapshots a RetentionPolicy keeps (SPEC §3.5; decision 0007). Pure: the clock is a parameter.
 * Bucket rules follow restic `forget --keep-*`, evaluated in UTC.
 */
import type { RetentionPolicy } from '../../api/index.js';
import { retentionPeriodToMinutes } from '../duration.js';

export interface SnapshotForRetention {
  name: string;
  time: Date;
  phase: 'Succeeded' | 'Failed' | 'Running' | 'Pending';
}

export interface RetentionDecision {
  keep: Array<{ name: string; reasons: string[] }>;
  remove: Array<{ name: string; reason: string }>;
  /** Policy problems that made the selection keep more than asked (e.g. an unparsable maxRetentionPeriod). */
  warnings: string[];
}

type BucketRule = 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** ISO-8601 week-numbering year and week of a UTC instant (what Go's Time.ISOWeek returns). */
export function isoWeek(time: Date): { year: number; week: number } {
  const day = new Date(Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate()));
  const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const year = day.getUTCFullYear();
  const week = Math.floor((day.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return { year, week };
}

const bucketOf: Record<Exclude<BucketRule, 'last'>, (t: Date) => string> = {
  hourly: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}`,
  daily: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`,
  weekly: (t) => {
    const { year, week } = isoWeek(t);
    return `${year}-W${pad(week)}`;
  },
  monthly: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}`,
  yearly: (t) => String(t.getUTCFullYear()),
};

const BUCKET_RULES: readonly BucketRule[] = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'];

/** Newest first; equal times fall back to the name, descending (session names end in a growing number). */
const newestFirst = (a: SnapshotForRetention, b: SnapshotForRetention): number =>
  b.time.getTime() - a.time.getTime() || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);

/**
 * Decides, for every Snapshot given, whether the policy keeps or removes it.
 * - Successful snapshots: each rule of `successfulSnapshots` (`last`, `hourly`, `daily`, `weekly`, `monthly`,
 *   `yearly`) keeps the newest snapshot of each of its N most recent distinct buckets (UTC hour / day / ISO week /
 *   month / year; `last`: every snapshot is its own bucket), like restic. A negative count means unlimited, 0 or
 *   absent disables the rule. Every rule that keeps a snapshot is listed in its reasons.
 * - With no successful rule, every successful snapshot is kept (subject to `maxRetentionPeriod`).
 * - Failed snapshots: the `failedSnapshots.last` newest (default 1; negative = all) are kept.
 * - Running and Pending snapshots are never removed.
 * - `maxRetentionPeriod` (y, mo=30d, w, d, h, m) removes Succeeded and Failed snapshots older than `now - period`
 *   even when a rule would keep them. An unparsable or non-positive period is ignored (a warning says so).
 * - A policy with no rule at all (no counts, no period, no failedSnapshots) removes nothing.
 * Output lists are newest first.
 */
export function selectSnapshots(
  snapshots: readonly SnapshotForRetention[],
  policy: RetentionPolicy['spec'],
  now: Date,
): RetentionDecision {
  const decision: RetentionDecision = { keep: [], remove: [], warnings: [] };
  const successful = policy?.successfulSnapshots ?? {};
  const period = policy?.maxRetentionPeriod ?? '';
  const cutoff = retentionCutoff(period, now, decision.warnings);
  const activeRules = BUCKET_RULES.filter((rule) => (successful[rule] ?? 0) !== 0);
  const policyIsEmpty = activeRules.length === 0 && period.trim() === '' && policy?.failedSnapshots === undefined;

  const reasons = new Map<string, string[]>();
  const removals = new Map<string, string>();
  const sorted = [...snapshots].sort(newestFirst);

  const succeeded = sorted.filter((s) => s.phase === 'Succeeded');
  if (activeRules.length === 0) {
    for (const s of succeeded) reasons.set(s.name, ['no successfulSnapshots rule']);
  } else {
    for (const rule of activeRules) {
      let remaining = successful[rule] ?? 0;
      let lastBucket: string | undefined;
      for (const [index, s] of succeeded.entries()) {
        if (remaining === 0) break;
        const bucket = rule === 'last' ? String(index) : bucketOf[rule](s.time);
        if (bucket === lastBucket) continue;
        lastBucket = bucket;
        if (remaining > 0) remaining--;
        reasons.set(s.name, [...(reasons.get(s.name) ?? []), rule]);
      }
    }
    for (const s of succeeded) {
      if (!reasons.has(s.name)) removals.set(s.name, 'not selected by any successfulSnapshots rule');
    }
  }

  const failedLimit = policy?.failedSnapshots?.last ?? 1;
  const failed = sorted.filter((s) => s.phase === 'Failed');
  for (const [index, s] of failed.entries()) {
    if (policyIsEmpty || failedLimit < 0 || index < failedLimit) reasons.set(s.name, ['failedSnapshots.last']);
    else removals.set(s.name, `beyond failedSnapshots.last (${failedLimit})`);
  }

  for (const s of sorted) {
    if (s.phase === 'Running' || s.phase === 'Pending') {
      reasons.set(s.name, [`in progress (${s.phase})`]);
      continue;
    }
    if (policyIsEmpty) {
      reasons.set(s.name, ['retention policy has no rules']);
      removals.delete(s.name);
      continue;
    }
    if (cutoff !== undefined && s.time.getTime() < cutoff) {
      reasons.delete(s.name);
      removals.set(s.name, `older than maxRetentionPeriod (${period.trim()})`);
    }
  }

  for (const s of sorted) {
    const keptFor = reasons.get(s.name);
    const removedFor = removals.get(s.name);
    if (removedFor !== undefined) decision.remove.push({ name: s.name, reason: removedFor });
    else if (keptFor !== undefined) decision.keep.push({ name: s.name, reasons: keptFor });
  }
  return decision;
}

/** Epoch milliseconds before which snapshots are too old, or undefined when the period sets no limit. */
function retentionCutoff(period: string, now: Date, warnings: string[]): number | undefined {
  if (period.trim() === '') return undefined;
  const minutes = retentionPeriodToMinutes(period);
  if (!minutes.ok) {
    warnings.push(`maxRetentionPeriod is ignored: ${minutes.reason}`);
    return undefined;
  }
  if (minutes.value <= 0) {
    warnings.push(`maxRetentionPeriod is ignored: "${period.trim()}" is not a positive duration`);
    return undefined;
  }
  return now.getTime() - minutes.value * 60_000;
}

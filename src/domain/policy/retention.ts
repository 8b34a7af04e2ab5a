/**
 * retention: RetentionPolicies must keep at least minimumKept snapshots per class (a class absent from
 * successfulSnapshots counts as 0) and must not keep snapshots longer than maxRetentionPeriod (a
 * RetentionPolicy without maxRetentionPeriod keeps them without a time limit, which exceeds any maximum).
 * Only RetentionPolicy objects are checked; configurations that reference one inherit its verdict through
 * the audit of the RetentionPolicy itself.
 */
import { retentionPeriodToMinutes } from '../duration.js';
import { asObject, asString } from '../json-access.js';
import type { KubeObject } from '../kube-object.js';
import { describeSubject, type RuleFinding } from './violation.js';

export const SNAPSHOT_CLASSES = ['last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Findings of retention for `object` (already known to be in a selected namespace). */
export function checkRetention(rule: Record<string, unknown>, object: KubeObject): RuleFinding[] {
  if (object.kind !== 'RetentionPolicy') return [];
  const spec = asObject(object.spec) ?? {};
  const kept = asObject(spec.successfulSnapshots) ?? {};
  const minimum = asObject(rule.minimumKept) ?? {};
  const findings: RuleFinding[] = [];
  for (const snapshotClass of SNAPSHOT_CLASSES) {
    const required = count(minimum[snapshotClass]);
    const actual = count(kept[snapshotClass]);
    if (actual < required) {
      findings.push({
        path: `spec.successfulSnapshots.${snapshotClass}`,
        message: `${describeSubject(object)} keeps ${actual} ${snapshotClass} snapshots, fewer than the required ${required}: set successfulSnapshots.${snapshotClass} to at least ${required}`,
      });
    }
  }
  const maximum = asString(rule.maxRetentionPeriod);
  const maximumMinutes = maximum === '' ? undefined : retentionPeriodToMinutes(maximum);
  if (maximumMinutes !== undefined && maximumMinutes.ok) {
    const period = asString(spec.maxRetentionPeriod);
    if (period === '') {
      findings.push({
        path: 'spec.maxRetentionPeriod',
        message: `${describeSubject(object)} sets no maxRetentionPeriod, so snapshots may be kept longer than ${maximum}: set maxRetentionPeriod to ${maximum} or less`,
      });
    } else {
      const minutes = retentionPeriodToMinutes(period);
      if (minutes.ok && minutes.value > maximumMinutes.value) {
        findings.push({
          path: 'spec.maxRetentionPeriod',
          message: `${describeSubject(object)} keeps snapshots for ${period}, longer than the maximum ${maximum}: set maxRetentionPeriod to ${maximum} or less`,
        });
      }
    }
  }
  return findings;
}

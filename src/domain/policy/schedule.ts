/**
 * schedule: every session schedule of a BackupConfiguration, and every literal session schedule of a
 * BackupBlueprint's template, must run at least every maxInterval (the RPO) and at most every
 * minInterval. Schedules that do not parse, or contain ${variables}, are skipped: the kinds' own
 * rules and auto-backup expansion report those.
 */
import { parseGoDuration } from '../duration.js';
import { asArray, asObject, asString } from '../json-access.js';
import type { KubeObject } from '../kube-object.js';
import { formatMs, scheduleGaps } from './schedule-gaps.js';
import { describeSubject, type RuleFinding } from './violation.js';

/** A Go duration as milliseconds; undefined when absent or invalid (the policy's validation rejects those). */
export function durationMs(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const parsed = parseGoDuration(value);
  return parsed.ok ? Number(parsed.value / 1_000_000n) : undefined;
}

function sessionsOf(object: KubeObject): { base: string; sessions: unknown[] } | undefined {
  const spec = asObject(object.spec);
  if (object.kind === 'BackupConfiguration') return { base: 'spec.sessions', sessions: asArray(spec?.sessions) };
  if (object.kind === 'BackupBlueprint') {
    return { base: 'spec.backupConfigurationTemplate.sessions', sessions: asArray(asObject(spec?.backupConfigurationTemplate)?.sessions) };
  }
  return undefined;
}

/** Findings of schedule for `object` (already known to be in a selected namespace). */
export function checkSchedule(rule: Record<string, unknown>, object: KubeObject): RuleFinding[] {
  const found = sessionsOf(object);
  if (found === undefined) return [];
  const maxMs = durationMs(rule.maxInterval);
  const minMs = durationMs(rule.minInterval);
  if (maxMs === undefined && minMs === undefined) return [];
  const findings: RuleFinding[] = [];
  found.sessions.forEach((raw, index) => {
    const session = asObject(raw);
    const schedule = asString(asObject(session?.scheduler)?.schedule);
    if (schedule === '' || schedule.includes('${')) return;
    const gaps = scheduleGaps(schedule);
    if (gaps === undefined) return;
    const path = `${found.base}[${index}].scheduler.schedule`;
    const subject = `${describeSubject(object)} session "${asString(session?.name)}" schedule "${schedule}"`;
    if (maxMs !== undefined && gaps.maxMs > maxMs) {
      findings.push({ path, message: `${subject} leaves up to ${formatMs(gaps.maxMs)} between backups, more than the maximum interval ${formatMs(maxMs)}: schedule backups at least every ${formatMs(maxMs)}` });
    }
    if (minMs !== undefined && gaps.minMs < minMs) {
      findings.push({ path, message: `${subject} runs backups only ${formatMs(gaps.minMs)} apart, less than the minimum interval ${formatMs(minMs)}: schedule backups at most every ${formatMs(minMs)}` });
    }
  });
  return findings;
}

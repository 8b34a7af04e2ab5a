/**
 * BackupPolicy (policy.autostash.dev): the checks its schema cannot express. Nothing is defaulted
 * beyond the schema (action defaults to Audit there).
 */
import { policyRuleNames } from '../../api/autostash/backup-policy.js';
import { parseGoDuration, parseRetentionPeriod, retentionPeriodToMinutes } from '../duration.js';
import { ErrorCodes } from '../errors.js';
import type { KindRules } from '../kind-rules.js';
import { asObject, asString, cloneJson, isNil, type JsonObject } from '../json-access.js';
import { labelSelectorErrors } from '../label-selector.js';
import { allowed, specOf, VerdictBuilder } from './common.js';

/** A positive Go duration in nanoseconds, or an error reported at `path`; undefined when absent. */
function positiveDuration(value: unknown, path: string, out: VerdictBuilder): bigint | undefined {
  if (isNil(value)) return undefined;
  const parsed = parseGoDuration(asString(value));
  if (!parsed.ok) {
    out.error(ErrorCodes.Invalid, path, `${parsed.reason}: write a Go duration such as "24h", "90m" or "5m"`);
    return undefined;
  }
  if (parsed.value <= 0n) {
    out.error(ErrorCodes.Invalid, path, `must be greater than zero, e.g. "24h"`);
    return undefined;
  }
  return parsed.value;
}

function selectorErrors(rule: JsonObject, base: string, out: VerdictBuilder): void {
  out.add(labelSelectorErrors(rule.namespaceSelector, `${base}.namespaceSelector`));
}

function checkSchedule(rule: JsonObject, base: string, out: VerdictBuilder): void {
  const max = positiveDuration(rule.maxInterval, `${base}.maxInterval`, out);
  const min = positiveDuration(rule.minInterval, `${base}.minInterval`, out);
  if (isNil(rule.maxInterval) && isNil(rule.minInterval)) {
    out.error(ErrorCodes.Required, base, 'a schedule rule needs maxInterval (e.g. "24h"), minInterval (e.g. "5m") or both');
  }
  if (max !== undefined && min !== undefined && min >= max) {
    out.error(ErrorCodes.Invalid, `${base}.minInterval`, `must be less than maxInterval "${asString(rule.maxInterval)}": no schedule could satisfy both`);
  }
}

function checkRetention(rule: JsonObject, base: string, out: VerdictBuilder): void {
  const period = rule.maxRetentionPeriod;
  if (!isNil(period)) {
    const parsed = parseRetentionPeriod(asString(period));
    const minutes = retentionPeriodToMinutes(asString(period));
    if (!parsed.ok) {
      out.error(ErrorCodes.Invalid, `${base}.maxRetentionPeriod`, `${parsed.reason}: write number+unit pairs with units y, mo, w, d, h, m, e.g. "1y" or "90d"`);
    } else if (!minutes.ok || minutes.value <= 0) {
      out.error(ErrorCodes.Invalid, `${base}.maxRetentionPeriod`, 'must be greater than zero, e.g. "1y"');
    }
  }
  const kept = asObject(rule.minimumKept);
  if (isNil(period) && (kept === undefined || Object.keys(kept).length === 0)) {
    out.error(ErrorCodes.Required, base, 'a retention rule needs minimumKept (e.g. daily: 7), maxRetentionPeriod (e.g. "1y") or both');
  }
}

function checkAllowedStorage(rule: JsonObject, base: string, out: VerdictBuilder): void {
  out.add(labelSelectorErrors(rule.storageSelector, `${base}.storageSelector`));
  const providers = Array.isArray(rule.providers) ? rule.providers : [];
  if (isNil(rule.storageSelector) && providers.length === 0 && rule.forbidUsagePolicyAll !== true) {
    out.error(ErrorCodes.Required, base, 'an allowedStorage rule needs storageSelector, providers or forbidUsagePolicyAll: true');
  }
}

/** BackupPolicy: at least one rule; durations parse, minInterval < maxInterval; selectors are valid; no rule is empty. */
export const backupPolicyRules: KindRules = {
  applyDefaults: (object) => cloneJson(object),
  validate(context) {
    if (context.operation !== 'CREATE' && context.operation !== 'UPDATE') return allowed();
    const rules = asObject(specOf(context.object).rules) ?? {};
    const out = new VerdictBuilder();
    const present = policyRuleNames.filter((name) => !isNil(rules[name]));
    if (present.length === 0) {
      out.error(ErrorCodes.Required, 'spec.rules', `at least one rule is required: add one of ${policyRuleNames.join(', ')}`);
    }
    for (const name of present) {
      const rule = asObject(rules[name]) ?? {};
      const base = `spec.rules.${name}`;
      selectorErrors(rule, base, out);
      if (name === 'requireBackup') out.add(labelSelectorErrors(asObject(rule.exemptions)?.objectSelector, `${base}.exemptions.objectSelector`));
      if (name === 'schedule') checkSchedule(rule, base, out);
      if (name === 'retention') checkRetention(rule, base, out);
      if (name === 'allowedStorage') checkAllowedStorage(rule, base, out);
    }
    return out.verdict();
  },
};

/**
 * Backup policies in the same admission call as everything else: a wrapper around any KindRules.
 */
import type { Verdict } from '../errors.js';
import { fieldError, formatFieldError, PolicyErrorCodes, type FieldError } from '../errors.js';
import type { KindRules, ValidationContext } from '../kind-rules.js';
import { isAutoBackupTargetKind } from '../auto-backup/expand.js';
import { evaluatePolicies, softensAutoBackupFailures } from './evaluate.js';
import type { PolicyViolation } from './violation.js';

const violationKey = (v: PolicyViolation): string => `${v.policy}\u0000${v.rule}\u0000${v.path}`;
const isAutoBackupError = (error: FieldError): boolean => error.code.startsWith('AutoBackup');

/**
 * `rules` plus BackupPolicy enforcement on CREATE and UPDATE:
 * - Deny violations become FieldErrors (code PolicyViolation, path of the violation);
 * - Warn violations become warnings; Audit violations add nothing (the audit controller reports them);
 * - on UPDATE, a Deny violation the stored object already had only warns (like Kyverno's
 *   allowExistingViolations): a policy added later must not block edits that do not make things worse;
 * - objects being deleted (deletionTimestamp set) are not policed, so finalizers can always be removed;
 * - auto-backup expansion errors of a workload become warnings when a requireBackup rule with action
 *   Warn or Audit (and none with Deny) selects its namespace.
 * Without BackupPolicies in the view this costs one `view.list('BackupPolicy')`.
 */
export function withPolicies(rules: KindRules): KindRules {
  return {
    applyDefaults: (object, view) => rules.applyDefaults(object, view),
    validate(context: ValidationContext): Verdict {
      const verdict = rules.validate(context);
      const { operation, object, oldObject, view } = context;
      if (operation !== 'CREATE' && operation !== 'UPDATE') return verdict;
      if (object.metadata?.deletionTimestamp) return verdict;
      let errors = verdict.errors;
      let warnings = verdict.warnings;
      if (errors.length > 0 && isAutoBackupTargetKind(object) && errors.every(isAutoBackupError)) {
        const namespace = object.metadata?.namespace ?? '';
        if (softensAutoBackupFailures(namespace, view)) {
          const why = `(allowed: a BackupPolicy requireBackup rule only warns or audits in namespace "${namespace}")`;
          warnings = [...warnings, ...errors.map((error) => `${formatFieldError(error)} ${why}`)];
          errors = [];
        }
      }
      const violations = evaluatePolicies(object, view);
      if (violations.length === 0) return errors === verdict.errors ? verdict : { errors, warnings };
      let existing: ReadonlySet<string> = new Set();
      if (operation === 'UPDATE' && oldObject !== undefined && violations.some((v) => v.action === 'Deny')) {
        existing = new Set(evaluatePolicies(oldObject, view).map(violationKey));
      }
      const policyErrors: FieldError[] = [];
      const policyWarnings: string[] = [];
      for (const violation of violations) {
        if (violation.action === 'Audit') continue;
        if (violation.action === 'Warn') policyWarnings.push(violation.message);
        else if (existing.has(violationKey(violation))) policyWarnings.push(`${violation.message} (allowed for now: the object already violated this rule before this update)`);
        else policyErrors.push(fieldError(PolicyErrorCodes.Violation, violation.path, violation.message));
      }
      return { errors: [...errors, ...policyErrors], warnings: [...warnings, ...policyWarnings] };
    },
  };
}

/**
 * Evaluation of every BackupPolicy in a cluster view against one object: pure, shared by admission
 * (the object as admitted), the audit controller (objects as stored) and `autostash validate`.
 */
import { policyRuleNames, type PolicyAction, type PolicyRuleName } from '../../api/autostash/backup-policy.js';
import type { ClusterView } from '../cluster-view.js';
import { asObject } from '../json-access.js';
import type { KubeObject } from '../kube-object.js';
import { checkAllowedStorage } from './allowed-storage.js';
import { selectsNamespace } from './namespace-scope.js';
import { checkRequireBackup } from './require-backup.js';
import { checkRestore, restoreTargetNamespace } from './restore.js';
import { checkRetention } from './retention.js';
import { checkSchedule } from './schedule.js';
import { subjectOf, type PolicyViolation, type RuleFinding } from './violation.js';

export type { PolicyAction, PolicyRuleName, PolicyViolation, ViolationSubject } from './violation.js';

/** The kinds each rule looks at; other objects cost one list of the policies and nothing more. */
const RULE_KINDS: Readonly<Record<PolicyRuleName, ReadonlySet<string>>> = {
  requireBackup: new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'PersistentVolumeClaim']),
  allowedStorage: new Set(['BackupConfiguration', 'BackupBlueprint', 'BackupStorage']),
  schedule: new Set(['BackupConfiguration', 'BackupBlueprint']),
  retention: new Set(['RetentionPolicy']),
  restore: new Set(['RestoreSession']),
};
const POLICED_KINDS = new Set(Object.values(RULE_KINDS).flatMap((kinds) => [...kinds]));

const actionOf = (rule: Record<string, unknown>): PolicyAction =>
  rule.action === 'Deny' || rule.action === 'Warn' ? rule.action : 'Audit';

function findingsOf(ruleName: PolicyRuleName, rule: Record<string, unknown>, object: KubeObject, view: ClusterView): RuleFinding[] {
  switch (ruleName) {
    case 'requireBackup':
      return checkRequireBackup(rule, object, view);
    case 'allowedStorage':
      return checkAllowedStorage(rule, object, view);
    case 'schedule':
      return checkSchedule(rule, object);
    case 'retention':
      return checkRetention(rule, object);
    case 'restore':
      return checkRestore(object);
  }
}

/** The namespace a rule's namespaceSelector is matched against for `object`. */
function policedNamespace(ruleName: PolicyRuleName, object: KubeObject): string {
  if (ruleName === 'restore') return restoreTargetNamespace(object)?.namespace ?? '';
  return object.metadata?.namespace ?? '';
}

/**
 * Every violation of every BackupPolicy in `view` by `object` (as admitted, or as stored for audits),
 * in policy order then rule order. A rule applies when its kinds include the object's kind and its
 * namespaceSelector selects the object's namespace (for restore: the namespace restored into).
 * Objects without a namespace are never policed. Never throws, never mutates its inputs.
 */
export function evaluatePolicies(object: KubeObject, view: ClusterView): PolicyViolation[] {
  const policies = view.list('BackupPolicy');
  if (policies.length === 0 || !POLICED_KINDS.has(object.kind ?? '')) return [];
  if (typeof object.metadata?.namespace !== 'string' || object.metadata.namespace === '') return [];
  const violations: PolicyViolation[] = [];
  for (const policy of policies) {
    const rules = asObject(asObject(policy.spec)?.rules);
    if (rules === undefined) continue;
    const policyName = policy.metadata?.name ?? '';
    for (const ruleName of policyRuleNames) {
      const rule = asObject(rules[ruleName]);
      if (rule === undefined || !RULE_KINDS[ruleName].has(object.kind ?? '')) continue;
      if (!selectsNamespace(rule.namespaceSelector, policedNamespace(ruleName, object), view)) continue;
      const action = actionOf(rule);
      for (const finding of findingsOf(ruleName, rule, object, view)) {
        violations.push({
          policy: policyName,
          rule: ruleName,
          action,
          object: subjectOf(object),
          path: finding.path,
          message: `BackupPolicy "${policyName}" rule ${ruleName} (${action}): ${finding.message}`,
        });
      }
    }
  }
  return violations;
}

/**
 * Whether auto-backup expansion failures of a workload in `namespace` should only warn: some
 * requireBackup rule with action Warn or Audit selects the namespace and none with Deny does
 * (an admin who switched a namespace to Deny wants broken annotations to block).
 */
export function softensAutoBackupFailures(namespace: string, view: ClusterView): boolean {
  let soft = false;
  for (const policy of view.list('BackupPolicy')) {
    const rule = asObject(asObject(asObject(policy.spec)?.rules)?.requireBackup);
    if (rule === undefined || !selectsNamespace(rule.namespaceSelector, namespace, view)) continue;
    if (actionOf(rule) === 'Deny') return false;
    soft = true;
  }
  return soft;
}

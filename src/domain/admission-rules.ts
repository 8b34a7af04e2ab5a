import { autostashKindByGroupKind, POLICY_GROUP } from '../api/autostash/kinds.js';
import type { KindRules } from './kind-rules.js';
import { groupKindKey } from './kube-object.js';
import { kubeStashRules, scopeOfKind, withSchema } from './kubestash-rules.js';
import { withPolicies } from './policy/with-policies.js';
import { autoBackupTargetKindRules } from './rules/auto-backup-target.js';
import { backupPolicyRules } from './rules/backup-policy.js';

/** autostash's own kinds (schema + rules), keyed by groupKindKey. */
export const autostashRules: ReadonlyMap<string, KindRules> = new Map([
  [groupKindKey({ group: POLICY_GROUP, kind: 'BackupPolicy' }), withSchema(backupPolicyRules)],
]);

/**
 * Everything the webhook admits, keyed by groupKindKey: the KubeStash kinds, auto-backup targets and
 * autostash's own kinds, each with the BackupPolicies of the view enforced on CREATE and UPDATE.
 */
export const admissionRules: ReadonlyMap<string, KindRules> = new Map(
  [...kubeStashRules, ...autoBackupTargetKindRules, ...autostashRules].map(([key, rules]) => [key, withPolicies(rules)] as const),
);

/** The scope of a KubeStash or autostash kind, undefined for kinds autostash does not serve. */
export const admissionScopeOf = (group: string, kind: string): 'Namespaced' | 'Cluster' | undefined =>
  scopeOfKind(group, kind) ?? autostashKindByGroupKind(group, kind)?.scope;

/**
 * BackupPolicy (`policy.autostash.dev/v1alpha1`, cluster-scoped): autostash's own kind for backup
 * policy enforcement (issue 7). Each rule has an action and a namespace selector; the webhook evaluates
 * the rules against every object it admits, and the audit controller against what is stored.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Condition } from '../common.js';
import { kindObject } from '../kind-object.js';
import { labelSelector, type LabelSelector } from '../kubernetes.js';
import { storageProviderValues } from '../storage.js';
import { dateTime, int32, int64, stringEnum } from '../schema-builders.js';

const o = Type.Optional;

export const policyActionValues = ['Deny', 'Warn', 'Audit'] as const;
export type PolicyAction = (typeof policyActionValues)[number];

export const policyRuleNames = ['requireBackup', 'allowedStorage', 'schedule', 'retention', 'restore'] as const;
export type PolicyRuleName = (typeof policyRuleNames)[number];

const action = () =>
  stringEnum(policyActionValues, {
    default: 'Audit',
    description:
      'What a violation does. Deny: admission rejects the object, naming the policy, the rule and the fix. ' +
      'Warn: admission allows it with a warning (kubectl prints it). Audit: admission allows it silently; ' +
      'the audit controller counts it in status. Default Audit, so a new policy only reports until switched to Deny.',
  });

/** A LabelSelector field with its own description (the core type itself carries none). */
const describedSelector = (description: string) => o(Type.Unsafe<LabelSelector>({ ...labelSelector(), description }));
const namespaceSelectorDescription =
  'Namespaces the rule applies to, by the labels of their Namespace object. Absent: every namespace. ' +
  'A namespace the cluster view does not know (yet) is selected only by an absent or empty selector.';

function ruleBase(what: string) {
  return {
    action: o(action()),
    namespaceSelector: describedSelector(`${namespaceSelectorDescription} ${what}`),
  };
}

export const RequireBackupRule = Type.Object(
  {
    ...ruleBase('For requireBackup: the namespaces whose stateful workloads must be backed up.'),
    exemptions: o(
      Type.Object(
        {
          objectSelector: describedSelector(
            'Workloads and PVCs whose own labels match are exempt (e.g. matchLabels: {backup.autostash.dev/exempt: "true"}).',
          ),
        },
        { description: 'Objects this rule does not apply to.' },
      ),
    ),
  },
  {
    description:
      'Deployments, StatefulSets and DaemonSets that mount a PersistentVolumeClaim (or StatefulSets with volumeClaimTemplates), ' +
      'and PVCs not owned by a workload, must carry the blueprint.kubestash.com/name and blueprint.kubestash.com/namespace ' +
      'annotations or be the spec.target of a BackupConfiguration.',
  },
);

export const AllowedStorageRule = Type.Object(
  {
    ...ruleBase('For allowedStorage: the namespaces of the BackupConfigurations, BackupBlueprints and BackupStorages checked.'),
    storageSelector: describedSelector('BackupStorages that may be referenced, by their labels. Absent: any BackupStorage (subject to providers).'),
    providers: o(
      Type.Array(stringEnum(storageProviderValues), {
        description: 'Storage providers (spec.storage.provider) that may be referenced. Absent or empty: any provider.',
      }),
    ),
    forbidUsagePolicyAll: o(
      Type.Boolean({
        description: 'When true, a BackupStorage whose usagePolicy.allowedNamespaces.from is All violates the rule (every namespace could write to it).',
      }),
    ),
  },
  { description: 'BackupConfigurations and BackupBlueprints may only reference approved BackupStorages.' },
);

const goDuration = (description: string) => Type.String({ description: `${description} Go duration syntax, e.g. "24h", "90m", "5m".` });

export const ScheduleRule = Type.Object(
  {
    ...ruleBase('For schedule: the namespaces of the BackupConfigurations and BackupBlueprints checked.'),
    maxInterval: o(goDuration('Longest allowed gap between two consecutive scheduled backups (the recovery point objective).')),
    minInterval: o(goDuration('Shortest allowed gap between two consecutive scheduled backups (protects the backend).')),
  },
  {
    description:
      'Every session schedule (spec.sessions[].scheduler.schedule) is checked over its next runs (up to 400 runs or one year). ' +
      'Schedules with ${variables} or that do not parse are not checked here.',
  },
);

const keptCount = (what: string) => o(int32({ minimum: 0, description: `Minimum successfulSnapshots.${what} a RetentionPolicy must keep; absent in the RetentionPolicy counts as 0.` }));

export const RetentionRule = Type.Object(
  {
    ...ruleBase('For retention: the namespaces of the RetentionPolicies checked.'),
    minimumKept: o(
      Type.Object(
        {
          last: keptCount('last'),
          hourly: keptCount('hourly'),
          daily: keptCount('daily'),
          weekly: keptCount('weekly'),
          monthly: keptCount('monthly'),
          yearly: keptCount('yearly'),
        },
        { description: 'Per snapshot class, the least a RetentionPolicy may keep.' },
      ),
    ),
    maxRetentionPeriod: o(
      Type.String({
        description: 'Longest spec.maxRetentionPeriod a RetentionPolicy may set, in KubeStash duration syntax (e.g. "1y", "6mo", "30d").',
      }),
    ),
  },
  { description: 'RetentionPolicies must keep enough snapshots, and not for longer than allowed.' },
);

export const RestoreRule = Type.Object(
  { ...ruleBase('For restore: the protected namespaces, into which no RestoreSession may restore.') },
  { description: 'RestoreSessions whose target namespace (spec.target.namespace, else their own) is selected violate the rule.' },
);

export const BackupPolicyRules = Type.Object(
  {
    requireBackup: o(RequireBackupRule),
    allowedStorage: o(AllowedStorageRule),
    schedule: o(ScheduleRule),
    retention: o(RetentionRule),
    restore: o(RestoreRule),
  },
  { description: 'The rules of the policy; at least one is required.' },
);

export const BackupPolicySpec = Type.Object({ rules: BackupPolicyRules }, { description: 'What the policy enforces.' });

export const ViolatingObject = Type.Object({
  apiVersion: Type.String(),
  kind: Type.String(),
  namespace: o(Type.String()),
  name: Type.String(),
  rule: stringEnum(policyRuleNames),
  action: stringEnum(policyActionValues),
  message: Type.String(),
});
export type ViolatingObject = Static<typeof ViolatingObject>;

const violationCount = (rule: PolicyRuleName) => o(int32({ minimum: 0, description: `Objects violating ${rule}.` }));

export const BackupPolicyStatus = Type.Object({
  observedGeneration: o(int64({ description: 'The generation the last audit evaluated.' })),
  lastAuditTime: o(dateTime({ description: 'When the audit controller last evaluated the policy against the cluster.' })),
  violationCount: o(int32({ minimum: 0, description: 'Violations found by the last audit, over every rule.' })),
  violations: o(
    Type.Object(
      {
        requireBackup: violationCount('requireBackup'),
        allowedStorage: violationCount('allowedStorage'),
        schedule: violationCount('schedule'),
        retention: violationCount('retention'),
        restore: violationCount('restore'),
      },
      { description: 'Violations found by the last audit, per rule.' },
    ),
  ),
  objects: o(Type.Array(ViolatingObject, { description: 'The first violations found by the last audit (bounded list).' })),
  conditions: o(Type.Array(Condition)),
});

export const BackupPolicySchema = kindObject(BackupPolicySpec, BackupPolicyStatus);
export type BackupPolicy = Static<typeof BackupPolicySchema>;
export type BackupPolicySpec = Static<typeof BackupPolicySpec>;
export type BackupPolicyStatus = Static<typeof BackupPolicyStatus>;

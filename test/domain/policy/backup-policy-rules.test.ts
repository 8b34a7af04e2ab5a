import t from 'tap';
import { admissionRules } from '../../../src/domain/admission-rules.js';
import { emptyClusterView } from '../../../src/domain/cluster-view.js';
import type { Operation } from '../../../src/domain/kind-rules.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { backupPolicyRules } from '../../../src/domain/rules/backup-policy.js';
import { policy } from '../../helpers/policy-objects.js';

const rules = admissionRules.get('policy.autostash.dev/BackupPolicy');

interface Row {
  name: string;
  rules: Record<string, unknown>;
  /** Expected error paths; [] for valid. */
  errors: string[];
  message?: RegExp;
}

const rows: Row[] = [
  { name: 'no rule at all', rules: {}, errors: ['spec.rules'], message: /at least one rule is required/ },
  { name: 'requireBackup alone', rules: { requireBackup: { action: 'Deny' } }, errors: [] },
  { name: 'invalid namespaceSelector', rules: { requireBackup: { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Near' }] } } }, errors: ['spec.rules.requireBackup.namespaceSelector.matchExpressions[0].operator'] },
  { name: 'invalid exemptions selector', rules: { requireBackup: { exemptions: { objectSelector: { matchLabels: { 'bad key!': 'x' } } } } }, errors: ['spec.rules.requireBackup.exemptions.objectSelector.matchLabels[bad key!]'] },
  { name: 'schedule with max and min', rules: { schedule: { maxInterval: '24h', minInterval: '5m' } }, errors: [] },
  { name: 'schedule without intervals', rules: { schedule: { action: 'Warn' } }, errors: ['spec.rules.schedule'], message: /maxInterval/ },
  { name: 'schedule with an unparsable duration', rules: { schedule: { maxInterval: '1d' } }, errors: ['spec.rules.schedule.maxInterval'], message: /unknown unit "d"/ },
  { name: 'schedule with a zero duration', rules: { schedule: { minInterval: '0s' } }, errors: ['spec.rules.schedule.minInterval'], message: /greater than zero/ },
  { name: 'schedule with min >= max', rules: { schedule: { maxInterval: '1h', minInterval: '60m' } }, errors: ['spec.rules.schedule.minInterval'], message: /less than maxInterval/ },
  { name: 'retention with minimumKept', rules: { retention: { minimumKept: { daily: 7 } } }, errors: [] },
  { name: 'retention with a period', rules: { retention: { maxRetentionPeriod: '1y' } }, errors: [] },
  { name: 'retention empty', rules: { retention: { minimumKept: {} } }, errors: ['spec.rules.retention'] },
  { name: 'retention with a bad period', rules: { retention: { maxRetentionPeriod: '1 year' } }, errors: ['spec.rules.retention.maxRetentionPeriod'] },
  { name: 'retention with a zero period', rules: { retention: { maxRetentionPeriod: '0d' } }, errors: ['spec.rules.retention.maxRetentionPeriod'], message: /greater than zero/ },
  { name: 'allowedStorage with providers', rules: { allowedStorage: { providers: ['s3'] } }, errors: [] },
  { name: 'allowedStorage with forbidUsagePolicyAll', rules: { allowedStorage: { forbidUsagePolicyAll: true } }, errors: [] },
  { name: 'allowedStorage that checks nothing', rules: { allowedStorage: { providers: [] } }, errors: ['spec.rules.allowedStorage'] },
  { name: 'allowedStorage with an invalid storageSelector', rules: { allowedStorage: { storageSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } } }, errors: ['spec.rules.allowedStorage.storageSelector.matchExpressions[0].values'] },
  { name: 'restore', rules: { restore: { action: 'Deny', namespaceSelector: { matchLabels: { env: 'prod' } } } }, errors: [] },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const object = backupPolicyRules.applyDefaults(policy('p', row.rules), emptyClusterView);
    const verdict = backupPolicyRules.validate({ operation: 'CREATE', object, view: emptyClusterView });
    t.same(verdict.errors.map((e) => e.path), row.errors);
    if (row.message) t.match(verdict.errors[0]?.message, row.message);
  });
}

t.test('DELETE and CONNECT are not validated', async (t) => {
  for (const operation of ['DELETE', 'CONNECT'] as Operation[]) {
    t.same(backupPolicyRules.validate({ operation, object: policy('p', {}), view: emptyClusterView }), { errors: [], warnings: [] });
  }
});

t.test('admission: schema defaults the action to Audit and rejects unknown actions', async (t) => {
  t.ok(rules, 'BackupPolicy is in admissionRules');
  const defaulted = rules!.applyDefaults(policy('p', { requireBackup: {} }), emptyClusterView) as KubeObject & { spec: { rules: { requireBackup: { action: string } } } };
  t.equal(defaulted.spec.rules.requireBackup.action, 'Audit');
  const bad = rules!.validate({ operation: 'CREATE', object: policy('p', { requireBackup: { action: 'Block' } }), view: emptyClusterView });
  t.same(bad.errors.map((e) => [e.code, e.path]), [['FieldValueNotSupported', 'spec.rules.requireBackup.action']]);
  const noRules = rules!.validate({ operation: 'CREATE', object: { ...policy('p', {}), spec: {} }, view: emptyClusterView });
  t.same(noRules.errors.map((e) => e.path), ['spec.rules'], 'spec.rules is required by the schema');
  const unknown = rules!.validate({ operation: 'CREATE', object: policy('p', { requireBackup: { action: 'Deny', everything: true } }), view: emptyClusterView });
  t.same(unknown.errors, []);
  t.match(unknown.warnings, [/unknown field "spec\.rules\.requireBackup\.everything"/]);
});

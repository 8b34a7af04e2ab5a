import t from 'tap';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createMemoryView } from '../../../src/domain/memory-view.js';
import { evaluatePolicies, softensAutoBackupFailures } from '../../../src/domain/policy/evaluate.js';
import type { PolicyAction } from '../../../src/domain/policy/violation.js';
import { autoBackup, blueprint, configuration, deployment, namespace, policy, restoreSession, retentionPolicy, storage } from '../../helpers/policy-objects.js';

const namespaces = [namespace('prod', { env: 'prod' }), namespace('dev', { env: 'dev' }), namespace('backup')];
const prodOnly = { matchLabels: { env: 'prod' } };
const storages = [
  storage('backup', 'store', 's3', { labels: { approved: 'true' } }),
  storage('backup', 'rogue', 'local'),
  storage('backup', 'open', 's3', { labels: { approved: 'true' }, from: 'All' }),
];

interface Row {
  name: string;
  rules: Record<string, unknown>;
  object: KubeObject;
  extra?: KubeObject[];
  /** Expected violation paths; [] for compliant. */
  paths: string[];
  message?: RegExp;
}

const rows: Row[] = [
  // requireBackup
  { name: 'requireBackup: Deployment mounting a PVC without annotations', rules: { requireBackup: {} }, object: deployment('prod', 'web', { pvc: 'data' }), paths: ['metadata.annotations'], message: /Deployment prod\/web mounts PVC data but has no auto backup: add blueprint\.kubestash\.com\/name and blueprint\.kubestash\.com\/namespace/ },
  { name: 'requireBackup: Deployment with auto-backup annotations', rules: { requireBackup: {} }, object: deployment('prod', 'web', { pvc: 'data', annotations: autoBackup }), paths: [] },
  { name: 'requireBackup: stateless Deployment', rules: { requireBackup: {} }, object: deployment('prod', 'web'), paths: [] },
  { name: 'requireBackup: Deployment targeted by a BackupConfiguration', rules: { requireBackup: {} }, object: deployment('prod', 'web', { pvc: 'data' }), extra: [configuration('prod', 'web-backup')], paths: [] },
  { name: 'requireBackup: a configuration targeting another Deployment does not count', rules: { requireBackup: {} }, object: deployment('prod', 'api', { pvc: 'data' }), extra: [configuration('prod', 'web-backup')], paths: ['metadata.annotations'] },
  {
    name: 'requireBackup: exempt by label, and the hint names the label',
    rules: { requireBackup: { exemptions: { objectSelector: { matchLabels: { 'backup.autostash.dev/exempt': 'true' } } } } },
    object: deployment('prod', 'web', { pvc: 'data', labels: { 'backup.autostash.dev/exempt': 'true' } }),
    paths: [],
  },
  {
    name: 'requireBackup: not exempt without the label',
    rules: { requireBackup: { exemptions: { objectSelector: { matchLabels: { 'backup.autostash.dev/exempt': 'true' } } } } },
    object: deployment('prod', 'web', { pvc: 'data' }),
    paths: ['metadata.annotations'],
    message: /or label it backup\.autostash\.dev\/exempt=true/,
  },
  {
    name: 'requireBackup: exemption by expression gives a generic hint',
    rules: { requireBackup: { exemptions: { objectSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['cache'] }] } } } },
    object: deployment('prod', 'web', { pvc: 'data' }),
    paths: ['metadata.annotations'],
    message: /exemptions\.objectSelector/,
  },
  {
    name: 'requireBackup: StatefulSet with volumeClaimTemplates',
    rules: { requireBackup: {} },
    object: { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'prod' }, spec: { template: { spec: {} }, volumeClaimTemplates: [{ metadata: { name: 'pgdata' } }] } },
    paths: ['metadata.annotations'],
    message: /StatefulSet prod\/db keeps data in PVC pgdata/,
  },
  {
    name: 'requireBackup: DaemonSet mounting a PVC',
    rules: { requireBackup: {} },
    object: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'prod' }, spec: { template: { spec: { volumes: [{ name: 'state', persistentVolumeClaim: { claimName: 'shared' } }] } } } },
    paths: ['metadata.annotations'],
  },
  { name: 'requireBackup: standalone PVC', rules: { requireBackup: {} }, object: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'prod' }, spec: {} }, paths: ['metadata.annotations'], message: /standalone PVC/ },
  {
    name: 'requireBackup: PVC owned by a StatefulSet',
    rules: { requireBackup: {} },
    object: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'pgdata-db-0', namespace: 'prod', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u' }] }, spec: {} },
    paths: [],
  },
  { name: 'requireBackup: Deployment of another API group is not a workload', rules: { requireBackup: {} }, object: { ...deployment('prod', 'web', { pvc: 'data' }), apiVersion: 'example.com/v1' }, paths: [] },
  // namespaceSelector
  { name: 'namespaceSelector: selected namespace', rules: { requireBackup: { namespaceSelector: prodOnly } }, object: deployment('prod', 'web', { pvc: 'data' }), paths: ['metadata.annotations'] },
  { name: 'namespaceSelector: other namespace', rules: { requireBackup: { namespaceSelector: prodOnly } }, object: deployment('dev', 'web', { pvc: 'data' }), paths: [] },
  { name: 'namespaceSelector: unknown namespace, label selector', rules: { requireBackup: { namespaceSelector: prodOnly } }, object: deployment('nowhere', 'web', { pvc: 'data' }), paths: [] },
  { name: 'namespaceSelector: unknown namespace, empty selector', rules: { requireBackup: { namespaceSelector: {} } }, object: deployment('nowhere', 'web', { pvc: 'data' }), paths: ['metadata.annotations'] },
  { name: 'namespaceSelector: invalid selector selects nothing', rules: { requireBackup: { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Bogus' }] } } }, object: deployment('prod', 'web', { pvc: 'data' }), paths: [] },
  // allowedStorage
  { name: 'allowedStorage: approved storage by selector', rules: { allowedStorage: { storageSelector: { matchLabels: { approved: 'true' } } } }, object: configuration('prod', 'bc'), paths: [] },
  {
    name: 'allowedStorage: unapproved storage by selector',
    rules: { allowedStorage: { storageSelector: { matchLabels: { approved: 'true' } } } },
    object: configuration('prod', 'bc', { storage: { name: 'rogue', namespace: 'backup' } }),
    paths: ['spec.backends[0].storageRef'],
    message: /uses BackupStorage backup\/rogue, which is not approved \(its labels do not match/,
  },
  { name: 'allowedStorage: provider allowed', rules: { allowedStorage: { providers: ['s3', 'gcs'] } }, object: configuration('prod', 'bc'), paths: [] },
  { name: 'allowedStorage: provider not allowed', rules: { allowedStorage: { providers: ['s3', 'gcs'] } }, object: configuration('prod', 'bc', { storage: { name: 'rogue', namespace: 'backup' } }), paths: ['spec.backends[0].storageRef'], message: /provider "local" is not one of "s3", "gcs"/ },
  { name: 'allowedStorage: storage not in the view is left to other rules', rules: { allowedStorage: { providers: ['s3'] } }, object: configuration('prod', 'bc', { storage: { name: 'missing', namespace: 'backup' } }), paths: [] },
  { name: 'allowedStorage: blueprint template backends', rules: { allowedStorage: { providers: ['s3'] } }, object: blueprint('backup', 'bp', { storage: { name: 'rogue', namespace: 'backup' } }), paths: ['spec.backupConfigurationTemplate.backends[0].storageRef'] },
  { name: 'allowedStorage: blueprint reference with a variable is skipped', rules: { allowedStorage: { providers: ['s3'] } }, object: blueprint('backup', 'bp', { storage: { name: '${storage}', namespace: 'backup' } }), paths: [] },
  { name: 'allowedStorage: usagePolicy All forbidden', rules: { allowedStorage: { forbidUsagePolicyAll: true } }, object: storages[2] as KubeObject, paths: ['spec.usagePolicy.allowedNamespaces.from'], message: /from: All/ },
  { name: 'allowedStorage: usagePolicy Same is fine', rules: { allowedStorage: { forbidUsagePolicyAll: true } }, object: storages[0] as KubeObject, paths: [] },
  { name: 'allowedStorage: usagePolicy All allowed when not forbidden', rules: { allowedStorage: { providers: ['s3'] } }, object: storages[2] as KubeObject, paths: [] },
  // schedule
  { name: 'schedule: every 6h vs maxInterval 4h', rules: { schedule: { maxInterval: '4h' } }, object: configuration('prod', 'bc', { schedule: '0 */6 * * *' }), paths: ['spec.sessions[0].scheduler.schedule'], message: /leaves up to 6h between backups, more than the maximum interval 4h/ },
  { name: 'schedule: hourly vs maxInterval 4h', rules: { schedule: { maxInterval: '4h' } }, object: configuration('prod', 'bc', { schedule: '0 * * * *' }), paths: [] },
  { name: 'schedule: every minute vs minInterval 5m', rules: { schedule: { minInterval: '5m' } }, object: configuration('prod', 'bc', { schedule: '* * * * *' }), paths: ['spec.sessions[0].scheduler.schedule'], message: /only 1m apart, less than the minimum interval 5m/ },
  { name: 'schedule: every 5 minutes vs minInterval 5m', rules: { schedule: { minInterval: '5m' } }, object: configuration('prod', 'bc', { schedule: '*/5 * * * *' }), paths: [] },
  { name: 'schedule: @daily vs maxInterval 24h', rules: { schedule: { maxInterval: '24h' } }, object: configuration('prod', 'bc', { schedule: '@daily' }), paths: [] },
  { name: 'schedule: @daily vs maxInterval 12h', rules: { schedule: { maxInterval: '12h' } }, object: configuration('prod', 'bc', { schedule: '@daily' }), paths: ['spec.sessions[0].scheduler.schedule'] },
  { name: 'schedule: weekdays only leave a weekend gap', rules: { schedule: { maxInterval: '24h' } }, object: configuration('prod', 'bc', { schedule: '0 2 * * 1-5' }), paths: ['spec.sessions[0].scheduler.schedule'], message: /up to 72h/ },
  // Daylight saving time makes one day a year 25 hours long: the gap is measured in real time.
  { name: 'schedule: CRON_TZ prefix across DST', rules: { schedule: { maxInterval: '24h' } }, object: configuration('prod', 'bc', { schedule: 'CRON_TZ=Europe/Berlin 0 2 * * *' }), paths: ['spec.sessions[0].scheduler.schedule'], message: /up to 25h/ },
  { name: 'schedule: CRON_TZ prefix within 25h', rules: { schedule: { maxInterval: '25h' } }, object: configuration('prod', 'bc', { schedule: 'CRON_TZ=Europe/Berlin 0 2 * * *' }), paths: [] },
  { name: 'schedule: TZ=UTC prefix', rules: { schedule: { maxInterval: '24h' } }, object: configuration('prod', 'bc', { schedule: 'TZ=UTC 0 2 * * *' }), paths: [] },
  { name: 'schedule: @every', rules: { schedule: { minInterval: '5m' } }, object: configuration('prod', 'bc', { schedule: '@every 1m' }), paths: ['spec.sessions[0].scheduler.schedule'] },
  { name: 'schedule: unparsable schedule is skipped', rules: { schedule: { maxInterval: '1h' } }, object: configuration('prod', 'bc', { schedule: 'every day' }), paths: [] },
  { name: 'schedule: blueprint literal schedule', rules: { schedule: { maxInterval: '1h' } }, object: blueprint('backup', 'bp', { schedule: '@daily' }), paths: ['spec.backupConfigurationTemplate.sessions[0].scheduler.schedule'] },
  { name: 'schedule: blueprint ${schedule} template is skipped', rules: { schedule: { maxInterval: '1h' } }, object: blueprint('backup', 'bp', { schedule: '${schedule}' }), paths: [] },
  // retention
  {
    name: 'retention: daily below minimum',
    rules: { retention: { minimumKept: { daily: 7 } } },
    object: retentionPolicy('backup', 'keep', { successfulSnapshots: { daily: 3 } }),
    paths: ['spec.successfulSnapshots.daily'],
    message: /keeps 3 daily snapshots, fewer than the required 7: set successfulSnapshots\.daily to at least 7/,
  },
  { name: 'retention: daily at minimum', rules: { retention: { minimumKept: { daily: 7 } } }, object: retentionPolicy('backup', 'keep', { successfulSnapshots: { daily: 7 } }), paths: [] },
  { name: 'retention: absent class counts as 0', rules: { retention: { minimumKept: { last: 1, weekly: 4 } } }, object: retentionPolicy('backup', 'keep', { successfulSnapshots: { last: 5 } }), paths: ['spec.successfulSnapshots.weekly'] },
  { name: 'retention: period above maximum', rules: { retention: { maxRetentionPeriod: '1y' } }, object: retentionPolicy('backup', 'keep', { maxRetentionPeriod: '2y' }), paths: ['spec.maxRetentionPeriod'], message: /longer than the maximum 1y/ },
  { name: 'retention: period within maximum', rules: { retention: { maxRetentionPeriod: '1y' } }, object: retentionPolicy('backup', 'keep', { maxRetentionPeriod: '6mo' }), paths: [] },
  { name: 'retention: no period exceeds any maximum', rules: { retention: { maxRetentionPeriod: '1y' } }, object: retentionPolicy('backup', 'keep', { successfulSnapshots: { last: 5 } }), paths: ['spec.maxRetentionPeriod'], message: /sets no maxRetentionPeriod/ },
  // restore
  { name: 'restore: into a protected namespace (own namespace)', rules: { restore: { namespaceSelector: prodOnly } }, object: restoreSession('prod', 'rs'), paths: ['metadata.namespace'], message: /restores into protected namespace "prod"/ },
  { name: 'restore: target namespace protected', rules: { restore: { namespaceSelector: prodOnly } }, object: restoreSession('dev', 'rs', 'prod'), paths: ['spec.target.namespace'] },
  { name: 'restore: target namespace not protected', rules: { restore: { namespaceSelector: prodOnly } }, object: restoreSession('prod', 'rs', 'dev'), paths: [] },
  // kinds outside every rule
  { name: 'other kinds are not policed', rules: { requireBackup: {}, restore: {} }, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'prod' } }, paths: [] },
  { name: 'objects without a namespace are not policed', rules: { requireBackup: {} }, object: { ...deployment('prod', 'web', { pvc: 'data' }), metadata: { name: 'web' } }, paths: [] },
];

const actions: PolicyAction[] = ['Deny', 'Warn', 'Audit'];

for (const row of rows) {
  for (const action of actions) {
    t.test(`${row.name} (${action})`, async (t) => {
      const rules = Object.fromEntries(Object.entries(row.rules).map(([name, rule]) => [name, { ...(rule as object), action }]));
      const view = createMemoryView([...namespaces, ...storages, ...(row.extra ?? []), policy('production', rules)]);
      const violations = evaluatePolicies(row.object, view);
      t.same(violations.map((v) => v.path), row.paths);
      for (const violation of violations) {
        t.equal(violation.policy, 'production');
        t.equal(violation.action, action);
        t.equal(violation.object.kind, row.object.kind);
        t.match(violation.message, new RegExp(`^BackupPolicy "production" rule ${violation.rule} \\(${action}\\): `));
        if (row.message) t.match(violation.message, row.message);
      }
    });
  }
}

t.test('no policies: nothing to evaluate', async (t) => {
  t.same(evaluatePolicies(deployment('prod', 'web', { pvc: 'data' }), createMemoryView(namespaces)), []);
});

t.test('action defaults to Audit; several policies report in order', async (t) => {
  const view = createMemoryView([...namespaces, policy('a', { requireBackup: {} }), policy('b', { requireBackup: { action: 'Deny' } }), policy('empty', {})]);
  const violations = evaluatePolicies(deployment('prod', 'web', { pvc: 'data' }), view);
  t.same(violations.map((v) => [v.policy, v.action]), [['a', 'Audit'], ['b', 'Deny']]);
  t.same(violations[0]?.object, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web' });
});

t.test('softensAutoBackupFailures: Warn/Audit selecting the namespace, unless a Deny does', async (t) => {
  const view = (...rules: Array<Record<string, unknown>>) => createMemoryView([...namespaces, ...rules.map((r, i) => policy(`p${i}`, { requireBackup: r }))]);
  t.equal(softensAutoBackupFailures('prod', view()), false, 'no policy');
  t.equal(softensAutoBackupFailures('prod', view({ action: 'Warn' })), true, 'Warn');
  t.equal(softensAutoBackupFailures('prod', view({ action: 'Audit', namespaceSelector: prodOnly })), true, 'Audit selecting prod');
  t.equal(softensAutoBackupFailures('dev', view({ action: 'Warn', namespaceSelector: prodOnly })), false, 'not selected');
  t.equal(softensAutoBackupFailures('prod', view({ action: 'Warn' }, { action: 'Deny' })), false, 'a Deny wins');
  t.equal(softensAutoBackupFailures('prod', createMemoryView([...namespaces, policy('r', { restore: {} })])), false, 'other rules do not count');
});

import t from 'tap';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { check, make, namespaceObject, validBackupConfiguration, validCluster } from '../helpers/domain-rules-fixtures.js';

interface Case {
  object: KubeObject;
  cluster?: KubeObject[];
  oldObject?: KubeObject;
}
interface Row {
  rule: string;
  valid: Case;
  invalid: Case;
  code: string;
  path: string;
  fragment: RegExp;
}

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const withSpec = (object: KubeObject, edit: (spec: Spec) => void): KubeObject => {
  const copy = structuredClone(object);
  edit(copy.spec as Spec);
  return copy;
};

const bc = validBackupConfiguration;
const bcEdit = (edit: (spec: Spec) => void) => withSpec(bc(), edit);
const cluster = validCluster;

const gcsStorage = (namespace: string, name: string, extra: Spec = {}) =>
  make('BackupStorage', namespace, name, { storage: { provider: 'gcs', gcs: { bucket: 'bucket', prefix: 'dir' } }, ...extra });
const s3Storage = (namespace: string, name: string, s3: Spec) => make('BackupStorage', namespace, name, { storage: { provider: 's3', s3 } });
const azureStorage = (namespace: string, name: string, azure: Spec) => make('BackupStorage', namespace, name, { storage: { provider: 'azure', azure } });
const localStorage = (namespace: string, name: string) =>
  make('BackupStorage', namespace, name, { storage: { provider: 'local', local: { mountPath: '/bk', hostPath: { path: '/data' } } } });
const retention = (namespace: string, name: string, extra: Spec = {}) => make('RetentionPolicy', namespace, name, { maxRetentionPeriod: '30d', ...extra });
const existingRepo = (namespace: string, name: string, spec: Spec) => make('Repository', namespace, name, spec);
const stsRef = { apiGroup: 'apps', kind: 'StatefulSet', name: 'sample-sts', namespace: 'demo' };
const hookTemplate = (namespace: string, name: string, from: string) =>
  make('HookTemplate', namespace, name, { usagePolicy: { allowedNamespaces: { from } }, executor: { type: 'Function', function: { name: 'f' } } });

const rows: Row[] = [
  // BackupStorage
  {
    rule: 'BackupStorage: one default per namespace',
    valid: { object: gcsStorage('demo', 'a', { default: true }), cluster: [gcsStorage('demo', 'a', { default: true }), make('BackupStorage', 'other', 'b', { default: true })] },
    invalid: { object: gcsStorage('demo', 'a', { default: true }), cluster: [make('BackupStorage', 'demo', 'b', { default: true })] },
    code: 'FieldValueConflict', path: 'spec.default', fragment: /multiple default BackupStorages are not allowed within the same namespace: "b"/,
  },
  {
    rule: 'BackupStorage: Selector needs a selector',
    valid: { object: gcsStorage('demo', 'a', { usagePolicy: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { a: 'b' } } } } }) },
    invalid: { object: gcsStorage('demo', 'a', { usagePolicy: { allowedNamespaces: { from: 'Selector' } } }) },
    code: 'FieldValueRequired', path: 'spec.usagePolicy.allowedNamespaces.selector', fragment: /selector cannot be empty for usage policy of type "Selector"/,
  },
  {
    rule: 'BackupStorage: usagePolicy needs from',
    valid: { object: gcsStorage('demo', 'a', { usagePolicy: { allowedNamespaces: { from: 'All' } } }) },
    invalid: { object: gcsStorage('demo', 'a', { usagePolicy: {} }) },
    code: 'FieldValueRequired', path: 'spec.usagePolicy.allowedNamespaces.from', fragment: /set from to Same, All or Selector/,
  },
  {
    rule: 'BackupStorage: storage immutable while in use',
    valid: {
      object: gcsStorage('demo', 'a', { deletionPolicy: 'WipeOut' }),
      oldObject: gcsStorage('demo', 'a'),
    },
    invalid: {
      object: { ...s3Storage('demo', 'a', { bucket: 'x', endpoint: 'e' }), status: { repositories: [{ name: 'r', path: 'p' }] } },
      oldObject: gcsStorage('demo', 'a'),
    },
    code: 'FieldValueForbidden', path: 'spec.storage', fragment: /BackupStorage is currently in use and cannot be modified/,
  },
  {
    rule: 'BackupStorage: s3 directory unique (endpoint ignored)',
    valid: { object: s3Storage('demo', 'a', { bucket: 'b', region: 'r', prefix: 'p', endpoint: 'e1' }), cluster: [s3Storage('x', 'o', { bucket: 'b', region: 'r', prefix: 'q', endpoint: 'e1' })] },
    invalid: { object: s3Storage('demo', 'a', { bucket: 'b', region: 'r', prefix: 'p/', endpoint: 'e1' }), cluster: [s3Storage('x', 'o', { bucket: 'b', region: 'r', prefix: 'p', endpoint: 'e2' })] },
    code: 'FieldValueConflict', path: 'spec.storage', fragment: /no two BackupStorage should point to the same directory of the same bucket: BackupStorage x\/o/,
  },
  {
    rule: 'BackupStorage: gcs directory unique',
    valid: { object: gcsStorage('demo', 'a'), cluster: [gcsStorage('demo', 'a'), make('BackupStorage', 'x', 'o', { storage: { provider: 'gcs', gcs: { bucket: 'bucket', prefix: 'other' } } })] },
    invalid: { object: gcsStorage('demo', 'a'), cluster: [gcsStorage('x', 'o')] },
    code: 'FieldValueConflict', path: 'spec.storage', fragment: /same directory/,
  },
  {
    rule: 'BackupStorage: azure directory unique',
    valid: { object: azureStorage('demo', 'a', { storageAccount: 's', container: 'c', prefix: 'p' }), cluster: [azureStorage('x', 'o', { storageAccount: 's2', container: 'c', prefix: 'p' })] },
    invalid: { object: azureStorage('demo', 'a', { storageAccount: 's', container: 'c', prefix: 'p' }), cluster: [azureStorage('x', 'o', { storageAccount: 's', container: 'c', prefix: 'p' })] },
    code: 'FieldValueConflict', path: 'spec.storage', fragment: /same directory/,
  },
  // Repository
  {
    rule: 'Repository: path immutable',
    valid: { object: existingRepo('demo', 'r', { path: 'a', paused: true }), oldObject: existingRepo('demo', 'r', { path: 'a' }) },
    invalid: { object: existingRepo('demo', 'r', { path: 'b' }), oldObject: existingRepo('demo', 'r', { path: 'a' }) },
    code: 'FieldValueImmutable', path: 'spec.path', fragment: /repository path can not be updated \(was "a", now "b"\)/,
  },
  // RetentionPolicy
  {
    rule: 'RetentionPolicy: maxRetentionPeriod parses',
    valid: { object: retention('demo', 'r', { maxRetentionPeriod: '1y6mo' }) },
    invalid: { object: retention('demo', 'r', { maxRetentionPeriod: '30 days' }) },
    code: 'FieldValueInvalid', path: 'spec.maxRetentionPeriod', fragment: /invalid duration provided/,
  },
  {
    rule: 'RetentionPolicy: a period or successfulSnapshots',
    valid: { object: make('RetentionPolicy', 'demo', 'r', { successfulSnapshots: { last: 5 } }) },
    invalid: { object: make('RetentionPolicy', 'demo', 'r', { failedSnapshots: { last: 2 } }) },
    code: 'FieldValueRequired', path: 'spec', fragment: /one of maxRetentionPeriod and successfulSnapshots policy must be provided/,
  },
  {
    rule: 'RetentionPolicy: Selector needs a selector',
    valid: { object: retention('demo', 'r', { usagePolicy: { allowedNamespaces: { from: 'Selector', selector: {} } } }) },
    invalid: { object: retention('demo', 'r', { usagePolicy: { allowedNamespaces: { from: 'Selector' } } }) },
    code: 'FieldValueRequired', path: 'spec.usagePolicy.allowedNamespaces.selector', fragment: /selector cannot be empty/,
  },
  {
    rule: 'RetentionPolicy: one default per namespace',
    valid: { object: retention('demo', 'r', { default: true }), cluster: [retention('demo', 'other'), retention('x', 'd', { default: true })] },
    invalid: { object: retention('demo', 'r', { default: true }), cluster: [retention('demo', 'd', { default: true })] },
    code: 'FieldValueConflict', path: 'spec.default', fragment: /multiple default RetentionPolicies are not allowed within the same namespace/,
  },
  // BackupConfiguration
  {
    rule: 'BackupConfiguration: backends not empty',
    valid: { object: bcEdit((s) => delete s.backends && s.sessions[0].repositories[0] && delete s.sessions[0].repositories[0].backend), cluster: [...cluster(), gcsStorage('demo', 'def', { default: true, usagePolicy: { allowedNamespaces: { from: 'Same' } } }), retention('demo', 'rdef', { default: true, usagePolicy: { allowedNamespaces: { from: 'Same' } } })] },
    invalid: { object: bcEdit((s) => delete s.backends), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.backends', fragment: /backend can not be empty: no backend is given and no default BackupStorage/,
  },
  {
    rule: 'BackupConfiguration: backend names unique',
    valid: { object: bcEdit((s) => s.backends.push({ ...s.backends[0], name: 'second' })), cluster: cluster() },
    invalid: { object: bcEdit((s) => s.backends.push({ ...s.backends[0] })), cluster: cluster() },
    code: 'FieldValueDuplicate', path: 'spec.backends[1].name', fragment: /duplicate backend name found: "gcs-backend"/,
  },
  {
    rule: 'BackupConfiguration: backend needs a retentionPolicy',
    valid: { object: bcEdit((s) => delete s.backends[0].retentionPolicy), cluster: [...cluster(), retention('demo', 'rdef', { default: true, usagePolicy: { allowedNamespaces: { from: 'Same' } } })] },
    invalid: { object: bcEdit((s) => delete s.backends[0].retentionPolicy), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.backends[0].retentionPolicy', fragment: /no RetentionPolicy is found for backend "gcs-backend"/,
  },
  {
    rule: 'BackupConfiguration: backend needs a storageRef',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => delete s.backends[0].storageRef), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.backends[0].storageRef', fragment: /no storage reference is found for backend "gcs-backend"/,
  },
  {
    rule: 'BackupConfiguration: sessions not empty',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => (s.sessions = [])), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions', fragment: /sessions can not be empty/,
  },
  {
    rule: 'BackupConfiguration: session name not empty',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => (s.sessions[0].name = '')), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].name', fragment: /session name can not be empty/,
  },
  {
    rule: 'BackupConfiguration: session names unique',
    valid: { object: bcEdit((s) => s.sessions.push({ ...structuredClone(s.sessions[0]), name: 'other' })), cluster: cluster() },
    invalid: { object: bcEdit((s) => s.sessions.push(structuredClone(s.sessions[0]))), cluster: cluster() },
    code: 'FieldValueDuplicate', path: 'spec.sessions[1].name', fragment: /duplicate session name found: "frequent-backup"/,
  },
  {
    rule: 'BackupConfiguration: repository names unique within a session',
    valid: { object: bcEdit((s) => s.sessions[0].repositories.push({ name: 'second', backend: 'gcs-backend', directory: '/demo/two', encryptionSecret: { name: 'e' } })), cluster: cluster() },
    invalid: { object: bcEdit((s) => s.sessions[0].repositories.push({ name: 'gcs-repo', backend: 'gcs-backend', directory: '/demo/sts' })), cluster: cluster() },
    code: 'FieldValueDuplicate', path: 'spec.sessions[0].repositories[1].name', fragment: /duplicate repository name found: "gcs-repo"/,
  },
  {
    rule: 'BackupConfiguration: scheduler present',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => delete s.sessions[0].scheduler), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].scheduler', fragment: /scheduler is empty for session "frequent-backup"/,
  },
  {
    rule: 'BackupConfiguration: addon present',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => delete s.sessions[0].addon), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].addon', fragment: /addon info is empty for session "frequent-backup"/,
  },
  {
    rule: 'BackupConfiguration: addon name not empty',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => (s.sessions[0].addon.name = '')), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].addon.name', fragment: /addon name is empty for session "frequent-backup"/,
  },
  {
    rule: 'BackupConfiguration: addon tasks not empty',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => (s.sessions[0].addon.tasks = [])), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].addon.tasks', fragment: /addon tasks are not provided for session "frequent-backup"/,
  },
  {
    rule: 'BackupConfiguration: task name not empty',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => s.sessions[0].addon.tasks.push({ params: {} })), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].addon.tasks[1].name', fragment: /addon task name is empty/,
  },
  {
    rule: 'BackupConfiguration: repositories not empty',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => (s.sessions[0].repositories = [])), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].repositories', fragment: /Please provide atleast one repository/,
  },
  {
    rule: 'BackupConfiguration: repository backend names a backend',
    valid: { object: bcEdit((s) => delete s.sessions[0].repositories[0].backend), cluster: cluster() },
    invalid: { object: bcEdit((s) => (s.sessions[0].repositories[0].backend = 's3-backend')), cluster: cluster() },
    code: 'FieldValueNotFound', path: 'spec.sessions[0].repositories[0].backend', fragment: /backend "s3-backend" for repository "gcs-repo" doesn't match with any of the given backends \("gcs-backend"\)/,
  },
  {
    rule: 'BackupConfiguration: repository directory not empty',
    valid: { object: bc(), cluster: cluster() },
    invalid: { object: bcEdit((s) => delete s.sessions[0].repositories[0].directory), cluster: cluster() },
    code: 'FieldValueRequired', path: 'spec.sessions[0].repositories[0].directory', fragment: /directory is not provided for repository "gcs-repo"/,
  },
  {
    rule: 'BackupConfiguration: existing Repository has the same target',
    valid: { object: bc(), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: stsRef, storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/sts' })] },
    invalid: { object: bc(), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: { ...stsRef, name: 'other' }, storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/sts' })] },
    code: 'FieldValueConflict', path: 'spec.sessions[0].repositories[0].name', fragment: /repository "gcs-repo" already exists in the cluster with a different target reference/,
  },
  {
    rule: 'BackupConfiguration: no target compares as {apiGroup: na, kind: "", name: na}',
    valid: { object: bcEdit((s) => delete s.target), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: { apiGroup: 'na', name: 'na' }, storageRef: { name: 'gcs-storage', namespace: 'demo' } })] },
    invalid: { object: bcEdit((s) => delete s.target), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: { name: 'x' }, storageRef: { name: 'gcs-storage', namespace: 'demo' } })] },
    code: 'FieldValueConflict', path: 'spec.sessions[0].repositories[0].name', fragment: /different target reference/,
  },
  {
    rule: 'BackupConfiguration: a target without namespace means the configuration\'s (as the Repository records it)',
    valid: { object: bcEdit((s) => delete s.target.namespace), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: stsRef, storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/sts' })] },
    invalid: { object: bcEdit((s) => delete s.target.namespace), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: { ...stsRef, namespace: 'other' }, storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/sts' })] },
    code: 'FieldValueConflict', path: 'spec.sessions[0].repositories[0].name', fragment: /different target reference \(StatefulSet other\/sample-sts\)/,
  },
  {
    rule: 'BackupConfiguration: a Repository without appRef belongs to a configuration without target',
    valid: { object: bcEdit((s) => delete s.target), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { storageRef: { name: 'gcs-storage', namespace: 'demo' } })] },
    invalid: { object: bc(), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/sts' })] },
    code: 'FieldValueConflict', path: 'spec.sessions[0].repositories[0].name', fragment: /different target reference \(none\)/,
  },
  {
    rule: 'BackupConfiguration: existing Repository has the same storageRef (as written)',
    valid: { object: bc(), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: stsRef, storageRef: { name: 'gcs-storage', namespace: 'demo' } })] },
    invalid: { object: bc(), cluster: [...cluster(), existingRepo('demo', 'gcs-repo', { appRef: stsRef, storageRef: { name: 'gcs-storage' } })] },
    code: 'FieldValueConflict', path: 'spec.sessions[0].repositories[0].name', fragment: /different storage reference \(it uses \/gcs-storage, this backend demo\/gcs-storage\)/,
  },
  {
    rule: 'BackupConfiguration: directory unique within the object',
    valid: { object: bcEdit((s) => s.sessions.push({ ...structuredClone(s.sessions[0]), name: 'daily' })), cluster: cluster() },
    invalid: { object: bcEdit((s) => s.sessions[0].repositories.push({ name: 'second', backend: 'gcs-backend', directory: '/demo/sts', encryptionSecret: { name: 'e' } })), cluster: cluster() },
    code: 'FieldValueDuplicate', path: 'spec.sessions[0].repositories[1].directory', fragment: /repository "gcs-repo" already using the directory "\/demo\/sts"/,
  },
  {
    rule: 'BackupConfiguration: same directory under another backend is a duplicate too',
    valid: { object: bcEdit((s) => { s.backends.push({ ...s.backends[0], name: 'b2' }); s.sessions[0].repositories.push({ name: 'r2', backend: 'b2', directory: '/other', encryptionSecret: { name: 'e' } }); }), cluster: cluster() },
    invalid: { object: bcEdit((s) => { s.backends.push({ ...s.backends[0], name: 'b2' }); s.sessions[0].repositories.push({ name: 'gcs-repo2', backend: 'b2', directory: '/demo/sts' }); }), cluster: cluster() },
    code: 'FieldValueDuplicate', path: 'spec.sessions[0].repositories[1].directory', fragment: /repository "gcs-repo" of backend "gcs-backend" already using the directory/,
  },
  {
    rule: 'BackupConfiguration: directory unique across the cluster',
    valid: { object: bc(), cluster: [...cluster(), existingRepo('other', 'x', { storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/other' }), existingRepo('demo', 'gcs-repo', { appRef: stsRef, storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/sts' })] },
    invalid: { object: bc(), cluster: [...cluster(), existingRepo('other', 'x', { storageRef: { name: 'gcs-storage', namespace: 'demo' }, path: '/demo/sts' })] },
    code: 'FieldValueConflict', path: 'spec.sessions[0].repositories[0].directory', fragment: /repository "other\/x" already exists in the cluster with the same directory/,
  },
  {
    rule: 'BackupConfiguration: BackupStorage usage policy',
    valid: { object: bc(), cluster: [namespaceObject('demo'), retention('demo', 'keep-1mo'), make('BackupStorage', 'shared', 'gcs-storage', { usagePolicy: { allowedNamespaces: { from: 'All' } } })].concat([]) },
    invalid: { object: bcEdit((s) => (s.backends[0].storageRef.namespace = 'shared')), cluster: [namespaceObject('demo'), retention('demo', 'keep-1mo'), make('BackupStorage', 'shared', 'gcs-storage', { usagePolicy: { allowedNamespaces: { from: 'Same' } } })] },
    code: 'FieldValueForbidden', path: 'spec.backends[0].storageRef', fragment: /namespace "demo" is not allowed to refer BackupStorage shared\/gcs-storage/,
  },
  {
    rule: 'BackupConfiguration: RetentionPolicy usage policy',
    valid: { object: bcEdit((s) => (s.backends[0].retentionPolicy.namespace = 'shared')), cluster: [...cluster(), retention('shared', 'keep-1mo', { usagePolicy: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { env: 'prod' } } } } })] },
    invalid: { object: bcEdit((s) => (s.backends[0].retentionPolicy.namespace = 'shared')), cluster: [...cluster(), retention('shared', 'keep-1mo', { usagePolicy: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { env: 'dev' } } } } })] },
    code: 'FieldValueForbidden', path: 'spec.backends[0].retentionPolicy', fragment: /not allowed to refer RetentionPolicy shared\/keep-1mo/,
  },
  {
    rule: 'BackupConfiguration: HookTemplate usage policy',
    valid: { object: bcEdit((s) => (s.sessions[0].hooks = { preBackup: [{ name: 'h', hookTemplate: { name: 'ht', namespace: 'hooks' } }] })), cluster: [...cluster(), hookTemplate('hooks', 'ht', 'All')] },
    invalid: { object: bcEdit((s) => (s.sessions[0].hooks = { postBackup: [{ name: 'h', hookTemplate: { name: 'ht', namespace: 'hooks' } }] })), cluster: [...cluster(), hookTemplate('hooks', 'ht', 'Same')] },
    code: 'FieldValueForbidden', path: 'spec.sessions[0].hooks.postBackup[0].hookTemplate', fragment: /not allowed to refer HookTemplate hooks\/ht/,
  },
  {
    rule: 'BackupConfiguration: durations parse',
    valid: { object: bcEdit((s) => { s.sessions[0].retryConfig = { maxRetry: 2, delay: '1m' }; s.sessions[0].backupTimeout = '1h30m'; }), cluster: cluster() },
    invalid: { object: bcEdit((s) => (s.sessions[0].retryConfig = { delay: '1 day' })), cluster: cluster() },
    code: 'FieldValueInvalid', path: 'spec.sessions[0].retryConfig.delay', fragment: /"1 day" is not a valid duration/,
  },
  // BackupBlueprint
  {
    rule: 'BackupBlueprint: Selector needs a selector',
    valid: { object: make('BackupBlueprint', 'demo', 'bp', { usagePolicy: { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { a: 'b' } } } }, backupConfigurationTemplate: {} }) },
    invalid: { object: make('BackupBlueprint', 'demo', 'bp', { usagePolicy: { allowedNamespaces: { from: 'Selector' } }, backupConfigurationTemplate: {} }) },
    code: 'FieldValueRequired', path: 'spec.usagePolicy.allowedNamespaces.selector', fragment: /selector cannot be empty/,
  },
  {
    rule: 'BackupBlueprint: template required',
    valid: { object: make('BackupBlueprint', 'demo', 'bp', { backupConfigurationTemplate: { backends: [] } }) },
    invalid: { object: make('BackupBlueprint', 'demo', 'bp', {}) },
    code: 'FieldValueRequired', path: 'spec.backupConfigurationTemplate', fragment: /backupConfigurationTemplate can not be empty/,
  },
  {
    rule: 'BackupBlueprint: BackupStorage must allow the blueprint namespace',
    valid: { object: make('BackupBlueprint', 'demo', 'bp', { backupConfigurationTemplate: { backends: [{ name: 'b', storageRef: { name: 'gcs-storage' } }] } }), cluster: cluster() },
    invalid: { object: make('BackupBlueprint', 'demo', 'bp', { backupConfigurationTemplate: { backends: [{ name: 'b', storageRef: { name: 'st', namespace: 'shared' } }] } }), cluster: [...cluster(), make('BackupStorage', 'shared', 'st', { usagePolicy: { allowedNamespaces: { from: 'Same' } } })] },
    code: 'FieldValueForbidden', path: 'spec.backupConfigurationTemplate.backends[0].storageRef', fragment: /namespace "demo" is not allowed to refer BackupStorage shared\/st/,
  },
  {
    rule: 'BackupBlueprint: template backend needs a storageRef',
    valid: { object: make('BackupBlueprint', 'demo', 'bp', { backupConfigurationTemplate: { backends: [{ name: 'b', storageRef: { name: 'missing' } }] } }) },
    invalid: { object: make('BackupBlueprint', 'demo', 'bp', { backupConfigurationTemplate: { backends: [{ name: 'b' }] } }) },
    code: 'FieldValueRequired', path: 'spec.backupConfigurationTemplate.backends[0].storageRef', fragment: /needs a storageRef/,
  },
  // BackupSession
  {
    rule: 'BackupSession: spec immutable',
    valid: { object: make('BackupSession', 'demo', 's', { session: 'daily', retryLeft: 0 }, { status: { phase: 'Running' } }), oldObject: make('BackupSession', 'demo', 's', { session: 'daily' }) },
    invalid: { object: make('BackupSession', 'demo', 's', { session: 'weekly' }), oldObject: make('BackupSession', 'demo', 's', { session: 'daily' }) },
    code: 'FieldValueImmutable', path: 'spec', fragment: /spec can not be updated/,
  },
  {
    rule: 'BackupSession: backupTimeout parses',
    valid: { object: make('BackupSession', 'demo', 's', { backupTimeout: '2h' }) },
    invalid: { object: make('BackupSession', 'demo', 's', { backupTimeout: '2 hours' }) },
    code: 'FieldValueInvalid', path: 'spec.backupTimeout', fragment: /not a valid duration/,
  },
  // RestoreSession
  {
    rule: 'RestoreSession: dataSource required',
    valid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 'snap-1' } }) },
    invalid: { object: make('RestoreSession', 'demo', 'r', {}) },
    code: 'FieldValueRequired', path: 'spec.dataSource', fragment: /dataSource is required/,
  },
  {
    rule: 'RestoreSession: kubedump manifest-restore parameters are checked',
    valid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 'snap-1' }, addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore', params: { OverrideResources: true, StorageClassMappings: 'a=b' } }] } }) },
    invalid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 'snap-1' }, addon: { name: 'kubedump-addon', tasks: [{ name: 'manifest-restore', params: { OverrideResources: 'yes please' } }] } }) },
    code: 'FieldValueInvalid', path: 'spec.addon.tasks[0].params.OverrideResources', fragment: /"yes please" is not true or false/,
  },
  {
    rule: 'RestoreSession: pitr needs targetTime',
    valid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { repository: 'repo', pitr: { targetTime: '2024-01-01T00:00:00Z' } } }) },
    invalid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { repository: 'repo', pitr: {} } }) },
    code: 'FieldValueRequired', path: 'spec.dataSource.pitr.targetTime', fragment: /targetTime can not be empty for the Point-In-Time Recovery/,
  },
  {
    rule: 'RestoreSession: pitr needs repository',
    valid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { repository: 'repo', pitr: { targetTime: '2024-01-01T00:00:00Z' } } }) },
    invalid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { pitr: { targetTime: '2024-01-01T00:00:00Z' } } }) },
    code: 'FieldValueRequired', path: 'spec.dataSource.repository', fragment: /repository can not be empty for the Point-In-Time Recovery/,
  },
  {
    rule: 'RestoreSession: snapshot required without pitr',
    valid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 'snap-1' } }) },
    invalid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { repository: 'repo' } }) },
    code: 'FieldValueRequired', path: 'spec.dataSource.snapshot', fragment: /snapshot can not be empty/,
  },
  {
    rule: 'RestoreSession: latest needs repository',
    valid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 'latest', repository: 'repo' } }) },
    invalid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 'latest' } }) },
    code: 'FieldValueRequired', path: 'spec.dataSource.repository', fragment: /repository can not be empty for latest snapshot/,
  },
  {
    rule: 'RestoreSession: HookTemplate usage policy',
    valid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 's' }, hooks: { preRestore: [{ name: 'h', hookTemplate: { name: 'ht', namespace: 'demo' } }] } }), cluster: [hookTemplate('demo', 'ht', 'Same')] },
    invalid: { object: make('RestoreSession', 'demo', 'r', { dataSource: { snapshot: 's' }, hooks: { postRestore: [{ name: 'h', hookTemplate: { name: 'ht', namespace: 'hooks' } }] } }), cluster: [hookTemplate('hooks', 'ht', 'Same')] },
    code: 'FieldValueForbidden', path: 'spec.hooks.postRestore[0].hookTemplate', fragment: /not allowed to refer HookTemplate hooks\/ht/,
  },
  // HookTemplate
  {
    rule: 'HookTemplate: executor required',
    valid: { object: make('HookTemplate', 'demo', 'h', { executor: { type: 'Function', function: { name: 'f' } } }) },
    invalid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: { command: ['true'] } } }) },
    code: 'FieldValueRequired', path: 'spec.executor', fragment: /executor can not be empty/,
  },
  {
    rule: 'HookTemplate: non-Function executor needs action',
    valid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: { command: ['true'] } }, executor: { type: 'Operator' } }) },
    invalid: { object: make('HookTemplate', 'demo', 'h', { executor: { type: 'Operator' } }) },
    code: 'FieldValueRequired', path: 'spec.action', fragment: /action can not be empty for pod or operator type executor/,
  },
  {
    rule: 'HookTemplate: Selector needs a selector',
    valid: { object: make('HookTemplate', 'demo', 'h', { usagePolicy: { allowedNamespaces: { from: 'All' } }, executor: { type: 'Function', function: { name: 'f' } } }) },
    invalid: { object: make('HookTemplate', 'demo', 'h', { usagePolicy: { allowedNamespaces: { from: 'Selector' } }, executor: { type: 'Function', function: { name: 'f' } } }) },
    code: 'FieldValueRequired', path: 'spec.usagePolicy.allowedNamespaces.selector', fragment: /selector cannot be empty/,
  },
  {
    rule: 'HookTemplate: Function executor needs function',
    valid: { object: make('HookTemplate', 'demo', 'h', { executor: { type: 'Function', function: { name: 'f' } } }) },
    invalid: { object: make('HookTemplate', 'demo', 'h', { executor: { type: 'Function' } }) },
    code: 'FieldValueRequired', path: 'spec.executor.function', fragment: /function field can not be empty for function type executor/,
  },
  {
    rule: 'HookTemplate: Pod executor needs pod',
    valid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: {} }, executor: { type: 'Pod', pod: { selector: 'app=db' } } }) },
    invalid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: {} }, executor: { type: 'Pod' } }) },
    code: 'FieldValueRequired', path: 'spec.executor.pod', fragment: /pod field can not be empty for pod type executor/,
  },
  {
    rule: 'HookTemplate: Pod executor needs a selector',
    valid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: {} }, executor: { type: 'Pod', pod: { selector: 'app=db, tier = x' } } }) },
    invalid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: {} }, executor: { type: 'Pod', pod: { strategy: 'ExecuteOnAll' } } }) },
    code: 'FieldValueRequired', path: 'spec.executor.pod.selector', fragment: /selector field can not be empty for pod type executor/,
  },
  {
    rule: 'HookTemplate: Pod selector terms are key=value',
    valid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: {} }, executor: { type: 'Pod', pod: { selector: 'a=b,c=' } } }) },
    invalid: { object: make('HookTemplate', 'demo', 'h', { action: { exec: {} }, executor: { type: 'Pod', pod: { selector: 'a=b,c' } } }) },
    code: 'FieldValueInvalid', path: 'spec.executor.pod.selector', fragment: /invalid selector is provided for pod type executor: term "c"/,
  },
  // BackupVerifier
  {
    rule: 'BackupVerifier: restoreOption required',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: { name: 'a' } }, type: 'RestoreOnly', scheduler: { schedule: '@daily' } }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { type: 'RestoreOnly' }) },
    code: 'FieldValueRequired', path: 'spec.restoreOption', fragment: /restoreOption cannot be empty/,
  },
  {
    rule: 'BackupVerifier: addonInfo required',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: { name: 'a' } }, type: 'RestoreOnly' }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: {}, type: 'RestoreOnly' }) },
    code: 'FieldValueRequired', path: 'spec.restoreOption.addonInfo', fragment: /addonInfo in restoreOption cannot be empty/,
  },
  {
    rule: 'BackupVerifier: type required',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'RestoreOnly' }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} } }) },
    code: 'FieldValueRequired', path: 'spec.type', fragment: /type cannot be empty/,
  },
  {
    rule: 'BackupVerifier: Query needs query',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Query', query: {}, function: 'f' }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Query', function: 'f' }) },
    code: 'FieldValueRequired', path: 'spec.query', fragment: /query cannot be empty for type Query/,
  },
  {
    rule: 'BackupVerifier: Query needs function',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Query', query: {}, function: 'f' }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Query', query: {} }) },
    code: 'FieldValueRequired', path: 'spec.function', fragment: /function cannot be empty for type Query/,
  },
  {
    rule: 'BackupVerifier: Script needs script',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Script', script: { location: '/s' }, function: 'f' }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Script', function: 'f' }) },
    code: 'FieldValueRequired', path: 'spec.script', fragment: /script cannot be empty for type Script/,
  },
  {
    rule: 'BackupVerifier: Script needs script.location',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Script', script: { location: '/s' }, function: 'f' }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Script', script: { args: [] }, function: 'f' }) },
    code: 'FieldValueRequired', path: 'spec.script.location', fragment: /script location cannot be empty/,
  },
  {
    rule: 'BackupVerifier: Script needs function',
    valid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Script', script: { location: '/s' }, function: 'f' }) },
    invalid: { object: make('BackupVerifier', 'demo', 'v', { restoreOption: { addonInfo: {} }, type: 'Script', script: { location: '/s' } }) },
    code: 'FieldValueRequired', path: 'spec.function', fragment: /function cannot be empty for type Script/,
  },
  // BackupVerificationSession
  {
    rule: 'BackupVerificationSession: spec immutable',
    valid: { object: make('BackupVerificationSession', 'demo', 's', { snapshot: 'a' }), oldObject: make('BackupVerificationSession', 'demo', 's', { snapshot: 'a', retryLeft: 0 }) },
    invalid: { object: make('BackupVerificationSession', 'demo', 's', { snapshot: 'b' }), oldObject: make('BackupVerificationSession', 'demo', 's', { snapshot: 'a' }) },
    code: 'FieldValueImmutable', path: 'spec', fragment: /spec can not be updated/,
  },
  // BackupBatch
  {
    rule: 'BackupBatch: durations parse (no other rules)',
    valid: { object: make('BackupBatch', 'demo', 'b', { sessions: [{ name: 's', backupTimeout: '5m' }] }) },
    invalid: { object: make('BackupBatch', 'demo', 'b', { sessions: [{ name: 's', hooks: { preBackup: [{ timeout: '5 min' }] } }] }) },
    code: 'FieldValueInvalid', path: 'spec.sessions[0].hooks.preBackup[0].timeout', fragment: /not a valid duration/,
  },
];

for (const row of rows) {
  t.test(row.rule, async (t) => {
    const valid = check(row.valid.object, { cluster: row.valid.cluster, oldObject: row.valid.oldObject });
    t.same(valid.errors, [], 'valid case has no errors');
    const invalid = check(row.invalid.object, { cluster: row.invalid.cluster, oldObject: row.invalid.oldObject });
    const hit = invalid.errors.find((error) => error.path === row.path && error.code === row.code);
    t.ok(hit, `error ${row.code} at ${row.path} (got ${JSON.stringify(invalid.errors)})`);
    t.match(hit?.message ?? '', row.fragment, 'message');
  });
}

t.test('BackupStorage: local storage is never checked for directory uniqueness (as in KubeStash)', async (t) => {
  const verdict = check(localStorage('demo', 'a'), { cluster: [localStorage('other', 'b')] });
  t.same(verdict.errors, [], 'two local storages on the same hostPath are both accepted');
});

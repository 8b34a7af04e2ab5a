import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applySchemaDefaults, validateAgainstSchema } from '../../src/api/schema-validator.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { sharedDir } from '../helpers/paths.js';

const STORAGE = 'storage.kubestash.com/v1alpha1';
const CORE = 'core.kubestash.com/v1alpha1';
const ADDONS = 'addons.kubestash.com/v1alpha1';
const meta = { name: 'demo', namespace: 'demo' };
const obj = (apiVersion: string, kind: string, spec: unknown, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion,
  kind,
  metadata: meta,
  spec,
  ...extra,
});
const scheduler = { schedule: '*/5 * * * *', jobTemplate: {} };
const bc = (session: Record<string, unknown>, specExtra: Record<string, unknown> = {}) =>
  obj(CORE, 'BackupConfiguration', { sessions: [{ name: 's', scheduler, ...session }], ...specExtra });

/** Reads a dotted/bracketed path such as `spec.sessions[0].name`. */
function at(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    current = Array.isArray(current) ? current[Number(part)] : (current as Record<string, unknown> | undefined)?.[part];
  }
  return current;
}

t.test('applySchemaDefaults: CRD defaults apply where the parent exists', async (t) => {
  const rows: Array<{ name: string; object: KubeObject; path: string; expected: unknown }> = [
    { name: 'BackupStorage deletionPolicy', object: obj(STORAGE, 'BackupStorage', {}), path: 'spec.deletionPolicy', expected: 'Delete' },
    { name: 'BackupStorage deletionPolicy kept', object: obj(STORAGE, 'BackupStorage', { deletionPolicy: 'WipeOut' }), path: 'spec.deletionPolicy', expected: 'WipeOut' },
    { name: 'usagePolicy.from when allowedNamespaces exists', object: obj(STORAGE, 'BackupStorage', { usagePolicy: { allowedNamespaces: {} } }), path: 'spec.usagePolicy.allowedNamespaces.from', expected: 'Same' },
    { name: 'no allowedNamespaces invented', object: obj(STORAGE, 'BackupStorage', { usagePolicy: {} }), path: 'spec.usagePolicy.allowedNamespaces', expected: undefined },
    { name: 'no usagePolicy invented', object: obj(STORAGE, 'RetentionPolicy', {}), path: 'spec.usagePolicy', expected: undefined },
    { name: 'Repository deletionPolicy', object: obj(STORAGE, 'Repository', {}), path: 'spec.deletionPolicy', expected: 'Delete' },
    { name: 'Snapshot deletionPolicy', object: obj(STORAGE, 'Snapshot', {}), path: 'spec.deletionPolicy', expected: 'Delete' },
    { name: 'failedSnapshots.last', object: obj(STORAGE, 'RetentionPolicy', { failedSnapshots: {} }), path: 'spec.failedSnapshots.last', expected: 1 },
    { name: 'failedSnapshots.last kept', object: obj(STORAGE, 'RetentionPolicy', { failedSnapshots: { last: 3 } }), path: 'spec.failedSnapshots.last', expected: 3 },
    { name: 'null is defaulted', object: obj(STORAGE, 'RetentionPolicy', { failedSnapshots: { last: null } }), path: 'spec.failedSnapshots.last', expected: 1 },
    { name: 'sessionHistoryLimit', object: bc({}), path: 'spec.sessions[0].sessionHistoryLimit', expected: 1 },
    { name: 'retryConfig.maxRetry', object: bc({ retryConfig: {} }), path: 'spec.sessions[0].retryConfig.maxRetry', expected: 1 },
    { name: 'no retryConfig invented', object: bc({}), path: 'spec.sessions[0].retryConfig', expected: undefined },
    { name: 'hook executionPolicy', object: bc({ hooks: { preBackup: [{ name: 'h' }] } }), path: 'spec.sessions[0].hooks.preBackup[0].executionPolicy', expected: 'Always' },
    { name: 'podPlacementPolicy.name', object: bc({ addon: { jobTemplate: { spec: { podPlacementPolicy: {} } } } }), path: 'spec.sessions[0].addon.jobTemplate.spec.podPlacementPolicy.name', expected: '' },
    { name: 'pod hook strategy', object: obj(CORE, 'HookTemplate', { executor: { pod: {} } }), path: 'spec.executor.pod.strategy', expected: 'ExecuteOnOne' },
    { name: 'manifest options db', object: obj(CORE, 'RestoreSession', { manifestOptions: { mongoDB: {} } }), path: 'spec.manifestOptions.mongoDB.db', expected: true },
    { name: 'manifest options archiver', object: obj(CORE, 'RestoreSession', { manifestOptions: { postgres: {} } }), path: 'spec.manifestOptions.postgres.archiver', expected: false },
    { name: 'BackupBlueprint session', object: obj(CORE, 'BackupBlueprint', { backupConfigurationTemplate: { sessions: [{}] } }), path: 'spec.backupConfigurationTemplate.sessions[0].sessionHistoryLimit', expected: 1 },
    { name: 'BackupVerifier sessionHistoryLimit', object: obj(CORE, 'BackupVerifier', {}), path: 'spec.sessionHistoryLimit', expected: 1 },
  ];
  for (const row of rows) t.same(at(applySchemaDefaults(row.object), row.path), row.expected, row.name);
});

t.test('applySchemaDefaults copies and leaves its input alone', async (t) => {
  const input = obj(STORAGE, 'BackupStorage', {});
  const output = applySchemaDefaults(input);
  t.same(input.spec, {}, 'input untouched');
  t.not(output, input, 'a new object');
  const unknown = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data: { a: 'b' } };
  const copy = applySchemaDefaults(unknown);
  t.same(copy, unknown, 'unknown kinds come back unchanged');
  t.not(copy, unknown, 'as a copy');
});

interface ErrorRow {
  name: string;
  object: KubeObject;
  path: string;
  code: string;
  message: string;
}

t.test('validateAgainstSchema: one row per kind of violation', async (t) => {
  const rows: ErrorRow[] = [
    { name: 'enum', object: obj(STORAGE, 'BackupStorage', { deletionPolicy: 'Foo' }), path: 'spec.deletionPolicy', code: 'FieldValueNotSupported', message: 'Unsupported value: "Foo": supported values: "Delete", "WipeOut"' },
    { name: 'required in a CronJob-like scheduler', object: bc({ scheduler: { jobTemplate: {} } }), path: 'spec.sessions[0].scheduler.schedule', code: 'FieldValueRequired', message: 'Required value' },
    { name: 'required name of a reference', object: bc({}, { backends: [{ name: 'b', storageRef: { namespace: 'x' } }] }), path: 'spec.backends[0].storageRef.name', code: 'FieldValueRequired', message: 'Required value' },
    { name: 'type', object: bc({ sessionHistoryLimit: 'x' }), path: 'spec.sessions[0].sessionHistoryLimit', code: 'FieldValueTypeInvalid', message: 'Invalid value: "x": must be of type integer' },
    { name: 'type of an object', object: bc({ retryConfig: 'often' }), path: 'spec.sessions[0].retryConfig', code: 'FieldValueTypeInvalid', message: 'Invalid value: "often": must be of type object' },
    { name: 'list where object expected', object: obj(STORAGE, 'BackupStorage', { storage: [] }), path: 'spec.storage', code: 'FieldValueTypeInvalid', message: 'Invalid value: "array": must be of type object' },
    { name: 'minimum', object: bc({ retryConfig: { maxRetry: 0 } }), path: 'spec.sessions[0].retryConfig.maxRetry', code: 'FieldValueInvalid', message: 'Invalid value: 0: must be greater than or equal to 1' },
    { name: 'date-time format', object: obj(STORAGE, 'Repository', {}, { status: { lastBackupTime: 'yesterday' } }), path: 'status.lastBackupTime', code: 'FieldValueInvalid', message: 'Invalid value: "yesterday": must be an RFC 3339 date-time, e.g. "2024-01-02T15:04:05Z"' },
    { name: 'int32 range', object: obj(STORAGE, 'RetentionPolicy', { successfulSnapshots: { last: 2 ** 40 } }), path: 'spec.successfulSnapshots.last', code: 'FieldValueInvalid', message: `Invalid value: ${2 ** 40}: must fit in a 32-bit signed integer` },
    { name: 'int-or-string', object: obj(CORE, 'HookTemplate', { action: { httpGet: { port: true } } }), path: 'spec.action.httpGet.port', code: 'FieldValueTypeInvalid', message: 'Invalid value: true: must be an integer or a string' },
    { name: 'double enum (allOf)', object: obj(ADDONS, 'Addon', { backupTasks: [{ driver: 'Rsync' }] }), path: 'spec.backupTasks[0].driver', code: 'FieldValueNotSupported', message: 'Unsupported value: "Rsync": supported values: "Restic", "WalG", "VolumeSnapshotter", "Solr", "Medusa", "ClickHouseBackup", "Neo4jAdmin"' },
    { name: 'map key in path', object: obj(STORAGE, 'Snapshot', {}, { status: { components: { 'dump-0': { phase: 'Bogus' } } } }), path: 'status.components[dump-0].phase', code: 'FieldValueNotSupported', message: 'Unsupported value: "Bogus": supported values: "Pending", "Running", "Succeeded", "Failed"' },
    { name: 'string map value', object: obj(STORAGE, 'BackupStorage', { runtimeSettings: { pod: { podLabels: { app: 1 } } } }), path: 'spec.runtimeSettings.pod.podLabels.app', code: 'FieldValueTypeInvalid', message: 'Invalid value: 1: must be of type string' },
    { name: 'core type must still be an object', object: bc({ addon: { jobTemplate: { spec: { affinity: 'near' } } } }), path: 'spec.sessions[0].addon.jobTemplate.spec.affinity', code: 'FieldValueTypeInvalid', message: 'Invalid value: "near": must be of type object' },
    { name: 'required invoker name', object: obj(CORE, 'BackupSession', { invoker: { kind: 'BackupConfiguration' } }), path: 'spec.invoker.name', code: 'FieldValueRequired', message: 'Required value' },
  ];
  for (const row of rows) {
    const result = validateAgainstSchema(row.object);
    t.same(result?.errors, [{ code: row.code, path: row.path, message: row.message }], `invalid: ${row.name}`);
  }
});

t.test('validateAgainstSchema: valid objects have no errors', async (t) => {
  const rows: Array<{ name: string; object: KubeObject }> = [
    { name: 'BackupConfiguration', object: bc({ retryConfig: { maxRetry: 2 }, hooks: { preBackup: [{ name: 'h', hookTemplate: { name: 't' }, maxRetry: 0 }] } }) },
    { name: 'HookTemplate with a named port', object: obj(CORE, 'HookTemplate', { action: { httpGet: { port: 'http' } } }) },
    { name: 'HookTemplate with a numeric port', object: obj(CORE, 'HookTemplate', { action: { tcpSocket: { port: 8080 } } }) },
    { name: 'Addon', object: obj(ADDONS, 'Addon', { backupTasks: [{ name: 'logical-backup', driver: 'Restic', executor: 'Job' }] }) },
    { name: 'Repository status', object: obj(STORAGE, 'Repository', {}, { status: { lastBackupTime: '2024-01-02T15:04:05Z', snapshotCount: 3 } }) },
  ];
  for (const row of rows) t.same(validateAgainstSchema(row.object), { errors: [], unknownFields: [] }, row.name);
});

t.test('validateAgainstSchema: fields the API server would prune are listed, not rejected', async (t) => {
  const object: KubeObject = {
    ...bc(
      {
        failurePolicy: 'Fail',
        addon: {
          name: 'workload-addon',
          tasks: [{ name: 'logical-backup', params: { paths: '/data', anything: { nested: true } } }],
          jobTemplate: { spec: { affinity: { whatever: 1 } }, metadata: { labels: { 'app.kubernetes.io/name': 'x' } } },
        },
      },
      { target: { name: 't', uid: 'x' } },
    ),
    extra: true,
    metadata: { name: 'demo', namespace: 'demo', labels: { a: 'b' }, someField: 1 },
  };
  const result = validateAgainstSchema(object);
  t.same(result?.errors, [], 'no errors');
  t.same(result?.unknownFields.sort(), ['extra', 'spec.sessions[0].failurePolicy', 'spec.target.uid'], 'unknown fields by path');
});

t.test('validateAgainstSchema: only KubeStash kinds', async (t) => {
  t.equal(validateAgainstSchema({ apiVersion: 'v1', kind: 'ConfigMap' }), undefined, 'core kind');
  t.equal(validateAgainstSchema({ apiVersion: 'core.kubestash.com/v1beta1', kind: 'BackupConfiguration' }), undefined, 'other version');
  t.equal(validateAgainstSchema({ apiVersion: CORE, kind: 'Backup' }), undefined, 'unknown kind in group');
  t.equal(validateAgainstSchema({ kind: 'BackupConfiguration' }), undefined, 'no apiVersion');
  t.same(applySchemaDefaults({ kind: 'BackupStorage', spec: {} }), { kind: 'BackupStorage', spec: {} }, 'no defaults without apiVersion');
});

t.test('every KubeStash object in the shared examples passes the schema', async (t) => {
  const dir = join(sharedDir, 'kubestash', 'examples');
  let checked = 0;
  for (const file of readdirSync(dir).sort()) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (document.errors.length > 0) continue; // doc output with elisions; the validate command reports those
      const object = document.toJS() as KubeObject | null;
      if (object === null || typeof object !== 'object') continue;
      const result = validateAgainstSchema(applySchemaDefaults(object));
      if (result === undefined) continue;
      checked += 1;
      t.same(result.errors, [], `${file}: ${object.kind} ${object.metadata?.name ?? ''} has no schema errors`);
      if (result.unknownFields.length > 0) t.comment(`${file}: would be pruned: ${result.unknownFields.join(', ')}`);
    }
  }
  t.ok(checked >= 15, `checked ${checked} KubeStash objects`);
});

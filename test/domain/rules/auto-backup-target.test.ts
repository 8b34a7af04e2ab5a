import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { admissionRules } from '../../../src/domain/admission-rules.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createMemoryView } from '../../../src/domain/memory-view.js';
import { autoBackupTargetRules } from '../../../src/domain/rules/auto-backup-target.js';
import type { Operation } from '../../../src/domain/kind-rules.js';
import { parseDocuments } from '../../../src/validate/parse-documents.js';
import { sharedDir } from '../../helpers/paths.js';

const load = (file: string): KubeObject[] =>
  parseDocuments(readFileSync(join(sharedDir, 'kubestash', 'examples', file), 'utf8'), file).documents.map((d) => d.object);

const blueprint = load('auto-backup-workload__backupblueprint.yaml');
const storage = load('auto-backup-workload__backupstorage-gcs.yaml');
const retention = load('auto-backup-workload__retentionpolicy.yaml');
const deployment = load('auto-backup-workload__deployment-annotated.yaml').find((o) => o.kind === 'Deployment') as KubeObject;
const cluster = createMemoryView([...blueprint, ...storage, ...retention]);

const withAnnotations = (object: KubeObject, annotations: Record<string, string | undefined>): KubeObject => {
  const merged = { ...object.metadata?.annotations, ...annotations };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return { ...object, metadata: { ...object.metadata, annotations: merged as Record<string, string> } };
};

interface Row {
  name: string;
  object: KubeObject;
  operation?: Operation;
  view?: ReturnType<typeof createMemoryView>;
  errors: Array<{ code: string; path: string }>;
  warning?: RegExp;
}

const rows: Row[] = [
  { name: 'a workload without annotations passes', object: withAnnotations(deployment, { 'blueprint.kubestash.com/name': undefined, 'blueprint.kubestash.com/namespace': undefined }), errors: [] },
  { name: 'the documented annotated Deployment passes', object: deployment, errors: [] },
  { name: 'DELETE is never checked', object: withAnnotations(deployment, { 'variables.kubestash.com/paths': undefined }), operation: 'DELETE', errors: [] },
  {
    name: 'a missing variable denies, naming the annotation',
    object: withAnnotations(deployment, { 'variables.kubestash.com/paths': undefined }),
    errors: [{ code: 'AutoBackupVariableMissing', path: 'metadata.annotations[variables.kubestash.com/paths]' }],
  },
  {
    name: 'an unknown session name denies',
    object: withAnnotations(deployment, { 'blueprint.kubestash.com/session-names': 'hourly' }),
    errors: [{ code: 'AutoBackupSessionUnknown', path: 'metadata.annotations[blueprint.kubestash.com/session-names]' }],
  },
  {
    name: 'a blueprint not known yet warns and allows',
    object: withAnnotations(deployment, { 'blueprint.kubestash.com/name': 'later' }),
    errors: [],
    warning: /later.*does not exist \(yet\): the BackupConfiguration is generated once it does/,
  },
  {
    name: 'a name still to be generated is left to the controller',
    object: { ...deployment, metadata: { ...deployment.metadata, name: undefined, generateName: 'web-' } },
    errors: [],
  },
];

for (const row of rows) {
  t.test(row.name, async (t) => {
    const verdict = autoBackupTargetRules.validate({ operation: row.operation ?? 'CREATE', object: row.object, view: row.view ?? cluster });
    t.same(verdict.errors.map((e) => ({ code: e.code, path: e.path })), row.errors, JSON.stringify(verdict.errors));
    if (row.warning) t.match(verdict.warnings.join('\n'), row.warning);
    t.equal(autoBackupTargetRules.applyDefaults(row.object, cluster), row.object, 'nothing is defaulted');
  });
}

t.test('the admission rules serve every target kind and every KubeStash kind', async (t) => {
  for (const key of ['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet', '/PersistentVolumeClaim', 'core.kubestash.com/BackupConfiguration', 'storage.kubestash.com/BackupStorage']) {
    t.ok(admissionRules.has(key), key);
  }
  // admissionRules wraps the target rules with BackupPolicy enforcement; without policies they decide alike.
  const broken = withAnnotations(deployment, { 'blueprint.kubestash.com/namespace': undefined });
  const context = { operation: 'CREATE' as const, object: broken, view: cluster };
  t.same(admissionRules.get('apps/Deployment')?.validate(context), autoBackupTargetRules.validate(context));
});

import t from 'tap';
import { previewAutoBackup } from '../../../src/domain/auto-backup/preview.js';
import { AutoBackupErrorCodes } from '../../../src/domain/errors.js';
import type { KindRules } from '../../../src/domain/kind-rules.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createMemoryView } from '../../../src/domain/memory-view.js';

const storage: KubeObject = {
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'BackupStorage',
  metadata: { name: 's', namespace: 'demo' },
  spec: { storage: { provider: 'gcs', gcs: { bucket: 'b', prefix: 'p' } }, usagePolicy: { allowedNamespaces: { from: 'All' } }, default: true, deletionPolicy: 'Delete' },
};
const retention: KubeObject = {
  apiVersion: 'storage.kubestash.com/v1alpha1',
  kind: 'RetentionPolicy',
  metadata: { name: 'r', namespace: 'demo' },
  spec: { default: true, successfulSnapshots: { last: 5 }, usagePolicy: { allowedNamespaces: { from: 'All' } } },
};

function blueprint(sessionOverrides: Record<string, unknown> = {}, backends: unknown = [{ name: 'b', storageRef: { name: 's', namespace: 'demo' } }]): KubeObject {
  return {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupBlueprint',
    metadata: { name: 'bp', namespace: 'demo' },
    spec: {
      usagePolicy: { allowedNamespaces: { from: 'Same' } },
      backupConfigurationTemplate: {
        backends,
        sessions: [
          {
            name: 'daily',
            scheduler: { schedule: '0 1 * * *', jobTemplate: {} },
            repositories: [{ name: '${targetName}', backend: 'b', directory: '${directory}', encryptionSecret: { name: 'e' } }],
            addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup' }] },
            ...sessionOverrides,
          },
        ],
      },
    },
  };
}

const annotated = (extra: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'demo',
    uid: 'uid-web',
    annotations: {
      'blueprint.kubestash.com/name': 'bp',
      'blueprint.kubestash.com/namespace': 'demo',
      'variables.kubestash.com/targetName': 'web',
      'variables.kubestash.com/directory': 'demo/web',
      ...extra,
    },
  },
});

const view = (...objects: KubeObject[]) => createMemoryView([storage, retention, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } }, ...objects]);

t.test('none: objects without the annotations', async (t) => {
  t.same(previewAutoBackup({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'demo' } }, view()), { status: 'none' });
});

t.test('invalid annotations', async (t) => {
  const result = previewAutoBackup(annotated({ 'blueprint.kubestash.com/namespace': '' }), view(blueprint()));
  t.match(result, { status: 'invalid', errors: [{ code: AutoBackupErrorCodes.AnnotationInvalid, path: 'metadata.annotations[blueprint.kubestash.com/namespace]' }] });
});

t.test('an unsupported target is invalid even before the blueprint is looked up', async (t) => {
  const configMap = { ...annotated(), apiVersion: 'v1', kind: 'ConfigMap' };
  t.match(previewAutoBackup(configMap, view()), { status: 'invalid', blueprint: { name: 'bp', namespace: 'demo' }, errors: [{ code: AutoBackupErrorCodes.TargetUnsupported, path: 'kind' }] });
});

t.test('blueprint not found: its own status, with a message naming it', async (t) => {
  const result = previewAutoBackup(annotated({ 'blueprint.kubestash.com/sessions': 'daily' }), view());
  t.equal(result.status, 'blueprintNotFound');
  if (result.status !== 'blueprintNotFound') return;
  t.same(result.blueprint, { name: 'bp', namespace: 'demo' });
  t.match(result.message, /^BackupBlueprint demo\/bp \(named by blueprint\.kubestash\.com\/name and blueprint\.kubestash\.com\/namespace\) does not exist \(yet\)/);
  t.match(result.warnings, [/deprecated key/], 'annotation warnings are kept');
});

t.test('ready: the configuration as generated and as it would be stored', async (t) => {
  const v = view(blueprint());
  const result = previewAutoBackup(annotated(), v);
  t.equal(result.status, 'ready');
  if (result.status !== 'ready') return;
  t.equal(result.configuration.metadata?.name, 'deployment-web');
  t.equal(result.configuration.metadata?.annotations?.['autostash.dev/target-uid'], 'uid-web');
  const generatedBackend = (result.configuration.spec as any).backends[0];
  const storedBackend = (result.defaulted.spec as any).backends[0];
  t.notOk('retentionPolicy' in generatedBackend, 'generated as the template says');
  t.same(storedBackend.retentionPolicy, { name: 'r', namespace: 'demo' }, 'defaulted by the BackupConfiguration webhook rules');
  t.equal((result.defaulted.spec as any).sessions[0].sessionHistoryLimit, 1, 'CRD schema default');
  t.same(result.warnings, []);
});

t.test('the generated configuration is validated; its errors are reported at the workload', async (t) => {
  const result = previewAutoBackup(annotated({ 'variables.kubestash.com/directory': '' }), view(blueprint()));
  t.equal(result.status, 'invalid');
  if (result.status !== 'invalid') return;
  t.same(result.errors.map((e) => [e.code, e.path]), [[AutoBackupErrorCodes.InvalidConfiguration, 'BackupConfiguration demo/deployment-web: spec.sessions[0].repositories[0].directory']]);
  t.match(result.errors[0]?.message, /directory is not provided for repository "web".*\(in the BackupConfiguration generated from BackupBlueprint demo\/bp; fix the blueprint or this object's variables\)$/);
});

t.test('schema errors of the generated configuration are reported too', async (t) => {
  const result = previewAutoBackup(annotated(), view(blueprint({ scheduler: { jobTemplate: {} } })));
  t.match(result, { status: 'invalid', errors: [{ code: AutoBackupErrorCodes.InvalidConfiguration, path: /^BackupConfiguration demo\/deployment-web: spec\.sessions\[0\]\.scheduler/ }] });
});

t.test('warnings of the generated configuration are prefixed with it', async (t) => {
  const noSecret = blueprint({ repositories: [{ name: 'web', backend: 'b', directory: 'd' }] });
  const result = previewAutoBackup(annotated(), view(noSecret));
  t.equal(result.status, 'ready');
  t.match(result.status === 'ready' && result.warnings, [/^BackupConfiguration demo\/deployment-web: spec\.sessions\[0\]\.repositories\[0\]\.encryptionSecret: not set/]);
});

t.test('expansion errors come back as invalid with the blueprint named', async (t) => {
  const { 'variables.kubestash.com/targetName': _drop, ...rest } = annotated().metadata?.annotations ?? {};
  const result = previewAutoBackup({ ...annotated(), metadata: { ...annotated().metadata, annotations: rest } }, view(blueprint()));
  t.match(result, { status: 'invalid', blueprint: { name: 'bp', namespace: 'demo' }, errors: [{ code: AutoBackupErrorCodes.VariableMissing, path: 'metadata.annotations[variables.kubestash.com/targetName]' }] });
});

t.test('the usage policy is checked against the Namespace from the view', async (t) => {
  const selectorBlueprint = blueprint();
  (selectorBlueprint.spec as any).usagePolicy = { allowedNamespaces: { from: 'Selector', selector: { matchLabels: { backup: 'on' } } } };
  const shop = (labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels } });
  const target = { ...annotated(), metadata: { ...annotated().metadata, namespace: 'shop' } };
  t.match(previewAutoBackup(target, view(selectorBlueprint, shop({ backup: 'off' }))), { status: 'invalid', errors: [{ code: AutoBackupErrorCodes.NotAllowed }] });
  const allowed = previewAutoBackup(target, view(selectorBlueprint, shop({ backup: 'on' })));
  t.match(allowed, { status: 'ready', configuration: { metadata: { name: 'shop-deployment-web', namespace: 'demo' } } });
});

t.test('rules without BackupConfiguration rules: ready, not validated', async (t) => {
  const result = previewAutoBackup(annotated({ 'variables.kubestash.com/directory': '' }), view(blueprint()), new Map<string, KindRules>());
  t.equal(result.status, 'ready');
  if (result.status === 'ready') t.equal(result.defaulted, result.configuration);
});

t.test('inputs and view objects are not mutated', async (t) => {
  const bp = blueprint();
  const target = annotated();
  const before = structuredClone({ bp, target });
  previewAutoBackup(target, view(bp));
  t.same({ bp, target }, before);
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { previewAutoBackup } from '../../../src/domain/auto-backup/preview.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { kubeStashRules } from '../../../src/domain/kubestash-rules.js';
import { createMemoryView } from '../../../src/domain/memory-view.js';
import { parseDocuments } from '../../../src/validate/parse-documents.js';
import { sharedDir } from '../../helpers/paths.js';

const examples = join(sharedDir, 'kubestash', 'examples');
const load = (file: string): KubeObject[] => parseDocuments(readFileSync(join(examples, file), 'utf8'), file).documents.map((d) => d.object);

/** Objects as the API server stores them: schema and webhook defaults applied. */
const stored = (object: KubeObject, context: KubeObject[]): KubeObject => {
  const rules = kubeStashRules.get(`${(object.apiVersion ?? '').split('/')[0]}/${object.kind ?? ''}`);
  return rules ? rules.applyDefaults(object, createMemoryView(context)) : object;
};

function clusterWith(...files: string[]) {
  const objects = files.flatMap(load);
  return createMemoryView(objects.map((object) => stored(object, objects)));
}

const workloadCluster = () => clusterWith('auto-backup-workload__backupblueprint.yaml', 'auto-backup-workload__backupstorage-gcs.yaml', 'auto-backup-workload__retentionpolicy.yaml');

interface Expected {
  name: string;
  target: Record<string, string>;
  repository: string;
  directory: string;
  paths?: string;
  addon: string;
}

function expectConfiguration(t: Test, target: KubeObject, view: ReturnType<typeof createMemoryView>, expected: Expected) {
  const result = previewAutoBackup(target, view);
  t.equal(result.status, 'ready', result.status === 'invalid' ? result.errors.map((e) => `${e.path}: ${e.message}`).join('\n') : result.status);
  if (result.status !== 'ready') return;
  const configuration = result.configuration as any;
  t.equal(configuration.metadata.name, expected.name);
  t.equal(configuration.metadata.namespace, 'demo');
  t.same(configuration.metadata.labels, {
    'app.kubernetes.io/managed-by': 'kubestash.com',
    'kubestash.com/invoker-name': target.kind === 'PersistentVolumeClaim' ? 'pvc-backup-blueprint' : 'workload-backup-blueprint',
    'kubestash.com/invoker-namespace': 'demo',
  });
  t.equal(configuration.metadata.finalizers, undefined, 'kubestash.com/cleanup is added by the BackupConfiguration controller that removes it, not at generation');
  t.same(configuration.spec.target, expected.target);
  t.same(configuration.spec.backends, [
    { name: 'gcs-backend', storageRef: { name: 'gcs-storage', namespace: 'demo' }, retentionPolicy: { name: 'demo-retention', namespace: 'demo' } },
  ]);
  t.equal(configuration.spec.sessions.length, 1);
  const session = configuration.spec.sessions[0];
  t.equal(session.name, 'frequent-backup');
  t.equal(session.scheduler.schedule, '*/5 * * * *');
  t.same(session.repositories, [{ name: expected.repository, backend: 'gcs-backend', directory: expected.directory, encryptionSecret: { name: 'encrypt-secret', namespace: 'demo' } }]);
  t.equal(session.addon.name, expected.addon);
  t.equal(session.addon.tasks[0].params?.paths, expected.paths);
  t.same(session.retryConfig, { maxRetry: 2, delay: '1m' });
  t.notOk('deletionPolicy' in configuration.spec);
  t.notMatch(JSON.stringify(configuration), /\$\{/, 'no unresolved variables');
}

t.test('auto-backup-workload: the annotated Deployment', async (t) => {
  const deployment = load('auto-backup-workload__deployment-annotated.yaml').find((o) => o.kind === 'Deployment');
  t.ok(deployment);
  expectConfiguration(t, deployment as KubeObject, workloadCluster(), {
    name: 'deployment-kubestash-demo',
    target: { apiGroup: 'apps', kind: 'Deployment', name: 'kubestash-demo', namespace: 'demo' },
    repository: 'dep-repo',
    directory: 'demo/kubestash-demo',
    paths: '/source/data-1,/source/data-2',
    addon: 'workload-addon',
  });
});

t.test('auto-backup-workload: the annotated StatefulSet (SPEC §7.2: directory demo/sample-sts)', async (t) => {
  const statefulSet = load('auto-backup-workload__statefulset-annotated.yaml').find((o) => o.kind === 'StatefulSet');
  expectConfiguration(t, statefulSet as KubeObject, workloadCluster(), {
    name: 'statefulset-sample-sts',
    target: { apiGroup: 'apps', kind: 'StatefulSet', name: 'sample-sts', namespace: 'demo' },
    repository: 'sts-repo',
    directory: 'demo/sample-sts',
    paths: '/source/data',
    addon: 'workload-addon',
  });
});

t.test('the un-annotated objects of the workload examples generate nothing', async (t) => {
  for (const object of [...load('auto-backup-workload__deployment-annotated.yaml'), ...load('auto-backup-workload__statefulset-annotated.yaml')]) {
    if (object.kind === 'Deployment' || object.kind === 'StatefulSet') continue;
    t.same(previewAutoBackup(object, workloadCluster()), { status: 'none' }, `${object.kind} ${object.metadata?.name}`);
  }
});

t.test('auto-backup-pvc: nfs-pvc annotated as the guide does with kubectl annotate', async (t) => {
  const [pvc] = load('auto-backup-pvc__nfs-pvc.yaml');
  const annotatedPvc = {
    ...pvc,
    metadata: {
      ...pvc?.metadata,
      annotations: {
        'blueprint.kubestash.com/name': 'pvc-backup-blueprint',
        'blueprint.kubestash.com/namespace': 'demo',
        'variables.kubestash.com/namespace': 'demo',
        'variables.kubestash.com/targetName': 'nfs-pvc',
        'variables.kubestash.com/repoName': 'pvc-repo',
      },
    },
  };
  const view = clusterWith('auto-backup-pvc__backupblueprint.yaml', 'auto-backup-workload__backupstorage-gcs.yaml', 'auto-backup-workload__retentionpolicy.yaml');
  expectConfiguration(t, annotatedPvc, view, {
    name: 'persistentvolumeclaim-nfs-pvc',
    target: { kind: 'PersistentVolumeClaim', name: 'nfs-pvc', namespace: 'demo' },
    repository: 'pvc-repo',
    directory: 'demo/nfs-pvc',
    addon: 'pvc-addon',
  });
  t.same(previewAutoBackup(pvc as KubeObject, view), { status: 'none' }, 'without the annotations: nothing');
});

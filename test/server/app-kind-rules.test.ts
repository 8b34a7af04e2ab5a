import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import t from 'tap';
import { parse } from 'yaml';
import { createMemoryView } from '../../src/domain/memory-view.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { kindRules } from '../../src/domain/rules/index.js';
import { buildApp } from '../../src/server/app.js';
import { sharedDir } from '../helpers/paths.js';

const example = (name: string) => parse(readFileSync(join(sharedDir, 'kubestash', 'examples', name), 'utf8')) as KubeObject;
const backupConfiguration = example('volumes-pvc__backupconfiguration.yaml');
const storage: KubeObject = { ...example('backends-gcs__backupstorage-gcs.yaml'), metadata: { name: 'gcs-storage', namespace: 'demo' } };
const retention = example('concepts__retentionpolicy-same-namespace.yaml');
const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } };

const review = (uid: string, object: KubeObject) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: 'core.kubestash.com', version: 'v1alpha1', kind: 'BackupConfiguration' },
    operation: 'CREATE',
    name: object.metadata?.name,
    namespace: 'demo',
    object,
    dryRun: false,
  },
});

t.test('the real KubeStash rules behind the webhook', async (t) => {
  const app = buildApp({ rules: kindRules, clusterView: () => createMemoryView([storage, retention, namespace]), logger: false });
  t.teardown(() => app.close());
  const post = async (url: string, body: unknown) => (await app.inject({ method: 'POST', url, payload: body as object })).json() as Record<string, any>;

  const valid = await post('/validate', review('valid', backupConfiguration));
  t.match(valid.response, { uid: 'valid', allowed: true }, JSON.stringify(valid.response.status?.message ?? ''));

  const { backends: _backends, ...specWithoutBackends } = backupConfiguration.spec as Record<string, unknown>;
  const withoutBackends = { ...backupConfiguration, spec: specWithoutBackends };
  const mutated = await post('/mutate', review('defaulted', withoutBackends));
  t.equal(mutated.response.patchType, 'JSONPatch');
  const patch = JSON.parse(Buffer.from(mutated.response.patch, 'base64').toString('utf8'));
  const defaulted = fastJsonPatch.applyPatch(structuredClone(withoutBackends), patch, true, false).newDocument as Record<string, any>;
  t.match(defaulted.spec.backends, [{ storageRef: { name: 'gcs-storage', namespace: 'demo' }, retentionPolicy: { name: 'demo-retention' } }], 'the default BackupStorage and RetentionPolicy are filled in');

  const invalid = await post('/validate', review('invalid', { ...backupConfiguration, spec: { ...(backupConfiguration.spec as object), sessions: [] } }));
  t.match(invalid.response, { uid: 'invalid', allowed: false, status: { code: 403, details: { causes: [{ field: /^spec\.sessions/ }] } } });
  t.match(invalid.response.status.message, /^BackupConfiguration "demo\/nfs-pvc-backup" is invalid: /);
});

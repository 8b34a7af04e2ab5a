import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import type { WatchEvent } from '../../../src/embedded/api-types.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';
import { repoRoot } from '../../helpers/paths.js';

const crds = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
const backupstorages = { group: 'storage.kubestash.com', version: 'v1alpha1', resource: 'backupstorages' };
const crdDir = join(repoRoot, 'charts', 'autostash', 'crds');

function ourCrds(): KubeObject[] {
  return readdirSync(crdDir)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => parse(readFileSync(join(crdDir, file), 'utf8')) as KubeObject);
}

async function withOurCrds() {
  const api = createEmbeddedApi({ now: () => new Date('2024-02-03T04:05:06Z') });
  for (const crd of ourCrds()) await api.create(crds, undefined, crd);
  return api;
}

t.test('creating our CRDs registers their resource types and establishes them', async (t) => {
  const api = await withOurCrds();
  t.teardown(() => api.close());
  const type = api.resourceType(backupstorages);
  t.match(type, { kind: 'BackupStorage', listKind: 'BackupStorageList', singular: 'backupstorage', namespaced: true, statusSubresource: true, categories: ['kubestash', 'appscode', 'all'] });
  t.type(type?.schema, 'object');
  t.equal(api.resourceTypeForKind('storage.kubestash.com/v1alpha1', 'BackupStorage'), type);
  t.equal(api.resourceTypeForKind('storage.kubestash.com/v9', 'BackupStorage'), undefined);
  const ourGroups = new Set(ourCrds().map((crd) => (crd.spec as { group: string }).group));
  t.equal(api.resourceTypes().filter((candidate) => ourGroups.has(candidate.group)).length, ourCrds().length, 'one resource type per CRD');
  const stored = await api.get(crds, undefined, 'backupstorages.storage.kubestash.com');
  t.match(stored.status, {
    conditions: [
      { type: 'NamesAccepted', status: 'True' },
      { type: 'Established', status: 'True', lastTransitionTime: '2024-02-03T04:05:06Z' },
    ],
    acceptedNames: { kind: 'BackupStorage', plural: 'backupstorages' },
    storedVersions: ['v1alpha1'],
  });
});

t.test('custom resources get schema defaults and unknown fields pruned; status is a subresource', async (t) => {
  const api = await withOurCrds();
  t.teardown(() => api.close());
  const created = await api.create(backupstorages, 'default', {
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'BackupStorage',
    metadata: { name: 'local', annotations: { keep: 'me' } },
    spec: { storage: { provider: 'local', local: { mountPath: '/m', unknownField: 1 } }, usagePolicy: { allowedNamespaces: {} }, bogus: true },
    status: { phase: 'Ready' },
    topLevelJunk: 1,
  });
  const spec = created.spec as Record<string, Record<string, Record<string, unknown>>>;
  t.equal(spec.deletionPolicy, 'Delete', 'deletionPolicy default');
  t.same(spec.usagePolicy, { allowedNamespaces: { from: 'Same' } }, 'nested default where the parent exists');
  t.equal(spec.bogus, undefined, 'unknown spec field pruned');
  t.equal(spec.storage?.local?.unknownField, undefined, 'unknown nested field pruned');
  t.equal(created.topLevelJunk, undefined, 'unknown top-level field pruned');
  t.same(created.metadata?.annotations, { keep: 'me' }, 'metadata is not pruned');
  t.equal(created.status, undefined, 'status on create is dropped');
  const withStatus = await api.updateStatus(backupstorages, 'default', { ...created, status: { phase: 'Ready', junk: 1 } });
  t.match(withStatus.status, { phase: 'Ready' });
  await t.rejects(api.patch(backupstorages, 'default', 'local', 'strategic-merge', { spec: {} }), { code: 415, reason: 'UnsupportedMediaType' });
  const merged = await api.patch(backupstorages, 'default', 'local', 'merge', { spec: { deletionPolicy: null } });
  t.equal((merged.spec as { deletionPolicy: string }).deletionPolicy, 'Delete', 'defaults come back after a patch removes them');
});

t.test('an invalid CRD is rejected with 422', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const crd = ourCrds()[0] ?? {};
  await t.rejects(api.create(crds, undefined, { ...crd, metadata: { name: 'wrong.example.com' } }), { code: 422, reason: 'Invalid', message: /must be spec\.names\.plural\+"\."\+spec\.group/ });
  const spec = crd.spec as Record<string, unknown>;
  await t.rejects(api.create(crds, undefined, { ...crd, spec: { ...spec, scope: 'Galaxy', versions: [] } }), { code: 422, message: /spec\.scope.*spec\.versions|spec\.versions.*spec\.scope/ });
  await t.rejects(api.create(crds, undefined, { ...crd, spec: { ...spec, group: 'nodot', names: { kind: '', plural: 'Bad_Plural' } } }), { code: 422, message: /spec\.group/ });
});

t.test('deleting a CRD removes its resource types and objects', async (t) => {
  const api = await withOurCrds();
  t.teardown(() => api.close());
  await api.create(backupstorages, 'default', { metadata: { name: 'one' }, spec: {} });
  const events: WatchEvent[] = [];
  api.watch(backupstorages, {}, (event) => events.push(event));
  await api.delete(crds, undefined, 'backupstorages.storage.kubestash.com');
  t.equal(api.resourceType(backupstorages), undefined);
  await t.rejects(api.list(backupstorages), { code: 404 });
  await new Promise((resolve) => setImmediate(resolve));
  t.same(events.map((event) => event.type), ['ADDED', 'DELETED', 'ERROR']);
  const crd = ourCrds().find((candidate) => candidate.metadata?.name === 'backupstorages.storage.kubestash.com') ?? {};
  await api.create(crds, undefined, crd);
  t.same((await api.list(backupstorages)).items, [], 're-creating the CRD starts empty');
});

t.test('updating a CRD re-registers its versions', async (t) => {
  const api = await withOurCrds();
  t.teardown(() => api.close());
  const stored = await api.get(crds, undefined, 'backupstorages.storage.kubestash.com');
  const spec = stored.spec as { versions: Array<Record<string, unknown>>; names: Record<string, unknown> };
  const v1 = { ...spec.versions[0], name: 'v1', storage: false };
  const updated = await api.update(crds, undefined, { ...stored, spec: { ...spec, names: { ...spec.names, shortNames: ['bs'] }, versions: [spec.versions[0], v1] } });
  t.same((updated.status as { storedVersions: string[] }).storedVersions, ['v1alpha1']);
  t.match(api.resourceType({ ...backupstorages, version: 'v1' }), { shortNames: ['bs'] });
  await api.create(backupstorages, 'default', { metadata: { name: 'shared' }, spec: {} });
  const viaV1 = await api.get({ ...backupstorages, version: 'v1' }, 'default', 'shared');
  t.equal(viaV1.apiVersion, 'storage.kubestash.com/v1', 'objects are shared between versions and shown in the requested one');
});

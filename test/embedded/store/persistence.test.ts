import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';
import { STATE_FILE_NAME } from '../../../src/embedded/store/state-file.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const crds = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
const widgets = { group: 'example.com', version: 'v1', resource: 'widgets' };

const widgetCrd = {
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', default: 3 } } } } } } }],
  },
};

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'embedded-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('objects, CRDs and the resourceVersion counter survive close and reopen', async (t) => {
  const dataDir = await tempDir(t);
  const first = createEmbeddedApi({ persist: true, dataDir });
  await first.create(configmaps, 'default', { metadata: { name: 'kept' }, data: { a: '1' } });
  await first.create(crds, undefined, widgetCrd);
  const widget = await first.create(widgets, 'default', { metadata: { name: 'w' }, spec: {} });
  const lastVersion = first.currentResourceVersion();
  await first.close();
  const state = JSON.parse(await readFile(join(dataDir, STATE_FILE_NAME), 'utf8')) as { formatVersion: number; resourceVersion: number };
  t.equal(state.formatVersion, 1);
  t.equal(String(state.resourceVersion), lastVersion);

  const second = createEmbeddedApi({ persist: true, dataDir });
  t.teardown(() => second.close());
  t.same((await second.get(configmaps, 'default', 'kept')).data, { a: '1' });
  t.same(await second.get(widgets, 'default', 'w'), widget, 'custom resources come back with their CRD');
  t.equal(second.currentResourceVersion(), lastVersion, 'no system namespace is created twice');
  const next = await second.create(configmaps, 'default', { metadata: { name: 'new' } });
  t.ok(Number(next.metadata?.resourceVersion) > Number(lastVersion), 'resourceVersions keep increasing');
  const events: string[] = [];
  second.watch(configmaps, { resourceVersion: '1' }, (event) => events.push(event.type));
  await new Promise((resolve) => setImmediate(resolve));
  t.same(events, ['ERROR'], 'watches cannot resume from before the restart');
});

t.test('changes are written after the debounce delay without close', async (t) => {
  const dataDir = await tempDir(t);
  const api = createEmbeddedApi({ persist: true, dataDir, persistDelayMs: 5 });
  t.teardown(() => api.close());
  await api.create(configmaps, 'default', { metadata: { name: 'soon' } });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const text = await readFile(join(dataDir, STATE_FILE_NAME), 'utf8');
  t.match(text, /"name":"soon"/);
});

t.test('without persist nothing is written; a corrupt state file is reported', async (t) => {
  const dataDir = await tempDir(t);
  const api = createEmbeddedApi({ dataDir });
  await api.create(configmaps, 'default', { metadata: { name: 'memory-only' } });
  await api.close();
  await t.rejects(readFile(join(dataDir, STATE_FILE_NAME)), { code: 'ENOENT' });
  await writeFile(join(dataDir, STATE_FILE_NAME), JSON.stringify({ something: 'else' }));
  t.throws(() => createEmbeddedApi({ persist: true, dataDir }), /not an autostash embedded state file/);
  t.throws(() => createEmbeddedApi({ persist: true }), /persist needs a dataDir/);
});

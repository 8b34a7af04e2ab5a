import t from 'tap';
import { ApiError } from '../../../src/embedded/api-types.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const pods = { group: '', version: 'v1', resource: 'pods' };
const namespaces = { group: '', version: 'v1', resource: 'namespaces' };

async function seeded() {
  const api = createEmbeddedApi();
  await api.create(namespaces, undefined, { metadata: { name: 'other' } });
  const rows: Array<[string, string, Record<string, string>]> = [
    ['default', 'web', { app: 'web', tier: 'front' }],
    ['default', 'db', { app: 'db', tier: 'back' }],
    ['default', 'plain', {}],
    ['other', 'web', { app: 'web', legacy: 'yes' }],
  ];
  for (const [namespace, name, labels] of rows) await api.create(configmaps, namespace, { metadata: { name, labels } });
  return api;
}

const names = (items: Array<{ metadata?: { namespace?: string; name?: string } }>) => items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`);

t.test('label selectors: one row per operator', async (t) => {
  const api = await seeded();
  t.teardown(() => api.close());
  const rows: Array<[string, string[]]> = [
    ['app=web', ['default/web', 'other/web']],
    ['app==web', ['default/web', 'other/web']],
    ['app!=web', ['default/db', 'default/plain']],
    ['app in (web,db)', ['default/db', 'default/web', 'other/web']],
    ['app notin (web)', ['default/db', 'default/plain']],
    ['tier', ['default/db', 'default/web']],
    ['!tier', ['default/plain', 'other/web']],
    ['app=web,!legacy', ['default/web']],
    ['', ['default/db', 'default/plain', 'default/web', 'other/web']],
  ];
  for (const [selector, expected] of rows) {
    t.same(names((await api.list(configmaps, { labelSelector: selector })).items), expected, selector || '(empty)');
  }
  for (const bad of ['app=we b', 'app in (a', '=x', 'Bad Key=1']) {
    await t.rejects(api.list(configmaps, { labelSelector: bad }), { code: 400, reason: 'BadRequest' }, `malformed: ${bad}`);
  }
});

t.test('namespace scoping and field selectors', async (t) => {
  const api = await seeded();
  t.teardown(() => api.close());
  t.same(names((await api.list(configmaps, { namespace: 'other' })).items), ['other/web']);
  t.same(names((await api.list(configmaps, { fieldSelector: 'metadata.name=web' })).items), ['default/web', 'other/web']);
  t.same(names((await api.list(configmaps, { fieldSelector: 'metadata.namespace==other' })).items), ['other/web']);
  t.same(names((await api.list(configmaps, { fieldSelector: 'metadata.name!=web,metadata.namespace=default' })).items), ['default/db', 'default/plain']);
  const error = await api.list(configmaps, { fieldSelector: 'spec.nodeName=x' }).catch((caught: unknown) => caught);
  t.ok(error instanceof ApiError);
  t.match(error, { code: 400, reason: 'BadRequest', message: 'field label not supported: spec.nodeName' });
  await t.rejects(api.list(configmaps, { fieldSelector: 'nonsense' }), { code: 400 });
});

t.test('pods select by spec.nodeName and status.phase', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  await api.create(pods, 'default', { metadata: { name: 'on-node' }, spec: { nodeName: 'n1', containers: [] } });
  await api.create(pods, 'default', { metadata: { name: 'unscheduled' }, spec: { containers: [] } });
  t.same(names((await api.list(pods, { fieldSelector: 'spec.nodeName=n1' })).items), ['default/on-node']);
  t.same(names((await api.list(pods, { fieldSelector: 'spec.nodeName=' })).items), ['default/unscheduled']);
  t.same(names((await api.list(pods, { fieldSelector: 'status.phase=Pending' })).items), ['default/on-node', 'default/unscheduled']);
});

t.test('limit/continue pages through in key order with the first page’s resourceVersion', async (t) => {
  const api = await seeded();
  t.teardown(() => api.close());
  const first = await api.list(configmaps, { limit: 3 });
  t.same(names(first.items), ['default/db', 'default/plain', 'default/web']);
  t.equal(first.remainingItemCount, 1);
  t.type(first.continue, 'string');
  await api.create(configmaps, 'other', { metadata: { name: 'zz' } });
  const second = await api.list(configmaps, { limit: 3, continue: first.continue ?? '' });
  t.same(names(second.items), ['other/web', 'other/zz']);
  t.equal(second.continue, undefined, 'the last page has no continue token');
  t.equal(second.resourceVersion, first.resourceVersion, 'pages report the first page’s resourceVersion');
  const selected = await api.list(configmaps, { limit: 1, labelSelector: 'app=web' });
  t.equal(selected.remainingItemCount, undefined, 'no remaining count with a selector');
  t.ok(selected.continue);
  await t.rejects(api.list(configmaps, { continue: 'garbage' }), { code: 400, reason: 'BadRequest' });
});

t.test('a continue token older than the event window is 410 Expired', async (t) => {
  const api = createEmbeddedApi({ watchCacheSize: 2 });
  t.teardown(() => api.close());
  for (const name of ['a', 'b', 'c']) await api.create(configmaps, 'default', { metadata: { name } });
  const page = await api.list(configmaps, { limit: 1 });
  for (const name of ['d', 'e', 'f']) await api.create(configmaps, 'default', { metadata: { name } });
  await t.rejects(api.list(configmaps, { limit: 1, continue: page.continue ?? '' }), { code: 410, reason: 'Expired' });
});

t.test('cluster-scoped lists ignore the namespace option', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  t.equal((await api.list(namespaces, { namespace: 'default' })).items.length, 4);
});

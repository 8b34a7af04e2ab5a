import t from 'tap';
import type { WatchEvent } from '../../../src/embedded/api-types.js';
import { createEmbeddedApi } from '../../../src/embedded/store/embedded-api.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };

/** Collects watch events; `until(n)` resolves once n events have arrived. */
function collector() {
  const events: WatchEvent[] = [];
  let waiting: { count: number; resolve: () => void } | undefined;
  return {
    events,
    onEvent(event: WatchEvent) {
      events.push(event);
      if (waiting && events.length >= waiting.count) waiting.resolve();
    },
    until(count: number): Promise<void> {
      if (events.length >= count) return Promise.resolve();
      return new Promise((resolve) => {
        waiting = { count, resolve };
      });
    },
    summary: () => events.map((event) => `${event.type} ${event.object.metadata?.name ?? ''}`),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

t.test('watch from "0" or "" starts with synthetic ADDED events, then live ones', async (t) => {
  for (const resourceVersion of ['0', '', undefined]) {
    const api = createEmbeddedApi();
    await api.create(configmaps, 'default', { metadata: { name: 'b' } });
    await api.create(configmaps, 'default', { metadata: { name: 'a' } });
    const seen = collector();
    const handle = api.watch(configmaps, { namespace: 'default', ...(resourceVersion !== undefined ? { resourceVersion } : {}) }, seen.onEvent);
    await api.create(configmaps, 'default', { metadata: { name: 'c', labels: { x: '1' } } });
    await api.patch(configmaps, 'default', 'c', 'merge', { data: { k: 'v' } });
    await api.delete(configmaps, 'default', 'a');
    await seen.until(5);
    t.same(seen.summary(), ['ADDED a', 'ADDED b', 'ADDED c', 'MODIFIED c', 'DELETED a'], `resourceVersion ${String(resourceVersion)}`);
    t.equal(seen.events[0]?.object.apiVersion, 'v1');
    t.equal(seen.events[0]?.object.kind, 'ConfigMap');
    handle.stop();
    await api.close();
  }
});

t.test('watch from a given resourceVersion replays every later event', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const first = await api.create(configmaps, 'default', { metadata: { name: 'a' } });
  await api.create(configmaps, 'default', { metadata: { name: 'b' } });
  await api.patch(configmaps, 'default', 'a', 'merge', { data: { k: 'v' } });
  const seen = collector();
  const handle = api.watch(configmaps, { resourceVersion: first.metadata?.resourceVersion ?? '' }, seen.onEvent);
  t.teardown(() => handle.stop());
  await seen.until(2);
  t.same(seen.summary(), ['ADDED b', 'MODIFIED a']);
  const deleted = await api.delete(configmaps, 'default', 'b');
  await seen.until(3);
  t.same(seen.summary()[2], 'DELETED b');
  t.equal(seen.events[2]?.object.metadata?.resourceVersion, deleted.metadata?.resourceVersion, 'DELETED carries the deletion resourceVersion');
  t.ok(Number(deleted.metadata?.resourceVersion) > Number(first.metadata?.resourceVersion));
});

t.test('a resourceVersion older than the event window gets one ERROR 410 Expired', async (t) => {
  const api = createEmbeddedApi({ watchCacheSize: 3 });
  t.teardown(() => api.close());
  const first = await api.create(configmaps, 'default', { metadata: { name: 'a0' } });
  for (let index = 1; index < 6; index += 1) await api.create(configmaps, 'default', { metadata: { name: `a${index}` } });
  const seen = collector();
  api.watch(configmaps, { resourceVersion: first.metadata?.resourceVersion ?? '' }, seen.onEvent);
  await seen.until(1);
  await api.create(configmaps, 'default', { metadata: { name: 'later' } });
  await settle();
  t.equal(seen.events.length, 1, 'the watch ends after the error');
  t.equal(seen.events[0]?.type, 'ERROR');
  t.match(seen.events[0]?.object, { kind: 'Status', code: 410, reason: 'Expired', message: /^too old resource version: \d+ \(\d+\)$/ });
  const recent = collector();
  const handle = api.watch(configmaps, { resourceVersion: String(Number(api.currentResourceVersion()) - 1) }, recent.onEvent);
  t.teardown(() => handle.stop());
  await recent.until(1);
  t.same(recent.summary(), ['ADDED later'], 'a recent resourceVersion still resumes');
});

t.test('an invalid resourceVersion is a BadRequest', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  t.throws(() => api.watch(configmaps, { resourceVersion: 'abc' }, () => undefined), { code: 400, reason: 'BadRequest' });
});

t.test('label selector transitions: stops matching → DELETED, starts matching → ADDED', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  await api.create(configmaps, 'default', { metadata: { name: 'a', labels: { app: 'web' } } });
  await api.create(configmaps, 'default', { metadata: { name: 'other', labels: { app: 'db' } } });
  const seen = collector();
  const handle = api.watch(configmaps, { namespace: 'default', labelSelector: 'app=web' }, seen.onEvent);
  t.teardown(() => handle.stop());
  const relabelled = await api.patch(configmaps, 'default', 'a', 'merge', { metadata: { labels: { app: 'db' } } });
  await api.patch(configmaps, 'default', 'other', 'merge', { metadata: { labels: { app: 'web' } } });
  await api.patch(configmaps, 'default', 'other', 'merge', { data: { k: 'v' } });
  await seen.until(4);
  t.same(seen.summary(), ['ADDED a', 'DELETED a', 'ADDED other', 'MODIFIED other']);
  t.equal(seen.events[1]?.object.metadata?.resourceVersion, relabelled.metadata?.resourceVersion, 'the leaving object carries the new resourceVersion');
  t.same(seen.events[1]?.object.metadata?.labels, { app: 'web' }, 'the leaving object is shown as it last matched');
});

t.test('field selector and namespace scope filter events', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  await api.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, { metadata: { name: 'other' } });
  const seen = collector();
  const handle = api.watch(configmaps, { namespace: 'default', fieldSelector: 'metadata.name=wanted' }, seen.onEvent);
  t.teardown(() => handle.stop());
  await api.create(configmaps, 'default', { metadata: { name: 'unwanted' } });
  await api.create(configmaps, 'other', { metadata: { name: 'wanted' } });
  await api.create(configmaps, 'default', { metadata: { name: 'wanted' } });
  await seen.until(1);
  await settle();
  t.same(seen.summary(), ['ADDED wanted']);
  t.equal(seen.events[0]?.object.metadata?.namespace, 'default');
});

t.test('bookmarks carry only the current resourceVersion', async (t) => {
  const api = createEmbeddedApi({ bookmarkIntervalMs: 5 });
  t.teardown(() => api.close());
  // Bookmark timers are unref'd (they must not keep a process alive); this one keeps the test alive.
  const keepAlive = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(keepAlive));
  const seen = collector();
  const handle = api.watch(configmaps, { resourceVersion: api.currentResourceVersion(), allowWatchBookmarks: true }, seen.onEvent);
  await seen.until(1);
  handle.stop();
  t.equal(seen.events[0]?.type, 'BOOKMARK');
  t.same(seen.events[0]?.object, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: api.currentResourceVersion() } });
  const without = collector();
  const quiet = api.watch(configmaps, { resourceVersion: api.currentResourceVersion() }, without.onEvent);
  await new Promise((resolve) => setTimeout(resolve, 30));
  quiet.stop();
  t.equal(without.events.length, 0, 'no bookmarks unless allowed');
});

t.test('stop() ends delivery; a throwing consumer is stopped without hurting writers', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const seen = collector();
  const handle = api.watch(configmaps, {}, seen.onEvent);
  let calls = 0;
  api.watch(configmaps, {}, () => {
    calls += 1;
    throw new Error('consumer broke');
  });
  handle.stop();
  await api.create(configmaps, 'default', { metadata: { name: 'a' } });
  await api.create(configmaps, 'default', { metadata: { name: 'b' } });
  await settle();
  t.equal(seen.events.length, 0);
  t.equal(calls, 1);
});

t.test('a watcher that falls too far behind gets 410 and is stopped', async (t) => {
  const api = createEmbeddedApi({ maxQueuedEvents: 2 });
  t.teardown(() => api.close());
  for (const name of ['a', 'b', 'c']) await api.create(configmaps, 'default', { metadata: { name } });
  const seen = collector();
  api.watch(configmaps, { resourceVersion: '0' }, seen.onEvent);
  await seen.until(1);
  await settle();
  t.equal(seen.events.length, 1);
  t.match(seen.events[0], { type: 'ERROR', object: { code: 410 } });
});

t.test('1,000 creates reach one watcher in order', async (t) => {
  const api = createEmbeddedApi();
  t.teardown(() => api.close());
  const seen = collector();
  const handle = api.watch(configmaps, { namespace: 'default', resourceVersion: api.currentResourceVersion() }, seen.onEvent);
  t.teardown(() => handle.stop());
  for (let index = 0; index < 1000; index += 1) await api.create(configmaps, 'default', { metadata: { name: `cm-${index}` } });
  await seen.until(1000);
  const versions = seen.events.map((event) => Number(event.object.metadata?.resourceVersion));
  t.ok(versions.every((version, index) => index === 0 || version > (versions[index - 1] ?? 0)), 'resourceVersions increase');
  t.equal(new Set(seen.events.map((event) => event.object.metadata?.name)).size, 1000);
});

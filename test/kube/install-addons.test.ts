import t from 'tap';
import { autostashAddons } from '../../src/domain/execution/addons-catalog.js';
import { createKubeClient, KubeApiError, type KubeClient } from '../../src/kube/client.js';
import { installAddons } from '../../src/kube/install-addons.js';
import { startTestControlPlane } from '../helpers/control-plane.js';
import { memoryLogger } from '../helpers/logging.js';

const ADDONS = 'addons.kubestash.com/v1alpha1';

t.test('installAddons creates, updates what changed, and leaves foreign objects alone', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const { logger, lines } = memoryLogger();

  // KubeStash's own pvc-backup Function, installed by its chart: not ours to change.
  await client.create({ apiVersion: ADDONS, kind: 'Function', metadata: { name: 'pvc-backup' }, spec: { image: 'ghcr.io/kubestash/pvc:v0.28.0', args: ['backup'] } });

  const first = await installAddons(client, 'example.org/autostash:1', logger);
  t.same(first.foreign, ['Function/pvc-backup']);
  t.equal(first.created.length, 8);
  t.same(first.updated, []);
  const foreign = await client.get({ apiVersion: ADDONS, kind: 'Function', name: 'pvc-backup' });
  t.same(foreign.spec, { image: 'ghcr.io/kubestash/pvc:v0.28.0', args: ['backup'] }, 'the foreign Function is untouched');
  t.ok(lines.some((line) => line.msg === 'addon object exists and is not managed by autostash; left unchanged' && line.name === 'pvc-backup'));

  const stored = await client.get({ apiVersion: ADDONS, kind: 'Addon', name: 'workload-addon' });
  const desired = autostashAddons('example.org/autostash:1').find((o) => o.metadata?.name === 'workload-addon');
  t.same(stored.spec, desired?.spec, 'stored as built (the CRD keeps every field)');
  t.same(stored.metadata?.labels, { 'app.kubernetes.io/managed-by': 'autostash' });

  const again = await installAddons(client, 'example.org/autostash:1', logger);
  t.same(again.created, []);
  t.same(again.updated, [], 'nothing to change the second time');
  t.equal(again.unchanged.length, 8);

  // A user label survives an update; a new image updates every Function we manage.
  await client.patch({ apiVersion: ADDONS, kind: 'Function', name: 'workload-backup' }, { type: 'merge', patch: { metadata: { labels: { team: 'ops' } } } });
  const upgraded = await installAddons(client, 'example.org/autostash:2', logger);
  t.same(upgraded.updated.sort(), ['Function/kubedump-backup', 'Function/kubedump-restore', 'Function/pvc-restore', 'Function/workload-backup', 'Function/workload-restore']);
  const fn = await client.get({ apiVersion: ADDONS, kind: 'Function', name: 'workload-backup' });
  t.match(fn, { metadata: { labels: { team: 'ops', 'app.kubernetes.io/managed-by': 'autostash' } }, spec: { image: 'example.org/autostash:2' } });
});

t.test('installAddons throws what it cannot handle', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const { logger } = memoryLogger();
  const failing = { ...client, registerResource: client.registerResource.bind(client), find: client.find.bind(client), create: async () => { throw new Error('boom'); } };
  await t.rejects(installAddons(failing, 'img', logger), /boom/);
});

t.test('a race with another replica (AlreadyExists, Conflict) is retried', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const { logger } = memoryLogger();
  let creates = 0;
  let updates = 0;
  // The other replica wins the first create of every object and the first update.
  const racing: KubeClient = Object.assign(Object.create(client) as KubeClient, {
    create: async <T extends object>(object: T): Promise<T> => {
      creates += 1;
      await client.create(object as never);
      throw new KubeApiError(409, 'AlreadyExists', 'already exists');
    },
    update: async <T extends object>(object: T): Promise<T> => {
      updates += 1;
      if (updates === 1) throw new KubeApiError(409, 'Conflict', 'the object has been modified');
      return (await client.update(object as never)) as T;
    },
  });
  const first = await installAddons(racing, 'img:1', logger);
  t.equal(first.unchanged.length, 9, 'each object found on retry, already as wanted');
  t.equal(creates, 9);
  const second = await installAddons(racing, 'img:2', logger);
  t.equal(second.updated.length, 6, 'every Function updated after the conflict');
});

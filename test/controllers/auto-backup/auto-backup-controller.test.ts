import t, { type Test } from 'tap';
import { clusterViewOver } from '../../../src/kube/informer-view.js';
import { createSharedInformers } from '../../../src/controllers/informer.js';
import { startAutoBackupController, type EventSink } from '../../../src/controllers/auto-backup/auto-backup-controller.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { eventually, silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';

const BC = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
const DEPLOYMENT = { apiVersion: 'apps/v1', kind: 'Deployment' };

interface RecordedEvent {
  object: string;
  type: string;
  reason: string;
  message: string;
}

function blueprint(name: string, schedule: string, extra: { deletionPolicy?: string } = {}): KubeObject {
  return {
    apiVersion: 'core.kubestash.com/v1alpha1',
    kind: 'BackupBlueprint',
    metadata: { name, namespace: 'demo' },
    spec: {
      usagePolicy: { allowedNamespaces: { from: 'All' } },
      backupConfigurationTemplate: {
        ...extra,
        backends: [{ name: 'gcs', storageRef: { name: 'gcs', namespace: 'demo' }, retentionPolicy: { name: 'keep', namespace: 'demo' } }],
        sessions: [{
          name: 'nightly',
          scheduler: { schedule, jobTemplate: { backoffLimit: 1 } },
          repositories: [{ name: '${targetName}-repo', backend: 'gcs', directory: '/${namespace}/${targetName}', encryptionSecret: { name: 'encrypt', namespace: 'demo' } }],
          addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup', params: { paths: '${paths:=/data}' } }] },
        }],
      },
    },
  };
}

const annotations = (blueprintName: string) => ({
  'blueprint.kubestash.com/name': blueprintName,
  'blueprint.kubestash.com/namespace': 'demo',
  'variables.kubestash.com/namespace': 'demo',
  'variables.kubestash.com/targetName': 'web',
});

function deployment(name: string, extraAnnotations: Record<string, string> | undefined): KubeObject {
  return {
    ...DEPLOYMENT,
    metadata: { name, namespace: 'demo', ...(extraAnnotations ? { annotations: extraAnnotations } : {}) },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  };
}

async function setup(t: Test) {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const logger = silentLogger();
  const informers = createSharedInformers(client, { logger });
  const { view } = clusterViewOver(informers, client);
  const recorded: RecordedEvent[] = [];
  const events: EventSink = {
    record: (object, type, reason, message) => recorded.push({ object: `${object.metadata?.namespace}/${object.metadata?.name}`, type, reason, message }),
  };
  const controller = startAutoBackupController({ client, informers, view, events, logger });
  informers.start();
  t.teardown(async () => {
    await controller.stop();
    await informers.stop();
  });
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } });
  await client.create({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage', metadata: { name: 'gcs', namespace: 'demo' }, spec: { storage: { provider: 'gcs', gcs: { bucket: 'b' } }, usagePolicy: { allowedNamespaces: { from: 'All' } } } });
  await client.create({ apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy', metadata: { name: 'keep', namespace: 'demo' }, spec: { maxRetentionPeriod: '30d', usagePolicy: { allowedNamespaces: { from: 'All' } } } });
  await informers.whenSynced();
  const find = (name: string) => client.find(({ ...BC, namespace: 'demo', name }));
  const settled = async () => {
    await eventually('the caches to catch up', () => informers.hasSynced());
    await new Promise((r) => setTimeout(r, 100));
    await controller.whenIdle();
  };
  return { client, controller, recorded, find, settled, informers };
}

const scheduleOf = (configuration: KubeObject | undefined): unknown =>
  (configuration?.spec as { sessions?: Array<{ scheduler?: { schedule?: string } }> } | undefined)?.sessions?.[0]?.scheduler?.schedule;

async function patchAnnotations(client: KubeClient, name: string, value: Record<string, string | null>) {
  await client.patch({ ...DEPLOYMENT, namespace: 'demo', name }, { type: 'merge', patch: { metadata: { annotations: value } } });
}

t.test('life cycle: create, follow the blueprint, no flapping, replace, delete', async (t) => {
  const { client, controller, recorded, find, settled } = await setup(t);
  await client.create(blueprint('nightly', '0 1 * * *'));
  await client.create(deployment('web', annotations('nightly')));

  const created = await eventually('the generated configuration', () => find('deployment-web'));
  t.equal(scheduleOf(created), '0 1 * * *');
  t.same((created.spec as { target: unknown }).target, { apiGroup: 'apps', kind: 'Deployment', name: 'web', namespace: 'demo' });
  t.equal(created.metadata?.labels?.['kubestash.com/invoker-name'], 'nightly');
  t.ok(recorded.some((e) => e.object === 'demo/web' && e.reason === 'BackupConfigurationCreated'));
  const condition = await eventually('the GeneratedFromBlueprint condition', async () => {
    const stored = await find('deployment-web');
    return ((stored?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? []).find((c) => c.type === 'GeneratedFromBlueprint');
  });
  t.equal(condition.status, 'True');

  await settled();
  const before = (await find('deployment-web'))?.metadata?.resourceVersion;
  controller.enqueue({ ...DEPLOYMENT, namespace: 'demo', name: 'web' });
  await settled();
  t.equal((await find('deployment-web'))?.metadata?.resourceVersion, before, 'a reconcile with nothing changed writes nothing');

  const stored = await client.get({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupBlueprint', namespace: 'demo', name: 'nightly' });
  await client.update({ ...stored, spec: blueprint('nightly', '0 3 * * *').spec });
  await eventually('the configuration to follow the edited blueprint', async () => scheduleOf(await find('deployment-web')) === '0 3 * * *');

  await client.create(blueprint('hourly', '0 * * * *'));
  await patchAnnotations(client, 'web', { 'blueprint.kubestash.com/name': 'hourly' });
  await eventually('the configuration from the other blueprint', async () => (await find('deployment-web'))?.metadata?.labels?.['kubestash.com/invoker-name'] === 'hourly');
  t.equal(scheduleOf(await find('deployment-web')), '0 * * * *');

  await patchAnnotations(client, 'web', { 'blueprint.kubestash.com/name': null, 'blueprint.kubestash.com/namespace': null });
  await eventually('the configuration to go with the annotations', async () => (await find('deployment-web')) === undefined);
  t.ok(recorded.some((e) => e.reason === 'BackupConfigurationDeleted' && /annotations were removed/.test(e.message)));

  await patchAnnotations(client, 'web', annotations('nightly'));
  await eventually('the configuration to come back', () => find('deployment-web'));
  await client.delete({ ...DEPLOYMENT, namespace: 'demo', name: 'web' });
  await eventually('the configuration to go with the workload', async () => (await find('deployment-web')) === undefined);
});

t.test('problems are reported at the workload and never destroy a working configuration', async (t) => {
  const { client, recorded, find, settled } = await setup(t);
  await client.create(blueprint('nightly', '0 1 * * *'));
  await client.create(deployment('web', annotations('nightly')));
  await eventually('the generated configuration', () => find('deployment-web'));

  await patchAnnotations(client, 'web', { 'blueprint.kubestash.com/session-names': 'weekly' });
  await eventually('a SessionUnknown warning', () => recorded.some((e) => e.type === 'Warning' && e.reason === 'SessionUnknown' && /weekly/.test(e.message)));
  await settled();
  t.ok(await find('deployment-web'), 'the last good configuration is kept');
  const condition = ((await find('deployment-web'))?.status as { conditions?: Array<{ type: string; status: string; message: string }> } | undefined)?.conditions?.find((c) => c.type === 'GeneratedFromBlueprint');
  t.equal(condition?.status, 'False');
  t.match(condition?.message, /weekly/);

  await client.create(deployment('api', { ...annotations('missing-blueprint') }));
  await eventually('a BlueprintNotFound warning', () => recorded.some((e) => e.object === 'demo/api' && e.reason === 'BlueprintNotFound'));
  t.equal(await find('deployment-api'), undefined);

  await client.create({ ...BC, metadata: { name: 'deployment-db', namespace: 'demo' }, spec: { backends: [{ name: 'gcs', storageRef: { name: 'gcs', namespace: 'demo' }, retentionPolicy: { name: 'keep', namespace: 'demo' } }], sessions: [{ name: 'mine', scheduler: { schedule: '0 5 * * *', jobTemplate: {} }, addon: { name: 'workload-addon', tasks: [{ name: 'logical-backup' }] }, repositories: [{ name: 'mine', backend: 'gcs', directory: '/mine', encryptionSecret: { name: 'e' } }] }] } });
  await client.create(deployment('db', annotations('nightly')));
  await eventually('a conflict warning', () => recorded.some((e) => e.object === 'demo/db' && e.reason === 'BackupConfigurationConflict'));
  t.equal(((await find('deployment-db'))?.spec as { sessions: Array<{ name: string }> }).sessions[0]?.name, 'mine', 'a hand-written configuration with the same name is left alone');
});

t.test('blueprint deletion: OnDelete removes the configurations, otherwise they stay', async (t) => {
  const { client, find, settled } = await setup(t);
  await client.create(blueprint('ephemeral', '0 1 * * *', { deletionPolicy: 'OnDelete' }));
  await client.create(blueprint('durable', '0 2 * * *'));
  await client.create(deployment('a', annotations('ephemeral')));
  await client.create(deployment('b', annotations('durable')));
  await eventually('both configurations', async () => (await find('deployment-a')) && (await find('deployment-b')));
  await client.delete({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupBlueprint', namespace: 'demo', name: 'ephemeral' });
  await client.delete({ apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupBlueprint', namespace: 'demo', name: 'durable' });
  await eventually('the OnDelete configuration to go', async () => (await find('deployment-a')) === undefined);
  await settled();
  t.ok(await find('deployment-b'), 'without OnDelete the configuration stays');
});

t.test('50 concurrent updates of one workload give exactly one configuration', async (t) => {
  const { client, find, settled } = await setup(t);
  await client.create(blueprint('nightly', '0 1 * * *'));
  await client.create(deployment('web', annotations('nightly')));
  await Promise.all(Array.from({ length: 50 }, (_, i) => patchAnnotations(client, 'web', { 'example.com/touch': String(i) })));
  await eventually('the configuration', () => find('deployment-web'));
  await settled();
  const all = await client.list(BC, { namespace: 'demo' });
  t.same(all.items.map((c) => c.metadata?.name), ['deployment-web']);
});

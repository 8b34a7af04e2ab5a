import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import t from 'tap';
import { startManager, type Controller, type Manager } from '../../src/controllers/manager.js';
import { createWorkQueue } from '../../src/controllers/work-queue.js';
import type { KubeObject } from '../../src/domain/kube-object.js';
import { startControlPlane } from '../../src/embedded/control-plane.js';
import { createKubeClient } from '../../src/kube/client.js';
import { memoryLogger } from '../helpers/logging.js';
import { eventually } from '../helpers/eventually.js';

const dataDir = await mkdtemp(join(tmpdir(), 'autostash-manager-'));
const plane = await startControlPlane({ dataDir, port: 0, logger: pino({ level: 'silent' }) });
t.teardown(async () => {
  await plane.close();
  await rm(dataDir, { recursive: true, force: true });
});
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(plane.kubeconfigPath);
const client = createKubeClient(kubeConfig);
t.teardown(() => client.close());
await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mgr' } });

const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
const FAST = { leaseDurationSeconds: 1.5, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.1 };

/** Marks labelled ConfigMaps with who reconciled them, through a queue fed by a shared informer. */
function stamping(name: string): Controller {
  return {
    name,
    async start({ client: kube, informers, recorder, signal }) {
      const informer = informers.informerFor(CM, { namespace: 'mgr', labelSelector: 'managed=yes' });
      const queue = createWorkQueue(
        async (key) => {
          const [namespace, objectName] = key.split('/') as [string, string];
          const object = informer.get(namespace, objectName);
          if (object === undefined || object.metadata?.annotations?.['stamped-by'] !== undefined) return;
          const updated = await kube.patch({ ...CM, namespace, name: objectName }, { type: 'merge', patch: { metadata: { annotations: { 'stamped-by': name } } } });
          recorder.normal(updated, 'Stamped', `stamped by ${name}`);
        },
        { name },
      );
      const enqueue = (object: KubeObject) => queue.add(`${object.metadata?.namespace}/${object.metadata?.name}`);
      informer.addEventHandler({ add: enqueue, update: (_previous, object) => enqueue(object) });
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await queue.shutdown();
    },
  };
}

const stampOf = async (name: string): Promise<string | undefined> => (await client.get({ ...CM, namespace: 'mgr', name })).metadata?.annotations?.['stamped-by'];

t.test('controllers run only on the leader; the standby takes over when the leader stops', async (t) => {
  const logs = [memoryLogger('info'), memoryLogger('info')];
  const managers: Manager[] = ['one', 'two'].map((id, i) =>
    startManager({
      kubeConfig,
      logger: (logs[i] as ReturnType<typeof memoryLogger>).logger,
      leaderElection: { namespace: 'default', name: 'manager-test', identity: `manager-${id}`, ...FAST },
      controllers: [stamping(`stamper-${id}`)],
    }),
  );
  t.teardown(() => Promise.all(managers.map((m) => m.stop())));
  const leader = await eventually('a leader', () => managers.find((m) => m.isLeader()));
  const standby = managers.find((m) => m !== leader) as Manager;
  t.equal(standby.isLeader(), false);
  t.equal(standby.hasSynced(), true, 'a standby has nothing to sync');
  await eventually('the leader to sync', () => leader.hasSynced());

  await client.create({ ...CM, metadata: { namespace: 'mgr', name: 'first', labels: { managed: 'yes' } } });
  await client.create({ ...CM, metadata: { namespace: 'mgr', name: 'ignored' } });
  const firstStamp = await eventually('the first object to be stamped', () => stampOf('first'));
  t.equal(firstStamp, `stamper-${leader.identity.replace('manager-', '')}`, 'stamped by the leader’s controller');
  await eventually('the Event', async () =>
    (await client.list<KubeObject & { reason?: string; count?: number }>({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'mgr' })).items.find((e) => e.reason === 'Stamped'),
  );

  await leader.stop();
  t.equal(leader.isLeader(), false);
  await eventually('the standby to lead', () => standby.isLeader());
  await client.create({ ...CM, metadata: { namespace: 'mgr', name: 'second', labels: { managed: 'yes' } } });
  const secondStamp = await eventually('the second object to be stamped', () => stampOf('second'));
  t.equal(secondStamp, `stamper-${standby.identity.replace('manager-', '')}`, 'the new leader reconciles');
  t.equal(await stampOf('ignored'), undefined, 'the label selector scopes the informer');
  const leaderLog = (logs[managers.indexOf(leader)] as ReturnType<typeof memoryLogger>).lines;
  t.ok(leaderLog.some((line) => line.msg === 'controllers started'));
  t.ok(leaderLog.some((line) => line.msg === 'controllers stopped'));
  await leader.stop(); // idempotent
});

t.test('a failing controller is logged and does not stop the others; a slow one is waited for up to the grace period', async (t) => {
  const { logger, lines } = memoryLogger('info');
  let healthyStarted = false;
  const manager = startManager({
    kubeConfig,
    logger,
    leaderElection: { namespace: 'default', name: 'manager-failing', ...FAST },
    shutdownGraceMs: 50,
    controllers: [
      {
        name: 'broken',
        start: () => {
          throw new Error('cannot start');
        },
      },
      {
        name: 'healthy',
        start: () => {
          healthyStarted = true;
        },
      },
      { name: 'stubborn', start: () => new Promise<void>(() => undefined) },
    ],
  });
  await eventually('leading', () => manager.isLeader() && healthyStarted);
  await eventually('the failure to be logged', () => lines.find((line) => line.msg === 'controller failed'));
  t.match(lines.find((line) => line.msg === 'controller failed'), { controller: 'broken', err: 'cannot start' });
  t.ok(manager.hasSynced(), 'no informers asked for: synced');
  await manager.stop();
  t.ok(lines.some((line) => line.msg === 'controllers did not stop within the grace period'));
  t.equal(manager.isLeader(), false);
});

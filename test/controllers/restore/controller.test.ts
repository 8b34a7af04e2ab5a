/**
 * The manager-facing factory: one Controller that runs the RestoreSession controller for a term,
 * registers its metrics once on the given registry, and stops when the term's signal aborts.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { createEventRecorder } from '../../../src/controllers/event-recorder.js';
import { createSharedInformers } from '../../../src/controllers/informer.js';
import { restoreSessionController } from '../../../src/controllers/restore/controller.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { silentLogger, startTestControlPlane } from '../../helpers/control-plane.js';
import { eventually } from '../../helpers/eventually.js';
import { NS, restoreSession, RS_TYPE } from './harness.js';

t.test('restoreSessionController runs per term on the shared informers, with the given clock and registry', async (t) => {
  const { kubeConfig } = await startTestControlPlane(t);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const logger = silentLogger();
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const registry = new Registry();
  const fixed = new Date('2030-01-01T00:00:00Z');
  const controller = restoreSessionController({ image: 'autostash:test', serviceAccountName: 'restorer', registry, now: () => fixed });
  t.equal(controller.name, 'restore-session');

  const informers = createSharedInformers(client, { logger, initialBackoffMs: 50 });
  const recorder = createEventRecorder({ client, logger });
  const abort = new AbortController();
  const running = controller.start({ client, informers, recorder, signal: abort.signal, logger });
  informers.start();
  await client.create(restoreSession('no-repo', { repository: 'missing' }));
  const invalid = await eventually('the RestoreSession to be Invalid', async () => {
    const rs = await client.find<{ status?: { phase?: string; conditions?: Array<{ type: string; lastTransitionTime: string }> } } & object>({ ...RS_TYPE, namespace: NS, name: 'no-repo' });
    return rs?.status?.phase === 'Invalid' ? rs : undefined;
  });
  t.equal(invalid.status?.conditions?.find((c) => c.type === 'ValidationPassed')?.lastTransitionTime, '2030-01-01T00:00:00Z', 'the given clock');
  t.match(await registry.getSingleMetricAsString('autostash_restore_sessions_total'), /phase="Invalid"\} 1/, 'the given registry');

  abort.abort();
  await running;
  await recorder.flush();
  await informers.stop();
  // A second term registers nothing twice (the metrics belong to the factory).
  t.doesNotThrow(() => restoreSessionController({ image: 'autostash:test' }));
});

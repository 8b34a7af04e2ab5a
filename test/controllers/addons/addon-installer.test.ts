import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { addonInstaller } from '../../../src/controllers/addons/addon-installer.js';
import type { ControllerContext } from '../../../src/controllers/manager.js';
import { startControlPlane } from '../../../src/embedded/control-plane.js';
import { installCrds } from '../../../src/embedded/install-autostash.js';
import { createKubeClient } from '../../../src/kube/client.js';
import { eventually, silentLogger } from '../../helpers/control-plane.js';
import { memoryLogger } from '../../helpers/logging.js';

t.test('installs the catalog on leadership, retrying until the API accepts it', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'autostash-addons-'));
  // No CRDs yet: the first attempts fail as they would on a cluster before the chart's CRDs exist.
  const plane = await startControlPlane({ dataDir, port: 0, logger: silentLogger() });
  t.teardown(async () => {
    await plane.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  const client = createKubeClient(kubeConfig);
  t.teardown(() => client.close());
  const { logger, lines } = memoryLogger();
  const abort = new AbortController();
  const started = addonInstaller({ image: 'registry.local/autostash:test', retryBaseMs: 20 }).start({
    client,
    logger,
    signal: abort.signal,
  } as unknown as ControllerContext);
  await eventually('a failed attempt is logged', () => lines.some((line) => line.msg === 'installing addons failed'));
  t.pass('a failure is logged and retried');
  await installCrds(plane.api);
  await started;
  const addons = await client.list({ apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Addon' });
  t.same(addons.items.map((addon) => addon.metadata?.name).sort(), ['kubedump-addon', 'pvc-addon', 'workload-addon']);
  const functions = await client.list({ apiVersion: 'addons.kubestash.com/v1alpha1', kind: 'Function' });
  t.ok(functions.items.every((fn) => (fn.spec as { image?: string }).image === 'registry.local/autostash:test'), 'Functions run the configured image');
  abort.abort();
});

t.test('stops retrying when leadership ends', async (t) => {
  const abort = new AbortController();
  const failing = {
    list: () => Promise.reject(new Error('connection refused')),
    find: () => Promise.reject(new Error('connection refused')),
    get: () => Promise.reject(new Error('connection refused')),
    create: () => Promise.reject(new Error('connection refused')),
  };
  const { logger } = memoryLogger();
  const started = addonInstaller({ image: 'x' }).start({ client: failing, logger, signal: abort.signal } as unknown as ControllerContext);
  setTimeout(() => abort.abort(), 50);
  await started;
  t.pass('start() settled after the abort');
});

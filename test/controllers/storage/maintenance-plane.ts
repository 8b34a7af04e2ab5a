/**
 * The plane the maintenance controllers are tested on: the embedded control plane whose
 * `autostash` is a stand-in for the executor (the real verbs are tested with the executor), so Job
 * outcomes are decided by the test: the stand-in exits with $STANDIN_EXIT (default 1) after
 * $STANDIN_DELAY_MS, and writes nothing to the API. Tests set both through the BackupStorage's
 * runtimeSettings.container.env, which every maintenance Job carries.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Test } from 'tap';
import { createEventRecorder } from '../../../src/controllers/event-recorder.js';
import { createSharedInformers } from '../../../src/controllers/informer.js';
import type { Controller } from '../../../src/controllers/manager.js';
import type { KubeObject } from '../../../src/domain/kube-object.js';
import { startControlPlane } from '../../../src/embedded/control-plane.js';
import { installCrds } from '../../../src/embedded/install-autostash.js';
import { createKubeClient, type KubeClient } from '../../../src/kube/client.js';
import { silentLogger } from '../../helpers/control-plane.js';

const STANDIN = `process.stderr.write('stand-in executor: ' + process.argv.slice(2).join(' ') + '\\n');
setTimeout(() => {
  if (process.env.STANDIN_EXIT !== '0') process.stderr.write('stand-in executor failed on purpose\\n');
  process.exit(Number(process.env.STANDIN_EXIT ?? '1'));
}, Number(process.env.STANDIN_DELAY_MS ?? '0'));
`;

export const NS = 'demo';

export async function startMaintenancePlane(t: Test, controllers: Controller[]) {
  const dataDir = await mkdtemp(join(tmpdir(), 'autostash-maint-'));
  const cliPath = join(dataDir, 'standin-executor.mjs');
  await writeFile(cliPath, STANDIN);
  const plane = await startControlPlane({ dataDir, port: 0, logger: silentLogger(), cliPath, jobBackoffBaseMs: 50 });
  await installCrds(plane.api);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  const client: KubeClient = createKubeClient(kubeConfig);
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const logger = silentLogger();
  const informers = createSharedInformers(client, { logger });
  const recorder = createEventRecorder({ client, logger });
  const abort = new AbortController();
  informers.start();
  const running = controllers.map((controller) => controller.start({ client, informers, recorder, signal: abort.signal, logger }));
  t.teardown(async () => {
    abort.abort();
    await Promise.all(running);
    await recorder.flush();
    await informers.stop();
    client.close();
    await plane.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const events = async (reason: string) => {
    await recorder.flush();
    return (await client.list(({ apiVersion: 'v1', kind: 'Event' }), { namespace: NS })).items.filter((event) => (event as { reason?: string }).reason === reason) as Array<KubeObject & { message: string; type: string }>;
  };
  return { client, dataDir, events };
}

/** A local BackupStorage whose maintenance Jobs exit with `exit` after `delayMs`. */
export function localStorage(name: string, dataDir: string, exit: number, delayMs = 0): KubeObject {
  return {
    apiVersion: 'storage.kubestash.com/v1alpha1',
    kind: 'BackupStorage',
    metadata: { name, namespace: NS },
    spec: {
      storage: { provider: 'local', local: { mountPath: '/safe/data', hostPath: { path: join(dataDir, 'backend', name), type: 'DirectoryOrCreate' } } },
      deletionPolicy: 'Delete',
      runtimeSettings: { container: { env: [{ name: 'STANDIN_EXIT', value: String(exit) }, { name: 'STANDIN_DELAY_MS', value: String(delayMs) }] } },
    },
  };
}

export const STORAGE = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage' };
export const REPOSITORY = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Repository' };
export const SNAPSHOT = { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'Snapshot' };
export const BC = { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' };
export const JOB = { apiVersion: 'batch/v1', kind: 'Job' };

/** Writes a condition into an object's status as the executor would (read-modify-write). */
export async function writeCondition(client: KubeClient, ref: { apiVersion: string; kind: string; name: string }, condition: { type: string; status: string; reason: string; message?: string }) {
  for (;;) {
    const current = await client.get({ ...ref, namespace: NS });
    const status = (current.status ?? {}) as { conditions?: Array<Record<string, unknown>> };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== condition.type);
    conditions.push({ ...condition, lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
    try {
      await client.updateStatus({ ...current, status: { ...status, conditions } });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
}

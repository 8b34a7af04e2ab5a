import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { existsSync } from 'node:fs';
import { startControlPlane, type ControlPlane } from '../../src/embedded/control-plane.js';
import { installCrds } from '../../src/embedded/install-autostash.js';
import { repoRoot } from './paths.js';

/**
 * The built CLI that `autostash` in a Job's command runs on the embedded plane. `npm test` builds it
 * before tap starts; run `npm run build` first when running a single test file after changing src/.
 */
export const builtCliPath = join(repoRoot, 'dist', 'cli.js');
export const builtCliMissing: string | false = existsSync(builtCliPath) ? false : `${builtCliPath} is missing: run npm run build first`;

/** A logger that drops everything (tests assert on behaviour, not on log lines). */
export const silentLogger = (): Logger => pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));

/** An embedded control plane on a free port with autostash's CRDs installed, closed at teardown. */
export async function startTestControlPlane(
  t: { teardown(fn: () => unknown): void },
  options: { jobBackoffBaseMs?: number } = {},
): Promise<{ plane: ControlPlane; kubeConfig: KubeConfig; dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'autostash-plane-'));
  const plane = await startControlPlane({ dataDir, port: 0, logger: silentLogger(), cliPath: builtCliPath, ...options });
  t.teardown(async () => {
    await plane.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await installCrds(plane.api);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  return { plane, kubeConfig, dataDir };
}

export { eventually } from './eventually.js';

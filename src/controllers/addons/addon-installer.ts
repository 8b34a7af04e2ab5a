/**
 * Installs autostash's Addons and Functions (SPEC §5) whenever this process becomes leader, so the
 * catalog follows the running version (image upgrades included) without a separate install step.
 * Retries with backoff until it succeeds or leadership ends.
 */
import { installAddons } from '../../kube/install-addons.js';
import type { Controller } from '../manager.js';

export interface AddonInstallerOptions {
  /** The image the Functions run (`autostash exec …`). */
  image: string;
  /** First retry delay; doubles up to a minute. Default 1 s. */
  retryBaseMs?: number;
}

export function addonInstaller(options: AddonInstallerOptions): Controller {
  const retryBaseMs = options.retryBaseMs ?? 1000;
  return {
    name: 'addon-installer',
    async start({ client, logger, signal }) {
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          const result = await installAddons(client, options.image, logger);
          logger.info({ created: result.created.length, updated: result.updated.length, foreign: result.foreign }, 'addons installed');
          return;
        } catch (error) {
          const delayMs = Math.min(retryBaseMs * 2 ** attempt, 60_000);
          logger.warn({ err: error instanceof Error ? error.message : String(error), retryInMs: delayMs }, 'installing addons failed');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delayMs);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            }, { once: true });
          });
        }
      }
    },
  };
}

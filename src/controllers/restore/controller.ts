import type { Registry } from 'prom-client';
import type { JobRole, JobServiceAccountSettings } from '../../domain/execution/job-service-accounts.js';
import { untilAborted, type Controller } from '../manager.js';
import { createRestoreSessionMetrics } from './metrics.js';
import { startRestoreSessionController } from './restore-session-controller.js';

export interface RestoreSessionControllerFactoryOptions {
  /** The image of the restore Jobs (autostash itself). */
  image: string;
  /** ServiceAccount of the restore Jobs (when the addon's jobTemplate names none). */
  serviceAccountName?: string;
  /** ServiceAccounts per Job role (restore, kubedumpRestore for manifests); a missing role uses serviceAccountName. */
  serviceAccounts?: JobServiceAccountSettings['serviceAccounts'];
  /** Per-role accounts created on demand in a restore's namespace (configuredRoleAccounts). Default none. */
  provisionedJobAccounts?: Readonly<Partial<Record<JobRole, string>>>;
  /** Where the restore metrics are registered (serve passes the webhook app's). Default: a registry of its own. */
  registry?: Registry;
  /** The clock (tests pass a fake). Default: the system clock. */
  now?: () => Date;
}

/**
 * The RestoreSession controller as the manager runs it: one instance per leadership term. The
 * metrics are registered once (here), so a new term keeps counting on the same series.
 */
export function restoreSessionController(options: RestoreSessionControllerFactoryOptions): Controller {
  const metrics = createRestoreSessionMetrics(options.registry);
  return {
    name: 'restore-session',
    async start(context) {
      const running = startRestoreSessionController({
        client: context.client,
        informers: context.informers,
        recorder: context.recorder,
        metrics,
        logger: context.logger,
        image: options.image,
        ...(options.serviceAccountName === undefined ? {} : { serviceAccountName: options.serviceAccountName }),
        ...(options.serviceAccounts === undefined ? {} : { serviceAccounts: options.serviceAccounts }),
        ...(options.provisionedJobAccounts === undefined ? {} : { provisionedJobAccounts: options.provisionedJobAccounts }),
        ...(options.now === undefined ? {} : { now: options.now }),
      });
      await untilAborted(context.signal);
      await running.stop();
    },
  };
}

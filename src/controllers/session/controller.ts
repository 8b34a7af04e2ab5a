import type { Registry } from 'prom-client';
import type { JobRole, JobServiceAccountSettings } from '../../domain/execution/job-service-accounts.js';
import { untilAborted, type Controller } from '../manager.js';
import { startBackupSessionController } from './backup-session-controller.js';
import { planBackup } from './execution-planner.js';
import { createBackupSessionMetrics } from './metrics.js';
import { planRetention } from './retention-plan.js';

export interface BackupSessionControllerFactoryOptions {
  /** The image of the executor Jobs (autostash itself). */
  image: string;
  /** ServiceAccount of the backup and retention Jobs (when the addon's jobTemplate names none). */
  serviceAccountName?: string;
  /** ServiceAccounts per Job role (backup, kubedumpBackup, maintenance for retention); a missing role uses serviceAccountName. */
  serviceAccounts?: JobServiceAccountSettings['serviceAccounts'];
  /** Per-role accounts created on demand in a session's namespace (configuredRoleAccounts). Default none. */
  provisionedJobAccounts?: Readonly<Partial<Record<JobRole, string>>>;
  /** Where the backup metrics are registered (serve passes the webhook app's). Default: a registry of its own. */
  registry?: Registry;
  /** The clock (tests pass a fake). Default: the system clock. */
  now?: () => Date;
  /** How long a session waits for its Repositories, BackupStorages and encryption Secrets. Default 5 min. */
  prerequisitesTimeoutMs?: number;
}

/**
 * The BackupSession controller as the manager runs it: one instance per leadership term. The
 * metrics are registered once (here), so a new term keeps counting on the same series.
 */
export function backupSessionController(options: BackupSessionControllerFactoryOptions): Controller {
  const metrics = createBackupSessionMetrics(options.registry);
  return {
    name: 'backup-session',
    async start(context) {
      const running = startBackupSessionController({
        client: context.client,
        informers: context.informers,
        recorder: context.recorder,
        metrics,
        planner: { planBackup, planRetention },
        logger: context.logger,
        image: options.image,
        ...(options.serviceAccountName === undefined ? {} : { serviceAccountName: options.serviceAccountName }),
        ...(options.serviceAccounts === undefined ? {} : { serviceAccounts: options.serviceAccounts }),
        ...(options.provisionedJobAccounts === undefined ? {} : { provisionedJobAccounts: options.provisionedJobAccounts }),
        ...(options.now === undefined ? {} : { now: options.now }),
        ...(options.prerequisitesTimeoutMs === undefined ? {} : { prerequisitesTimeoutMs: options.prerequisitesTimeoutMs }),
      });
      await untilAborted(context.signal);
      await running.stop();
    },
  };
}

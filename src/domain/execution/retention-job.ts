/**
 * The retention Job of a BackupSession (SPEC §10): `autostash exec retention` applies each repository's
 * RetentionPolicy after the session, with every local backend of the session mounted. Pure.
 */
import type { BackupSession, BackupStorage } from '../../api/index.js';
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../kube-object.js';
import { validNameWithPrefixNSuffix } from '../naming.js';
import { EXECUTOR_COMMAND } from './addons-catalog.js';
import { executorJob, type JobOwner } from './job-skeleton.js';
import { BACKUP_SESSION_LABEL, INVOKER_KIND_LABEL, INVOKER_NAME_LABEL, SESSION_NAME_LABEL } from './labels.js';

/** KubeStash's name prefix of retention work (constant PrefixRetentionPolicy). */
export const RETENTION_JOB_PREFIX = 'retentionpolicy';

export interface BuildRetentionJobInput {
  backupSession: BackupSession;
  /** BackupStorages of the session's repositories; local ones are mounted. */
  storages: readonly BackupStorage[];
  image: string;
  serviceAccountName?: string;
  /** The BackupSession (controller owner of the Job). */
  owner: JobOwner;
}

/**
 * The Job `retentionpolicy-<backupSession>` (ValidNameWithPrefixNSuffix) running
 * `autostash exec retention --namespace=<ns> --backupsession=<name>`, labelled with the invoker, session
 * and BackupSession. Errors come from the local backends (two at one mountPath).
 */
export function buildRetentionJob(input: BuildRetentionJobInput): { job: KubeObject; errors: FieldError[] } {
  const { backupSession } = input;
  const name = backupSession.metadata?.name ?? '';
  const namespace = backupSession.metadata?.namespace ?? '';
  const invoker = backupSession.spec?.invoker;
  return executorJob({
    name: validNameWithPrefixNSuffix(RETENTION_JOB_PREFIX, name, ''),
    namespace,
    component: 'retention-policy',
    owner: input.owner,
    labels: {
      ...(invoker?.kind ? { [INVOKER_KIND_LABEL]: invoker.kind } : {}),
      ...(invoker?.name ? { [INVOKER_NAME_LABEL]: invoker.name } : {}),
      ...(backupSession.spec?.session ? { [SESSION_NAME_LABEL]: backupSession.spec.session } : {}),
      [BACKUP_SESSION_LABEL]: name,
    },
    container: {
      image: input.image,
      command: [...EXECUTOR_COMMAND],
      args: ['exec', 'retention', `--namespace=${namespace}`, `--backupsession=${name}`],
    },
    localStorages: input.storages,
    ...(input.serviceAccountName !== undefined ? { serviceAccountName: input.serviceAccountName } : {}),
  });
}

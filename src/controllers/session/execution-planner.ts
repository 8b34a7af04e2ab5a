/**
 * The backup half of the production ExecutionPlanner: resolves the session's addon task to its Function,
 * works out the target's components and builds one backup Job per component with the pure
 * builders of src/domain/execution. Errors become a condition reason and a message naming the field.
 */
import type { Addon, AddonFunction } from '../../api/index.js';
import { MANIFEST_BACKUP_TASK } from '../../domain/execution/addons-catalog.js';
import { buildBackupJobs } from '../../domain/execution/backup-jobs.js';
import { jobServiceAccountField } from '../../domain/execution/job-service-accounts.js';
import { normalizeTaskName, resolveTask } from '../../domain/execution/resolve-task.js';
import { targetComponents } from '../../domain/execution/target-components.js';
import { formatFieldError } from '../../domain/errors.js';
import type { BackupPlan, ClusterObjects } from './plan.js';

/** The session's first task (KubeStash sessions run one backup task per addon). */
export function planBackup(objects: ClusterObjects): BackupPlan {
  const { backupSession, configuration, session } = objects;
  const taskRef = session.addon?.tasks?.[0];
  const resolved = resolveTask({
    addons: objects.addons as Addon[],
    functions: objects.functions as AddonFunction[],
    addonName: session.addon?.name ?? '',
    taskName: taskRef?.name ?? '',
    kind: 'backup',
  });
  if (!resolved.ok) return { ok: false, reason: resolved.reason, message: resolved.message };
  const manifest = normalizeTaskName(resolved.task.name ?? '') === normalizeTaskName(MANIFEST_BACKUP_TASK);
  const sessionIndex = Math.max(0, (configuration.spec?.sessions ?? []).findIndex((candidate) => candidate.name === session.name));
  const components = targetComponents({
    target: objects.target,
    pods: objects.pods,
    nodes: objects.nodes,
    claims: objects.claims,
    taskTargetVolumes: taskRef?.targetVolumes,
    mode: 'backup',
    manifest,
  });
  if (components.errors.length > 0) return { ok: false, reason: 'TargetNotReady', message: components.errors.map(formatFieldError).join('; ') };
  const built = buildBackupJobs({
    backupSession,
    configuration,
    session,
    resolved,
    components: components.components,
    storages: objects.storages,
    image: objects.image,
    ...jobServiceAccountField(objects, manifest ? 'kubedumpBackup' : 'backup'),
    owner: { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupSession', name: backupSession.metadata?.name ?? '', uid: backupSession.metadata?.uid ?? '' },
  });
  if (built.errors.length > 0) {
    return { ok: false, reason: 'InvalidBackupJob', message: `spec.sessions[${sessionIndex}]: ${built.errors.map(formatFieldError).join('; ')}` };
  }
  return { ok: true, components: components.components.map((component) => component.name), jobs: built.jobs };
}

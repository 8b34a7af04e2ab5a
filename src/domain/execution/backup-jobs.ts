/**
 * The backup Jobs of a BackupSession: one per target component (SPEC §8.1 step 5), each running the
 * resolved Function (`autostash exec backup ...`) with the component's volumes read-only, the addon's
 * volumes, the local backends of the session's repositories, and the session's job settings. Pure.
 */
import type { Addon, AddonFunction, AddonTask, BackupConfiguration, BackupSession, BackupStorage } from '../../api/index.js';
import type { AddonInfo, Session, TaskReference } from '../../api/core.js';
import type { Volume, VolumeMount } from '../../api/kubernetes.js';
import { substituteValues } from '../auto-backup/substitute.js';
import { parseGoDuration } from '../duration.js';
import { ErrorCodes, fieldError, joinPath, type FieldError } from '../errors.js';
import type { KubeObject } from '../kube-object.js';
import { validNameWithPrefixNSuffix } from '../naming.js';
import { EXECUTOR_COMMAND } from './addons-catalog.js';
import { BuiltinVariables, substituteFunctionArgs, taskVariables } from './function-args.js';
import { executorJob, localBackendVolumes, type JobContainer, type JobOwner } from './job-skeleton.js';
import {
  BACKUP_SESSION_LABEL,
  INVOKER_KIND_LABEL,
  INVOKER_NAME_LABEL,
  SESSION_NAME_LABEL,
  TARGET_COMPONENT_LABEL,
} from './labels.js';
import type { TargetComponent } from './target-components.js';
import { nameOf } from '../rules/common.js';

/** An Addon task resolved to its Function (see resolveTask). */
export interface ResolvedTaskParts {
  addon: Addon;
  task: AddonTask;
  fn: AddonFunction;
}

/**
 * A Go duration (`30m`, `1h30m`) as whole seconds for activeDeadlineSeconds, rounded up so a deadline
 * is never shorter than asked. Zero, negative or unparsable is an error at `path`; absent is undefined.
 */
export function deadlineSeconds(value: string | undefined, path: string): { seconds?: number; errors: FieldError[] } {
  if (value === undefined || value === '') return { errors: [] };
  const parsed = parseGoDuration(value);
  if (!parsed.ok) return { errors: [fieldError(ErrorCodes.Invalid, path, `${parsed.reason}: write a duration such as 30m or 1h30m`)] };
  if (parsed.value <= 0n) return { errors: [fieldError(ErrorCodes.Invalid, path, `timeout ${value} is not positive: give a duration such as 30m`)] };
  return { seconds: Number((parsed.value + 999_999_999n) / 1_000_000_000n), errors: [] };
}

/**
 * The parts of a task's Job that depend on the addon, the task reference and one component: the
 * container (Function image/command/args after substitution, task `variables` as env) and the volumes
 * (component volumes and mounts, then the addon task's volumeTemplate with variables substituted and
 * overridden by name from `taskRef.addonVolumes`, mounted per the task's volumeMounts). A component
 * mount at a local backend's mountPath is an error: one of them would hide the other.
 */
export function taskJobParts(input: {
  resolved: ResolvedTaskParts;
  taskRef: TaskReference | undefined;
  taskPath: string;
  component: TargetComponent;
  builtins: Record<string, string>;
  image: string;
  storages: readonly BackupStorage[];
}): { container: JobContainer; volumes: Volume[]; volumeMounts: VolumeMount[]; errors: FieldError[] } {
  const { resolved, component } = input;
  const addonName = nameOf(resolved.addon);
  const fnName = nameOf(resolved.fn);
  const variables = taskVariables({
    task: resolved.task,
    taskRef: input.taskRef,
    builtins: { ...input.builtins, ...component.variables },
    taskPath: input.taskPath,
    taskLabel: `${addonName}/${resolved.task.name ?? ''}`,
  });
  const errors: FieldError[] = [...variables.errors];
  const args = substituteFunctionArgs(resolved.fn.spec?.args ?? [], variables.variables);
  for (const error of args.errors) errors.push({ ...error, path: joinPath(`Function ${fnName}`, 'spec', error.path), message: error.message });

  const overrides = new Map((input.taskRef?.addonVolumes ?? []).filter((v) => v.name !== undefined).map((v) => [v.name as string, v.source]));
  const volumes: Volume[] = [...component.volumes];
  const volumeMounts: VolumeMount[] = [...component.volumeMounts];
  const templates = substituteValues(resolved.task.volumeTemplate ?? [], variables.variables, 'volumeTemplate');
  for (const problem of templates.problems) {
    errors.push(fieldError(ErrorCodes.Invalid, `Addon ${addonName} task ${resolved.task.name ?? ''} ${problem.path}`, problem.kind === 'missing' ? `variable ${problem.variable} is not set` : problem.message));
  }
  for (const template of templates.value) {
    const name = template.name ?? '';
    if (name === '' || volumes.some((volume) => volume.name === name)) continue;
    const source = overrides.get(name) ?? template.source ?? {};
    volumes.push({ name, ...(source as Record<string, unknown>) });
  }
  for (const mount of resolved.task.volumeMounts ?? []) {
    if (!volumeMounts.some((existing) => existing.mountPath === mount.mountPath)) volumeMounts.push({ ...mount });
  }
  const backendPaths = new Set(localBackendVolumes(input.storages).volumeMounts.map((mount) => mount.mountPath));
  for (const mount of component.volumeMounts) {
    if (backendPaths.has(mount.mountPath)) {
      errors.push(
        fieldError(
          ErrorCodes.Conflict,
          'spec.storage.local.mountPath',
          `the target's volume ${mount.name} and a local BackupStorage both mount at ${mount.mountPath}: give the BackupStorage another spec.storage.local.mountPath`,
        ),
      );
    }
  }
  const env = (input.taskRef?.variables ?? []).map((variable) => ({ ...variable }));
  const container: JobContainer = {
    image: resolved.fn.spec?.image || input.image,
    command: resolved.fn.spec?.command ?? [...EXECUTOR_COMMAND],
    args: args.args,
    ...(env.length > 0 ? { env } : {}),
    ...(resolved.fn.spec?.workingDir ? { workingDir: resolved.fn.spec.workingDir } : {}),
  };
  return { container, volumes, volumeMounts, errors };
}

export interface BuildBackupJobsInput {
  backupSession: BackupSession;
  configuration: BackupConfiguration;
  /** The configuration's `spec.sessions[]` entry the BackupSession runs. */
  session: Session;
  /** The addon task resolved for `session.addon.tasks[taskIndex]`. */
  resolved: ResolvedTaskParts;
  /** Which of `session.addon.tasks` is resolved; default 0. */
  taskIndex?: number;
  /** From targetComponents (mode backup). */
  components: readonly TargetComponent[];
  /** BackupStorages of the session's repositories; local ones are mounted. */
  storages: readonly BackupStorage[];
  /** Executor image, used when the Function has none. */
  image: string;
  serviceAccountName?: string;
  /** The BackupSession (controller owner of the Jobs). */
  owner: JobOwner;
}

/**
 * One Job per component, named `<backupSession>-<component>` (ValidNameWithPrefixNSuffix, 63 chars),
 * labelled with the invoker, session, BackupSession and component. Job settings: session.scheduler.jobTemplate,
 * then addon.jobTemplate as pod template, addon.containerRuntimeSettings; activeDeadlineSeconds from
 * the BackupSession's backupTimeout, else the session's. Errors name the field; with errors the Jobs
 * must not be created.
 */
export function buildBackupJobs(input: BuildBackupJobsInput): { jobs: KubeObject[]; errors: FieldError[] } {
  const { backupSession, configuration, session } = input;
  const bsName = nameOf(backupSession);
  const namespace = backupSession.metadata?.namespace ?? configuration.metadata?.namespace ?? '';
  const sessionIndex = Math.max(0, (configuration.spec?.sessions ?? []).findIndex((candidate) => candidate.name === session.name));
  const taskIndex = input.taskIndex ?? 0;
  const addonInfo: AddonInfo = session.addon ?? {};
  const taskPath = joinPath('spec', 'sessions', sessionIndex, 'addon', 'tasks', taskIndex);
  const invokerKind = backupSession.spec?.invoker?.kind ?? 'BackupConfiguration';
  const invokerName = backupSession.spec?.invoker?.name ?? configuration.metadata?.name ?? '';
  const errors: FieldError[] = [];

  const timeout = backupSession.spec?.backupTimeout
    ? deadlineSeconds(backupSession.spec.backupTimeout, 'spec.backupTimeout')
    : deadlineSeconds(session.backupTimeout, joinPath('spec', 'sessions', sessionIndex, 'backupTimeout'));
  errors.push(...timeout.errors);
  if (input.components.length === 0) errors.push(fieldError(ErrorCodes.Required, 'spec.target', 'the target has no component to back up'));

  const jobs: KubeObject[] = [];
  for (const component of input.components) {
    const parts = taskJobParts({
      resolved: input.resolved,
      taskRef: addonInfo.tasks?.[taskIndex],
      taskPath,
      component,
      builtins: {
        [BuiltinVariables.namespace]: namespace,
        [BuiltinVariables.backupSession]: bsName,
        [BuiltinVariables.invokerKind]: invokerKind,
        [BuiltinVariables.invokerName]: invokerName,
      },
      image: input.image,
      storages: input.storages,
    });
    errors.push(...parts.errors);
    const built = executorJob({
      name: validNameWithPrefixNSuffix(bsName, component.name, ''),
      namespace,
      component: 'backup',
      owner: input.owner,
      labels: {
        [INVOKER_KIND_LABEL]: invokerKind,
        [INVOKER_NAME_LABEL]: invokerName,
        [SESSION_NAME_LABEL]: session.name ?? backupSession.spec?.session ?? '',
        [BACKUP_SESSION_LABEL]: bsName,
        [TARGET_COMPONENT_LABEL]: component.name,
      },
      container: parts.container,
      volumes: parts.volumes,
      volumeMounts: parts.volumeMounts,
      localStorages: input.storages,
      ...(session.scheduler?.jobTemplate !== undefined ? { jobTemplate: session.scheduler.jobTemplate } : {}),
      ...(addonInfo.jobTemplate !== undefined ? { podTemplate: addonInfo.jobTemplate } : {}),
      ...(addonInfo.containerRuntimeSettings !== undefined ? { containerRuntimeSettings: addonInfo.containerRuntimeSettings } : {}),
      ...(component.nodeName !== undefined ? { nodeName: component.nodeName } : {}),
      ...(input.serviceAccountName !== undefined ? { serviceAccountName: input.serviceAccountName } : {}),
      ...(timeout.seconds !== undefined ? { activeDeadlineSeconds: timeout.seconds } : {}),
    });
    for (const error of built.errors) if (!errors.some((e) => e.message === error.message)) errors.push(error);
    jobs.push(built.job);
  }
  return { jobs, errors };
}

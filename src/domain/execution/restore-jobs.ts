/**
 * The restore Jobs of a RestoreSession (SPEC §9): one per snapshot component to restore, each running
 * the resolved Function (`autostash exec restore ...`) with the matching target component's volumes
 * mounted read-write. Pure.
 */
import type { BackupStorage, RestoreSession } from '../../api/index.js';
import type { AddonInfo } from '../../api/core.js';
import { ErrorCodes, fieldError, joinPath, type FieldError } from '../errors.js';
import type { KubeObject } from '../kube-object.js';
import { validNameWithPrefixNSuffix } from '../naming.js';
import { deadlineSeconds, taskJobParts, type ResolvedTaskParts } from './backup-jobs.js';
import { BuiltinVariables } from './function-args.js';
import { executorJob, type JobOwner } from './job-skeleton.js';
import { RESTORE_SESSION_LABEL, TARGET_COMPONENT_LABEL, INVOKER_KIND_LABEL, INVOKER_NAME_LABEL } from './labels.js';
import type { TargetComponent } from './target-components.js';

export interface BuildRestoreJobsInput {
  restoreSession: RestoreSession;
  /** The addon task resolved for `spec.addon.tasks[taskIndex]`. */
  resolved: ResolvedTaskParts;
  taskIndex?: number;
  /** From targetComponents (mode restore). */
  components: readonly TargetComponent[];
  /** BackupStorage of the repository restored from; local ones are mounted. */
  storages: readonly BackupStorage[];
  /** The Snapshot restored from (`latest` already resolved to a name). */
  snapshotName: string;
  /** Component names in the Snapshot's status (`Object.keys(snapshot.status.components)`). */
  snapshotComponents: readonly string[];
  image: string;
  serviceAccountName?: string;
  /** The RestoreSession (controller owner of the Jobs). */
  owner: JobOwner;
}

/**
 * Which target component receives each snapshot component: the one with the same name, or, when the
 * target has exactly one component and one snapshot component is restored, that one (a `dump-pod-0`
 * into a PVC, a Deployment's `dump` into another Deployment). Components that find no target are errors.
 */
function pairComponents(restore: readonly string[], targets: readonly TargetComponent[], path: string): { pairs: Array<[string, TargetComponent]>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const pairs: Array<[string, TargetComponent]> = [];
  const only = targets.length === 1 && restore.length === 1 ? targets[0] : undefined;
  for (const component of restore) {
    const target = targets.find((candidate) => candidate.name === component) ?? only;
    if (target === undefined) {
      errors.push(
        fieldError(
          ErrorCodes.Invalid,
          path,
          `snapshot component ${component} has no matching target component (the target has: ${targets.map((t) => t.name).join(', ') || 'none'}): restore into a target with as many replicas, or list the components to restore in spec.dataSource.components`,
        ),
      );
      continue;
    }
    pairs.push([component, target]);
  }
  return { pairs, errors };
}

/**
 * One Job per component to restore (`spec.dataSource.components`, default every component of the
 * Snapshot), named `restore-<restoreSession>-<component>` (ValidNameWithPrefixNSuffix), with
 * COMPONENT_NAME = the snapshot component and the target component's volumes read-write. Job settings:
 * addon.jobTemplate as pod template, addon.containerRuntimeSettings, activeDeadlineSeconds from
 * spec.restoreTimeout. Errors name the field; with errors the Jobs must not be created.
 */
export function buildRestoreJobs(input: BuildRestoreJobsInput): { jobs: KubeObject[]; errors: FieldError[] } {
  const { restoreSession } = input;
  const rsName = restoreSession.metadata?.name ?? '';
  const namespace = restoreSession.metadata?.namespace ?? '';
  const addonInfo: AddonInfo = restoreSession.spec?.addon ?? {};
  const taskIndex = input.taskIndex ?? 0;
  const errors: FieldError[] = [];
  const timeout = deadlineSeconds(restoreSession.spec?.restoreTimeout, 'spec.restoreTimeout');
  errors.push(...timeout.errors);

  const requested = restoreSession.spec?.dataSource?.components;
  const known = new Set(input.snapshotComponents);
  (requested ?? []).forEach((component, index) => {
    if (!known.has(component)) {
      errors.push(
        fieldError(
          ErrorCodes.NotFound,
          joinPath('spec', 'dataSource', 'components', index),
          `Snapshot ${input.snapshotName} has no component ${component}; it has: ${[...known].join(', ') || 'none'}`,
        ),
      );
    }
  });
  const toRestore = (requested ?? [...input.snapshotComponents]).filter((component) => known.has(component));
  if (toRestore.length === 0 && errors.length === 0) {
    errors.push(fieldError(ErrorCodes.Invalid, 'spec.dataSource.snapshot', `Snapshot ${input.snapshotName} has no component to restore`));
  }
  const paired = pairComponents(toRestore, input.components, 'spec.target');
  errors.push(...paired.errors);

  const jobs: KubeObject[] = [];
  for (const [component, target] of paired.pairs) {
    const parts = taskJobParts({
      resolved: input.resolved,
      taskRef: addonInfo.tasks?.[taskIndex],
      taskPath: joinPath('spec', 'addon', 'tasks', taskIndex),
      component: { ...target, variables: { ...target.variables, [BuiltinVariables.componentName]: component } },
      builtins: {
        [BuiltinVariables.namespace]: namespace,
        [BuiltinVariables.restoreSession]: rsName,
        [BuiltinVariables.snapshot]: input.snapshotName,
        [BuiltinVariables.invokerKind]: 'RestoreSession',
        [BuiltinVariables.invokerName]: rsName,
      },
      image: input.image,
      storages: input.storages,
    });
    errors.push(...parts.errors);
    const built = executorJob({
      name: validNameWithPrefixNSuffix('restore', rsName, component),
      namespace,
      component: 'restore',
      owner: input.owner,
      labels: {
        [INVOKER_KIND_LABEL]: 'RestoreSession',
        [INVOKER_NAME_LABEL]: rsName,
        [RESTORE_SESSION_LABEL]: rsName,
        [TARGET_COMPONENT_LABEL]: component,
      },
      container: parts.container,
      volumes: parts.volumes,
      volumeMounts: parts.volumeMounts,
      localStorages: input.storages,
      ...(addonInfo.jobTemplate !== undefined ? { podTemplate: addonInfo.jobTemplate } : {}),
      ...(addonInfo.containerRuntimeSettings !== undefined ? { containerRuntimeSettings: addonInfo.containerRuntimeSettings } : {}),
      ...(target.nodeName !== undefined ? { nodeName: target.nodeName } : {}),
      ...(input.serviceAccountName !== undefined ? { serviceAccountName: input.serviceAccountName } : {}),
      ...(timeout.seconds !== undefined ? { activeDeadlineSeconds: timeout.seconds } : {}),
    });
    for (const error of built.errors) if (!errors.some((e) => e.message === error.message)) errors.push(error);
    jobs.push(built.job);
  }
  return { jobs, errors };
}

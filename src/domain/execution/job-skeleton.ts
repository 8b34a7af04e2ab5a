/**
 * The one shape of every Job autostash runs (backup, restore, initializers, retention, cleaners):
 * a batch/v1 Job whose single container runs `autostash exec <verb>` with the scratch volume, the
 * local backends it needs and whatever volumes the caller adds. Pure: builders pass everything in.
 */
import type { BackupStorage } from '../../api/index.js';
import type { JobTemplate } from '../../api/core.js';
import type { ContainerRuntimeSettings, PodRuntimeSettings, PodTemplateSpec, Volume, VolumeMount } from '../../api/kubernetes.js';
import { ErrorCodes, fieldError, type FieldError } from '../errors.js';
import type { KubeObject } from '../kube-object.js';
import { executorSecurityContext } from './job-security.js';
import {
  BACKEND_VOLUME_PREFIX,
  JOB_COMPONENT_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SCRATCH_MOUNT_PATH,
  SCRATCH_VOLUME_NAME,
  type JobComponent,
} from './labels.js';

/** Who owns a Job (a controller ownerReference, so deleting the owner deletes the Job). */
export interface JobOwner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** The container: image, command and args, after the Function's variables were substituted. */
export interface JobContainer {
  image: string;
  command: string[];
  args: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  workingDir?: string;
}

export interface ExecutorJobInput {
  name: string;
  namespace: string;
  component: JobComponent;
  owner?: JobOwner;
  /** Labels on the Job and its pod, besides the managed-by and component labels. */
  labels?: Record<string, string>;
  container: JobContainer;
  /** Extra volumes and their mounts (target volumes, addon volumes). */
  volumes?: Volume[];
  volumeMounts?: VolumeMount[];
  /** Local BackupStorages whose volume the Job mounts at their `spec.storage.local.mountPath`. */
  localStorages?: readonly BackupStorage[];
  /** Job settings (backoffLimit, activeDeadlineSeconds, ttlSecondsAfterFinished, template...). */
  jobTemplate?: JobTemplate;
  /** Pod template from the addon (`addon.jobTemplate`), applied over jobTemplate.template. */
  podTemplate?: PodTemplateSpec;
  /** Pod and container runtime settings (BackupStorage / addon `containerRuntimeSettings`). */
  podRuntimeSettings?: PodRuntimeSettings;
  containerRuntimeSettings?: ContainerRuntimeSettings;
  /** Pins the pod to a node (ReadWriteOnce volumes in use there). */
  nodeName?: string;
  serviceAccountName?: string;
  /** Job deadline in seconds (backupTimeout / restoreTimeout); wins over jobTemplate.activeDeadlineSeconds. */
  activeDeadlineSeconds?: number;
  /** Default backoffLimit when jobTemplate has none. Default 0: retries are sessions' business. */
  defaultBackoffLimit?: number;
}

const LOCAL_SPEC_KEYS = new Set(['mountPath', 'subPath', 'maxConnections']);

/**
 * The Job volume and mount of each local BackupStorage: the inline volume source of
 * `spec.storage.local` (without mountPath/subPath/maxConnections) named `autostash-backend-<i>`,
 * mounted at its mountPath with its subPath. Two storages asking for the same mountPath with
 * different sources cannot share a pod: that is an error naming both.
 */
export function localBackendVolumes(storages: readonly BackupStorage[]): { volumes: Volume[]; volumeMounts: VolumeMount[]; errors: FieldError[] } {
  const volumes: Volume[] = [];
  const volumeMounts: VolumeMount[] = [];
  const errors: FieldError[] = [];
  const byMountPath = new Map<string, { storage: string; source: string }>();
  for (const storage of storages) {
    const id = `${storage.metadata?.namespace ?? ''}/${storage.metadata?.name ?? ''}`;
    const local = storage.spec?.storage?.local;
    if (storage.spec?.storage?.provider !== 'local' || local === undefined) continue;
    const mountPath = local.mountPath ?? '';
    if (!mountPath.startsWith('/')) {
      errors.push(fieldError(ErrorCodes.Required, 'spec.storage.local.mountPath', `BackupStorage ${id} needs an absolute spec.storage.local.mountPath`));
      continue;
    }
    const source: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(local)) if (!LOCAL_SPEC_KEYS.has(key)) source[key] = value;
    const sourceKey = JSON.stringify([source, local.subPath ?? '']);
    const seen = byMountPath.get(mountPath);
    if (seen !== undefined) {
      if (seen.source !== sourceKey) {
        errors.push(
          fieldError(
            ErrorCodes.Invalid,
            'spec.storage.local.mountPath',
            `BackupStorages ${seen.storage} and ${id} both mount at ${mountPath} with different volumes; one Job cannot mount both: give one of them another mountPath`,
          ),
        );
      }
      continue;
    }
    byMountPath.set(mountPath, { storage: id, source: sourceKey });
    const name = `${BACKEND_VOLUME_PREFIX}${volumes.length}`;
    volumes.push({ name, ...source });
    volumeMounts.push({ name, mountPath, ...(local.subPath ? { subPath: local.subPath } : {}) });
  }
  return { volumes, volumeMounts, errors };
}

const definedEntries = <T extends object>(value: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Builds the Job. Volumes and mounts are deduplicated by name (first wins); the scratch emptyDir at
 * /kubestash-tmp is always there. Pod settings are applied in order jobTemplate.template.spec, then
 * podTemplate.spec, then podRuntimeSettings; container settings from the pod templates and
 * containerRuntimeSettings, with the hardened securityContext of job-security.ts under them.
 * restartPolicy is Never: retries are counted by the Job.
 */
export function executorJob(input: ExecutorJobInput): { job: KubeObject; errors: FieldError[] } {
  const backends = localBackendVolumes(input.localStorages ?? []);
  const labels = { ...input.labels, [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [JOB_COMPONENT_LABEL]: input.component };
  const templates = [input.jobTemplate?.template, input.podTemplate].filter((t): t is PodTemplateSpec => t !== undefined);

  const volumes: Volume[] = [];
  const volumeMounts: VolumeMount[] = [];
  const addVolume = (volume: Volume): void => {
    if (!volumes.some((v) => v.name === volume.name)) volumes.push(volume);
  };
  const addMount = (mount: VolumeMount): void => {
    if (!volumeMounts.some((m) => m.mountPath === mount.mountPath)) volumeMounts.push(mount);
  };
  addVolume({ name: SCRATCH_VOLUME_NAME, emptyDir: {} });
  addMount({ name: SCRATCH_VOLUME_NAME, mountPath: SCRATCH_MOUNT_PATH });
  for (const volume of [...backends.volumes, ...(input.volumes ?? [])]) addVolume(volume);
  for (const mount of [...backends.volumeMounts, ...(input.volumeMounts ?? [])]) addMount(mount);
  for (const template of templates) {
    for (const volume of template.spec?.volumes ?? []) addVolume(volume);
    for (const mount of template.spec?.volumeMounts ?? []) addMount(mount);
  }

  const podSpec: Record<string, unknown> = { restartPolicy: 'Never' };
  const container: Record<string, unknown> = {
    name: 'executor',
    image: input.container.image,
    command: input.container.command,
    args: input.container.args,
    ...(input.container.workingDir ? { workingDir: input.container.workingDir } : {}),
  };
  const env: unknown[] = [...(input.container.env ?? [])];
  const podKeys = [
    'affinity',
    'nodeSelector',
    'tolerations',
    'securityContext',
    'serviceAccountName',
    'priorityClassName',
    'priority',
    'runtimeClassName',
    'schedulerName',
    'imagePullSecrets',
    'topologySpreadConstraints',
    'dnsPolicy',
    'dnsConfig',
    'hostNetwork',
    'enableServiceLinks',
    'terminationGracePeriodSeconds',
  ] as const;
  const podLabels: Record<string, string> = {};
  const podAnnotations: Record<string, string> = {};
  for (const template of templates) {
    const spec = definedEntries(template.spec);
    for (const key of podKeys) if (spec[key] !== undefined) podSpec[key] = spec[key];
    if (spec.resources !== undefined) container.resources = spec.resources;
    if (spec.containerSecurityContext !== undefined) container.securityContext = spec.containerSecurityContext;
    if (spec.env !== undefined) env.push(...spec.env);
    Object.assign(podLabels, template.metadata?.labels);
    Object.assign(podAnnotations, template.metadata?.annotations);
  }
  const pod = definedEntries(input.podRuntimeSettings);
  for (const key of ['affinity', 'nodeSelector', 'tolerations', 'securityContext', 'serviceAccountName', 'priorityClassName', 'priority', 'runtimeClassName', 'schedulerName', 'imagePullSecrets', 'topologySpreadConstraints', 'nodeName'] as const) {
    if (pod[key] !== undefined) podSpec[key] = pod[key];
  }
  Object.assign(podLabels, pod.podLabels);
  Object.assign(podAnnotations, pod.podAnnotations);
  const containerSettings = definedEntries(input.containerRuntimeSettings);
  if (containerSettings.resources !== undefined) container.resources = containerSettings.resources;
  if (containerSettings.securityContext !== undefined) container.securityContext = containerSettings.securityContext;
  if (containerSettings.env !== undefined) env.push(...containerSettings.env);
  if (containerSettings.envFrom !== undefined) container.envFrom = containerSettings.envFrom;
  if (env.length > 0) container.env = env;
  container.securityContext = executorSecurityContext(input.component, podSpec.securityContext, container.securityContext);
  if (input.serviceAccountName !== undefined && podSpec.serviceAccountName === undefined) podSpec.serviceAccountName = input.serviceAccountName;
  if (input.nodeName !== undefined) podSpec.nodeName = input.nodeName;
  container.volumeMounts = volumeMounts;
  podSpec.containers = [container];
  podSpec.volumes = volumes;

  const template = input.jobTemplate ?? {};
  const jobSpec: Record<string, unknown> = {
    backoffLimit: template.backoffLimit ?? input.defaultBackoffLimit ?? 0,
    template: { metadata: { labels: { ...podLabels, ...labels }, ...(Object.keys(podAnnotations).length > 0 ? { annotations: podAnnotations } : {}) }, spec: podSpec },
  };
  const deadline = input.activeDeadlineSeconds ?? template.activeDeadlineSeconds;
  if (deadline !== undefined) jobSpec.activeDeadlineSeconds = deadline;
  if (template.ttlSecondsAfterFinished !== undefined) jobSpec.ttlSecondsAfterFinished = template.ttlSecondsAfterFinished;

  const job: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels,
      ...(input.owner
        ? { ownerReferences: [{ apiVersion: input.owner.apiVersion, kind: input.owner.kind, name: input.owner.name, uid: input.owner.uid, controller: true, blockOwnerDeletion: true }] }
        : {}),
    },
    spec: jobSpec,
  };
  return { job, errors: backends.errors };
}

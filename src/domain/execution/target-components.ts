/**
 * The snapshot components of a target and what each component's Job mounts (SPEC §8.2): Deployment →
 * `dump`; StatefulSet → `dump-pod-<ordinal>` per replica with that replica's claims; DaemonSet →
 * `dump-<node>` per node it runs on; standalone PVC → `dump` with the claim at /kubestash-data; a
 * manifest task → `manifest` with no target volume. Pure: the caller passes the target and the Pods,
 * Nodes and PersistentVolumeClaims it sees.
 */
import type { TargetVolumeInfo } from '../../api/core.js';
import type { Volume, VolumeMount } from '../../api/kubernetes.js';
import { substituteString } from '../auto-backup/substitute.js';
import { ErrorCodes, fieldError, type FieldError } from '../errors.js';
import { asArray, asObject, asString, type JsonObject } from '../json-access.js';
import type { KubeObject } from '../kube-object.js';
import { PVC_DATA_VOLUME_NAME } from './addons-catalog.js';
import { BuiltinVariables } from './function-args.js';
import { PVC_DATA_MOUNT_PATH } from './labels.js';

export interface TargetComponent {
  /** Snapshot component name: `dump`, `dump-pod-<i>`, `dump-<node>` or `manifest`. */
  name: string;
  /** Target volumes the Job mounts, and their mounts (read-only for backups). */
  volumes: Volume[];
  volumeMounts: VolumeMount[];
  /** Variables of this component: COMPONENT_NAME, and PVC_NAME / POD_ORDINAL where they apply. */
  variables: Record<string, string>;
  /** The node the Job must run on: a DaemonSet's node, or where a ReadWriteOnce claim is in use. */
  nodeName?: string;
}

export interface TargetComponentsInput {
  /** The object `spec.target` names (Deployment, StatefulSet, DaemonSet, PersistentVolumeClaim); unused for manifest tasks. */
  target: KubeObject | undefined;
  /** Pods of the target's namespace (at least those of the target); used to place ReadWriteOnce claims. */
  pods?: readonly KubeObject[];
  /** The cluster's Nodes; a DaemonSet gets one component per Node its nodeSelector matches. */
  nodes?: readonly KubeObject[];
  /** PersistentVolumeClaims of the target's namespace; their accessModes decide node placement. */
  claims?: readonly KubeObject[];
  /** `TaskReference.targetVolumes`: when it names volumes, they replace the ones read from the workload. */
  taskTargetVolumes?: TargetVolumeInfo | undefined;
  /** backup (default) mounts read-only; restore mounts read-write. */
  mode?: 'backup' | 'restore';
  /** A manifest task (kubedump): one `manifest` component, no target volumes. */
  manifest?: boolean;
  /** Field path errors about the target are reported at; default `spec.target`. */
  targetPath?: string;
}

export interface TargetComponents {
  components: TargetComponent[];
  errors: FieldError[];
  /** What was left out and why (skipped volumes, ambiguous placement), for logs and Events. */
  notes: string[];
}

export const DUMP_COMPONENT = 'dump';
export const MANIFEST_COMPONENT = 'manifest';
export const podComponent = (ordinal: number): string => `dump-pod-${ordinal}`;
export const nodeComponent = (node: string): string => `dump-${node}`;

/** Volume sources that belong to one pod's life (or are derived from it): another pod cannot read their data. */
const POD_LOCAL_SOURCES = ['emptyDir', 'ephemeral', 'downwardAPI', 'image'] as const;
const SINGLE_NODE_ACCESS_MODES = new Set(['ReadWriteOnce', 'ReadWriteOncePod']);

const objectName = (object: KubeObject | undefined): string => object?.metadata?.name ?? '';
const objectNamespace = (object: KubeObject | undefined): string => object?.metadata?.namespace ?? '';

interface Collected {
  volumes: Volume[];
  volumeMounts: VolumeMount[];
}

/**
 * The volumes the workload's containers mount: every volumeMount of every container with its pod
 * template volume (or, for a StatefulSet, the replica's claim from volumeClaimTemplates). Pod-local
 * sources (emptyDir, ephemeral, downwardAPI, image) are skipped with a note; a second mount at a path
 * already taken is skipped with a note.
 */
function workloadVolumes(podSpec: JsonObject, claimTemplates: ReadonlyMap<string, string>, id: string, notes: string[]): Collected {
  const byName = new Map<string, JsonObject>();
  for (const volume of asArray(podSpec.volumes)) {
    const object = asObject(volume);
    const name = asString(object?.name);
    if (object !== undefined && name !== '') byName.set(name, object);
  }
  const out: Collected = { volumes: [], volumeMounts: [] };
  for (const container of asArray(podSpec.containers)) {
    for (const mountValue of asArray(asObject(container)?.volumeMounts)) {
      const mount = asObject(mountValue);
      const name = asString(mount?.name);
      const mountPath = asString(mount?.mountPath);
      if (mount === undefined || name === '' || mountPath === '') continue;
      let volume: Volume | undefined;
      const claimName = claimTemplates.get(name);
      if (claimName !== undefined) volume = { name, persistentVolumeClaim: { claimName } };
      else {
        const declared = byName.get(name);
        if (declared === undefined) {
          notes.push(`${id}: mount ${mountPath} names volume ${name}, which the pod template does not declare; skipped`);
          continue;
        }
        const local = POD_LOCAL_SOURCES.find((source) => declared[source] !== undefined);
        if (local !== undefined) {
          notes.push(`${id}: volume ${name} at ${mountPath} is ${local}, which lives and dies with its pod; not backed up`);
          continue;
        }
        volume = declared as Volume;
      }
      const taken = out.volumeMounts.find((existing) => existing.mountPath === mountPath);
      if (taken !== undefined) {
        if (taken.name !== name || (taken.subPath ?? '') !== asString(mount.subPath)) {
          notes.push(`${id}: ${mountPath} is mounted from volume ${taken.name} and from ${name} in different containers; the Job mounts ${taken.name} there`);
        }
        continue;
      }
      if (!out.volumes.some((existing) => existing.name === name)) out.volumes.push(volume);
      out.volumeMounts.push({ name, mountPath, ...(asString(mount.subPath) !== '' ? { subPath: asString(mount.subPath) } : {}) });
    }
  }
  return out;
}

const hasTaskVolumes = (info: TargetVolumeInfo | undefined): info is TargetVolumeInfo =>
  info !== undefined && ((info.volumes?.length ?? 0) > 0 || (info.volumeMounts?.length ?? 0) > 0 || (info.volumeClaimTemplates?.length ?? 0) > 0);

/**
 * `TaskReference.targetVolumes` for one component: its volumes and mounts as written, and one claim
 * volume per volumeClaimTemplate named after the template; the claim name is the template name with
 * ${POD_ORDINAL} etc. substituted, or, for a StatefulSet replica when the name has no variable,
 * `<template>-<statefulset>-<ordinal>` as the StatefulSet controller names it.
 */
function taskVolumes(info: TargetVolumeInfo, variables: Record<string, string>, statefulSet: { name: string; ordinal: number } | undefined): Collected {
  const volumes: Volume[] = [...(info.volumes ?? [])] as Volume[];
  for (const template of info.volumeClaimTemplates ?? []) {
    const name = asString(asObject(asObject(template)?.metadata)?.name);
    if (name === '') continue;
    const claimName = statefulSet !== undefined && !name.includes('${')
      ? `${name}-${statefulSet.name}-${statefulSet.ordinal}`
      : substituteString(name, variables).value;
    if (!volumes.some((volume) => volume.name === name)) volumes.push({ name, persistentVolumeClaim: { claimName } });
  }
  return { volumes, volumeMounts: [...(info.volumeMounts ?? [])] as VolumeMount[] };
}

const claimNamesOf = (volumes: readonly Volume[]): string[] =>
  volumes.map((volume) => asString(asObject(volume.persistentVolumeClaim)?.claimName)).filter((name) => name !== '');

const isRunningPod = (pod: KubeObject): boolean =>
  asString(asObject(pod.status)?.phase) === 'Running' && asString(asObject(pod.spec)?.nodeName) !== '' && !pod.metadata?.deletionTimestamp;

const podUsesClaim = (pod: KubeObject, claim: string): boolean =>
  asArray(asObject(pod.spec)?.volumes).some((volume) => asString(asObject(asObject(volume)?.persistentVolumeClaim)?.claimName) === claim);

/**
 * The node a component's Job must share with the running pod using one of its ReadWriteOnce claims
 * (a RWO volume attaches to one node at a time). Undefined when no such claim is in use. Claims in use
 * on two different nodes cannot both be mounted: the first wins and a note says so.
 */
function placement(volumes: readonly Volume[], namespace: string, input: TargetComponentsInput, id: string, notes: string[]): string | undefined {
  let chosen: { node: string; claim: string } | undefined;
  for (const claimName of claimNamesOf(volumes)) {
    const claim = (input.claims ?? []).find((candidate) => objectName(candidate) === claimName && objectNamespace(candidate) === namespace);
    const modes = asArray(asObject(claim?.spec)?.accessModes).map(asString);
    if (!modes.some((mode) => SINGLE_NODE_ACCESS_MODES.has(mode))) continue;
    const pod = (input.pods ?? []).find((candidate) => objectNamespace(candidate) === namespace && isRunningPod(candidate) && podUsesClaim(candidate, claimName));
    if (pod === undefined) continue;
    const node = asString(asObject(pod.spec)?.nodeName);
    if (chosen === undefined) chosen = { node, claim: claimName };
    else if (chosen.node !== node) {
      notes.push(`${id}: ReadWriteOnce claims ${chosen.claim} (node ${chosen.node}) and ${claimName} (node ${node}) are in use on different nodes; the Job runs on ${chosen.node}`);
    }
  }
  return chosen?.node;
}

const readOnlyMounts = (mounts: readonly VolumeMount[], mode: 'backup' | 'restore'): VolumeMount[] =>
  mounts.map((mount) => (mode === 'backup' ? { ...mount, readOnly: true } : { ...mount }));

const nodeSelectorMatches = (selector: JsonObject | undefined, node: KubeObject): boolean =>
  Object.entries(selector ?? {}).every(([key, value]) => node.metadata?.labels?.[key] === value);

/**
 * The components of the target (see the module comment), each with its volumes, mounts, variables and
 * node. Errors are field errors at `targetPath`: no target, a kind autostash cannot back up, no replica
 * or node to back up, or a component with nothing to mount.
 */
export function targetComponents(input: TargetComponentsInput): TargetComponents {
  const mode = input.mode ?? 'backup';
  const path = input.targetPath ?? 'spec.target';
  const errors: FieldError[] = [];
  const notes: string[] = [];
  if (input.manifest === true) {
    return { components: [{ name: MANIFEST_COMPONENT, volumes: [], volumeMounts: [], variables: { [BuiltinVariables.componentName]: MANIFEST_COMPONENT } }], errors, notes };
  }
  const target = input.target;
  if (target === undefined) {
    errors.push(fieldError(ErrorCodes.NotFound, path, 'the target object was not found: create it, or fix spec.target'));
    return { components: [], errors, notes };
  }
  const kind = target.kind ?? '';
  const namespace = objectNamespace(target);
  const name = objectName(target);
  const id = `${kind} ${namespace}/${name}`;
  const spec = asObject(target.spec) ?? {};
  const podSpec = asObject(asObject(spec.template)?.spec) ?? {};
  const components: TargetComponent[] = [];

  const add = (componentName: string, collected: Collected, variables: Record<string, string>, fixedNode?: string): void => {
    const componentId = `${id} component ${componentName}`;
    if (collected.volumeMounts.length === 0) {
      errors.push(
        fieldError(
          ErrorCodes.Invalid,
          path,
          `${id} mounts no volume autostash can ${mode === 'backup' ? 'back up' : 'restore into'} (emptyDir and other pod-local volumes are skipped): mount a PersistentVolumeClaim or hostPath, or list volumes in addon.tasks[].targetVolumes`,
        ),
      );
      return;
    }
    const nodeName = fixedNode ?? placement(collected.volumes, namespace, input, componentId, notes);
    components.push({
      name: componentName,
      volumes: collected.volumes,
      volumeMounts: readOnlyMounts(collected.volumeMounts, mode),
      variables: { [BuiltinVariables.componentName]: componentName, ...variables },
      ...(nodeName !== undefined ? { nodeName } : {}),
    });
  };

  switch (kind) {
    case 'Deployment': {
      const variables = {};
      add(DUMP_COMPONENT, hasTaskVolumes(input.taskTargetVolumes) ? taskVolumes(input.taskTargetVolumes, { [BuiltinVariables.componentName]: DUMP_COMPONENT }, undefined) : workloadVolumes(podSpec, new Map(), id, notes), variables);
      break;
    }
    case 'StatefulSet': {
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
      if (replicas < 1) {
        errors.push(fieldError(ErrorCodes.Invalid, path, `StatefulSet ${namespace}/${name} has no replicas to ${mode === 'backup' ? 'back up' : 'restore into'}: scale it to at least 1`));
        break;
      }
      const templates = asArray(spec.volumeClaimTemplates).map((template) => asString(asObject(asObject(template)?.metadata)?.name)).filter((n) => n !== '');
      for (let ordinal = 0; ordinal < replicas; ordinal++) {
        const componentName = podComponent(ordinal);
        const variables = { [BuiltinVariables.podOrdinal]: String(ordinal) };
        const collected = hasTaskVolumes(input.taskTargetVolumes)
          ? taskVolumes(input.taskTargetVolumes, { ...variables, [BuiltinVariables.componentName]: componentName }, { name, ordinal })
          : workloadVolumes(podSpec, new Map(templates.map((template) => [template, `${template}-${name}-${ordinal}`])), id, ordinal === 0 ? notes : []);
        add(componentName, collected, variables);
      }
      break;
    }
    case 'DaemonSet': {
      const selector = asObject(podSpec.nodeSelector);
      const nodes = (input.nodes ?? []).filter((node) => nodeSelectorMatches(selector, node));
      if (nodes.length === 0) {
        const wanted = selector === undefined ? '' : ` matching nodeSelector ${JSON.stringify(selector)}`;
        errors.push(fieldError(ErrorCodes.Invalid, path, `DaemonSet ${namespace}/${name} has no node${wanted} to ${mode === 'backup' ? 'back up' : 'restore into'}`));
        break;
      }
      nodes.forEach((node, index) => {
        const componentName = nodeComponent(objectName(node));
        const collected = hasTaskVolumes(input.taskTargetVolumes)
          ? taskVolumes(input.taskTargetVolumes, { [BuiltinVariables.componentName]: componentName }, undefined)
          : workloadVolumes(podSpec, new Map(), id, index === 0 ? notes : []);
        add(componentName, collected, {}, objectName(node));
      });
      break;
    }
    case 'PersistentVolumeClaim': {
      const collected: Collected = {
        volumes: [{ name: PVC_DATA_VOLUME_NAME, persistentVolumeClaim: { claimName: name } }],
        volumeMounts: [{ name: PVC_DATA_VOLUME_NAME, mountPath: PVC_DATA_MOUNT_PATH }],
      };
      if (hasTaskVolumes(input.taskTargetVolumes)) {
        const extra = taskVolumes(input.taskTargetVolumes, { [BuiltinVariables.componentName]: DUMP_COMPONENT, [BuiltinVariables.pvcName]: name }, undefined);
        collected.volumes.push(...extra.volumes.filter((volume) => volume.name !== PVC_DATA_VOLUME_NAME));
        collected.volumeMounts.push(...extra.volumeMounts.filter((mount) => mount.mountPath !== PVC_DATA_MOUNT_PATH));
      }
      add(DUMP_COMPONENT, collected, { [BuiltinVariables.pvcName]: name });
      break;
    }
    default:
      errors.push(
        fieldError(
          ErrorCodes.NotSupported,
          `${path}.kind`,
          `autostash cannot back up or restore a ${kind === '' ? 'target without kind' : kind} with file tasks: supported kinds are Deployment, StatefulSet, DaemonSet and PersistentVolumeClaim`,
        ),
      );
  }
  return { components, errors, notes };
}

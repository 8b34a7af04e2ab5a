/**
 * What an application target (a workload named by `BackupConfiguration.spec.target`) takes into a kubedump
 * (docs/decisions/0010-kubedump.md): the workload, everything that belongs to it through ownerReferences
 * (ReplicaSets, Pods, Jobs, …), the objects its pod template names (ConfigMaps, Secrets, claims, the
 * ServiceAccount), the claims made from a StatefulSet's volumeClaimTemplates, and the Services whose selector
 * picks its Pods.
 */
import { asArray, asObject, asString, type JsonObject } from '../json-access.js';
import type { KubeObject } from '../kube-object.js';
import type { DumpResourceType } from './layout.js';

/** The objects a workload names, by core resource. */
export interface ApplicationReferences {
  configmaps: Set<string>;
  secrets: Set<string>;
  persistentvolumeclaims: Set<string>;
  serviceaccounts: Set<string>;
  /** `<template>-<statefulset>-` prefixes of claims a StatefulSet creates (followed by an ordinal). */
  claimPrefixes: string[];
  /** Labels of the Pods the workload makes; a Service whose selector they satisfy belongs to it. */
  podLabels: Record<string, string>;
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) or a Pod's own. */
function podTemplateOf(object: KubeObject): { metadata: JsonObject; spec: JsonObject } | undefined {
  const spec = asObject(object.spec) ?? {};
  if (object.kind === 'Pod') return { metadata: asObject(object.metadata) ?? {}, spec };
  const template = asObject(spec.template) ?? asObject(asObject(asObject(spec.jobTemplate)?.spec)?.template);
  if (template === undefined) return undefined;
  return { metadata: asObject(template.metadata) ?? {}, spec: asObject(template.spec) ?? {} };
}

const add = (set: Set<string>, value: unknown): void => {
  const name = asString(value);
  if (name !== '') set.add(name);
};

/**
 * Reads what `workload` names: volumes (configMap, secret, persistentVolumeClaim, projected sources), env and
 * envFrom of every container and init container, imagePullSecrets, serviceAccountName, a StatefulSet's claim
 * templates, and its Pods' labels. A workload without a pod template names nothing.
 */
export function applicationReferences(workload: KubeObject): ApplicationReferences {
  const refs: ApplicationReferences = {
    configmaps: new Set(),
    secrets: new Set(),
    persistentvolumeclaims: new Set(),
    serviceaccounts: new Set(),
    claimPrefixes: [],
    podLabels: {},
  };
  const template = podTemplateOf(workload);
  if (template === undefined) return refs;
  const { spec } = template;
  for (const [key, value] of Object.entries(asObject(template.metadata.labels) ?? {})) if (typeof value === 'string') refs.podLabels[key] = value;
  add(refs.serviceaccounts, spec.serviceAccountName);
  for (const pullSecret of asArray(spec.imagePullSecrets)) add(refs.secrets, asObject(pullSecret)?.name);
  for (const rawVolume of asArray(spec.volumes)) {
    const volume = asObject(rawVolume) ?? {};
    add(refs.configmaps, asObject(volume.configMap)?.name);
    add(refs.secrets, asObject(volume.secret)?.secretName);
    add(refs.persistentvolumeclaims, asObject(volume.persistentVolumeClaim)?.claimName);
    for (const rawSource of asArray(asObject(volume.projected)?.sources)) {
      const source = asObject(rawSource) ?? {};
      add(refs.configmaps, asObject(source.configMap)?.name);
      add(refs.secrets, asObject(source.secret)?.name);
    }
  }
  for (const rawContainer of [...asArray(spec.containers), ...asArray(spec.initContainers)]) {
    const container = asObject(rawContainer) ?? {};
    for (const rawFrom of asArray(container.envFrom)) {
      const from = asObject(rawFrom) ?? {};
      add(refs.configmaps, asObject(from.configMapRef)?.name);
      add(refs.secrets, asObject(from.secretRef)?.name);
    }
    for (const rawEnv of asArray(container.env)) {
      const valueFrom = asObject(asObject(rawEnv)?.valueFrom) ?? {};
      add(refs.configmaps, asObject(valueFrom.configMapKeyRef)?.name);
      add(refs.secrets, asObject(valueFrom.secretKeyRef)?.name);
    }
  }
  if (workload.kind === 'StatefulSet') {
    const name = asString(workload.metadata?.name);
    for (const claimTemplate of asArray(asObject(workload.spec)?.volumeClaimTemplates)) {
      const templateName = asString(asObject(asObject(claimTemplate)?.metadata)?.name);
      if (templateName !== '') refs.claimPrefixes.push(`${templateName}-${name}-`);
    }
  }
  return refs;
}

/** The owner uids an object names in metadata.ownerReferences. */
export function ownerUids(object: KubeObject): string[] {
  return asArray(object.metadata?.ownerReferences).map((ref) => asString(asObject(ref)?.uid)).filter((uid) => uid !== '');
}

/**
 * The uids owned by `rootUid`, directly or through owners in between, given each object's owner uids
 * (`uid → owner uids`); includes `rootUid` itself.
 */
export function ownedClosure(rootUid: string, ownersByUid: ReadonlyMap<string, readonly string[]>): Set<string> {
  const owned = new Set([rootUid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [uid, owners] of ownersByUid) {
      if (!owned.has(uid) && owners.some((owner) => owned.has(owner))) {
        owned.add(uid);
        grew = true;
      }
    }
  }
  return owned;
}

/**
 * Whether one object of `type` in the workload's namespace belongs to the application: it is owned (its uid is
 * in `owned`), it is a core ConfigMap, Secret, claim or ServiceAccount the workload names (or a claim made from
 * its claim templates: prefix followed by an ordinal), or it is a core Service with a non-empty selector that
 * the workload's Pod labels satisfy.
 */
export function belongsToApplication(refs: ApplicationReferences, owned: ReadonlySet<string>, type: DumpResourceType, object: KubeObject): boolean {
  if (owned.has(asString(object.metadata?.uid))) return true;
  if (type.group !== '') return false;
  const name = asString(object.metadata?.name);
  switch (type.resource) {
    case 'configmaps':
    case 'secrets':
    case 'serviceaccounts':
      return refs[type.resource].has(name);
    case 'persistentvolumeclaims':
      return refs.persistentvolumeclaims.has(name) || refs.claimPrefixes.some((prefix) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)));
    case 'services': {
      const selector = Object.entries(asObject(asObject(object.spec)?.selector) ?? {});
      return selector.length > 0 && selector.every(([key, value]) => refs.podLabels[key] === value);
    }
    default:
      return false;
  }
}

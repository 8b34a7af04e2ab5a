import type { KubeObject } from '../../domain/kube-object.js';
import type { EmbeddedApi } from '../api-types.js';
import { getIfExists, isAlreadyExists, isNotFound } from './api-errors.js';
import { startControllerLoop } from './controller-loop.js';
import type { ControllerLogger } from './logger.js';
import { PERSISTENT_VOLUME_CLAIMS, STATEFUL_SETS } from './resources.js';
import { splitKey } from './watch-resource.js';

interface StatefulSetSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  volumeClaimTemplates?: Array<{ metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> }>;
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
}

/** The claim name the StatefulSet controller gives template `template` for replica `ordinal`. */
export const statefulSetClaimName = (template: string, statefulSet: string, ordinal: number): string => `${template}-${statefulSet}-${ordinal}`;

export interface StatefulSetClaimsControllerOptions {
  api: EmbeddedApi;
  logger: ControllerLogger;
  resyncMs?: number;
}

/**
 * Creates the PersistentVolumeClaims of StatefulSet volumeClaimTemplates for each replica ordinal
 * (`<template>-<statefulset>-<ordinal>`), labelled with the selector's labels. Pods are not run.
 * persistentVolumeClaimRetentionPolicy: whenDeleted Delete makes the StatefulSet the claims'
 * owner (the garbage collector deletes them with it); whenScaled Delete deletes the claims of
 * ordinals at or above replicas. Retain (the default) keeps claims.
 */
export function startStatefulSetClaimsController(options: StatefulSetClaimsControllerOptions): { stop(): Promise<void> } {
  const { api, logger } = options;

  const reconcile = async (key: string): Promise<void> => {
    const { namespace, name } = splitKey(key);
    const statefulSet = await getIfExists(api, STATEFUL_SETS, namespace, name);
    if (!statefulSet || statefulSet.metadata?.deletionTimestamp) return;
    const spec = (statefulSet.spec ?? {}) as StatefulSetSpec;
    const replicas = spec.replicas ?? 1;
    const policy = spec.persistentVolumeClaimRetentionPolicy ?? {};
    const ownerReferences =
      policy.whenDeleted === 'Delete'
        ? [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: statefulSet.metadata?.uid, controller: true, blockOwnerDeletion: true }]
        : undefined;
    for (const template of spec.volumeClaimTemplates ?? []) {
      const templateName = template.metadata?.name;
      if (!templateName) continue;
      for (let ordinal = 0; ordinal < replicas; ordinal++) {
        const claim: KubeObject = {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: {
            name: statefulSetClaimName(templateName, name, ordinal),
            namespace,
            labels: { ...template.metadata?.labels, ...spec.selector?.matchLabels },
            ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
            ...(ownerReferences ? { ownerReferences } : {}),
          },
          spec: structuredClone(template.spec ?? {}),
        };
        try {
          await api.create(PERSISTENT_VOLUME_CLAIMS, namespace, claim);
          logger.info({ statefulSet: key, claim: claim.metadata?.name }, 'claim created for a StatefulSet replica');
        } catch (error) {
          if (!isAlreadyExists(error)) throw error;
        }
      }
      if (policy.whenScaled !== 'Delete') continue;
      const prefix = `${templateName}-${name}-`;
      const { items } = await api.list(PERSISTENT_VOLUME_CLAIMS, { namespace });
      for (const item of items) {
        const claimName = item.metadata?.name ?? '';
        const suffix = claimName.startsWith(prefix) ? claimName.slice(prefix.length) : '';
        if (!/^\d+$/.test(suffix) || Number(suffix) < replicas) continue;
        try {
          await api.delete(PERSISTENT_VOLUME_CLAIMS, namespace, claimName);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
  };

  return startControllerLoop({
    name: 'statefulset-claims',
    api,
    logger,
    watches: [{ gvr: STATEFUL_SETS }],
    resync: { gvr: STATEFUL_SETS, everyMs: options.resyncMs ?? 30_000 },
    reconcile,
  });
}

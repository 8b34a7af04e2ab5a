/**
 * Installs autostash's Addons and Functions (src/domain/execution/addons-catalog.ts) into the cluster.
 * Objects of the same name that autostash does not manage (e.g. KubeStash's own, installed by its
 * chart) are left alone: sessions then run with those.
 */
import type { Logger } from 'pino';
import { autostashAddons } from '../domain/execution/addons-catalog.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../domain/execution/labels.js';
import { semanticallyEqual } from '../domain/json-access.js';
import type { KubeObject } from '../domain/kube-object.js';
import { isAlreadyExists, isConflict, type KubeClient } from './client.js';

export type InstallAddonsLogger = Pick<Logger, 'info' | 'warn'>;

export interface InstallAddonsResult {
  /** `Kind/name` of each object, by what happened to it. */
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Existing objects not managed by autostash, left as they are. */
  foreign: string[];
}

const MAX_ATTEMPTS = 5;
const ADDON_RESOURCES = {
  Addon: { plural: 'addons', namespaced: false },
  Function: { plural: 'functions', namespaced: false },
} as const;

/**
 * Creates each Addon and Function of the catalog for `image`, or updates it when its spec or its
 * managed-by label differ from the catalog (keeping other labels and annotations); retries on
 * conflicts. Never changes an existing object that lacks app.kubernetes.io/managed-by=autostash.
 * Idempotent; safe to run at every start. Errors other than conflicts are thrown.
 */
export async function installAddons(client: KubeClient, image: string, logger: InstallAddonsLogger): Promise<InstallAddonsResult> {
  const result: InstallAddonsResult = { created: [], updated: [], unchanged: [], foreign: [] };
  for (const desired of autostashAddons(image)) {
    const kind = desired.kind as keyof typeof ADDON_RESOURCES;
    const apiVersion = desired.apiVersion ?? '';
    const name = desired.metadata?.name ?? '';
    const id = `${kind}/${name}`;
    client.registerResource({ apiVersion, kind }, ADDON_RESOURCES[kind]);
    const outcome = await installOne(client, desired, { apiVersion, kind, name });
    result[outcome].push(id);
    if (outcome === 'foreign') logger.warn({ kind, name }, 'addon object exists and is not managed by autostash; left unchanged');
    else if (outcome !== 'unchanged') logger.info({ kind, name, outcome }, 'addon object installed');
  }
  return result;
}

async function installOne(client: KubeClient, desired: KubeObject, ref: { apiVersion: string; kind: string; name: string }): Promise<keyof InstallAddonsResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const existing = await client.find(ref);
      if (existing === undefined) {
        await client.create(desired);
        return 'created';
      }
      if (existing.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return 'foreign';
      if (semanticallyEqual(existing.spec, desired.spec)) return 'unchanged';
      await client.update({
        ...existing,
        metadata: { ...existing.metadata, labels: { ...existing.metadata?.labels, ...desired.metadata?.labels } },
        spec: desired.spec,
      });
      return 'updated';
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !(isConflict(error) || isAlreadyExists(error))) throw error;
    }
  }
}

/**
 * Which Repository a BackupConfiguration asks for (SPEC §8.1 step 2) and what to do about the one
 * that exists under that name. Ownership is the label autostash.dev/backup-configuration=<bc>
 * (same namespace), never the name. Pure.
 */
import type { BackupConfiguration, RepositoryInfo } from '../../api/core.js';
import type { Repository, RepositorySpec } from '../../api/storage.js';
import { CONFIGURATION_NAME_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../domain/execution/labels.js';

/** Every `sessions[].repositories[]` entry with a name, first occurrence of each name. */
export function configurationRepositories(configuration: BackupConfiguration): RepositoryInfo[] {
  const seen = new Map<string, RepositoryInfo>();
  for (const session of configuration.spec?.sessions ?? []) {
    for (const repository of session.repositories ?? []) if (repository.name && !seen.has(repository.name)) seen.set(repository.name, repository);
  }
  return [...seen.values()];
}

/** True when the Repository was created for this configuration. */
export const belongsTo = (repository: Repository, configuration: BackupConfiguration): boolean =>
  repository.metadata?.labels?.[CONFIGURATION_NAME_LABEL] === configuration.metadata?.name && repository.metadata?.namespace === configuration.metadata?.namespace;

/** The Repository for `info` (without resourceVersion), or why there can be none. */
export function desiredRepository(configuration: BackupConfiguration, info: RepositoryInfo): { repository: Repository } | { error: string } {
  const namespace = configuration.metadata?.namespace ?? '';
  const backends = configuration.spec?.backends ?? [];
  // The webhook defaults `backend` when there is one backend; an object that skipped it gets the same.
  const backend = info.backend !== undefined ? backends.find((candidate) => candidate.name === info.backend) : backends.length === 1 ? backends[0] : undefined;
  if (backend === undefined) {
    return { error: `repository ${info.name}: backend ${info.backend === undefined ? '(unset)' : `"${info.backend}"`} names no entry of spec.backends` };
  }
  if (!backend.storageRef?.name) return { error: `repository ${info.name}: backend "${backend.name ?? ''}" has no storageRef` };
  if (!info.directory) return { error: `repository ${info.name}: directory is required` };
  const spec: RepositorySpec = {
    storageRef: { name: backend.storageRef.name, namespace: backend.storageRef.namespace || namespace },
    path: info.directory,
    // Repository knows Delete and WipeOut; Retain is the configuration's business (done on its deletion).
    deletionPolicy: info.deletionPolicy === 'WipeOut' ? 'WipeOut' : 'Delete',
  };
  const target = configuration.spec?.target;
  if (target !== undefined) spec.appRef = { ...target, namespace: target.namespace || namespace };
  if (info.encryptionSecret !== undefined) spec.encryptionSecret = { name: info.encryptionSecret.name, namespace: info.encryptionSecret.namespace || namespace };
  return {
    repository: {
      apiVersion: 'storage.kubestash.com/v1alpha1',
      kind: 'Repository',
      metadata: {
        name: info.name ?? '',
        namespace,
        labels: { [CONFIGURATION_NAME_LABEL]: configuration.metadata?.name ?? '', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      },
      spec,
    },
  };
}

/** What to do about one repository of a configuration. */
export type RepositoryAction =
  | { action: 'create'; repository: Repository }
  | { action: 'update'; repository: Repository }
  | { action: 'none' }
  /** Being deleted (e.g. re-created configuration after a deletion): wait, then create. */
  | { action: 'wait'; reason: string }
  | { action: 'conflict'; reason: string };

const OWNED_SPEC_FIELDS = ['appRef', 'storageRef', 'path', 'encryptionSecret', 'deletionPolicy'] as const;

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * - no Repository: create the desired one;
 * - one not labelled for this configuration (another configuration's, or a user's): conflict;
 * - ours but being deleted: wait;
 * - ours with another spec.path: conflict (the path is immutable: the data lives there);
 * - ours with other appRef/storageRef/encryptionSecret/deletionPolicy: update those (the rest, e.g.
 *   paused, is kept);
 * - otherwise nothing.
 */
export function repositoryAction(configuration: BackupConfiguration, info: RepositoryInfo, existing: Repository | undefined): RepositoryAction {
  const desired = desiredRepository(configuration, info);
  if ('error' in desired) return { action: 'conflict', reason: desired.error };
  const wanted = desired.repository;
  const id = `${wanted.metadata?.namespace}/${wanted.metadata?.name}`;
  if (existing === undefined) return { action: 'create', repository: wanted };
  if (!belongsTo(existing, configuration)) {
    const owner = existing.metadata?.labels?.[CONFIGURATION_NAME_LABEL];
    return {
      action: 'conflict',
      reason: `Repository ${id} exists and was not created for this BackupConfiguration (${owner ? `it belongs to BackupConfiguration ${owner}` : 'it has no autostash.dev/backup-configuration label'}); choose another repository name`,
    };
  }
  if (existing.metadata?.deletionTimestamp) return { action: 'wait', reason: `Repository ${id} is being deleted` };
  if ((existing.spec?.path ?? '') !== wanted.spec?.path) {
    return {
      action: 'conflict',
      reason: `repository ${info.name}: directory "${wanted.spec?.path}" differs from the Repository's spec.path "${existing.spec?.path ?? ''}", which cannot change; restore the directory or use a new repository name`,
    };
  }
  const spec: Record<string, unknown> = { ...existing.spec };
  let changed = false;
  for (const field of OWNED_SPEC_FIELDS) {
    const value = wanted.spec?.[field];
    if (sameJson(spec[field], value)) continue;
    changed = true;
    if (value === undefined) delete spec[field];
    else spec[field] = value;
  }
  const labels = { ...existing.metadata?.labels, ...wanted.metadata?.labels };
  if (!sameJson(labels, existing.metadata?.labels)) changed = true;
  if (!changed) return { action: 'none' };
  return { action: 'update', repository: { ...existing, metadata: { ...existing.metadata, labels }, spec: spec as RepositorySpec } };
}

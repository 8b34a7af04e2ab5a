/**
 * What the storage controller derives for a BackupStorage (SPEC §3.1): the phase from the
 * conditions the executor writes, the condition to write when the init Job died without the
 * executor saying why, and the repositories stored in it. Pure.
 */
import type { Condition } from '../../api/common.js';
import type { BackupStorageRepositoryStatus, Repository } from '../../api/storage.js';
import type { ConditionInput } from './conditions.js';
import { findCondition } from './conditions.js';
import { formatByteSize, parseByteSize } from './snapshot-phase.js';

export const StorageConditions = {
  BackendInitialized: 'BackendInitialized',
  BackendSecretFound: 'BackendSecretFound',
} as const;

export const StorageReasons = {
  BackendInitializationSucceeded: 'BackendInitializationSucceeded',
  BackendInitializationFailed: 'BackendInitializationFailed',
} as const;

export type StoragePhase = 'Ready' | 'NotReady';

/** Ready iff BackendInitialized is True and BackendSecretFound is absent or True; NotReady otherwise. */
export function storagePhase(conditions: readonly Condition[] | undefined): StoragePhase {
  const initialized = findCondition(conditions, StorageConditions.BackendInitialized);
  const secret = findCondition(conditions, StorageConditions.BackendSecretFound);
  return initialized?.status === 'True' && (secret === undefined || secret.status === 'True') ? 'Ready' : 'NotReady';
}

/**
 * The BackendInitialized condition to write when the init Job failed (`jobFailure` is its message):
 * False with that message, unless the condition is already False — then the executor (or an earlier
 * pass) said why, and its words are kept. Undefined when nothing is to be written.
 */
export function initFailureCondition(conditions: readonly Condition[] | undefined, jobFailure: string | undefined): ConditionInput | undefined {
  if (jobFailure === undefined) return undefined;
  if (findCondition(conditions, StorageConditions.BackendInitialized)?.status === 'False') return undefined;
  return {
    type: StorageConditions.BackendInitialized,
    status: 'False',
    reason: StorageReasons.BackendInitializationFailed,
    message: `the storage initializer Job failed: ${jobFailure}`,
  };
}

/** `status.repositories[]` and `totalSize` of a storage. */
export interface StorageRepositoriesStatus {
  repositories: BackupStorageRepositoryStatus[];
  /** Sum of the repositories' sizes, formatted; absent when none reports a size. */
  totalSize?: string;
}

/**
 * The repositories stored in the storage (the caller passes those whose storageRef points at it),
 * sorted by namespace and name: {name, namespace, path, size?, synced: true} — synced because
 * autostash learns them from the Repository objects themselves.
 */
export function storageRepositories(repositories: readonly Repository[]): StorageRepositoriesStatus {
  let bytes = 0;
  let sized = false;
  const entries = repositories
    .map((repository) => {
      const size = repository.status?.size;
      const parsed = parseByteSize(size);
      if (parsed !== undefined) {
        bytes += parsed;
        sized = true;
      }
      const entry: BackupStorageRepositoryStatus = {
        name: repository.metadata?.name ?? '',
        namespace: repository.metadata?.namespace ?? '',
        path: repository.spec?.path ?? '',
        synced: true,
      };
      if (size !== undefined) entry.size = size;
      return entry;
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return { repositories: entries, ...(sized ? { totalSize: formatByteSize(bytes) } : {}) };
}

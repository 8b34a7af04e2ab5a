/**
 * The results of a manifest restore, object by object, folded into the bounded status a RestoreSession carries
 * (status.manifestRestore): counts of every outcome, and the objects that were not simply created listed with
 * their reason, failures first, at most a fixed number, so a restore of thousands of objects stays far below
 * the API server's object size limit.
 */
import { MANIFEST_RESTORE_LISTED_MAX, type ManifestRestoreResource, type ManifestRestoreStatus } from '../../api/core.js';

export type ObjectRestoreOutcome = 'Created' | ManifestRestoreResource['result'];

/** What happened to one object. */
export interface ObjectRestoreResult {
  apiGroup: string;
  kind: string;
  namespace?: string;
  name: string;
  result: ObjectRestoreOutcome;
  reason?: string;
}

export interface RestoreTally {
  add(result: ObjectRestoreResult): void;
  /** The status so far; `excluded` counts dump files the plan or the label filters left out. */
  summary(excluded: number): ManifestRestoreStatus;
}

/**
 * A tally holding at most `listedMax` entries per outcome (never every object): counts are exact, the list is
 * Failed, then Skipped, then Updated entries in the order added, cut at `listedMax`; `unlisted` counts the rest.
 */
export function createRestoreTally(listedMax = MANIFEST_RESTORE_LISTED_MAX): RestoreTally {
  const counts = { Created: 0, Updated: 0, Skipped: 0, Failed: 0 };
  const kept: Record<ManifestRestoreResource['result'], ManifestRestoreResource[]> = { Failed: [], Skipped: [], Updated: [] };
  return {
    add(result) {
      counts[result.result]++;
      if (result.result === 'Created') return;
      const list = kept[result.result];
      if (list.length >= listedMax) return;
      list.push({
        ...(result.apiGroup !== '' ? { apiGroup: result.apiGroup } : {}),
        kind: result.kind,
        ...(result.namespace !== undefined ? { namespace: result.namespace } : {}),
        name: result.name,
        result: result.result,
        ...(result.reason !== undefined ? { reason: result.reason } : {}),
      });
    },
    summary(excluded) {
      const notCreated = counts.Updated + counts.Skipped + counts.Failed;
      const resources = [...kept.Failed, ...kept.Skipped, ...kept.Updated].slice(0, listedMax);
      return {
        total: counts.Created + notCreated,
        created: counts.Created,
        updated: counts.Updated,
        skipped: counts.Skipped,
        failed: counts.Failed,
        excluded,
        resources,
        unlisted: notCreated - resources.length,
      };
    },
  };
}

/** One line for Events and logs: `12 created, 1 updated, 3 skipped (exist), 0 failed, 2 excluded by filters`. */
export function describeManifestRestore(status: ManifestRestoreStatus): string {
  return `${status.created ?? 0} created, ${status.updated ?? 0} updated, ${status.skipped ?? 0} skipped (exist), ${status.failed ?? 0} failed, ${status.excluded ?? 0} excluded by filters`;
}

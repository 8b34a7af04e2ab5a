/**
 * Step 1 of a restore (SPEC §4.4, §9): does everything the RestoreSession names exist, and what
 * exactly will be restored — which Snapshot (`latest` resolved once), which components, into which
 * target, with which restore tasks. The answer is either a plan or one message naming the field at
 * fault. Reads go through {@link RestoreLookups} (informer caches, with a live read on a miss so a
 * cache that is behind never turns a good RestoreSession Invalid).
 */
import type { Addon, AddonFunction, BackupStorage, Repository, RestoreSession, Snapshot } from '../../api/index.js';
import type { TaskReference } from '../../api/core.js';
import type { TypedObjectReference } from '../../api/common.js';
import { parseGoDuration } from '../../domain/duration.js';
import { MANIFEST_RESTORE_TASK } from '../../domain/execution/addons-catalog.js';
import { resolveTask, type ResolvedTask } from '../../domain/execution/resolve-task.js';
import { REPOSITORY_NAME_LABEL } from '../../domain/execution/labels.js';
import { formatApiVersion, type KubeObject } from '../../domain/kube-object.js';

/** Set on the RestoreSession once validation passed: the Snapshot `spec.dataSource.snapshot` resolved to. */
export const RESOLVED_SNAPSHOT_ANNOTATION = 'autostash.dev/resolved-snapshot';
export const LATEST_SNAPSHOT = 'latest';

/** A restore target: apiVersion/kind/namespace/name, namespace resolved. */
export interface TargetRef {
  apiVersion: string;
  apiGroup: string;
  kind: string;
  namespace: string;
  name: string;
}

/** What validation reads. Every lookup answers the API server's current view or the cache's. */
export interface RestoreLookups {
  repository(namespace: string, name: string): Promise<Repository | undefined>;
  storage(namespace: string, name: string): Promise<BackupStorage | undefined>;
  snapshot(namespace: string, name: string): Promise<Snapshot | undefined>;
  /** Snapshots labelled kubestash.com/repo-name=<repository> in the namespace. */
  snapshotsOf(namespace: string, repository: string): Promise<Snapshot[]>;
  /** Whether the Secret exists and has the key (never its value). */
  secretHasKey(namespace: string, name: string, key: string): Promise<'missing' | 'noKey' | 'ok'>;
  target(ref: TargetRef): Promise<KubeObject | undefined>;
  addons(): Promise<Addon[]>;
  functions(): Promise<AddonFunction[]>;
}

export interface RestoreTask {
  taskRef: TaskReference;
  /** Field path of the TaskReference (`spec.addon.tasks[i]`). */
  taskPath: string;
  resolved: Extract<ResolvedTask, { ok: true }>;
}

export interface RestorePlan {
  repository: Repository;
  storage: BackupStorage;
  snapshot: Snapshot;
  /** The components to restore, in the Snapshot's order. */
  components: string[];
  /** Every component the Snapshot has (for messages). */
  available: string[];
  encryptionSecret: { namespace: string; name: string };
  /** The object restored into; undefined only for a manifest restore whose target does not exist yet. */
  target: KubeObject | undefined;
  targetRef: TargetRef | undefined;
  /** The one restore task (autostash runs one task per RestoreSession). */
  task: RestoreTask;
  /** A manifest restore (kubedump): one `manifest` component, no target volumes. */
  manifest: boolean;
  /** spec.restoreTimeout in milliseconds. */
  timeoutMs: number | undefined;
}

export type Validation =
  | { ok: true; plan: RestorePlan }
  /** The spec names something that is not there or cannot be: phase Invalid. */
  | { ok: false; invalid: true; field: string; message: string }
  /** The spec is fine, but there is nothing to restore (`latest` without a Succeeded Snapshot): Failed. */
  | { ok: false; invalid: false; field: string; message: string };

/** Every message names its field: prefixed with it when the text does not already. */
const invalid = (field: string, message: string): Validation => ({ ok: false, invalid: true, field, message: message.includes(field) ? message : `${field}: ${message}` });

const id = (namespace: string, name: string): string => `${namespace}/${name}`;

/** Newest first: status.snapshotTime, then creation time, then name (creation times have second precision). */
export function newestSnapshotFirst(a: Snapshot, b: Snapshot): number {
  const time = (s: Snapshot): number => {
    const at = Date.parse(s.status?.snapshotTime ?? s.metadata?.creationTimestamp ?? '');
    return Number.isNaN(at) ? 0 : at;
  };
  return time(b) - time(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
}

/** The target reference of a TypedObjectReference whose namespace defaults to `defaultNamespace`. */
export function targetRefOf(ref: TypedObjectReference, defaultNamespace: string): TargetRef {
  const apiGroup = ref.apiGroup ?? '';
  // The kinds autostash restores into (core and apps) are served at v1.
  return {
    apiVersion: formatApiVersion(apiGroup, 'v1'),
    apiGroup,
    kind: ref.kind ?? '',
    namespace: ref.namespace || defaultNamespace,
    name: ref.name,
  };
}

/**
 * Validates `rs` (see the module comment). `resolvedSnapshot` (the annotation written when a
 * previous validation passed) wins over `spec.dataSource.snapshot`, so `latest` keeps meaning the
 * Snapshot it meant when the restore started.
 */
export async function validateRestoreSession(rs: RestoreSession, lookups: RestoreLookups): Promise<Validation> {
  const namespace = rs.metadata?.namespace ?? '';
  const timeout = restoreTimeoutMs(rs.spec?.restoreTimeout);
  if (!timeout.ok) return invalid('spec.restoreTimeout', timeout.reason);
  const dataSource = rs.spec?.dataSource;
  const repositoryName = dataSource?.repository ?? '';
  if (repositoryName === '') return invalid('spec.dataSource.repository', 'spec.dataSource.repository is required: name the Repository to restore from');
  if (dataSource?.pitr !== undefined) return invalid('spec.dataSource.pitr', 'spec.dataSource.pitr (point-in-time recovery) is not supported by autostash: name a Snapshot or use latest');
  const sourceNamespace = dataSource?.namespace || namespace;
  const repository = await lookups.repository(sourceNamespace, repositoryName);
  if (repository === undefined) return invalid('spec.dataSource.repository', `Repository ${id(sourceNamespace, repositoryName)} (spec.dataSource.repository) not found`);

  const storageRef = repository.spec?.storageRef;
  const storageNamespace = storageRef?.namespace || sourceNamespace;
  const storage = storageRef?.name ? await lookups.storage(storageNamespace, storageRef.name) : undefined;
  if (storage === undefined) {
    return invalid(
      'spec.dataSource.repository',
      storageRef?.name
        ? `BackupStorage ${id(storageNamespace, storageRef.name)} of Repository ${id(sourceNamespace, repositoryName)} (spec.dataSource.repository) not found`
        : `Repository ${id(sourceNamespace, repositoryName)} (spec.dataSource.repository) has no spec.storageRef`,
    );
  }

  const resolved = rs.metadata?.annotations?.[RESOLVED_SNAPSHOT_ANNOTATION];
  const asked = resolved || dataSource?.snapshot || '';
  let snapshot: Snapshot | undefined;
  if (asked === '') return invalid('spec.dataSource.snapshot', 'spec.dataSource.snapshot is required: a Snapshot name, or latest');
  if (asked === LATEST_SNAPSHOT) {
    const candidates = (await lookups.snapshotsOf(sourceNamespace, repositoryName)).filter((s) => s.status?.phase === 'Succeeded');
    snapshot = candidates.sort(newestSnapshotFirst)[0];
    if (snapshot === undefined) {
      return {
        ok: false,
        invalid: false,
        field: 'spec.dataSource.snapshot',
        message: `spec.dataSource.snapshot is latest, but Repository ${id(sourceNamespace, repositoryName)} has no Succeeded Snapshot to restore`,
      };
    }
  } else {
    snapshot = await lookups.snapshot(sourceNamespace, asked);
    if (snapshot === undefined) return invalid('spec.dataSource.snapshot', `Snapshot ${id(sourceNamespace, asked)} (spec.dataSource.snapshot) not found`);
    const owner = snapshot.spec?.repository || snapshot.metadata?.labels?.[REPOSITORY_NAME_LABEL];
    if (owner !== repositoryName) {
      return invalid('spec.dataSource.snapshot', `Snapshot ${id(sourceNamespace, asked)} (spec.dataSource.snapshot) belongs to Repository ${owner ?? '(none)'}, not ${repositoryName}`);
    }
    if (snapshot.status?.phase !== 'Succeeded') {
      return invalid('spec.dataSource.snapshot', `Snapshot ${id(sourceNamespace, asked)} (spec.dataSource.snapshot) is ${snapshot.status?.phase ?? 'Pending'}, not Succeeded: only a Succeeded Snapshot can be restored`);
    }
  }
  const snapshotName = snapshot.metadata?.name ?? '';

  const available = Object.keys(snapshot.status?.components ?? {});
  if (available.length === 0) return invalid('spec.dataSource.snapshot', `Snapshot ${id(sourceNamespace, snapshotName)} has no components to restore`);
  const wanted = dataSource?.components ?? [];
  const unknown = wanted.filter((component) => !available.includes(component));
  if (unknown.length > 0) {
    return invalid(
      'spec.dataSource.components',
      `spec.dataSource.components names ${unknown.join(', ')}, which Snapshot ${id(sourceNamespace, snapshotName)} does not have; its components: ${available.join(', ')}`,
    );
  }
  const components = wanted.length === 0 ? available : available.filter((component) => wanted.includes(component));

  const secretRef = dataSource?.encryptionSecret ?? repository.spec?.encryptionSecret;
  if (secretRef === undefined || !secretRef.name) {
    return invalid('spec.dataSource.encryptionSecret', `no encryption Secret: set spec.dataSource.encryptionSecret or spec.encryptionSecret of Repository ${id(sourceNamespace, repositoryName)}`);
  }
  const secretField = dataSource?.encryptionSecret ? 'spec.dataSource.encryptionSecret' : `spec.encryptionSecret of Repository ${id(sourceNamespace, repositoryName)}`;
  const secretNamespace = secretRef.namespace || (dataSource?.encryptionSecret ? namespace : sourceNamespace);
  const secret = await lookups.secretHasKey(secretNamespace, secretRef.name, 'RESTIC_PASSWORD');
  if (secret === 'missing') return invalid('spec.dataSource.encryptionSecret', `encryption Secret ${id(secretNamespace, secretRef.name)} (${secretField}) not found`);
  if (secret === 'noKey') return invalid('spec.dataSource.encryptionSecret', `encryption Secret ${id(secretNamespace, secretRef.name)} (${secretField}) has no key RESTIC_PASSWORD`);

  const addon = rs.spec?.addon;
  if (!addon?.name) return invalid('spec.addon.name', 'spec.addon.name is required: the Addon whose restore task runs (e.g. workload-addon, pvc-addon)');
  const taskRefs = addon.tasks ?? [];
  if (taskRefs.length === 0) return invalid('spec.addon.tasks', `spec.addon.tasks is empty: name a restore task of Addon ${addon.name} (e.g. logical-backup-restore)`);
  if (taskRefs.length > 1) {
    return invalid('spec.addon.tasks', `spec.addon.tasks names ${taskRefs.length} tasks; autostash runs one restore task per RestoreSession: create one RestoreSession per task`);
  }
  const [addons, functions] = await Promise.all([lookups.addons(), lookups.functions()]);
  const taskRef = taskRefs[0] as TaskReference;
  const taskPath = 'spec.addon.tasks[0]';
  const resolvedTask = resolveTask({ addons, functions, addonName: addon.name, taskName: taskRef.name ?? '', kind: 'restore' });
  if (!resolvedTask.ok) return invalid(resolvedTask.reason === 'AddonNotFound' ? 'spec.addon.name' : `${taskPath}.name`, resolvedTask.message);
  const task: RestoreTask = { taskRef, taskPath, resolved: resolvedTask };
  // A manifest restore recreates its target: the target need not exist.
  const manifest = resolvedTask.task.name === MANIFEST_RESTORE_TASK;

  const targetSpec = rs.spec?.target;
  const appRef = snapshot.spec?.appRef;
  if (targetSpec === undefined && appRef === undefined) {
    if (manifest) {
      return { ok: true, plan: { repository, storage, snapshot, components, available, encryptionSecret: { namespace: secretNamespace, name: secretRef.name }, target: undefined, targetRef: undefined, task, manifest, timeoutMs: timeout.value } };
    }
    return invalid('spec.target', `spec.target is not set and Snapshot ${id(sourceNamespace, snapshotName)} has no spec.appRef: name the target to restore into`);
  }
  const targetRef = targetSpec !== undefined ? targetRefOf(targetSpec, namespace) : targetRefOf(appRef as TypedObjectReference, sourceNamespace);
  const targetField = targetSpec !== undefined ? 'spec.target' : `spec.target (not set; the Snapshot's spec.appRef)`;
  const target = await lookups.target(targetRef);
  if (target === undefined && !manifest) {
    return invalid('spec.target', `${targetRef.kind} ${id(targetRef.namespace, targetRef.name)} (${targetField}) not found: create the target before restoring into it`);
  }

  return {
    ok: true,
    plan: { repository, storage, snapshot, components, available, encryptionSecret: { namespace: secretNamespace, name: secretRef.name }, target, targetRef, task, manifest, timeoutMs: timeout.value },
  };
}

/** spec.restoreTimeout (a Go duration) in milliseconds; undefined when absent. Zero, negative or unparsable is an error. */
export function restoreTimeoutMs(text: string | undefined): { ok: true; value: number | undefined } | { ok: false; reason: string } {
  if (text === undefined || text === '') return { ok: true, value: undefined };
  const parsed = parseGoDuration(text);
  if (!parsed.ok) return { ok: false, reason: `spec.restoreTimeout: ${parsed.reason}: write a duration such as 30m or 1h30m` };
  if (parsed.value <= 0n) return { ok: false, reason: `spec.restoreTimeout ${text} is not positive: give a duration such as 30m` };
  return { ok: true, value: Number(parsed.value / 1_000_000n) };
}

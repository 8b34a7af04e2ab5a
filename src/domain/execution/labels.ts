/**
 * Names shared by everything that runs backups: labels that decide ownership and lookups, the
 * finalizer, the Job components and the volume and mount names every Job uses. One place, so the
 * controllers, the Job builders and the executor agree.
 */

/** KubeStash's finalizer on BackupConfigurations, Repositories, Snapshots and BackupSessions. */
export const CLEANUP_FINALIZER = 'kubestash.com/cleanup';

/** On BackupSessions and Jobs: who invoked the work (KubeStash's offshoot labels). */
export const INVOKER_KIND_LABEL = 'kubestash.com/invoker-kind';
export const INVOKER_NAME_LABEL = 'kubestash.com/invoker-name';
export const INVOKER_NAMESPACE_LABEL = 'kubestash.com/invoker-namespace';
/** On BackupSessions and Jobs: the BackupConfiguration session (`spec.sessions[].name`). */
export const SESSION_NAME_LABEL = 'kubestash.com/session-name';

/** On Snapshots (SPEC §3.4). */
export const REPOSITORY_NAME_LABEL = 'kubestash.com/repo-name';
export const APP_REF_KIND_LABEL = 'kubestash.com/app-ref-kind';
export const APP_REF_NAME_LABEL = 'kubestash.com/app-ref-name';
export const APP_REF_NAMESPACE_LABEL = 'kubestash.com/app-ref-namespace';

/** On every object autostash creates for execution (Repositories, Snapshots, Jobs, BackupSessions it triggers). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'autostash';

/** On Jobs: what the Job does (one of {@link JobComponent}). */
export const JOB_COMPONENT_LABEL = 'autostash.dev/job-component';
export type JobComponent = 'backup' | 'restore' | 'storage-initializer' | 'repository-initializer' | 'retention-policy' | 'cleaner';

/** On Jobs: the BackupSession / RestoreSession / Snapshot / Repository / BackupStorage the Job works for. */
export const BACKUP_SESSION_LABEL = 'autostash.dev/backup-session';
export const RESTORE_SESSION_LABEL = 'autostash.dev/restore-session';
export const SNAPSHOT_LABEL = 'autostash.dev/snapshot';
export const REPOSITORY_LABEL = 'autostash.dev/repository';
export const STORAGE_LABEL = 'autostash.dev/backup-storage';
/** On backup and restore Jobs: the snapshot component the Job handles (`dump`, `dump-pod-0`, `dump-<node>`, `manifest`). */
export const TARGET_COMPONENT_LABEL = 'autostash.dev/component';

/** On Repositories autostash generated from a BackupConfiguration: `<namespace>/<name>` is in the two labels. */
export const CONFIGURATION_NAME_LABEL = 'autostash.dev/backup-configuration';

/** On BackupSessions: who created it and, for the scheduler, the slot it stands for (RFC 3339). */
export const TRIGGERED_BY_ANNOTATION = 'autostash.dev/triggered-by';
export type TriggeredBy = 'scheduler' | 'trigger' | 'retry' | 'initial';
export const SCHEDULED_AT_ANNOTATION = 'autostash.dev/scheduled-at';
/** On a retry BackupSession: the session it retries. */
export const RETRY_OF_ANNOTATION = 'autostash.dev/retry-of';

/** Scratch space every restic Job gets (an emptyDir), as KubeStash's `kubestash-tmp-volume`. */
export const SCRATCH_VOLUME_NAME = 'kubestash-tmp-volume';
export const SCRATCH_MOUNT_PATH = '/kubestash-tmp';
/** Where a standalone PVC is mounted in pvc-addon Jobs (SPEC §5). */
export const PVC_DATA_MOUNT_PATH = '/kubestash-data';
/** Volume names of the local backends a Job mounts: `<prefix><index>` in the order the Job lists its storages. */
export const BACKEND_VOLUME_PREFIX = 'autostash-backend-';

/** Restic layout inside a repository directory (SPEC §8.2): `repository/<version>/<session>/<component>`. */
export const SNAPSHOT_VERSION = 'v1';
export const componentPath = (session: string, component: string): string => `repository/${SNAPSHOT_VERSION}/${session}/${component}`;

/**
 * How the embedded control plane tells a Job's process where each mount path lives on this machine: a JSON
 * object `{mountPath: hostPath}` (docs/embedded-job-volumes.md). The executor translates its paths with it.
 */
export const VOLUME_MAP_ENV = 'AUTOSTASH_VOLUME_MAP';

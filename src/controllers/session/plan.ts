/**
 * What the session controller asks of the Job builders: given the cluster objects a session
 * involves, the components to back up and the Jobs to create (or why not), and the retention Job.
 * An interface so the reconcile logic does not depend on how Jobs are shaped.
 */
import type { BackupConfiguration, BackupSession, BackupStorage, Repository, Session } from '../../api/index.js';
import type { KubeObject } from '../../domain/kube-object.js';
import type { JobServiceAccountSettings } from '../../domain/execution/job-service-accounts.js';

/** Everything a plan may need, read from the controller's caches. */
export interface ClusterObjects {
  backupSession: BackupSession;
  configuration: BackupConfiguration;
  session: Session;
  /** The session's Repositories (those that exist), in the order of session.repositories. */
  repositories: Repository[];
  /** The BackupStorages of those Repositories. */
  storages: BackupStorage[];
  addons: KubeObject[];
  functions: KubeObject[];
  /** The configuration's target workload, when it is a Deployment/StatefulSet/DaemonSet that exists. */
  target: KubeObject | undefined;
  /** Pods and PersistentVolumeClaims of the target's namespace, and the cluster's Nodes. */
  pods: KubeObject[];
  claims: KubeObject[];
  nodes: KubeObject[];
  image: string;
  /** The fallback ServiceAccount of every Job (`--job-service-account`). */
  serviceAccountName?: string;
  /** ServiceAccounts per Job role; backup Jobs use backup (kubedumpBackup for manifests), retention maintenance. */
  serviceAccounts?: JobServiceAccountSettings['serviceAccounts'];
}

/** The backup Jobs of a session: one per component; or why there are none (reason is a condition reason). */
export type BackupPlan = { ok: true; components: string[]; jobs: KubeObject[] } | { ok: false; reason: string; message: string };

/** The retention Job of a session, or why there is none. */
export type RetentionPlan = { ok: true; job: KubeObject } | { ok: false; reason: string; message: string };

export interface ExecutionPlanner {
  planBackup(objects: ClusterObjects): BackupPlan;
  planRetention(objects: ClusterObjects): RetentionPlan;
}

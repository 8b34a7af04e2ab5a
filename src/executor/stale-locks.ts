/**
 * Stale restic locks. A Job killed mid-run (deadline, eviction, node loss) leaves its lock in the repository;
 * restic's own `unlock` removes a lock only when it is older than 30 minutes without refresh or when its PID is
 * dead on *this* host — a lock from another pod (another hostname) with a long-running but dead process is
 * never stale to restic, and blocks forget/prune (exclusive) for ever.
 *
 * The rule (also in docs/executor.md): first `restic unlock`. If locks remain, remove them all with
 * `unlock --remove-all` only when every one of them
 *   1. is older than the threshold (the run timeout, default 1 hour): a live restic refreshes its lock every
 *      5 minutes, so an old lock belongs to a process that has stopped refreshing; or was taken on this host
 *      by a process that is now a zombie (killed, not yet reaped: restic's own check counts it alive, so a
 *      restic killed on the embedded plane kept blocking the repository until its parent was reaped);
 *   2. was not taken by this pod (its hostname is not our HOSTNAME);
 * and no other autostash Job that may use this repository (backup, retention, cleanup) is active in the
 * Repository's namespace or ours. Anything uncertain (a Job we cannot attribute) counts as "in use": a lock left
 * in place costs one failed run, a lock removed under a live writer can cost the repository.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { BackupSession } from '../api/index.js';
import {
  BACKUP_SESSION_LABEL,
  JOB_COMPONENT_LABEL,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  REPOSITORY_LABEL,
} from '../domain/execution/labels.js';
import type { KubeObject } from '../domain/kube-object.js';
import type { KubeClient } from '../kube/client.js';
import { BACKUP_SESSION_TYPE, JOB_TYPE, type ExecOptions } from './context.js';
import type { Restic, ResticLock } from './restic.js';

/** Default age after which a leftover lock may be removed, when no run timeout is known. */
export const DEFAULT_STALE_LOCK_MS = 60 * 60 * 1000;

/** Job components whose Jobs may hold restic locks. */
const LOCKING_COMPONENTS = new Set(['backup', 'retention-policy', 'cleaner']);

export interface StaleLockOptions {
  restic: Restic;
  client: KubeClient;
  /** Namespaces whose Jobs may use the repository (the Repository's and the verb's). */
  namespaces: string[];
  /** The Repository's name, to tell which active Jobs use it. */
  repository: string;
  /** This pod's name (HOSTNAME): our own Job and locks are never counted as others'. */
  podName?: string | undefined;
  staleAfterMs: number;
  now: Date;
  logger: ExecOptions['logger'];
  /** This machine's host name as restic records it in locks; default os.hostname(). */
  hostName?: string;
  /** Whether a process of this host is a zombie (dead, not yet reaped); default reads /proc/<pid>/stat. */
  isZombie?: (pid: number) => Promise<boolean>;
}

/** True when /proc says the process is a zombie; false when it runs, is gone or /proc cannot tell. */
export async function isZombieProcess(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The state follows the parenthesised command name, which may itself contain spaces or parentheses.
  return /\) Z /.test(stat.slice(stat.lastIndexOf(')')));
}

export interface StaleLockResult {
  /** Locks left after `restic unlock`. */
  remaining: number;
  /** True when `unlock --remove-all` ran. */
  removedAll: boolean;
  /** Why leftover locks were kept (absent when none remained or they were removed). */
  keptBecause?: string;
}

/** The Job name of a pod named `<job>-<5 characters>` (how both Kubernetes and the embedded plane name them). */
export const jobNameOfPod = (podName: string): string => podName.replace(/-[a-z0-9]{5}$/, '');

const isActiveJob = (job: KubeObject): boolean => {
  const conditions = (job.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? [];
  return !conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
};

/** Applies the stale-lock rule above to one restic repository. Never throws for an unreadable lock list. */
export async function removeStaleLocks(options: StaleLockOptions): Promise<StaleLockResult> {
  const { restic, logger } = options;
  await restic.unlockStale();
  let locks: ResticLock[];
  try {
    locks = await restic.listLocks();
  } catch (error) {
    logger.warn({ err: (error as Error).message }, 'restic locks could not be listed');
    return { remaining: -1, removedAll: false, keptBecause: 'the lock list could not be read' };
  }
  if (locks.length === 0) return { remaining: 0, removedAll: false };
  const keep = (keptBecause: string): StaleLockResult => {
    logger.info({ locks: locks.length, reason: keptBecause }, 'restic locks kept');
    return { remaining: locks.length, removedAll: false, keptBecause };
  };
  const nowMs = options.now.getTime();
  const host = options.hostName ?? hostname();
  const isZombie = options.isZombie ?? isZombieProcess;
  const deadHere = new Set<string>();
  for (const lock of locks) if (lock.hostname === host && (await isZombie(lock.pid))) deadHere.add(lock.id);
  const young = locks.find((lock) => {
    if (deadHere.has(lock.id)) return false;
    const time = Date.parse(lock.time);
    return Number.isNaN(time) || nowMs - time < options.staleAfterMs;
  });
  if (young !== undefined) return keep(`a lock from ${young.hostname} is younger than ${Math.round(options.staleAfterMs / 1000)}s`);
  if (options.podName !== undefined && locks.some((lock) => lock.hostname === options.podName)) return keep('a lock belongs to this pod');
  const user = await activeJobUsingRepository(options);
  if (user !== undefined) return keep(`Job ${user} may be using the repository`);
  await restic.unlockAll();
  logger.warn({ locks: locks.length, hosts: [...new Set(locks.map((l) => l.hostname))] }, 'stale restic locks removed');
  return { remaining: locks.length, removedAll: true };
}

/** `<namespace>/<name>` of another active Job that may use the repository, or undefined. */
async function activeJobUsingRepository(options: StaleLockOptions): Promise<string | undefined> {
  const ownJob = options.podName !== undefined ? jobNameOfPod(options.podName) : undefined;
  for (const namespace of [...new Set(options.namespaces)]) {
    const jobs = await options.client.list({ ...JOB_TYPE }, { namespace, labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` });
    for (const job of jobs.items) {
      const labels = job.metadata?.labels ?? {};
      const component = labels[JOB_COMPONENT_LABEL] ?? '';
      if (!LOCKING_COMPONENTS.has(component) || job.metadata?.name === ownJob || !isActiveJob(job)) continue;
      if (await jobMayUse(options, namespace, labels)) return `${namespace}/${job.metadata?.name ?? ''}`;
    }
  }
  return undefined;
}

async function jobMayUse(options: StaleLockOptions, namespace: string, labels: Record<string, string>): Promise<boolean> {
  const repositoryLabel = labels[REPOSITORY_LABEL];
  if (repositoryLabel !== undefined) return repositoryLabel === options.repository;
  const sessionName = labels[BACKUP_SESSION_LABEL];
  if (sessionName === undefined) return true;
  const session = await options.client.find<BackupSession>({ ...BACKUP_SESSION_TYPE, namespace, name: sessionName });
  const snapshots = session?.status?.snapshots;
  // Before the session lists its snapshots we cannot tell which repositories it writes: assume ours.
  if (snapshots === undefined || snapshots.length === 0) return true;
  return snapshots.some((entry) => entry.repository === options.repository);
}

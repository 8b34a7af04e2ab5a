/**
 * The audit of what already exists (issue 7): evaluates every BackupPolicy against the objects in
 * the informer caches, periodically and soon after a policy or a watched object changes (debounced,
 * so a burst of changes is one pass), and reports the result in each policy's status, in the
 * `autostash_policy_violations` gauge, and as a Warning Event when a policy's violations grow.
 *
 * One pass is a single work-queue key: never two passes at once, a change during a pass brings
 * another one after the debounce, a failed pass is retried with backoff.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { ClusterView } from '../../domain/cluster-view.js';
import type { KubeObject } from '../../domain/kube-object.js';
import { isConflict, isNotFound, type KubeClient, type ResourceInfo, type TypeRef } from '../../kube/client.js';
import type { Informer, SharedInformers } from '../informer.js';
import { createWorkQueue, type WorkQueue } from '../work-queue.js';
import { auditStatus, countByRuleAndAction, groupByPolicy, needsWrite, storedViolationCount, type AuditedViolation } from './audit-status.js';
import type { PolicyViolationMetrics } from './metrics.js';

/** Evaluates every policy in the view against one object (P1's evaluatePolicies fits). */
export type EvaluatePolicies = (object: KubeObject, view: ClusterView) => readonly AuditedViolation[];

/** Where the audit reports growing violations, as Kubernetes Events on the policy. */
export interface AuditEventSink {
  record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface PolicyAuditControllerOptions {
  client: KubeClient;
  informers: SharedInformers;
  /** The view the evaluation reads (over the same informers; it must list BackupPolicies). */
  view: ClusterView;
  evaluate: EvaluatePolicies;
  events: AuditEventSink;
  metrics: PolicyViolationMetrics;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** A full pass this often even when nothing announced a change. Default 5 min. */
  intervalMs?: number;
  /** A change waits this long for others before the pass it causes. Default 2 s. */
  debounceMs?: number;
  /** Violations listed in status.objects per policy. Default 20. */
  maxListed?: number;
  /**
   * lastAuditTime alone is rewritten at most this often (see needsWrite): with the defaults a quiet
   * cluster sees one status write per policy every 10 minutes, not one per pass. Default 10 min.
   */
  auditTimeRefreshMs?: number;
  now?: () => Date;
}

/** What one pass found. */
export interface AuditPassResult {
  policies: number;
  objects: number;
  violations: number;
  /** Policies whose status was written. */
  written: number;
  /** Objects whose evaluation threw (logged, counted as no violation). */
  failed: number;
  durationMs: number;
}

export interface PolicyAuditController {
  /** Runs a pass now (or right after the running one) and resolves with its result. */
  auditNow(): Promise<AuditPassResult>;
  /** Resolves when no pass is queued or running (a debounced or periodic one may still be due). */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

export const BACKUP_POLICY_TYPE = { apiVersion: 'policy.autostash.dev/v1alpha1', kind: 'BackupPolicy' };
const BACKUP_POLICY_RESOURCE: ResourceInfo = { plural: 'backuppolicies', namespaced: false };
const NAMESPACE_TYPE = { apiVersion: 'v1', kind: 'Namespace' };

/** The kinds whose existing objects are audited. */
export const AUDITED_TYPES: ReadonlyArray<{ type: TypeRef; resource: ResourceInfo }> = [
  { type: { apiVersion: 'apps/v1', kind: 'Deployment' }, resource: { plural: 'deployments', namespaced: true } },
  { type: { apiVersion: 'apps/v1', kind: 'StatefulSet' }, resource: { plural: 'statefulsets', namespaced: true } },
  { type: { apiVersion: 'apps/v1', kind: 'DaemonSet' }, resource: { plural: 'daemonsets', namespaced: true } },
  { type: { apiVersion: 'v1', kind: 'PersistentVolumeClaim' }, resource: { plural: 'persistentvolumeclaims', namespaced: true } },
  { type: { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupConfiguration' }, resource: { plural: 'backupconfigurations', namespaced: true } },
  { type: { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'BackupBlueprint' }, resource: { plural: 'backupblueprints', namespaced: true } },
  { type: { apiVersion: 'core.kubestash.com/v1alpha1', kind: 'RestoreSession' }, resource: { plural: 'restoresessions', namespaced: true } },
  { type: { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'BackupStorage' }, resource: { plural: 'backupstorages', namespaced: true } },
  { type: { apiVersion: 'storage.kubestash.com/v1alpha1', kind: 'RetentionPolicy' }, resource: { plural: 'retentionpolicies', namespaced: true } },
];

const AUDIT_KEY = 'audit';

/** Only what policies read matters: workload and PVC status changes all the time. */
const relevantChange = (previous: KubeObject, object: KubeObject): boolean =>
  !isDeepStrictEqual(previous.spec, object.spec) ||
  !isDeepStrictEqual(previous.metadata?.labels, object.metadata?.labels) ||
  !isDeepStrictEqual(previous.metadata?.annotations, object.metadata?.annotations) ||
  previous.metadata?.uid !== object.metadata?.uid ||
  previous.metadata?.deletionTimestamp !== object.metadata?.deletionTimestamp;

interface Waiter {
  resolve(result: AuditPassResult): void;
  reject(error: Error): void;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Starts the audit; its informers belong to `options.informers` (started by the caller). The first pass runs once every cache has synced. */
export function startPolicyAuditController(options: PolicyAuditControllerOptions): PolicyAuditController {
  const { client, informers, view, evaluate, events, metrics, logger } = options;
  const intervalMs = options.intervalMs ?? 5 * 60_000;
  const debounceMs = options.debounceMs ?? 2000;
  const maxListed = options.maxListed ?? 20;
  const auditTimeRefreshMs = options.auditTimeRefreshMs ?? 10 * 60_000;
  const now = options.now ?? (() => new Date());

  client.registerResource(BACKUP_POLICY_TYPE, BACKUP_POLICY_RESOURCE);
  const policies: Informer = informers.informerFor(BACKUP_POLICY_TYPE, { resource: BACKUP_POLICY_RESOURCE });
  const audited: Informer[] = AUDITED_TYPES.map(({ type, resource }) => {
    client.registerResource(type, resource);
    return informers.informerFor(type, { resource });
  });
  const namespaces: Informer = informers.informerFor(NAMESPACE_TYPE);

  let stopped = false;
  // Callers of auditNow(); those who arrive during a pass wait for the next one (it sees their changes).
  let waiters: Waiter[] = [];
  const queue: WorkQueue = createWorkQueue(async () => {
    const served = waiters;
    waiters = [];
    let result: AuditPassResult;
    try {
      result = await pass();
    } catch (error) {
      waiters.unshift(...served); // the retry serves them
      throw error;
    }
    for (const waiter of served) waiter.resolve(result);
    return { requeueAfterMs: intervalMs };
  }, { name: 'policy-audit', concurrency: 1, logger });

  const soon = (): void => queue.addAfter(AUDIT_KEY, debounceMs);
  const unsubscribe: Array<() => void> = [];
  const subscribe = (): void => {
    // Policy status writes (ours) are no change; spec, labels and deletion are.
    unsubscribe.push(policies.addEventHandler({ add: soon, update: (previous, object) => relevantChange(previous, object) && soon(), delete: soon }));
    for (const informer of audited) unsubscribe.push(informer.addEventHandler({ add: soon, update: (previous, object) => relevantChange(previous, object) && soon(), delete: soon }));
    // Namespace labels decide the policies' namespaceSelectors.
    unsubscribe.push(namespaces.addEventHandler({ update: (previous, object) => !isDeepStrictEqual(previous.metadata?.labels, object.metadata?.labels) && soon() }));
  };
  const synced = Promise.all([policies, ...audited, namespaces].map((informer) => informer.whenSynced()));
  synced.then(
    () => {
      if (stopped) return;
      subscribe();
      queue.add(AUDIT_KEY);
    },
    () => undefined, // stopped before the caches synced
  );

  async function pass(): Promise<AuditPassResult> {
    const started = performance.now();
    const violations: AuditedViolation[] = [];
    let objects = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    for (const informer of audited) {
      for (const object of informer.list()) {
        if (object.metadata?.deletionTimestamp) continue;
        objects += 1;
        try {
          violations.push(...evaluate(object, view));
        } catch (error) {
          failed += 1;
          firstFailure ??= messageOf(error);
        }
      }
    }
    if (failed > 0) logger.error({ failed, err: firstFailure }, 'policy evaluation failed for some objects; they count as compliant in this audit');

    const byPolicy = groupByPolicy(violations);
    const current = policies.list().filter((policy) => !policy.metadata?.deletionTimestamp);
    metrics.publish(new Map(current.map((policy) => [policy.metadata?.name ?? '', countByRuleAndAction(byPolicy.get(policy.metadata?.name ?? '') ?? [])])));

    const time = now();
    let written = 0;
    for (const policy of current) {
      const name = policy.metadata?.name ?? '';
      const found = byPolicy.get(name) ?? [];
      const desired = auditStatus(policy, found, time, maxListed);
      if (!needsWrite(policy.status, desired, time, auditTimeRefreshMs)) continue;
      const before = storedViolationCount(policy);
      try {
        await client.updateStatus({ ...policy, status: desired });
      } catch (error) {
        // Deleted meanwhile, or our cached copy is stale: the watch event brings a pass with the fresh one.
        if (isNotFound(error)) continue;
        if (isConflict(error)) {
          soon();
          continue;
        }
        throw error;
      }
      written += 1;
      if (found.length > before) {
        const rules = Object.entries(desired.violations).map(([rule, count]) => `${rule}: ${count}`).join(', ');
        const count = `${found.length} violation${found.length === 1 ? '' : 's'}`;
        events.record(policy, 'Warning', 'ViolationsIncreased', `${count} by existing objects (was ${before}): ${rules}; see status.objects`);
      }
    }
    const result = { policies: current.length, objects, violations: violations.length, written, failed, durationMs: performance.now() - started };
    logger.debug(result, 'policy audit pass');
    return result;
  }

  return {
    auditNow() {
      if (stopped) return Promise.reject(new Error('the policy audit is stopped'));
      return new Promise<AuditPassResult>((resolve, reject) => {
        synced.then(() => {
          if (stopped) return reject(new Error('the policy audit is stopped'));
          waiters.push({ resolve, reject });
          queue.add(AUDIT_KEY);
        }, reject);
      });
    },
    whenIdle: () => queue.whenIdle(),
    async stop() {
      stopped = true;
      for (const off of unsubscribe) off();
      await queue.shutdown();
      for (const waiter of waiters.splice(0)) waiter.reject(new Error('the policy audit is stopped'));
    },
  };
}

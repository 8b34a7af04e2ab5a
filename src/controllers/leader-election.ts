/**
 * Lease-based leader election (coordination.k8s.io/v1), after client-go's: candidates try to
 * acquire a Lease every retry period; the holder renews it; a holder that cannot renew within the
 * renew deadline steps down; a candidate may take a Lease whose holder has not renewed it for the
 * lease duration, as observed on its own clock (no trust in other clocks). Every write carries the
 * Lease's resourceVersion, so two candidates can never both win the same round. On stop the
 * leader releases the Lease (empty holder), so the next candidate need not wait out the duration.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeObject } from '../domain/kube-object.js';
import { isAlreadyExists, isConflict, type KubeClient } from '../kube/client.js';

/** Log methods the elector uses; a pino Logger fits. */
export interface ElectionLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  /** Where the Lease lives. */
  namespace: string;
  name: string;
  /** Who this candidate is; default `<hostname>_<random>`. */
  identity?: string;
  /** How long a Lease stays valid without renewal. Default 15 s. */
  leaseDurationSeconds?: number;
  /** How long the leader keeps trying to renew before it steps down. Default 10 s. */
  renewDeadlineSeconds?: number;
  /** Pause between attempts to acquire or renew. Default 2 s. */
  retryPeriodSeconds?: number;
  /** Release the Lease on stop() (default true). */
  releaseOnStop?: boolean;
  logger: ElectionLogger;
  /** Called on becoming leader; `signal` aborts when leadership ends. Errors are logged. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called when leadership ends (lost, or stop()). */
  onStoppedLeading(): void | Promise<void>;
  /** Called when a different holder is first observed. */
  onNewLeader?(identity: string): void;
  /** Wall clock for the Lease's times. */
  now?: () => Date;
}

export interface LeaderElector {
  readonly identity: string;
  isLeader(): boolean;
  /** Stops campaigning; a leader steps down (and releases the Lease). Safe to call twice. */
  stop(): Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** `<hostname>_<8 hex>`: unique per process even when pods share a hostname. */
export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

/** A MicroTime as the API server expects it: RFC 3339 with six fractional digits. */
export const microTime = (date: Date): string => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Starts campaigning at once. */
export function startLeaderElection(options: LeaderElectionOptions): LeaderElector {
  const { client, namespace, name, logger } = options;
  const identity = options.identity ?? defaultIdentity();
  const leaseDurationMs = (options.leaseDurationSeconds ?? 15) * 1000;
  const renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
  const retryPeriodMs = (options.retryPeriodSeconds ?? 2) * 1000;
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs && retryPeriodMs > 0)) {
    throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod > 0');
  }
  const now = options.now ?? (() => new Date());
  const leaseType = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
  const ref = { ...leaseType, namespace, name };
  const fields = { lease: `${namespace}/${name}`, identity };

  let stopped = false;
  let leading: AbortController | undefined;
  let lastRenewMs = 0;
  // What we last saw in the Lease and when (our monotonic clock): expiry is judged from that.
  let observed: { holder: string; renewTime: string; durationMs: number } | undefined;
  let observedAtMs = 0;
  let reportedLeader = '';
  let timer: { handle: NodeJS.Timeout; wake: () => void } | undefined;
  const abortRequests = new AbortController();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        timer = undefined;
        resolve();
      };
      timer = { handle: setTimeout(wake, ms), wake };
    });

  const record = (spec: LeaseSpec): void => {
    const next = { holder: spec.holderIdentity ?? '', renewTime: spec.renewTime ?? '', durationMs: (spec.leaseDurationSeconds ?? 0) * 1000 };
    if (observed === undefined || observed.holder !== next.holder || observed.renewTime !== next.renewTime || observed.durationMs !== next.durationMs) {
      observed = next;
      observedAtMs = performance.now();
    }
    if (next.holder !== '' && next.holder !== reportedLeader) {
      reportedLeader = next.holder;
      if (next.holder !== identity) {
        logger.info({ ...fields, leader: next.holder }, 'new leader observed');
        options.onNewLeader?.(next.holder);
      }
    }
  };

  const desired = (previous: LeaseSpec | undefined): LeaseSpec => {
    const time = microTime(now());
    const wasMine = previous?.holderIdentity === identity;
    return {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
      acquireTime: wasMine && previous?.acquireTime ? previous.acquireTime : time,
      renewTime: time,
      leaseTransitions: wasMine ? (previous?.leaseTransitions ?? 0) : (previous?.leaseTransitions ?? -1) + 1,
    };
  };

  /** One round: true when this candidate holds the Lease afterwards. */
  const tryAcquireOrRenew = async (signal: AbortSignal): Promise<boolean> => {
    const lease = await client.find<Lease>(ref, { signal });
    if (lease === undefined) {
      try {
        const created = await client.create<Lease>({ ...leaseType, metadata: { namespace, name }, spec: desired(undefined) }, { signal });
        record(created.spec ?? {});
        return true;
      } catch (error) {
        if (isAlreadyExists(error)) return false;
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    record(spec);
    const holder = spec.holderIdentity ?? '';
    const expired = performance.now() > observedAtMs + (observed?.durationMs ?? 0);
    if (holder !== '' && holder !== identity && !expired) return false;
    try {
      const updated = await client.update<Lease>({ ...lease, ...leaseType, spec: { ...spec, ...desired(spec) } }, { signal });
      record(updated.spec ?? {});
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  };

  const round = async (): Promise<boolean> => {
    // No Lease request outlives the renew deadline (a leader's: what is left of it). The client's own
    // timeout is 30 s, so a hung renewal (a dead keep-alive connection, an API server that does not
    // answer) kept the leader leading past the Lease's expiry, while a standby took over: two leaders.
    const budgetMs = leading === undefined ? renewDeadlineMs : Math.max(1, Math.ceil(lastRenewMs + renewDeadlineMs - performance.now()) + 1);
    try {
      return await tryAcquireOrRenew(AbortSignal.any([abortRequests.signal, AbortSignal.timeout(budgetMs)]));
    } catch (error) {
      if (!stopped) logger.warn({ ...fields, err: error instanceof Error ? error.message : String(error) }, 'lease request failed');
      return false;
    }
  };

  const stepDown = async (): Promise<void> => {
    const current = leading;
    if (current === undefined) return;
    leading = undefined;
    current.abort();
    logger.info(fields, 'stopped leading');
    try {
      await options.onStoppedLeading();
    } catch (error) {
      logger.error({ ...fields, err: error instanceof Error ? error.message : String(error) }, 'onStoppedLeading failed');
    }
  };

  const becomeLeader = (): void => {
    const controller = new AbortController();
    leading = controller;
    lastRenewMs = performance.now();
    logger.info(fields, 'started leading');
    Promise.resolve()
      .then(() => options.onStartedLeading(controller.signal))
      .catch((error: unknown) => logger.error({ ...fields, err: error instanceof Error ? error.message : String(error) }, 'onStartedLeading failed'));
  };

  const campaign = async (): Promise<void> => {
    while (!stopped) {
      const held = await round();
      if (stopped) break;
      if (held) {
        if (leading === undefined) becomeLeader();
        else lastRenewMs = performance.now();
      } else if (leading !== undefined && performance.now() - lastRenewMs > renewDeadlineMs) {
        logger.warn({ ...fields, renewDeadlineMs }, 'could not renew the lease in time; stepping down');
        await stepDown();
      } else if (leading !== undefined && observed !== undefined && observed.holder !== identity && observed.holder !== '') {
        // Someone else holds it now: we lost it, no need to wait for the deadline.
        logger.warn({ ...fields, leader: observed.holder }, 'lease taken by another holder; stepping down');
        await stepDown();
      }
      // Candidates spread their attempts a little so they do not collide every round.
      await sleep(leading ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * 0.2));
    }
  };

  const release = async (): Promise<void> => {
    try {
      const lease = await client.get<Lease>(ref);
      if (lease.spec?.holderIdentity !== identity) return;
      const time = microTime(now());
      await client.update<Lease>({ ...lease, ...leaseType, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: time, acquireTime: time } });
      logger.info(fields, 'released the lease');
    } catch (error) {
      logger.warn({ ...fields, err: error instanceof Error ? error.message : String(error) }, 'could not release the lease');
    }
  };

  const running = campaign();
  let stopping: Promise<void> | undefined;
  return {
    identity,
    isLeader: () => leading !== undefined,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        abortRequests.abort();
        if (timer !== undefined) {
          clearTimeout(timer.handle);
          timer.wake();
        }
        await running;
        const wasLeading = leading !== undefined;
        await stepDown();
        if (wasLeading && (options.releaseOnStop ?? true)) await release();
      })();
      return stopping;
    },
  };
}

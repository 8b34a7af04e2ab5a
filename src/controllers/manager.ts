/**
 * Runs the registered controllers only while this process holds the leader Lease. Each term of
 * leadership gets fresh shared informers (one per resource, shared by every controller) and a
 * signal that aborts when the term ends; on stepping down everything of the term is stopped
 * before the Lease is released, so two replicas never reconcile at the same time.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { createKubeClient, type KubeClient } from '../kube/client.js';
import { createEventRecorder, type EventRecorder } from './event-recorder.js';
import { createSharedInformers, type InformerTimings, type SharedInformers } from './informer.js';
import { startLeaderElection } from './leader-election.js';

export interface ControllerContext {
  client: KubeClient;
  /** Shared per resource; informers asked for here are started at once. */
  informers: SharedInformers;
  recorder: EventRecorder;
  /** Aborts when leadership ends (or the manager stops): stop queues and timers then. */
  signal: AbortSignal;
  logger: Logger;
}

/**
 * A controller. start() sets it up (informers, handlers, queues); it may return at once, or return
 * a promise that settles once it has wound down after `signal` aborted — the manager waits for it.
 */
export interface Controller {
  name: string;
  start(context: ControllerContext): Promise<void> | void;
}

/** Resolves once `signal` has aborted (at once when it already has): how a controller's start() waits out its term. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  leaderElection: {
    namespace: string;
    name: string;
    identity?: string;
    leaseDurationSeconds?: number;
    renewDeadlineSeconds?: number;
    retryPeriodSeconds?: number;
  };
  controllers: readonly Controller[];
  informers?: InformerTimings;
  /** How long stop() and stepping down wait for controllers to wind down. Default 30 s. */
  shutdownGraceMs?: number;
}

export interface Manager {
  /** The leader-election identity of this process. */
  readonly identity: string;
  /** The client every controller uses (keep-alive pool). */
  readonly client: KubeClient;
  isLeader(): boolean;
  /** For readiness: while leading, true once every informer has synced; a standby has nothing to sync (true). */
  hasSynced(): boolean;
  /** Steps down (controllers stopped, Lease released) and closes connections. Safe to call twice. */
  stop(): Promise<void>;
}

interface Term {
  abort: AbortController;
  informers: SharedInformers;
  recorder: EventRecorder;
  /** Settles once every controller's start() has settled. */
  running: Promise<void>;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Starts campaigning for leadership; controllers start whenever this process leads. */
export function startManager(options: ManagerOptions): Manager {
  const { logger } = options;
  const client = createKubeClient(options.kubeConfig);
  const shutdownGraceMs = options.shutdownGraceMs ?? 30_000;
  let term: Term | undefined;

  const startTerm = (signal: AbortSignal, identity: string): void => {
    const abort = new AbortController();
    signal.addEventListener('abort', () => abort.abort(), { once: true });
    const informers = createSharedInformers(client, { ...options.informers, logger: logger.child({ module: 'informers' }) });
    const recorder = createEventRecorder({ client, logger: logger.child({ module: 'events' }), instance: identity });
    informers.start();
    const runs = options.controllers.map(async (controller) => {
      const controllerLogger = logger.child({ controller: controller.name });
      try {
        await controller.start({ client, informers, recorder, signal: abort.signal, logger: controllerLogger });
      } catch (error) {
        if (!abort.signal.aborted) controllerLogger.error({ err: messageOf(error) }, 'controller failed');
      }
    });
    term = { abort, informers, recorder, running: Promise.all(runs).then(() => undefined) };
    logger.info({ controllers: options.controllers.map((c) => c.name) }, 'controllers started');
  };

  const endTerm = async (): Promise<void> => {
    const ending = term;
    if (ending === undefined) return;
    term = undefined;
    ending.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), shutdownGraceMs);
    });
    const outcome = await Promise.race([ending.running.then(() => 'done' as const), graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') logger.warn({ graceMs: shutdownGraceMs }, 'controllers did not stop within the grace period');
    await ending.informers.stop();
    await ending.recorder.flush();
    logger.info('controllers stopped');
  };

  const elector = startLeaderElection({
    client,
    ...options.leaderElection,
    logger: logger.child({ module: 'leader-election' }),
    onStartedLeading: (signal) => startTerm(signal, elector.identity),
    onStoppedLeading: endTerm,
  });

  let stopping: Promise<void> | undefined;
  return {
    identity: elector.identity,
    client,
    isLeader: () => elector.isLeader(),
    hasSynced: () => (term === undefined ? !elector.isLeader() : term.informers.hasSynced()),
    stop() {
      stopping ??= (async () => {
        await elector.stop();
        await endTerm();
        client.close();
      })();
      return stopping;
    },
  };
}

import { Counter, Histogram, Registry } from 'prom-client';

export const RESTORE_DURATION_METRIC = 'autostash_restore_session_duration_seconds';
export const RESTORES_METRIC = 'autostash_restore_sessions_total';

/** Restores take seconds to hours. */
const durationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

export interface FinishedRestore {
  namespace: string;
  /** Succeeded, Failed, Invalid or Unknown. */
  phase: string;
  durationSeconds: number;
}

export interface RestoreSessionMetrics {
  readonly registry: Registry;
  /** Counts a RestoreSession that just finished (once per session, after its final status is written). */
  observe(finished: FinishedRestore): void;
}

/** Registers the restore metrics on `registry` (a new one by default); call once per registry. */
export function createRestoreSessionMetrics(registry: Registry = new Registry()): RestoreSessionMetrics {
  const duration = new Histogram({
    name: RESTORE_DURATION_METRIC,
    help: 'Duration of finished RestoreSessions, from creation to the final status, by namespace and phase.',
    labelNames: ['namespace', 'phase'] as const,
    buckets: durationBuckets,
    registers: [registry],
  });
  const sessions = new Counter({
    name: RESTORES_METRIC,
    help: 'Finished RestoreSessions by phase.',
    labelNames: ['phase'] as const,
    registers: [registry],
  });
  return {
    registry,
    observe(finished) {
      duration.observe({ namespace: finished.namespace, phase: finished.phase }, finished.durationSeconds);
      sessions.inc({ phase: finished.phase });
    },
  };
}

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const SESSION_DURATION_METRIC = 'autostash_backup_session_duration_seconds';
export const LAST_SUCCESS_METRIC = 'autostash_backup_last_success_timestamp_seconds';
export const BYTES_PROCESSED_METRIC = 'autostash_backup_bytes_processed_total';
export const BYTES_ADDED_METRIC = 'autostash_backup_bytes_added_total';
export const SESSIONS_METRIC = 'autostash_backup_sessions_total';

/** Backups take seconds to hours. */
const durationBuckets = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

/** What one finished BackupSession reports. */
export interface FinishedSession {
  namespace: string;
  configuration: string;
  session: string;
  phase: 'Succeeded' | 'Failed' | 'Skipped';
  durationSeconds: number;
  /** When the session finished (seconds since the epoch); the last-success gauge takes it when Succeeded. */
  finishedAtSeconds: number;
  /** Bytes restic read (sum of the components' resticStats sizes) and added to the repositories. */
  bytesProcessed: number;
  bytesAdded: number;
}

export interface BackupSessionMetrics {
  readonly registry: Registry;
  /** Counts a session that just finished (call once per session, after its final status is written). */
  observe(finished: FinishedSession): void;
}

/** Registers the backup metrics on `registry` (a new one by default); call once per registry. */
export function createBackupSessionMetrics(registry: Registry = new Registry()): BackupSessionMetrics {
  const duration = new Histogram({
    name: SESSION_DURATION_METRIC,
    help: 'Duration of finished BackupSessions, from creation to the final status, by configuration, session and phase.',
    labelNames: ['namespace', 'configuration', 'session', 'phase'] as const,
    buckets: durationBuckets,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: LAST_SUCCESS_METRIC,
    help: 'When the last BackupSession of a configuration session succeeded (seconds since the epoch).',
    labelNames: ['namespace', 'configuration', 'session'] as const,
    registers: [registry],
  });
  const processed = new Counter({
    name: BYTES_PROCESSED_METRIC,
    help: 'Bytes read by backups (restic snapshot sizes), by configuration and session.',
    labelNames: ['namespace', 'configuration', 'session'] as const,
    registers: [registry],
  });
  const added = new Counter({
    name: BYTES_ADDED_METRIC,
    help: 'Bytes added to repositories by backups (restic uploaded data), by configuration and session.',
    labelNames: ['namespace', 'configuration', 'session'] as const,
    registers: [registry],
  });
  const sessions = new Counter({
    name: SESSIONS_METRIC,
    help: 'Finished BackupSessions by phase.',
    labelNames: ['phase'] as const,
    registers: [registry],
  });
  return {
    registry,
    observe(finished) {
      const labels = { namespace: finished.namespace, configuration: finished.configuration, session: finished.session };
      duration.observe({ ...labels, phase: finished.phase }, finished.durationSeconds);
      sessions.inc({ phase: finished.phase });
      if (finished.phase === 'Succeeded') lastSuccess.set(labels, finished.finishedAtSeconds);
      if (finished.phase !== 'Skipped') {
        processed.inc(labels, finished.bytesProcessed);
        added.inc(labels, finished.bytesAdded);
      }
    },
  };
}

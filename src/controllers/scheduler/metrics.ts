import { Counter, Histogram, Registry } from 'prom-client';

export const SCHEDULE_MISSED_METRIC = 'autostash_schedule_missed_total';
export const SCHEDULE_DELAY_METRIC = 'autostash_schedule_delay_seconds';

export interface SchedulerMetrics {
  /** Slots not run, by configuration session (after downtime, or too late for startingDeadlineSeconds). */
  readonly missed: Counter<'namespace' | 'configuration' | 'session'>;
  /** Time from a slot to the creation of its BackupSession. Unlabelled: one series whatever the number of configurations. */
  readonly delay: Histogram<string>;
}

/**
 * The scheduler's metrics on `registry`; registering twice on one registry (two scheduler instances in
 * one process) reuses the metrics already there.
 */
export function schedulerMetrics(registry: Registry): SchedulerMetrics {
  const missed =
    (registry.getSingleMetric(SCHEDULE_MISSED_METRIC) as Counter<'namespace' | 'configuration' | 'session'> | undefined) ??
    new Counter({
      name: SCHEDULE_MISSED_METRIC,
      help: 'Scheduled backup slots that were not run (controller down, or later than startingDeadlineSeconds), by BackupConfiguration session.',
      labelNames: ['namespace', 'configuration', 'session'] as const,
      registers: [registry],
    });
  const delay =
    (registry.getSingleMetric(SCHEDULE_DELAY_METRIC) as Histogram<string> | undefined) ??
    new Histogram({
      name: SCHEDULE_DELAY_METRIC,
      help: 'Seconds from a scheduled slot to the creation of its BackupSession.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
  return { missed, delay };
}

/**
 * The Grafana dashboard shipped with the chart, built on the series autostash's /metrics serves
 * (prom-client registrations in src/server/metrics.ts and src/controllers/{session,restore,scheduler,policy-audit}/metrics.ts;
 * a test checks every name below is registered there).
 */

/** Every metric the dashboard queries (without the _bucket/_count suffixes of histograms). */
export const DASHBOARD_METRICS = [
  'autostash_admission_duration_seconds',
  'autostash_admission_requests_total',
  'autostash_backup_sessions_total',
  'autostash_backup_last_success_timestamp_seconds',
  'autostash_backup_bytes_added_total',
  'autostash_backup_bytes_processed_total',
  'autostash_backup_session_duration_seconds',
  'autostash_restore_sessions_total',
  'autostash_schedule_missed_total',
  'autostash_schedule_delay_seconds',
  'autostash_policy_violations',
] as const;

interface Panel {
  title: string;
  type: 'timeseries' | 'table' | 'stat';
  unit: string;
  description: string;
  targets: Array<{ expr: string; legendFormat: string; instant?: boolean }>;
}

const PANELS: Panel[] = [
  {
    title: 'Admission latency (p50, p99)',
    type: 'timeseries',
    unit: 's',
    description: 'Time to answer admission requests, by webhook. The webhooks time out after 2 s.',
    targets: [
      { expr: 'histogram_quantile(0.5, sum by (le, webhook) (rate(autostash_admission_duration_seconds_bucket[5m])))', legendFormat: 'p50 {{webhook}}' },
      { expr: 'histogram_quantile(0.99, sum by (le, webhook) (rate(autostash_admission_duration_seconds_bucket[5m])))', legendFormat: 'p99 {{webhook}}' },
    ],
  },
  {
    title: 'Admission requests by result',
    type: 'timeseries',
    unit: 'reqps',
    description: 'Answered admission requests per second: allowed, denied, errors.',
    targets: [{ expr: 'sum by (webhook, result) (rate(autostash_admission_requests_total[5m]))', legendFormat: '{{webhook}} {{result}}' }],
  },
  {
    title: 'Backup sessions by phase (last hour)',
    type: 'timeseries',
    unit: 'short',
    description: 'Finished BackupSessions by phase.',
    targets: [{ expr: 'sum by (phase) (increase(autostash_backup_sessions_total[1h]))', legendFormat: '{{phase}}' }],
  },
  {
    title: 'Age of the last successful backup',
    type: 'table',
    unit: 's',
    description: 'Seconds since each BackupConfiguration session last succeeded; sort descending to see the stalest.',
    targets: [
      {
        expr: 'time() - max by (namespace, configuration, session) (autostash_backup_last_success_timestamp_seconds)',
        legendFormat: '{{namespace}}/{{configuration}} {{session}}',
        instant: true,
      },
    ],
  },
  {
    title: 'Bytes added to repositories (per day)',
    type: 'timeseries',
    unit: 'bytes',
    description: 'New data uploaded by backups, by configuration, next to the data read.',
    targets: [
      { expr: 'sum by (namespace, configuration) (increase(autostash_backup_bytes_added_total[1d]))', legendFormat: 'added {{namespace}}/{{configuration}}' },
      { expr: 'sum by (namespace, configuration) (increase(autostash_backup_bytes_processed_total[1d]))', legendFormat: 'read {{namespace}}/{{configuration}}' },
    ],
  },
  {
    title: 'Backup duration (p90)',
    type: 'timeseries',
    unit: 's',
    description: 'Duration of finished BackupSessions, by configuration.',
    targets: [
      {
        expr: 'histogram_quantile(0.9, sum by (le, namespace, configuration) (rate(autostash_backup_session_duration_seconds_bucket[1h])))',
        legendFormat: '{{namespace}}/{{configuration}}',
      },
    ],
  },
  {
    title: 'Restore sessions by phase (last day)',
    type: 'timeseries',
    unit: 'short',
    description: 'Finished RestoreSessions by phase.',
    targets: [{ expr: 'sum by (phase) (increase(autostash_restore_sessions_total[1d]))', legendFormat: '{{phase}}' }],
  },
  {
    title: 'Scheduling: missed slots and delay',
    type: 'timeseries',
    unit: 's',
    description: 'Slots not run (controller down or past the starting deadline) and the p99 delay from slot to BackupSession.',
    targets: [
      { expr: 'sum by (namespace, configuration) (increase(autostash_schedule_missed_total[1h]))', legendFormat: 'missed {{namespace}}/{{configuration}}' },
      { expr: 'histogram_quantile(0.99, sum by (le) (rate(autostash_schedule_delay_seconds_bucket[1h])))', legendFormat: 'p99 delay' },
    ],
  },
  {
    title: 'BackupPolicy violations',
    type: 'table',
    unit: 'short',
    description: 'Objects that violate a BackupPolicy rule, from the last audit.',
    targets: [{ expr: 'sum by (policy, rule, action) (autostash_policy_violations)', legendFormat: '{{policy}} {{rule}} {{action}}', instant: true }],
  },
];

/** The dashboard as Grafana's JSON model (schemaVersion 39), with a Prometheus data source variable. */
export function grafanaDashboard(): Record<string, unknown> {
  const datasource = { type: 'prometheus', uid: '${datasource}' };
  return {
    title: 'autostash',
    uid: 'autostash-overview',
    description: 'Admission latency, backup sessions, last successful backups and repository growth of autostash.',
    tags: ['autostash', 'backup', 'kubestash'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '1m',
    time: { from: 'now-24h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 }],
    },
    panels: PANELS.map((panel, index) => ({
      id: index + 1,
      title: panel.title,
      description: panel.description,
      type: panel.type,
      datasource,
      gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      options: panel.type === 'table' ? { sortBy: [{ displayName: 'Value', desc: true }] } : { legend: { displayMode: 'list', placement: 'bottom' } },
      targets: panel.targets.map((target, t) => ({
        refId: String.fromCharCode(65 + t),
        datasource,
        expr: target.expr,
        legendFormat: target.legendFormat,
        ...(target.instant === true ? { instant: true, format: 'table' } : {}),
      })),
    })),
  };
}

/** The dashboard JSON text as committed in charts/autostash/dashboards/autostash.json. */
export const renderDashboardJson = (): string => `${JSON.stringify(grafanaDashboard(), null, 2)}\n`;

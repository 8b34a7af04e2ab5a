/**
 * Small pure helpers for the restore controller's status: times as Kubernetes writes them and
 * durations as Go's time.Duration.String prints them (KubeStash's status.duration: `1m2s`, `2.5s`).
 */
export { findCondition, setCondition } from '../../domain/status/conditions.js';

/** RFC 3339 without fractions, from epoch milliseconds. */
export const rfc3339 = (epochMs: number): string => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Milliseconds as Go prints a time.Duration, at millisecond precision (`0s`, `450ms`, `12.3s`, `1m2s`, `1h0m5s`). */
export function formatGoDuration(milliseconds: number): string {
  let ms = Math.max(0, Math.round(milliseconds));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  ms -= hours * 3_600_000;
  const minutes = Math.floor(ms / 60_000);
  ms -= minutes * 60_000;
  const seconds = (ms / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

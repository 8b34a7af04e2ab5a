/**
 * Durations as Go's time.Duration.String prints them (KubeStash's status.duration, e.g. `1m2s`,
 * `1h0m5s`, `2.5s`, `0s`), at millisecond precision. Pure.
 */
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

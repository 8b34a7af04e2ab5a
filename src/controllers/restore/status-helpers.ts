/**
 * Small pure helpers for the restore controller's status: times as Kubernetes writes them and
 * durations as Go's time.Duration.String prints them (KubeStash's status.duration: `1m2s`, `2.5s`).
 */
export { findCondition, setCondition } from '../../domain/status/conditions.js';

/** RFC 3339 without fractions, from epoch milliseconds. */
export const rfc3339 = (epochMs: number): string => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');

export { formatGoDuration } from '../../domain/go-duration.js';

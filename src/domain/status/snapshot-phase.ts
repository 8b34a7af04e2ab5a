/**
 * What a Snapshot's status says once its components are known: the phase, and when it is
 * finished, the snapshot time, total size and integrity. The executor writes each component;
 * the session controller derives the rest with these functions. Pure: time is an argument.
 */
import type { SnapshotComponent, SnapshotStatus } from '../../api/storage.js';
import type { WorkPhase } from '../../api/common.js';

/**
 * The phase of a Snapshot expecting `totalComponents` components:
 * - Pending: no component has started (none written, or all Pending);
 * - Succeeded: at least `totalComponents` components are written, all Succeeded;
 * - Failed: at least `totalComponents` components are written, all finished, one of them Failed;
 * - Running: anything else (some started, not all finished).
 */
export function snapshotPhase(totalComponents: number, components: Readonly<Record<string, SnapshotComponent>> | undefined): WorkPhase {
  const phases = Object.values(components ?? {}).map((component) => component.phase ?? 'Pending');
  if (phases.every((phase) => phase === 'Pending')) return 'Pending';
  const allFinished = phases.length >= totalComponents && phases.every(isTerminalWorkPhase);
  if (!allFinished) return 'Running';
  return phases.includes('Failed') ? 'Failed' : 'Succeeded';
}

export const isTerminalWorkPhase = (phase: string | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15,
  KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40, PIB: 2 ** 50,
};

/**
 * Bytes of a size as the executor writes it: a number of bytes, or a human size with a binary
 * (`1.2 MiB`) or decimal (`3 GB`) unit; case and the space are free. Undefined when unreadable.
 */
export function parseByteSize(size: string | number | undefined): number | undefined {
  if (typeof size === 'number') return Number.isFinite(size) && size >= 0 ? size : undefined;
  if (size === undefined) return undefined;
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(size);
  if (match === null) return undefined;
  const unit = UNITS[(match[2] || 'B').toUpperCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

/** A byte count as restic prints it: binary units, up to two decimals (`0 B`, `1.5 KiB`, `1.23 GiB`). */
export function formatByteSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${Number(value.toFixed(2))} ${units[unit]}`;
}

/** The summary fields of a finished Snapshot's status. */
export interface SnapshotSummary {
  /** The earliest component start (restic stats), else `now`. RFC 3339 without fractions. */
  snapshotTime: string;
  /** Sum of the components' sizes, formatted; absent when no component reports one. */
  size?: string;
  /** True when every component reports integrity true. */
  integrity: boolean;
}

const rfc3339 = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The summary of a Snapshot whose components all finished. */
export function summarizeSnapshot(status: Pick<SnapshotStatus, 'components'> | undefined, now: Date): SnapshotSummary {
  const components = Object.values(status?.components ?? {});
  let earliest: number | undefined;
  let bytes = 0;
  let sized = false;
  for (const component of components) {
    for (const stats of component.resticStats ?? []) {
      const start = Date.parse(stats.summary?.startTime ?? '');
      if (!Number.isNaN(start) && (earliest === undefined || start < earliest)) earliest = start;
    }
    const size = parseByteSize(component.size);
    if (size !== undefined) {
      bytes += size;
      sized = true;
    }
  }
  return {
    snapshotTime: rfc3339(earliest === undefined ? now : new Date(earliest)),
    ...(sized ? { size: formatByteSize(bytes) } : {}),
    integrity: components.length > 0 && components.every((component) => component.integrity === true),
  };
}

/**
 * What `autostash status` shows for each BackupConfiguration, and whether it needs attention:
 * built from the configurations, their BackupSessions and their Repositories as read from the
 * cluster. Pure: the time is an argument.
 */
import type { BackupConfiguration, BackupSession } from '../../api/core.js';
import type { Repository } from '../../api/storage.js';
import { INVOKER_KIND_LABEL, INVOKER_NAME_LABEL, SCHEDULED_AT_ANNOTATION, SESSION_NAME_LABEL } from '../execution/labels.js';
import { nextSlot, parseSchedule, previousSlot } from '../schedule/parse-schedule.js';
import { findCondition } from './conditions.js';
import { formatByteSize, parseByteSize } from './snapshot-phase.js';

/** How long a session's recorded nextSchedule may lie in the past before the scheduler counts as stalled. */
export const DEFAULT_SCHEDULE_GRACE_MS = 5 * 60_000;
/** Default `--overdue-after`: a session is overdue after two schedule intervals without a successful backup. */
export const DEFAULT_OVERDUE_FACTOR = 2;

export type OverviewState = 'Ok' | 'Failing' | 'Overdue' | 'Paused';

export interface OverviewProblem {
  kind: 'failing' | 'overdue';
  /** One sentence: what is wrong, naming the session or the field. */
  reason: string;
}

export interface LastBackup {
  /** The BackupSession's name. */
  name: string;
  phase: string;
  /** When it stands for: its scheduled slot, else its creation. */
  time: Date;
}

/** One row of the overview. */
export interface OverviewRow {
  namespace: string;
  name: string;
  /** `<kind>/<name>` of spec.target, or `cluster` when the configuration has none (cluster-wide kubedump). */
  target: string;
  /** spec.sessions[].name in spec order. */
  sessions: string[];
  /** The configuration's most recent BackupSession, if any. */
  lastBackup: LastBackup | undefined;
  /** The earliest status.sessions[].nextSchedule of a session that runs (not paused or suspended). */
  nextSchedule: Date | undefined;
  paused: boolean;
  /** Sum of the Repositories' status.size, in bytes; undefined when none reports one. */
  sizeBytes: number | undefined;
  /** Sum of the Repositories' status.snapshotCount; undefined when none reports one. */
  snapshots: number | undefined;
  state: OverviewState;
  problems: OverviewProblem[];
}

export interface OverviewInput {
  configurations: readonly BackupConfiguration[];
  /** BackupSessions in the same namespaces (others are ignored). */
  backupSessions: readonly BackupSession[];
  /** Repositories in the same namespaces (a configuration uses those its sessions name). */
  repositories: readonly Repository[];
  now: Date;
  /** Schedule intervals without a successful backup before a session is overdue; at least 1. Default {@link DEFAULT_OVERDUE_FACTOR}. */
  overdueFactor?: number;
  /** Default {@link DEFAULT_SCHEDULE_GRACE_MS}. */
  scheduleGraceMs?: number;
}

/** The time a BackupSession stands for: its scheduled slot (scheduler), else its creation; undefined when neither parses. */
function sessionTime(session: BackupSession): Date | undefined {
  const text = session.metadata?.annotations?.[SCHEDULED_AT_ANNOTATION] ?? session.metadata?.creationTimestamp;
  const time = Date.parse(text ?? '');
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** Compact age as kubectl prints it, coarser as it grows: `45s`, `3m`, `5h`, `12d`. */
export function formatAge(milliseconds: number): string {
  const seconds = Math.max(0, Math.floor(milliseconds / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

interface TimedSession {
  session: BackupSession;
  time: Date;
}

const latest = (sessions: readonly TimedSession[]): TimedSession | undefined =>
  sessions.reduce<TimedSession | undefined>((best, candidate) => (best === undefined || candidate.time.getTime() > best.time.getTime() ? candidate : best), undefined);

/** Failing: the configuration is Invalid or NotReady (as its controller wrote it), or a session's latest BackupSession Failed. */
function failingProblems(configuration: BackupConfiguration, bySession: ReadonlyMap<string, TimedSession[]>, now: Date): OverviewProblem[] {
  const problems: OverviewProblem[] = [];
  const phase = configuration.status?.phase;
  if (phase === 'Invalid') {
    const message = findCondition(configuration.status?.conditions, 'ValidationPassed')?.message;
    problems.push({ kind: 'failing', reason: `the configuration is Invalid${message ? `: ${message}` : ''}` });
  } else if (phase === 'NotReady') {
    const notFound = [
      ...(configuration.spec?.target !== undefined && configuration.status?.targetFound !== true ? ['its target was not found'] : []),
      ...(configuration.status?.backends ?? []).filter((backend) => backend.ready !== true).map((backend) => `backend ${backend.name ?? ''} is not ready`),
    ];
    problems.push({ kind: 'failing', reason: `the configuration is NotReady${notFound.length > 0 ? `: ${notFound.join('; ')}` : ''}` });
  }
  for (const session of configuration.spec?.sessions ?? []) {
    const last = latest(bySession.get(session.name ?? '') ?? []);
    if (last?.session.status?.phase === 'Failed') {
      problems.push({ kind: 'failing', reason: `session ${session.name ?? ''}: the last BackupSession ${last.session.metadata?.name ?? ''} Failed ${formatAge(now.getTime() - last.time.getTime())} ago` });
    }
  }
  return problems;
}

/**
 * Overdue, per session that runs (configuration not paused, session not suspended, schedule parses):
 * - no Succeeded BackupSession within `factor` schedule intervals (the interval at the last slot) —
 *   counted from the latest success, or from the configuration's creation when none succeeded yet;
 * - or its status nextSchedule is more than the grace in the past: the slot was not run (no leader?).
 */
function overdueProblems(configuration: BackupConfiguration, bySession: ReadonlyMap<string, TimedSession[]>, now: Date, factor: number, graceMs: number): OverviewProblem[] {
  if (configuration.spec?.paused === true) return [];
  const problems: OverviewProblem[] = [];
  const created = Date.parse(configuration.metadata?.creationTimestamp ?? '');
  for (const session of configuration.spec?.sessions ?? []) {
    const name = session.name ?? '';
    if (session.scheduler?.suspend === true) continue;
    const parsed = parseSchedule(session.scheduler?.schedule ?? '');
    if (!parsed.ok) continue;
    const lastSlot = previousSlot(parsed.schedule, now);
    const intervalMs = nextSlot(parsed.schedule, lastSlot).getTime() - lastSlot.getTime();
    const allowedMs = intervalMs * factor;
    const succeeded = latest((bySession.get(name) ?? []).filter((entry) => entry.session.status?.phase === 'Succeeded'));
    const since = succeeded?.time.getTime() ?? created;
    if (!Number.isNaN(since) && now.getTime() - since > allowedMs) {
      const what = succeeded !== undefined ? `the last successful backup was ${formatAge(now.getTime() - since)} ago` : `no successful backup since the configuration was created ${formatAge(now.getTime() - since)} ago`;
      problems.push({ kind: 'overdue', reason: `session ${name}: ${what}, more than ${factor} × its schedule interval (${formatAge(intervalMs)})` });
      continue;
    }
    const recorded = Date.parse(configuration.status?.sessions?.find((entry) => entry.name === name)?.nextSchedule ?? '');
    if (!Number.isNaN(recorded) && now.getTime() - recorded > graceMs) {
      problems.push({ kind: 'overdue', reason: `session ${name}: its next schedule passed ${formatAge(now.getTime() - recorded)} ago and was not run; is autostash running (and holding its Lease)?` });
    }
  }
  return problems;
}

function repositoryTotals(configuration: BackupConfiguration, repositories: readonly Repository[]): { sizeBytes: number | undefined; snapshots: number | undefined } {
  const namespace = configuration.metadata?.namespace;
  const names = new Set((configuration.spec?.sessions ?? []).flatMap((session) => (session.repositories ?? []).map((repository) => repository.name ?? '')));
  let sizeBytes: number | undefined;
  let snapshots: number | undefined;
  for (const repository of repositories) {
    if (repository.metadata?.namespace !== namespace || !names.has(repository.metadata?.name ?? '')) continue;
    const size = parseByteSize(repository.status?.size);
    if (size !== undefined) sizeBytes = (sizeBytes ?? 0) + size;
    if (repository.status?.snapshotCount !== undefined) snapshots = (snapshots ?? 0) + repository.status.snapshotCount;
  }
  return { sizeBytes, snapshots };
}

/**
 * One row per configuration, sorted by namespace then name.
 * @throws RangeError when overdueFactor is below 1 or not a number (callers validate user input first).
 */
export function buildOverview(input: OverviewInput): OverviewRow[] {
  const factor = input.overdueFactor ?? DEFAULT_OVERDUE_FACTOR;
  if (!(factor >= 1)) throw new RangeError(`overdueFactor must be a number of at least 1, not ${factor}`);
  const graceMs = input.scheduleGraceMs ?? DEFAULT_SCHEDULE_GRACE_MS;
  const { now } = input;
  // BackupSessions by `<namespace>/<configuration>`, then by session name.
  const byConfiguration = new Map<string, Map<string, TimedSession[]>>();
  for (const session of input.backupSessions) {
    const labels = session.metadata?.labels ?? {};
    const time = sessionTime(session);
    if (labels[INVOKER_KIND_LABEL] !== 'BackupConfiguration' || time === undefined) continue;
    const key = `${session.metadata?.namespace ?? ''}/${labels[INVOKER_NAME_LABEL] ?? ''}`;
    const bySession = byConfiguration.get(key) ?? new Map<string, TimedSession[]>();
    byConfiguration.set(key, bySession);
    const sessionName = labels[SESSION_NAME_LABEL] ?? session.spec?.session ?? '';
    bySession.set(sessionName, [...(bySession.get(sessionName) ?? []), { session, time }]);
  }

  const rows = input.configurations.map((configuration): OverviewRow => {
    const namespace = configuration.metadata?.namespace ?? '';
    const name = configuration.metadata?.name ?? '';
    const spec = configuration.spec ?? {};
    const bySession = byConfiguration.get(`${namespace}/${name}`) ?? new Map<string, TimedSession[]>();
    const last = latest([...bySession.values()].flat());
    const paused = spec.paused === true;
    const running = new Set((spec.sessions ?? []).filter((session) => session.scheduler?.suspend !== true).map((session) => session.name ?? ''));
    const nextTimes = paused
      ? []
      : (configuration.status?.sessions ?? [])
          .filter((entry) => running.has(entry.name ?? ''))
          .map((entry) => Date.parse(entry.nextSchedule ?? ''))
          .filter((time) => !Number.isNaN(time));
    const problems = [...failingProblems(configuration, bySession, now), ...overdueProblems(configuration, bySession, now, factor, graceMs)];
    const state: OverviewState = problems.some((problem) => problem.kind === 'failing') ? 'Failing' : problems.length > 0 ? 'Overdue' : paused ? 'Paused' : 'Ok';
    return {
      namespace,
      name,
      target: spec.target === undefined ? 'cluster' : `${spec.target.kind ?? ''}/${spec.target.name ?? ''}`,
      sessions: (spec.sessions ?? []).map((session) => session.name ?? ''),
      lastBackup: last === undefined ? undefined : { name: last.session.metadata?.name ?? '', phase: last.session.status?.phase ?? 'Pending', time: last.time },
      nextSchedule: nextTimes.length === 0 ? undefined : new Date(Math.min(...nextTimes)),
      paused,
      ...repositoryTotals(configuration, input.repositories),
      state,
      problems,
    };
  });
  return rows.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** The table cells of a row, in the column order of {@link OVERVIEW_COLUMNS}. */
export function overviewCells(row: OverviewRow, now: Date): string[] {
  const relative = (time: Date): string => {
    const delta = time.getTime() - now.getTime();
    return delta >= 0 ? `in ${formatAge(delta)}` : `${formatAge(-delta)} ago`;
  };
  return [
    row.namespace,
    row.name,
    row.target,
    row.sessions.length > 0 ? row.sessions.join(',') : '-',
    row.lastBackup === undefined ? '-' : `${row.lastBackup.phase} ${formatAge(now.getTime() - row.lastBackup.time.getTime())}`,
    row.paused ? 'paused' : row.nextSchedule === undefined ? '-' : relative(row.nextSchedule),
    row.sizeBytes === undefined ? '-' : formatByteSize(row.sizeBytes),
    row.snapshots === undefined ? '-' : String(row.snapshots),
    row.state,
  ];
}

export const OVERVIEW_COLUMNS = ['NAMESPACE', 'NAME', 'TARGET', 'SESSIONS', 'LAST BACKUP', 'NEXT', 'SIZE', 'SNAPSHOTS', 'STATUS'] as const;

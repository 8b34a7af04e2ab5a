/**
 * How far apart the runs of a cron schedule are, for the BackupPolicy schedule rule.
 * Pure: the runs are computed from a fixed reference instant, never from the clock, so the answer for
 * a schedule is always the same (and can be memoised).
 */
import { CronExpressionParser } from 'cron-parser';
import { parseGoDuration } from '../duration.js';

export interface ScheduleGaps {
  /** Shortest time between two consecutive runs, in milliseconds. */
  minMs: number;
  /** Longest time between two consecutive runs, in milliseconds. */
  maxMs: number;
}

/** Start of the sample window: a fixed instant (a Monday, 1 January), so results never depend on the clock. */
const WINDOW_START = Date.UTC(2025, 0, 1);
const WINDOW_MS = 366 * 24 * 3600 * 1000;
/** At most this many runs are sampled: bounded work per schedule, and a minutely schedule needs few to show its gaps. */
const MAX_RUNS = 400;
const MEMO_LIMIT = 1000;
const memo = new Map<string, ScheduleGaps | undefined>();

/** `CRON_TZ=Zone expr` / `TZ=Zone expr` (robfig/cron, as KubeStash reads schedules) → zone and expression. */
function splitTimeZone(schedule: string): { tz: string; expression: string } {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(schedule.trim());
  return match ? { tz: match[1] as string, expression: (match[2] as string).trim() } : { tz: 'UTC', expression: schedule.trim() };
}

function computeGaps(schedule: string): ScheduleGaps | undefined {
  const { tz, expression } = splitTimeZone(schedule);
  if (expression.startsWith('@every ')) {
    const every = parseGoDuration(expression.slice('@every '.length).trim());
    if (!every.ok || every.value <= 0n) return undefined;
    const ms = Number(every.value / 1_000_000n);
    return { minMs: ms, maxMs: ms };
  }
  // Standard cron has five fields (robfig's ParseStandard); cron-parser would also take a seconds field.
  if (!expression.startsWith('@') && expression.split(/\s+/).length !== 5) return undefined;
  try {
    const runs = CronExpressionParser.parse(expression, { tz, currentDate: new Date(WINDOW_START) });
    const times: number[] = [];
    while (times.length < MAX_RUNS) {
      const next = runs.next().getTime();
      if (!Number.isFinite(next)) return undefined;
      times.push(next);
      // One run past the window, so a yearly schedule still shows one gap.
      if (next > WINDOW_START + WINDOW_MS && times.length >= 2) break;
    }
    if (times.length < 2) return undefined;
    let minMs = Infinity;
    let maxMs = 0;
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] as number) - (times[i - 1] as number);
      if (gap < minMs) minMs = gap;
      if (gap > maxMs) maxMs = gap;
    }
    return { minMs, maxMs };
  } catch {
    return undefined;
  }
}

/**
 * The shortest and longest gap between consecutive runs of `schedule` (five-field cron, `@hourly`-style
 * macros, `@every <duration>`, optional `CRON_TZ=`/`TZ=` prefix; UTC otherwise), sampled over the next
 * 400 runs or one year from a fixed start, whichever comes first. Undefined when the schedule does not
 * parse (or never fires): callers skip it, the schedule's own validation reports it.
 */
export function scheduleGaps(schedule: string): ScheduleGaps | undefined {
  if (memo.has(schedule)) return memo.get(schedule);
  const gaps = computeGaps(schedule);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(schedule, gaps);
  return gaps;
}

/** `3600000` → `1h`, `5400000` → `1h30m`, `86400000` → `24h`, for messages. */
export function formatMs(ms: number): string {
  if (ms % 1000 !== 0 || ms === 0) return `${ms}ms`;
  let seconds = ms / 1000;
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return `${hours > 0 ? `${hours}h` : ''}${minutes > 0 ? `${minutes}m` : ''}${seconds > 0 ? `${seconds}s` : ''}`;
}

/**
 * How far apart the runs of a cron schedule are, for the BackupPolicy schedule rule.
 *
 * Pure and fast enough for admission: cron-parser only parses the expression (and walks the few runs
 * around daylight-saving transitions); the gaps themselves come from the field values, day by day, in
 * wall-clock time over a fixed window (one year from a fixed start, never the clock), so a schedule
 * costs well under a millisecond and the answer is always the same (and memoised).
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { parseGoDuration } from '../duration.js';

export interface ScheduleGaps {
  /** Shortest time between two consecutive runs, in milliseconds. */
  minMs: number;
  /** Longest time between two consecutive runs, in milliseconds. */
  maxMs: number;
}

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;
const DAY_MS = DAY_MINUTES * MINUTE_MS;
/** Start of the sample window: a fixed instant, so results never depend on the clock. */
const WINDOW_START = Date.UTC(2025, 0, 1);
const WINDOW_DAYS = 366;
/** Days looked at to find the run after the window (a 29 February schedule needs up to 8 years). */
const SEARCH_DAYS = 8 * 366;
/** Runs walked around one daylight-saving transition (and in the fallback walk): bounded work. */
const MAX_RUNS = 400;
const MEMO_LIMIT = 1000;
const memo = new Map<string, ScheduleGaps | undefined>();

/** `CRON_TZ=Zone expr` / `TZ=Zone expr` (robfig/cron, as KubeStash reads schedules) → zone and expression. */
function splitTimeZone(schedule: string): { tz: string; expression: string } {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(schedule.trim());
  return match ? { tz: match[1] as string, expression: (match[2] as string).trim() } : { tz: 'UTC', expression: schedule.trim() };
}

const numbers = (values: ReadonlyArray<number | string>): number[] | undefined =>
  values.every((value) => typeof value === 'number') ? (values as number[]) : undefined;

/** Gaps between consecutive run instants. */
function gapsOf(times: readonly number[]): ScheduleGaps | undefined {
  if (times.length < 2) return undefined;
  let minMs = Infinity;
  let maxMs = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = (times[i] as number) - (times[i - 1] as number);
    if (gap < minMs) minMs = gap;
    if (gap > maxMs) maxMs = gap;
  }
  return { minMs, maxMs };
}

/** Runs of `expression` in `tz` after `from`, until `until` or MAX_RUNS, as epoch milliseconds. */
function walkRuns(expression: string, tz: string, from: number, until: number): number[] {
  const runs: CronExpression = CronExpressionParser.parse(expression, { tz, currentDate: new Date(from) });
  const times: number[] = [];
  while (times.length < MAX_RUNS) {
    const next = runs.next().getTime();
    times.push(next);
    if (next > until && times.length >= 2) break;
  }
  return times;
}

/** Gaps in wall-clock time from the field values: exact in UTC, and everywhere except across DST changes. */
function wallClockGaps(parsed: CronExpression): ScheduleGaps | undefined {
  const { fields } = parsed;
  const minutes = numbers(fields.minute.values);
  const hours = numbers(fields.hour.values);
  const daysOfMonth = numbers(fields.dayOfMonth.values);
  const months = numbers(fields.month.values);
  const daysOfWeek = numbers(fields.dayOfWeek.values);
  const seconds = numbers(fields.second.values);
  // L, W and # need calendar logic the day walk does not do: the caller walks the runs instead.
  if (!minutes || !hours || !daysOfMonth || !months || !daysOfWeek || !seconds || seconds.length !== 1) return undefined;
  const timesOfDay = [...new Set(hours.flatMap((hour) => minutes.map((minute) => hour * 60 + minute)))].sort((a, b) => a - b);
  const monthSet = new Set(months);
  const domSet = new Set(daysOfMonth);
  const dowSet = new Set(daysOfWeek.map((day) => day % 7));
  // Vixie/robfig semantics: with both day fields restricted, either may match; otherwise both must.
  const either = !fields.dayOfMonth.isWildcard && !fields.dayOfWeek.isWildcard && !fields.dayOfMonth.hasQuestionMarkChar && !fields.dayOfWeek.hasQuestionMarkChar;
  const first = timesOfDay[0] as number;
  const last = timesOfDay[timesOfDay.length - 1] as number;
  const intra = gapsOf(timesOfDay);
  let minMinutes = intra?.minMs ?? Infinity;
  let maxMinutes = intra?.maxMs ?? 0;
  let previousDay: number | undefined;
  let matchingDays = 0;
  for (let day = 0; day < SEARCH_DAYS; day++) {
    const date = new Date(WINDOW_START + day * DAY_MS);
    if (!monthSet.has(date.getUTCMonth() + 1)) continue;
    const domMatches = domSet.has(date.getUTCDate());
    const dowMatches = dowSet.has(date.getUTCDay());
    if (either ? !(domMatches || dowMatches) : !(domMatches && dowMatches)) continue;
    if (previousDay !== undefined) {
      const gap = (day - previousDay) * DAY_MINUTES - last + first;
      if (gap < minMinutes) minMinutes = gap;
      if (gap > maxMinutes) maxMinutes = gap;
    }
    previousDay = day;
    matchingDays++;
    // One matching day past the window, so the gap across its end counts too.
    if (day >= WINDOW_DAYS && matchingDays >= 2) break;
  }
  if (matchingDays === 0 || (matchingDays === 1 && timesOfDay.length === 1)) return undefined;
  return { minMs: minMinutes * MINUTE_MS, maxMs: maxMinutes * MINUTE_MS };
}

/** UTC offset of `tz` at `instant`, in minutes (`GMT+05:30` → 330). */
function offsetMinutes(format: Intl.DateTimeFormat, instant: number): number {
  const name = format.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === '-' ? -minutes : minutes;
}

/** Instants in the window at which `tz` changes its UTC offset (found weekly, then to the minute). */
function offsetTransitions(tz: string): number[] {
  const format = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
  const transitions: number[] = [];
  const week = 7 * DAY_MS;
  for (let at = WINDOW_START; at < WINDOW_START + (WINDOW_DAYS + 7) * DAY_MS; at += week) {
    let low = at;
    let high = at + week;
    const before = offsetMinutes(format, low);
    if (offsetMinutes(format, high) === before) continue;
    while (high - low > MINUTE_MS) {
      const middle = low + Math.floor((high - low) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offsetMinutes(format, middle) === before) low = middle;
      else high = middle;
    }
    transitions.push(high);
  }
  return transitions;
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
    const parsed = CronExpressionParser.parse(expression, { tz, currentDate: new Date(WINDOW_START) });
    const wall = wallClockGaps(parsed);
    if (wall === undefined) return gapsOf(walkRuns(expression, tz, WINDOW_START, WINDOW_START + WINDOW_DAYS * DAY_MS));
    if (tz === 'UTC') return wall;
    // Across a daylight-saving change the real gap differs from the wall-clock one: walk the runs there.
    let { minMs, maxMs } = wall;
    for (const transition of offsetTransitions(tz)) {
      const margin = wall.maxMs + 2 * 60 * MINUTE_MS;
      const around = gapsOf(walkRuns(expression, tz, transition - margin, transition + margin));
      if (around === undefined) continue;
      minMs = Math.min(minMs, around.minMs);
      maxMs = Math.max(maxMs, around.maxMs);
    }
    return { minMs, maxMs };
  } catch {
    return undefined;
  }
}

/**
 * The shortest and longest gap between consecutive runs of `schedule` (five-field cron, `@hourly`-style
 * macros, `@every <duration>`, optional `CRON_TZ=`/`TZ=` prefix; UTC otherwise) over one year from a
 * fixed start (plus the gap to the first run after it), in real time: a daylight-saving change makes
 * one gap a year longer and one shorter. Undefined when the schedule does not parse or never fires
 * twice: callers skip it, the schedule's own validation reports it.
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

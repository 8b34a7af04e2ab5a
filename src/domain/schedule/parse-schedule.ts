/**
 * Session schedules (`spec.sessions[].scheduler.schedule`) as KubeStash's CronJobs read them:
 * five-field cron, the robfig/Kubernetes macros, and an optional `CRON_TZ=<zone>` / `TZ=<zone>`
 * prefix (IANA zone; UTC without one). Pure: time is always an argument.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { ErrorCodes, type FieldError } from '../errors.js';

/** A parsed schedule: the cron expression (macros expanded) and the zone it is read in. */
export interface Schedule {
  /** The schedule as written. */
  readonly text: string;
  /** Five-field cron expression, macros expanded. */
  readonly expression: string;
  /** IANA time zone; `UTC` when the schedule names none. */
  readonly timeZone: string;
}

export type ParseScheduleResult = { ok: true; schedule: Schedule } | { ok: false; error: FieldError };

/** The macros Kubernetes CronJobs accept, as five-field expressions. */
export const SCHEDULE_MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DEFAULT_PATH = 'scheduler.schedule';
const ZONE_PREFIX = /^(CRON_TZ|TZ)=(\S*)(?:\s+([\s\S]*))?$/;

const invalid = (path: string, message: string): ParseScheduleResult => ({ ok: false, error: { code: ErrorCodes.Invalid, path, message } });

/** True when the runtime's time-zone database knows `zone` (IANA names; `UTC`). */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `text`. Errors are field errors at `path` (the caller passes e.g.
 * `spec.sessions[0].scheduler.schedule`) that say what is wrong: an unknown zone is named, a
 * six-field (seconds) expression or `@every` is refused because a Kubernetes CronJob refuses it too.
 * A schedule that never fires (e.g. `0 0 30 2 *`) is an error as well.
 */
export function parseSchedule(text: string, path: string = DEFAULT_PATH): ParseScheduleResult {
  const trimmed = text.trim();
  if (trimmed === '') return invalid(path, 'the schedule is empty; write a cron expression such as "0 2 * * *" or a macro such as @daily');
  let timeZone = 'UTC';
  let expression = trimmed;
  const prefixed = ZONE_PREFIX.exec(trimmed);
  if (prefixed !== null) {
    const [, prefix, zone = '', rest = ''] = prefixed;
    if (zone === '') return invalid(path, `${prefix}= names no time zone; write e.g. ${prefix}=Europe/Berlin 0 2 * * *`);
    if (!knownTimeZone(zone)) return invalid(path, `unknown time zone "${zone}" in ${prefix}=; use an IANA name such as Europe/Berlin or America/New_York`);
    if (rest.trim() === '') return invalid(path, `${prefix}=${zone} is followed by no cron expression`);
    timeZone = zone;
    expression = rest.trim();
  }
  if (expression.startsWith('@')) {
    const macro = SCHEDULE_MACROS[expression.toLowerCase()];
    if (macro === undefined) {
      return invalid(path, `unsupported macro "${expression.split(/\s+/)[0]}"; use one of ${Object.keys(SCHEDULE_MACROS).join(', ')} or a five-field cron expression`);
    }
    expression = macro;
  } else {
    const fields = expression.split(/\s+/).length;
    if (fields !== 5) return invalid(path, `"${expression}" has ${fields} field${fields === 1 ? '' : 's'}; a schedule has five (minute hour day-of-month month day-of-week)`);
  }
  try {
    // Asking for one run also catches expressions that parse but never match a date.
    CronExpressionParser.parse(expression, { tz: timeZone, currentDate: new Date(0) }).next();
  } catch (error) {
    return invalid(path, `"${expression}" is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { ok: true, schedule: { text, expression, timeZone } };
}

/**
 * One parsed cron iterator per Schedule, moved with reset(): parsing again for every question costs
 * twice as much, and the scheduler asks a few questions per slot for each of thousands of schedules.
 * Deterministic (a cache of a pure computation), so the functions below stay pure.
 */
const iterators = new WeakMap<Schedule, CronExpression>();

function iteratorAt(schedule: Schedule, currentDate: Date): CronExpression {
  let iterator = iterators.get(schedule);
  if (iterator === undefined) {
    iterator = CronExpressionParser.parse(schedule.expression, { tz: schedule.timeZone, currentDate });
    iterators.set(schedule, iterator);
  } else {
    iterator.reset(currentDate);
  }
  return iterator;
}

/** The first run of `schedule` strictly after `after`. */
export function nextSlot(schedule: Schedule, after: Date): Date {
  return iteratorAt(schedule, after).next().toDate();
}

/** The last run of `schedule` at or before `atOrBefore`. */
export function previousSlot(schedule: Schedule, atOrBefore: Date): Date {
  // Runs fall on whole seconds; prev() is strictly before its start, so start just past the instant.
  return iteratorAt(schedule, new Date(atOrBefore.getTime() + 1)).prev().toDate();
}

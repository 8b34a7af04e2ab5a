/**
 * What the scheduler does when it looks at a session: which slot (if any) to run now, how many were
 * missed, and when to look again. Pure: the clock is an argument.
 */
import { nextSlot, previousSlot, type Schedule } from './parse-schedule.js';

/** Missed slots are counted one by one up to this many; beyond it the count says "at least". */
export const MISSED_COUNT_LIMIT = 1000;

export interface SlotDecisionInput {
  schedule: Schedule;
  /**
   * The slot the scheduler last planned (the stored `status.sessions[].nextSchedule`, or the slot its
   * timer was set for). Undefined for a session seen for the first time: nothing is due then.
   */
  lastScheduled?: Date;
  now: Date;
  /** A slot later than this after its time is not run any more (counted as missed). No deadline: always run once. */
  startingDeadlineSeconds?: number;
}

export interface SlotDecision {
  /** The slot to create a BackupSession for now: the most recent due one. */
  run?: Date;
  /** Due slots not run: every older one, and the most recent one when it is past the deadline. */
  missed: number;
  /** True when more than {@link MISSED_COUNT_LIMIT} slots were due: `missed` is then a lower bound. */
  missedCountCapped: boolean;
  /** The next slot after `now`: when to look again. */
  next: Date;
}

/**
 * The first run at or after `instant`, as the forward chain of runs has it (see slotDecision):
 * from the run before `instant`, forward.
 */
function firstSlotAtOrAfter(schedule: Schedule, instant: Date): Date {
  let slot = nextSlot(schedule, previousSlot(schedule, new Date(instant.getTime() - 1)));
  while (slot.getTime() < instant.getTime()) slot = nextSlot(schedule, slot);
  return slot;
}

/**
 * Due slots are the schedule's runs in [lastScheduled, now]. When there are some, the most recent runs
 * once if `now - slot ≤ startingDeadlineSeconds` (or there is no deadline), as a CronJob catches up
 * after its controller was down; the others are missed. With `lastScheduled` absent or in the future
 * nothing is due. A `lastScheduled` that is not a run of the schedule (the schedule changed) only
 * bounds the window.
 */
export function slotDecision(input: SlotDecisionInput): SlotDecision {
  const { schedule, lastScheduled, now, startingDeadlineSeconds } = input;
  if (lastScheduled === undefined || lastScheduled.getTime() > now.getTime()) return { missed: 0, missedCountCapped: false, next: nextSlot(schedule, now) };
  // Walk forward with nextSlot: cron-parser's next() moves a run that falls in a spring-forward gap
  // (02:30 → 03:30) only when it starts before the gap, and prev() never does. The common case (the
  // timer of a planned slot) costs two steps: the planned slot itself, then the next one.
  let slot = nextSlot(schedule, new Date(lastScheduled.getTime() - 1));
  if (slot.getTime() !== lastScheduled.getTime()) slot = firstSlotAtOrAfter(schedule, lastScheduled);
  let due = 0;
  let latest: Date | undefined;
  for (; slot.getTime() <= now.getTime() && due < MISSED_COUNT_LIMIT; slot = nextSlot(schedule, slot)) {
    due += 1;
    latest = slot;
  }
  // `slot` is now the first run after the last one counted.
  if (latest === undefined) return { missed: 0, missedCountCapped: false, next: slot };
  const capped = slot.getTime() <= now.getTime();
  if (capped) {
    // A long outage of a frequent schedule: stop counting and find the latest run near now.
    for (slot = firstSlotAtOrAfter(schedule, previousSlot(schedule, now)); slot.getTime() <= now.getTime(); slot = nextSlot(schedule, slot)) latest = slot;
  }
  const next = slot;
  const late = startingDeadlineSeconds !== undefined && now.getTime() - latest.getTime() > startingDeadlineSeconds * 1000;
  if (late) return { missed: due, missedCountCapped: capped, next };
  return { run: latest, missed: due - 1, missedCountCapped: capped, next };
}

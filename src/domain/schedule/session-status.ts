/**
 * `BackupConfiguration.status.sessions[]`, the scheduler's part of the status: per session the next
 * schedule and the conditions SchedulerEnsured and InitialBackupTriggered. Pure.
 */
import { isDeepStrictEqual } from 'node:util';
import type { SessionStatus } from '../../api/core.js';
import { findCondition, setCondition, type ConditionInput } from '../status/conditions.js';
import { formatTimestamp } from './backup-session.js';

export const SchedulerConditions = {
  SchedulerEnsured: 'SchedulerEnsured',
  InitialBackupTriggered: 'InitialBackupTriggered',
} as const;

export const SchedulerReasons = {
  SchedulerEnsured: 'SchedulerEnsured',
  InvalidSchedule: 'InvalidSchedule',
  /** KubeStash's reason (SPEC §4.1). */
  InitialBackupTriggered: 'SuccessfullyTriggeredInitialBackup',
} as const;

/** What the caller wants a condition to say (the shared conditions helper decides the transition time). */
export type DesiredCondition = ConditionInput;
export { setCondition, findCondition };

/** What the scheduler knows about one session after looking at it. */
export interface SessionScheduleState {
  name: string;
  /** The next slot; absent while the session is paused or its schedule is invalid. */
  nextSchedule?: Date;
  /** SchedulerEnsured: undefined when the schedule parsed, else the parse error's message. */
  scheduleError?: string;
  /** Why there is no next schedule although the schedule is valid (paused, suspended). */
  note?: string;
  /** InitialBackupTriggered is set True when this is true; otherwise the stored condition is kept. */
  initialBackupTriggered?: { message: string };
}

/**
 * The new `status.sessions[]` for the sessions in `states` (spec order), keeping each session's other
 * conditions and the stored InitialBackupTriggered unless it is being set now. Entries of sessions no
 * longer in the spec are dropped (the configuration's phase compares the counts).
 */
export function buildSessionStatuses(previous: readonly SessionStatus[] | undefined, states: readonly SessionScheduleState[], now: Date): SessionStatus[] {
  return states.map((state) => {
    const stored = previous?.find((entry) => entry.name === state.name);
    let conditions = stored?.conditions ?? [];
    conditions =
      state.scheduleError === undefined
        ? setCondition(conditions, { type: SchedulerConditions.SchedulerEnsured, status: 'True', reason: SchedulerReasons.SchedulerEnsured, message: state.note ?? 'the schedule is held by the scheduler' }, now)
        : setCondition(conditions, { type: SchedulerConditions.SchedulerEnsured, status: 'False', reason: SchedulerReasons.InvalidSchedule, message: state.scheduleError }, now);
    if (state.initialBackupTriggered !== undefined) {
      conditions = setCondition(conditions, { type: SchedulerConditions.InitialBackupTriggered, status: 'True', reason: SchedulerReasons.InitialBackupTriggered, message: state.initialBackupTriggered.message }, now);
    }
    return {
      name: state.name,
      ...(state.nextSchedule !== undefined ? { nextSchedule: formatTimestamp(state.nextSchedule) } : {}),
      conditions,
    };
  });
}

/** True when the stored sessions already say what `next` says (transition times aside, as setCondition keeps them). */
export function sessionStatusesEqual(stored: readonly SessionStatus[] | undefined, next: readonly SessionStatus[]): boolean {
  return isDeepStrictEqual(stored ?? [], next);
}

export { parseSchedule, nextSlot, previousSlot, SCHEDULE_MACROS, type Schedule, type ParseScheduleResult } from './parse-schedule.js';
export { slotDecision, MISSED_COUNT_LIMIT, type SlotDecision, type SlotDecisionInput } from './slot-decision.js';
export {
  concurrencyDecision,
  effectiveConcurrencyPolicy,
  isTerminalSessionPhase,
  DEFAULT_CONCURRENCY_POLICY,
  type ConcurrencyDecision,
  type ConcurrencyPolicy,
} from './concurrency.js';
export { buildBackupSession, formatTimestamp, CORE_API_VERSION, CORE_GROUP, type BackupSessionRequest } from './backup-session.js';
export {
  buildSessionStatuses,
  findCondition,
  sessionStatusesEqual,
  setCondition,
  SchedulerConditions,
  SchedulerReasons,
  type DesiredCondition,
  type SessionScheduleState,
} from './session-status.js';

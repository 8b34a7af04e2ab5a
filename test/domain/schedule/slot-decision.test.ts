import t from 'tap';
import { MISSED_COUNT_LIMIT, parseSchedule, slotDecision, type Schedule, type SlotDecisionInput } from '../../../src/domain/schedule/index.js';

const schedule = (text: string): Schedule => {
  const result = parseSchedule(text);
  if (!result.ok) throw new Error(result.error.message);
  return result.schedule;
};
const at = (iso: string): Date => new Date(iso);
const HOURLY = schedule('0 * * * *');

interface Row {
  rule: string;
  input: SlotDecisionInput;
  run?: string;
  missed: number;
  capped?: boolean;
  next: string;
}

const rows: Row[] = [
  { rule: 'first sight: nothing is due, the next slot is planned', input: { schedule: HOURLY, now: at('2025-01-01T10:15:00Z') }, missed: 0, next: '2025-01-01T11:00:00.000Z' },
  { rule: 'planned slot still ahead: nothing due', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T11:00:00Z'), now: at('2025-01-01T10:15:00Z') }, missed: 0, next: '2025-01-01T11:00:00.000Z' },
  { rule: 'timer on time: the slot runs', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T11:00:00Z'), now: at('2025-01-01T11:00:00Z') }, run: '2025-01-01T11:00:00.000Z', missed: 0, next: '2025-01-01T12:00:00.000Z' },
  { rule: 'timer a little late: the slot still runs', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T11:00:00Z'), now: at('2025-01-01T11:00:02.500Z') }, run: '2025-01-01T11:00:00.000Z', missed: 0, next: '2025-01-01T12:00:00.000Z' },
  { rule: 'outage over four slots, no deadline: the latest runs once, three are missed', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T10:00:00Z'), now: at('2025-01-01T13:30:00Z') }, run: '2025-01-01T13:00:00.000Z', missed: 3, next: '2025-01-01T14:00:00.000Z' },
  { rule: 'outage, latest within startingDeadlineSeconds: runs', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T10:00:00Z'), now: at('2025-01-01T13:30:00Z'), startingDeadlineSeconds: 3600 }, run: '2025-01-01T13:00:00.000Z', missed: 3, next: '2025-01-01T14:00:00.000Z' },
  { rule: 'latest exactly at the deadline: runs', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T13:00:00Z'), now: at('2025-01-01T13:10:00Z'), startingDeadlineSeconds: 600 }, run: '2025-01-01T13:00:00.000Z', missed: 0, next: '2025-01-01T14:00:00.000Z' },
  { rule: 'outage, latest past startingDeadlineSeconds: nothing runs, all are missed', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T10:00:00Z'), now: at('2025-01-01T13:30:00Z'), startingDeadlineSeconds: 600 }, missed: 4, next: '2025-01-01T14:00:00.000Z' },
  { rule: 'a single slot too late for the deadline is missed', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T13:00:00Z'), now: at('2025-01-01T13:00:31Z'), startingDeadlineSeconds: 30 }, missed: 1, next: '2025-01-01T14:00:00.000Z' },
  { rule: 'planned time not a run of the schedule (changed): runs since it count', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T10:30:00Z'), now: at('2025-01-01T12:10:00Z') }, run: '2025-01-01T12:00:00.000Z', missed: 1, next: '2025-01-01T13:00:00.000Z' },
  { rule: 'planned time not a run, no run since: nothing due', input: { schedule: HOURLY, lastScheduled: at('2025-01-01T10:30:00Z'), now: at('2025-01-01T10:50:00Z') }, missed: 0, next: '2025-01-01T11:00:00.000Z' },
  { rule: 'daily in Berlin across the spring change: one run at 03:30 CEST', input: { schedule: schedule('CRON_TZ=Europe/Berlin 30 2 * * *'), lastScheduled: at('2025-03-30T01:30:00Z'), now: at('2025-03-30T01:30:01Z') }, run: '2025-03-30T01:30:00.000Z', missed: 0, next: '2025-03-31T00:30:00.000Z' },
  { rule: 'window starting just after the moved spring run: that run is not due again', input: { schedule: schedule('CRON_TZ=Europe/Berlin 30 2 * * *'), lastScheduled: at('2025-03-30T02:00:00Z'), now: at('2025-03-31T00:30:01Z') }, run: '2025-03-31T00:30:00.000Z', missed: 0, next: '2025-04-01T00:30:00.000Z' },
  { rule: 'hourly in Berlin down over the autumn change: four real hours, four slots', input: { schedule: schedule('CRON_TZ=Europe/Berlin 30 * * * *'), lastScheduled: at('2025-10-25T23:30:00Z'), now: at('2025-10-26T02:45:00Z') }, run: '2025-10-26T02:30:00.000Z', missed: 3, next: '2025-10-26T03:30:00.000Z' },
  { rule: 'a year of minutes: counting stops at the limit', input: { schedule: schedule('* * * * *'), lastScheduled: at('2024-01-01T00:00:00Z'), now: at('2025-01-01T00:00:30Z') }, run: '2025-01-01T00:00:00.000Z', missed: MISSED_COUNT_LIMIT - 1, capped: true, next: '2025-01-01T00:01:00.000Z' },
  { rule: 'exactly the limit of due slots is not capped', input: { schedule: schedule('* * * * *'), lastScheduled: at('2025-01-01T00:00:00Z'), now: at(new Date(Date.parse('2025-01-01T00:00:00Z') + (MISSED_COUNT_LIMIT - 1) * 60_000).toISOString()) }, run: new Date(Date.parse('2025-01-01T00:00:00Z') + (MISSED_COUNT_LIMIT - 1) * 60_000).toISOString(), missed: MISSED_COUNT_LIMIT - 1, capped: false, next: new Date(Date.parse('2025-01-01T00:00:00Z') + MISSED_COUNT_LIMIT * 60_000).toISOString() },
];

for (const row of rows) {
  t.test(row.rule, async (t) => {
    const decision = slotDecision(row.input);
    t.equal(decision.run?.toISOString(), row.run, 'run');
    t.equal(decision.missed, row.missed, 'missed');
    t.equal(decision.missedCountCapped, row.capped ?? false, 'capped');
    t.equal(decision.next.toISOString(), row.next, 'next');
  });
}

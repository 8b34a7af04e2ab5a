import t from 'tap';
import { formatMs, scheduleGaps } from '../../../src/domain/policy/schedule-gaps.js';

const hour = 3600_000;
const rows: Array<{ schedule: string; gaps: { minMs: number; maxMs: number } | undefined }> = [
  { schedule: '0 */6 * * *', gaps: { minMs: 6 * hour, maxMs: 6 * hour } },
  { schedule: '* * * * *', gaps: { minMs: 60_000, maxMs: 60_000 } },
  { schedule: '@hourly', gaps: { minMs: hour, maxMs: hour } },
  { schedule: '@daily', gaps: { minMs: 24 * hour, maxMs: 24 * hour } },
  { schedule: '@weekly', gaps: { minMs: 168 * hour, maxMs: 168 * hour } },
  { schedule: '0 0 1 1 *', gaps: { minMs: 365 * 24 * hour, maxMs: 365 * 24 * hour } },
  { schedule: '0 1,23 * * *', gaps: { minMs: 2 * hour, maxMs: 22 * hour } },
  { schedule: 'CRON_TZ=America/New_York 30 3 * * *', gaps: { minMs: 23 * hour, maxMs: 25 * hour } },
  { schedule: '@every 90m', gaps: { minMs: 90 * 60_000, maxMs: 90 * 60_000 } },
  { schedule: '@every 0s', gaps: undefined },
  { schedule: '@every soon', gaps: undefined },
  { schedule: '*/5 * * * * *', gaps: undefined }, // six fields: not standard cron
  { schedule: '0 0 30 2 *', gaps: undefined }, // never fires
  { schedule: 'CRON_TZ=Not/AZone 0 2 * * *', gaps: undefined },
  { schedule: 'not a schedule', gaps: undefined },
];

for (const row of rows) {
  t.test(row.schedule, async (t) => {
    t.same(scheduleGaps(row.schedule), row.gaps);
    t.same(scheduleGaps(row.schedule), row.gaps, 'memoised answer is the same');
  });
}

t.test('formatMs', async (t) => {
  t.equal(formatMs(hour), '1h');
  t.equal(formatMs(90 * 60_000), '1h30m');
  t.equal(formatMs(24 * hour), '24h');
  t.equal(formatMs(61_000), '1m1s');
  t.equal(formatMs(1500), '1500ms');
  t.equal(formatMs(0), '0ms');
});

// The day-by-day computation must agree with walking every run through cron-parser (the slow way).
import { CronExpressionParser } from 'cron-parser';

function walkedGaps(schedule: string, days: number): { minMs: number; maxMs: number } {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(schedule);
  const tz = match ? (match[1] as string) : 'UTC';
  const expression = match ? (match[2] as string) : schedule;
  const start = Date.UTC(2025, 0, 1);
  const runs = CronExpressionParser.parse(expression, { tz, currentDate: new Date(start) });
  let previous = runs.next().getTime();
  let minMs = Infinity;
  let maxMs = 0;
  for (;;) {
    const next = runs.next().getTime();
    minMs = Math.min(minMs, next - previous);
    maxMs = Math.max(maxMs, next - previous);
    if (next > start + days * 24 * hour) return { minMs, maxMs };
    previous = next;
  }
}

const crossChecks: Array<{ schedule: string; days: number }> = [
  { schedule: '0 2 * * 1-5', days: 366 },
  { schedule: '0 0 1,15 * *', days: 366 },
  { schedule: '0 0 1 */3 *', days: 366 },
  { schedule: '30 1 * * 0', days: 366 },
  { schedule: '0 0 13 * 5', days: 366 }, // day of month OR day of week
  { schedule: '0 0 29 2 *', days: 4 * 366 },
  { schedule: '*/7 * * * *', days: 2 },
  { schedule: '0 9-17 * * 1-5', days: 366 },
  { schedule: 'CRON_TZ=Europe/Berlin 0 2 * * *', days: 366 },
  { schedule: 'CRON_TZ=Europe/Berlin 0 2 * * 0', days: 366 },
  { schedule: 'CRON_TZ=America/New_York 0 * * * *', days: 366 },
  { schedule: 'CRON_TZ=Pacific/Auckland 0 3 * * *', days: 366 },
  { schedule: 'CRON_TZ=Europe/London 30 1 * * *', days: 366 }, // inside the repeated hour in October
  { schedule: 'CRON_TZ=Asia/Kolkata 15 4 * * *', days: 366 },
  { schedule: '0 0 L * *', days: 366 }, // last day of the month: walked, not computed by days
];

for (const row of crossChecks) {
  t.test(`agrees with walking every run: ${row.schedule}`, async (t) => {
    t.same(scheduleGaps(row.schedule), walkedGaps(row.schedule, row.days));
  });
}

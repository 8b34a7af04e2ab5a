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

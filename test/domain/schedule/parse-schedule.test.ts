import t from 'tap';
import { nextSlot, parseSchedule, previousSlot, SCHEDULE_MACROS, type Schedule } from '../../../src/domain/schedule/index.js';

const FROM = new Date('2025-01-01T10:15:00Z'); // a Wednesday

const parsed = (text: string): Schedule => {
  const result = parseSchedule(text);
  if (!result.ok) throw new Error(`${text}: ${result.error.message}`);
  return result.schedule;
};

t.test('every macro parses to its five-field expression and fires where Kubernetes fires it', async (t) => {
  const rows: Array<{ macro: string; expression: string; next: string }> = [
    { macro: '@yearly', expression: '0 0 1 1 *', next: '2026-01-01T00:00:00.000Z' },
    { macro: '@annually', expression: '0 0 1 1 *', next: '2026-01-01T00:00:00.000Z' },
    { macro: '@monthly', expression: '0 0 1 * *', next: '2025-02-01T00:00:00.000Z' },
    { macro: '@weekly', expression: '0 0 * * 0', next: '2025-01-05T00:00:00.000Z' },
    { macro: '@daily', expression: '0 0 * * *', next: '2025-01-02T00:00:00.000Z' },
    { macro: '@midnight', expression: '0 0 * * *', next: '2025-01-02T00:00:00.000Z' },
    { macro: '@hourly', expression: '0 * * * *', next: '2025-01-01T11:00:00.000Z' },
  ];
  t.same(rows.map((row) => row.macro).sort(), Object.keys(SCHEDULE_MACROS).sort(), 'one row per macro');
  for (const row of rows) {
    const schedule = parsed(row.macro);
    t.equal(schedule.expression, row.expression, `${row.macro} expression`);
    t.equal(schedule.timeZone, 'UTC', `${row.macro} zone`);
    t.equal(nextSlot(schedule, FROM).toISOString(), row.next, `${row.macro} next slot`);
  }
  t.equal(parsed('@Daily').expression, '0 0 * * *', 'macros are case-insensitive, as robfig/cron reads them');
});

t.test('time zone prefixes', async (t) => {
  const rows: Array<{ text: string; zone: string; from: string; next: string[] }> = [
    { text: 'CRON_TZ=Europe/Berlin 0 2 * * *', zone: 'Europe/Berlin', from: '2025-01-01T00:00:00Z', next: ['2025-01-01T01:00:00.000Z'] },
    { text: 'TZ=Asia/Kolkata 0 2 * * *', zone: 'Asia/Kolkata', from: '2025-01-01T00:00:00Z', next: ['2025-01-01T20:30:00.000Z'] },
    { text: '  TZ=UTC   @hourly ', zone: 'UTC', from: '2025-01-01T00:10:00Z', next: ['2025-01-01T01:00:00.000Z'] },
    // Spring forward: 02:30 does not exist on 30 March in Berlin; the run happens at 03:30 CEST once.
    { text: 'CRON_TZ=Europe/Berlin 30 2 * * *', zone: 'Europe/Berlin', from: '2025-03-29T12:00:00Z', next: ['2025-03-30T01:30:00.000Z', '2025-03-31T00:30:00.000Z'] },
    // Fall back: 02:30 happens twice on 26 October; a daily run fires once, at the first.
    { text: 'CRON_TZ=Europe/Berlin 30 2 * * *', zone: 'Europe/Berlin', from: '2025-10-25T12:00:00Z', next: ['2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z'] },
    // An hourly schedule runs in both 02:30s of the repeated hour: real time keeps going.
    { text: 'CRON_TZ=Europe/Berlin 30 * * * *', zone: 'Europe/Berlin', from: '2025-10-25T23:00:00Z', next: ['2025-10-25T23:30:00.000Z', '2025-10-26T00:30:00.000Z', '2025-10-26T01:30:00.000Z', '2025-10-26T02:30:00.000Z'] },
    { text: 'TZ=America/New_York 0 2 * * *', zone: 'America/New_York', from: '2025-03-08T12:00:00Z', next: ['2025-03-09T07:00:00.000Z', '2025-03-10T06:00:00.000Z'] },
    { text: 'TZ=America/New_York 30 1 * * *', zone: 'America/New_York', from: '2025-11-01T12:00:00Z', next: ['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z'] },
  ];
  for (const row of rows) {
    const schedule = parsed(row.text);
    t.equal(schedule.timeZone, row.zone, `${row.text}: zone`);
    t.equal(schedule.text, row.text, 'the text is kept as written');
    const runs: string[] = [];
    let at = new Date(row.from);
    for (let i = 0; i < row.next.length; i++) {
      at = nextSlot(schedule, at);
      runs.push(at.toISOString());
    }
    t.same(runs, row.next, `${row.text} from ${row.from}`);
  }
});

t.test('refused schedules are field errors that say why', async (t) => {
  const rows: Array<{ text: string; message: RegExp }> = [
    { text: '', message: /empty/ },
    { text: '   ', message: /empty/ },
    { text: 'CRON_TZ=Mars/Olympus 0 2 * * *', message: /unknown time zone "Mars\/Olympus" in CRON_TZ=/ },
    { text: 'TZ=Nowhere 0 2 * * *', message: /unknown time zone "Nowhere" in TZ=/ },
    { text: 'CRON_TZ= 0 2 * * *', message: /CRON_TZ= names no time zone/ },
    { text: 'TZ=Europe/Berlin', message: /followed by no cron expression/ },
    { text: '*/5 * * * * *', message: /has 6 fields; a schedule has five/ },
    { text: '0 2 * *', message: /has 4 fields/ },
    { text: 'daily', message: /has 1 field;/ },
    { text: '@every 5m', message: /unsupported macro "@every"/ },
    { text: '@reboot', message: /unsupported macro "@reboot"/ },
    { text: '61 * * * *', message: /not a valid cron expression/ },
    { text: '0 0 30 2 *', message: /not a valid cron expression/ },
  ];
  for (const row of rows) {
    const result = parseSchedule(row.text, 'spec.sessions[2].scheduler.schedule');
    t.equal(result.ok, false, `${JSON.stringify(row.text)} is refused`);
    if (result.ok) continue;
    t.equal(result.error.code, 'FieldValueInvalid');
    t.equal(result.error.path, 'spec.sessions[2].scheduler.schedule', 'the error names the field');
    t.match(result.error.message, row.message, JSON.stringify(row.text));
  }
  const defaultPath = parseSchedule('nope');
  t.equal(defaultPath.ok ? '' : defaultPath.error.path, 'scheduler.schedule', 'default path');
});

t.test('previousSlot is the last run at or before the instant', async (t) => {
  const hourly = parsed('@hourly');
  t.equal(previousSlot(hourly, new Date('2025-01-01T10:00:00.000Z')).toISOString(), '2025-01-01T10:00:00.000Z', 'a run at the instant counts');
  t.equal(previousSlot(hourly, new Date('2025-01-01T10:59:59.999Z')).toISOString(), '2025-01-01T10:00:00.000Z');
  t.equal(nextSlot(hourly, new Date('2025-01-01T10:00:00.000Z')).toISOString(), '2025-01-01T11:00:00.000Z', 'nextSlot is strictly after');
  t.equal(nextSlot(hourly, new Date('2025-01-01T09:59:59.999Z')).toISOString(), '2025-01-01T10:00:00.000Z');
});

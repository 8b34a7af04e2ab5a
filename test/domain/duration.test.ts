import t from 'tap';
import { parseGoDuration, parseLeaseTiming, parseRetentionPeriod, retentionPeriodToMinutes } from '../../src/domain/duration.js';

const DAY = 24 * 60;

t.test('retention period: every unit and documented example', async (t) => {
  const rows: Array<[string, number]> = [
    ['30m', 30],
    ['12h', 12 * 60],
    ['30d', 30 * DAY],
    ['2w', 14 * DAY],
    ['6mo', 6 * 30 * DAY],
    ['2y', 2 * 365 * DAY],
    ['30d12h30m', 30 * DAY + 12 * 60 + 30],
    ['1y1mo1w1d1h1m', 365 * DAY + 30 * DAY + 7 * DAY + DAY + 60 + 1],
    ['  7d  ', 7 * DAY],
    ['-1d', -DAY],
    ['1d-2h', DAY - 120],
    ['1d2d', 2 * DAY],
    ['', 0],
  ];
  for (const [input, minutes] of rows) {
    const result = retentionPeriodToMinutes(input);
    t.same(result, { ok: true, value: minutes }, `"${input}" → ${minutes} minutes`);
  }
  t.same(parseRetentionPeriod('1y2mo3w4d5h6m'), { ok: true, value: { years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6 } });
});

t.test('retention period: bad inputs', async (t) => {
  const rows: Array<[string, RegExp]> = [
    ['30', /has no unit/],
    ['1d30', /has no unit/],
    ['5s', /unknown unit "s"/],
    ['1M', /unknown unit "M"/],
    ['d', /expected a number/],
    ['-', /expected a number/],
    ['+1d', /expected a number/],
    ['1d 2h', /expected a number/],
    ['1.5d', /unknown unit "\."/],
    ['99999999999999999999d', /out of range/],
  ];
  for (const [input, reason] of rows) {
    const result = parseRetentionPeriod(input);
    t.equal(result.ok, false, `"${input}" is rejected`);
    if (!result.ok) {
      t.match(result.reason, /^invalid duration provided/, 'keeps KubeStash wording');
      t.match(result.reason, reason);
    }
  }
  t.equal(retentionPeriodToMinutes('x').ok, false);
});

t.test('Go durations: valid', async (t) => {
  const rows: Array<[string, bigint]> = [
    ['0', 0n],
    ['30s', 30_000_000_000n],
    ['2m', 120_000_000_000n],
    ['1h', 3_600_000_000_000n],
    ['1h30m', 5_400_000_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['.5s', 500_000_000n],
    ['5.s', 5_000_000_000n],
    ['100ms', 100_000_000n],
    ['10us', 10_000n],
    ['10µs', 10_000n],
    ['10μs', 10_000n],
    ['7ns', 7n],
    ['-1m', -60_000_000_000n],
    ['+1m', 60_000_000_000n],
    ['-0', 0n],
    ['2562047h', 2562047n * 3_600_000_000_000n],
  ];
  for (const [input, ns] of rows) t.same(parseGoDuration(input), { ok: true, value: ns }, `"${input}"`);
});

t.test('Go durations: invalid', async (t) => {
  const rows: Array<[string, RegExp]> = [
    ['', /invalid syntax/],
    ['-', /invalid syntax/],
    ['1', /missing unit/],
    ['1d', /unknown unit "d"/],
    ['1h30', /missing unit/],
    ['.s', /invalid syntax/],
    ['h', /invalid syntax/],
    ['1 h', /unknown unit " h"/],
    ['3000000h', /invalid duration/],
    ['9223372036854775808ns', /invalid duration/],
    ['${timeout}', /invalid syntax/],
  ];
  for (const [input, reason] of rows) {
    const result = parseGoDuration(input);
    t.equal(result.ok, false, `"${input}" is rejected`);
    if (!result.ok) t.match(result.reason, reason);
  }
});

t.test('lease timings: one row per rule', async (t) => {
  const rows: Array<[input: string, expected: number | RegExp]> = [
    ['15s', 15],
    ['500ms', 0.5],
    ['24h', 86_400],
    ['0s', /^must be longer than 0$/],
    ['-5s', /^must be longer than 0$/],
    ['24h0m1s', /^is longer than 24h$/],
    ['15', /^is not a duration such as 15s or 1m30s \(time: missing unit in duration "15"\)$/],
  ];
  for (const [input, expected] of rows) {
    const parsed = parseLeaseTiming(input);
    if (typeof expected === 'number') t.same(parsed, { ok: true, value: expected }, input);
    else t.match(parsed.ok ? '' : parsed.reason, expected, input);
  }
});

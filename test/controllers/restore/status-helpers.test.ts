import t from 'tap';
import { formatGoDuration, rfc3339 } from '../../../src/controllers/restore/status-helpers.js';

t.test('durations as Go prints them, one row per form', async (t) => {
  const rows: Array<[number, string]> = [
    [0, '0s'],
    [-5, '0s'],
    [450, '450ms'],
    [1000, '1s'],
    [12_300, '12.3s'],
    [62_000, '1m2s'],
    [3_605_000, '1h0m5s'],
    [3_600_000, '1h0m0s'],
  ];
  for (const [ms, text] of rows) t.equal(formatGoDuration(ms), text, `${ms} ms`);
});

t.test('RFC 3339 without fractions', async (t) => {
  t.equal(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05Z');
});

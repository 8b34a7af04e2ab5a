import t from 'tap';
import type { SnapshotComponent } from '../../../src/api/storage.js';
import { formatByteSize, isTerminalWorkPhase, parseByteSize, snapshotPhase, summarizeSnapshot } from '../../../src/domain/status/snapshot-phase.js';

type Phase = SnapshotComponent['phase'];
const components = (...phases: Phase[]): Record<string, SnapshotComponent> =>
  Object.fromEntries(phases.map((phase, i) => [`dump-pod-${i}`, phase ? { phase } : {}]));

const phaseRows: Array<{ rule: string; total: number; components: Record<string, SnapshotComponent> | undefined; phase: string }> = [
  { rule: 'no components written: Pending', total: 2, components: undefined, phase: 'Pending' },
  { rule: 'components written, none started: Pending', total: 2, components: components('Pending', undefined), phase: 'Pending' },
  { rule: 'one running: Running', total: 2, components: components('Running'), phase: 'Running' },
  { rule: 'one succeeded of two expected: Running', total: 2, components: components('Succeeded'), phase: 'Running' },
  { rule: 'one failed of two expected, the other not written: Running', total: 2, components: components('Failed'), phase: 'Running' },
  { rule: 'all expected succeeded: Succeeded', total: 2, components: components('Succeeded', 'Succeeded'), phase: 'Succeeded' },
  { rule: 'all expected terminal, one failed: Failed', total: 2, components: components('Succeeded', 'Failed'), phase: 'Failed' },
  { rule: 'a failed extra component fails it', total: 1, components: components('Succeeded', 'Failed'), phase: 'Failed' },
  { rule: 'a running extra component keeps it Running', total: 1, components: components('Succeeded', 'Running'), phase: 'Running' },
];
for (const row of phaseRows) t.equal(snapshotPhase(row.total, row.components), row.phase, row.rule);

t.test('terminal work phases', async (t) => {
  for (const [phase, terminal] of [['Succeeded', true], ['Failed', true], ['Running', false], ['Pending', false], [undefined, false]] as const) {
    t.equal(isTerminalWorkPhase(phase), terminal, String(phase));
  }
});

t.test('byte sizes', async (t) => {
  const rows: Array<[string | number | undefined, number | undefined]> = [
    ['0 B', 0],
    ['512 B', 512],
    ['1.5 KiB', 1536],
    ['2 MiB', 2 * 2 ** 20],
    ['1.25GiB', Math.round(1.25 * 2 ** 30)],
    ['1 TiB', 2 ** 40],
    ['1 PiB', 2 ** 50],
    ['3 GB', 3e9],
    ['7 kb', 7000],
    ['42', 42],
    [42, 42],
    [-1, undefined],
    [Number.NaN, undefined],
    ['lots', undefined],
    ['3 parsecs', undefined],
    [undefined, undefined],
  ];
  for (const [input, bytes] of rows) t.equal(parseByteSize(input), bytes, `parse ${String(input)}`);
  const formats: Array<[number, string]> = [
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [2 ** 20, '1 MiB'],
    [1.234 * 2 ** 30, '1.23 GiB'],
    [2 ** 60, '1024 PiB'],
  ];
  for (const [bytes, text] of formats) t.equal(formatByteSize(bytes), text, `format ${bytes}`);
});

t.test('summary of a finished snapshot', async (t) => {
  const now = new Date('2026-02-02T10:00:00.123Z');
  t.same(
    summarizeSnapshot(
      {
        components: {
          'dump-pod-0': { phase: 'Succeeded', size: '1 KiB', integrity: true, resticStats: [{ summary: { startTime: '2026-02-02T09:00:05Z' } }, { summary: { startTime: '2026-02-02T09:00:01Z' } }] },
          'dump-pod-1': { phase: 'Succeeded', size: '1 KiB', integrity: true, resticStats: [{ summary: { startTime: 'not a time' } }, {}] },
        },
      },
      now,
    ),
    { snapshotTime: '2026-02-02T09:00:01Z', size: '2 KiB', integrity: true },
    'earliest start, summed size, integrity of all',
  );
  t.same(
    summarizeSnapshot({ components: { dump: { phase: 'Failed', error: 'boom' }, other: { phase: 'Succeeded', integrity: true } } }, now),
    { snapshotTime: '2026-02-02T10:00:00Z', integrity: false },
    'no start time: now; no size: none; a component without integrity: false',
  );
  t.same(summarizeSnapshot(undefined, now), { snapshotTime: '2026-02-02T10:00:00Z', integrity: false }, 'no components');
});

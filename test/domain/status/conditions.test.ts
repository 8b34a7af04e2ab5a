import t from 'tap';
import type { Condition } from '../../../src/api/common.js';
import { conditionTime, findCondition, isConditionTrue, removeCondition, setCondition } from '../../../src/domain/status/conditions.js';

const earlier = '2024-01-01T00:00:00Z';
const now = new Date('2024-02-02T10:20:30.456Z');
const ready = (status: string, reason = 'R', message?: string): Condition => ({
  type: 'Ready', status, reason, lastTransitionTime: earlier, ...(message === undefined ? {} : { message }),
});

t.test('setCondition: one row per rule', async (t) => {
  const rows: Array<{ rule: string; before: Condition[] | undefined; input: Parameters<typeof setCondition>[1]; expect: Condition[]; same?: boolean }> = [
    {
      rule: 'absent list: the condition is appended with now as transition time',
      before: undefined,
      input: { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine' },
      expect: [{ type: 'Ready', status: 'True', reason: 'Ok', message: 'fine', lastTransitionTime: '2024-02-02T10:20:30Z' }],
    },
    {
      rule: 'identical condition: the same array comes back',
      before: [ready('True', 'R', 'm')],
      input: { type: 'Ready', status: 'True', reason: 'R', message: 'm' },
      expect: [ready('True', 'R', 'm')],
      same: true,
    },
    {
      rule: 'same status, new reason/message: replaced, transition time kept',
      before: [ready('True', 'R', 'm')],
      input: { type: 'Ready', status: 'True', reason: 'Other', message: 'n' },
      expect: [{ type: 'Ready', status: 'True', reason: 'Other', message: 'n', lastTransitionTime: earlier }],
    },
    {
      rule: 'status changed: transition time is now',
      before: [ready('True')],
      input: { type: 'Ready', status: 'False', reason: 'R' },
      expect: [{ type: 'Ready', status: 'False', reason: 'R', lastTransitionTime: '2024-02-02T10:20:30Z' }],
    },
    {
      rule: 'other types are kept and order is preserved',
      before: [{ type: 'A', status: 'True', lastTransitionTime: earlier }, ready('False')],
      input: { type: 'B', status: 'Unknown', reason: 'Wait', observedGeneration: 3 },
      expect: [
        { type: 'A', status: 'True', lastTransitionTime: earlier },
        ready('False'),
        { type: 'B', status: 'Unknown', reason: 'Wait', observedGeneration: 3, lastTransitionTime: '2024-02-02T10:20:30Z' },
      ],
    },
    {
      rule: 'a new observedGeneration alone is a change',
      before: [{ ...ready('True'), observedGeneration: 1 }],
      input: { type: 'Ready', status: 'True', reason: 'R', observedGeneration: 2 },
      expect: [{ ...ready('True'), observedGeneration: 2 }],
    },
  ];
  for (const row of rows) {
    const frozen = row.before === undefined ? undefined : structuredClone(row.before);
    const result = setCondition(row.before, row.input, now);
    t.same(result, row.expect, row.rule);
    t.same(row.before, frozen, `${row.rule}: input not modified`);
    if (row.same) t.equal(result, row.before, `${row.rule}: identity`);
    else t.not(result, row.before, `${row.rule}: new array`);
  }
});

t.test('find, isTrue, remove, time', async (t) => {
  const list = [ready('True'), { type: 'X', status: 'False', lastTransitionTime: earlier }];
  t.equal(findCondition(list, 'X')?.status, 'False');
  t.equal(findCondition(undefined, 'X'), undefined);
  t.equal(isConditionTrue(list, 'Ready'), true);
  t.equal(isConditionTrue(list, 'X'), false);
  t.equal(isConditionTrue(list, 'Missing'), false);
  t.same(removeCondition(list, 'Ready'), [list[1]]);
  t.equal(removeCondition(list, 'Missing'), list);
  t.same(removeCondition(undefined, 'Missing'), []);
  t.equal(conditionTime(now), '2024-02-02T10:20:30Z');
});

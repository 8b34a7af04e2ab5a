import t from 'tap';
import { SlotHeap } from '../../../src/controllers/scheduler/slot-heap.js';

t.test('keys come out due-first; moved and removed keys follow their latest state', async (t) => {
  const heap = new SlotHeap();
  t.equal(heap.peek(), undefined, 'empty');
  t.same(heap.popDue(Infinity), []);
  heap.set('c', 30);
  heap.set('a', 10);
  heap.set('b', 20);
  heap.set('b', 20); // unchanged: no new item
  heap.set('d', 5);
  heap.set('d', 40); // moved later
  heap.set('e', 50);
  heap.remove('e');
  t.equal(heap.size, 4);
  t.equal(heap.peek(), 10, 'the stale 5 of d is skipped');
  t.same(heap.popDue(25), ['a', 'b']);
  t.equal(heap.size, 2);
  t.same(heap.popDue(100), ['c', 'd'], 'e was removed');
  t.equal(heap.size, 0);
});

t.test('many keys moved many times: still exact order, and stale items are compacted', async (t) => {
  const heap = new SlotHeap();
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const expected = new Map<string, number>();
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 500; i++) {
      const due = Math.floor(random() * 1_000_000);
      heap.set(`k${i}`, due);
      expected.set(`k${i}`, due);
    }
  }
  for (let i = 0; i < 500; i += 7) {
    heap.remove(`k${i}`);
    expected.delete(`k${i}`);
  }
  t.equal(heap.size, expected.size);
  const order = heap.popDue(Infinity);
  const want = [...expected.entries()].sort((a, b) => a[1] - b[1]).map(([key]) => key);
  t.same(order.map((key) => expected.get(key)), want.map((key) => expected.get(key)), 'due times ascending');
  t.same(new Set(order), new Set(want), 'every live key once');
});

t.test('keys due at one instant: counted and one of them named, moved and removed keys excluded', async (t) => {
  const heap = new SlotHeap();
  t.equal(heap.countDueAt(10), 0);
  t.equal(heap.firstDueAt(10), undefined);
  heap.set('a', 10);
  heap.set('b', 10);
  heap.set('c', 10);
  heap.set('d', 20);
  heap.set('c', 30); // moved away
  heap.remove('a');
  t.equal(heap.countDueAt(10), 1);
  t.equal(heap.firstDueAt(10), 'b');
  t.equal(heap.countDueAt(20), 1);
  t.equal(heap.countDueAt(15), 0);
});

/**
 * The due times of every scheduled session, ordered: a binary min-heap with lazy removal, so that
 * setting, moving and removing a key are O(log n) and the scheduler needs one timer, for the earliest
 * slot, however many configurations there are.
 */

interface HeapItem {
  due: number;
  key: string;
}

export class SlotHeap {
  private readonly items: HeapItem[] = [];
  /** The live due time of each key; heap items that disagree are stale and skipped. */
  private readonly current = new Map<string, number>();

  /** Keys with a due time. */
  get size(): number {
    return this.current.size;
  }

  /** Sets (or moves) the due time of `key`, in epoch milliseconds. */
  set(key: string, due: number): void {
    if (this.current.get(key) === due) return;
    this.current.set(key, due);
    this.push({ due, key });
    // Stale items pile up when keys move often; rebuild once they outnumber the live ones.
    if (this.items.length > 2 * this.current.size + 64) this.rebuild();
  }

  remove(key: string): void {
    this.current.delete(key);
  }

  /** How many keys are due exactly at `due`. O(n): for a once-per-slot question. */
  countDueAt(due: number): number {
    let count = 0;
    for (const value of this.current.values()) if (value === due) count += 1;
    return count;
  }

  /** A key due exactly at `due`, if any. */
  firstDueAt(due: number): string | undefined {
    for (const [key, value] of this.current) if (value === due) return key;
    return undefined;
  }

  /** The earliest due time, if any. */
  peek(): number | undefined {
    this.dropStale();
    return this.items[0]?.due;
  }

  /** Removes and returns the keys due at or before `now`, earliest first. */
  popDue(now: number): string[] {
    const due: string[] = [];
    for (;;) {
      this.dropStale();
      const top = this.items[0];
      if (top === undefined || top.due > now) return due;
      this.pop();
      this.current.delete(top.key);
      due.push(top.key);
    }
  }

  private dropStale(): void {
    for (let top = this.items[0]; top !== undefined && this.current.get(top.key) !== top.due; top = this.items[0]) this.pop();
  }

  private rebuild(): void {
    this.items.length = 0;
    for (const [key, due] of this.current) this.push({ due, key });
  }

  private push(item: HeapItem): void {
    const items = this.items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((items[parent] as HeapItem).due <= item.due) break;
      items[index] = items[parent] as HeapItem;
      index = parent;
    }
    items[index] = item;
  }

  private pop(): void {
    const items = this.items;
    const last = items.pop() as HeapItem;
    if (items.length === 0) return;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as HeapItem).due < (items[left] as HeapItem).due ? right : left;
      if ((items[child] as HeapItem).due >= last.due) break;
      items[index] = items[child] as HeapItem;
      index = child;
    }
    items[index] = last;
  }
}

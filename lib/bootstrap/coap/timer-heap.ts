/**
 * One timer for many: the messages of an endpoint that wait on a retransmission time or a deadline sit in a
 * binary min-heap by due time, and one Timeout is set for the earliest. A Timeout of its own for every message
 * in flight is ~0.15 KiB of heap (the Timeout, its argument array, its place in Node's timer lists), held by
 * every request a device has not answered yet; the heap keeps one array slot and two numbers per message.
 */

/** What the heap needs of an entry: its place in the heap (-1 when not in it) and its due time. */
export interface HeapTimed {
  heapIndex: number;
  /** Due time, ms since the heap's base (a small integer: an epoch-sized number field is a heap object of its own). */
  heapDue: number;
}

export class TimerHeap<T extends HeapTimed> {
  private readonly items: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Due time (relative) the timer is set for, Infinity when none. */
  private timerAt = Infinity;
  private readonly base = Date.now();
  /** Inside fire(): schedule() leaves the timer to fire(), which sets it once at the end. */
  private firing = false;

  /** `onDue(t, now)`: `t` is due (it has left the heap; it may schedule itself again). */
  constructor(private readonly onDue: (t: T, now: number) => void) {}

  get size(): number {
    return this.items.length;
  }

  /** Sets (or moves) `t`'s due time to `at` (ms since the epoch). */
  schedule(t: T, at: number): void {
    if (t.heapIndex >= 0) this.remove(t);
    t.heapDue = Math.max(0, Math.ceil(at - this.base));
    t.heapIndex = this.items.length;
    this.items.push(t);
    this.up(t.heapIndex);
    if (t.heapDue < this.timerAt && !this.firing) this.arm();
  }

  /** Takes `t` out of the heap, if it is in it (the timer stays; it finds nothing due and is set again). */
  unschedule(t: T): void {
    if (t.heapIndex >= 0) this.remove(t);
  }

  clear(): void {
    for (const t of this.items) t.heapIndex = -1;
    this.items.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.items.length === 0) return;
    const at = this.items[0].heapDue;
    this.timerAt = at;
    this.timer = setTimeout(TimerHeap.fire, Math.max(0, at - (Date.now() - this.base)), this as unknown as TimerHeap<HeapTimed>);
    this.timer.unref?.();
  }

  private static fire(h: TimerHeap<HeapTimed>): void {
    h.timer = undefined;
    h.timerAt = Infinity;
    const now = Date.now();
    const rel = now - h.base;
    h.firing = true;
    try {
      while (h.items.length > 0 && h.items[0].heapDue <= rel) {
        const t = h.items[0];
        h.remove(t);
        h.onDue(t, now);
      }
    } finally {
      h.firing = false;
      h.arm();
    }
  }

  private remove(t: T): void {
    const i = t.heapIndex;
    const last = this.items.pop() as T;
    t.heapIndex = -1;
    if (last === t) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }

  private up(i: number): void {
    const items = this.items;
    const t = items[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (items[p].heapDue <= t.heapDue) break;
      items[i] = items[p];
      items[i].heapIndex = i;
      i = p;
    }
    items[i] = t;
    t.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const t = items[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && items[c + 1].heapDue < items[c].heapDue) c++;
      if (items[c].heapDue >= t.heapDue) break;
      items[i] = items[c];
      items[i].heapIndex = i;
      i = c;
    }
    items[i] = t;
    t.heapIndex = i;
  }
}

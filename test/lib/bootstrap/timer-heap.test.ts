/** The endpoint's one timer for its messages' retransmission times and deadlines (coap/timer-heap.ts). */
import { strict as assert } from 'node:assert';
import { TimerHeap, type HeapTimed } from '../../../lib/bootstrap/coap/timer-heap';

interface Item extends HeapTimed {
  name: string;
}

function item(name: string): Item {
  return { name, heapIndex: -1, heapDue: 0 };
}

describe('TimerHeap', () => {
  it('calls each entry once, earliest due first, however they were scheduled, moved and taken out', async () => {
    const fired: string[] = [];
    let done: () => void = () => undefined;
    const all = new Promise<void>((r) => (done = r));
    const heap = new TimerHeap<Item>((t) => {
      fired.push(t.name);
      if (t.name === 'last') done();
    });
    const now = Date.now();
    const items = Array.from({ length: 40 }, (_, i) => item(`i${i}`));
    // Due times in a shuffled order (i * 7 mod 40 visits every index once).
    for (let k = 0; k < items.length; k++) {
      const i = (k * 7) % items.length;
      heap.schedule(items[i], now + 5 + i * 2);
    }
    heap.schedule(items[3], now + 5 + 39 * 2 + 1); // moved: now after i39
    heap.unschedule(items[10]);
    heap.unschedule(items[10]); // twice is harmless
    const last = item('last');
    heap.schedule(last, now + 200);
    assert.equal(heap.size, 40);
    await all;
    const expected = items.map((t) => t.name).filter((n) => n !== 'i3' && n !== 'i10');
    expected.push('i3', 'last');
    assert.deepEqual(fired, expected);
    assert.equal(heap.size, 0);
    assert.ok(items.every((t) => t.heapIndex === -1));
  });

  it('an entry may schedule itself again from its callback; clear() drops everything', async () => {
    const fired: number[] = [];
    let done: () => void = () => undefined;
    const twice = new Promise<void>((r) => (done = r));
    const a = item('a');
    const b = item('b');
    const heap = new TimerHeap<Item>((t, now) => {
      fired.push(fired.length);
      if (fired.length === 1) heap.schedule(t, now + 3);
      else done();
    });
    heap.schedule(a, Date.now() + 2);
    await twice;
    assert.deepEqual(fired, [0, 1]);
    heap.schedule(b, Date.now() + 60_000);
    assert.equal(heap.size, 1);
    heap.clear();
    assert.equal(heap.size, 0);
    assert.equal(b.heapIndex, -1);
  });
});

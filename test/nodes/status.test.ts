/**
 * The status throttle of the bootstrap nodes (nodes/shared/status.ts): a burst goes out at once, then one
 * update per interval with the latest text, and closing drops an update still waiting. Fake timers (sinon)
 * stand in for the clock; a stand-in node records what reaches node.status().
 */
import assert from 'node:assert/strict';
import { BURST, clearStatus, INTERVAL_MS, showStatus, showStatusLazy } from '../../nodes/shared/status';

interface FakeClock {
  tick(ms: number): void;
  restore(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sinon = require('sinon') as { useFakeTimers(o: { now: number }): FakeClock };

type StatusNode = Parameters<typeof showStatus>[0];

interface Shown {
  fill?: string;
  shape?: string;
  text?: string;
}

function fakeNode(type: string): StatusNode & { shown: Shown[] } {
  const shown: Shown[] = [];
  return { type, shown, status: (s: Shown) => void shown.push(s) } as unknown as StatusNode & { shown: Shown[] };
}

describe('status throttle (nodes/shared/status.ts)', () => {
  let clock: FakeClock;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => clock.restore());

  it('shows a burst at once, then the latest update once per interval', () => {
    const node = fakeNode('lwm2m-object-write');
    for (let i = 0; i < BURST + 5; i++) showStatus(node, i % 2 ? 'working' : 'done', `update ${i}`);
    assert.equal(node.shown.length, BURST);
    assert.equal(node.shown[BURST - 1].text, `update ${BURST - 1}`);
    clock.tick(INTERVAL_MS);
    assert.equal(node.shown.length, BURST + 1);
    // The last of the waiting ones, with its own colour.
    assert.deepEqual(node.shown[BURST], { fill: 'green', shape: 'dot', text: `update ${BURST + 4}` });
    clock.tick(10 * INTERVAL_MS);
    assert.equal(node.shown.length, BURST + 1, 'nothing more to show');
  });

  it('makes a lazy text only for the update that goes out', () => {
    const node = fakeNode('lwm2m-profile-lookup');
    let made = 0;
    for (let i = 0; i < BURST + 20; i++) showStatusLazy(node, 'working', () => `working ${++made}`);
    clock.tick(INTERVAL_MS);
    assert.equal(node.shown.length, BURST + 1);
    assert.equal(made, BURST + 1);
  });

  it('clearing drops an update still waiting, and another node type is never held back', () => {
    const node = fakeNode('lwm2m-bootstrap-finish');
    for (let i = 0; i < BURST + 1; i++) showStatus(node, 'failed', `f ${i}`);
    clearStatus(node);
    clock.tick(10 * INTERVAL_MS);
    assert.deepEqual(node.shown.at(-1), {});
    assert.equal(node.shown.length, BURST + 1);
    const other = fakeNode('lwm2m-client-sim');
    for (let i = 0; i < BURST + 3; i++) showStatus(other, 'done', `c ${i}`);
    assert.equal(other.shown.length, BURST + 3);
  });
});

/**
 * quietMetrics (nodes/shared/hops.ts): Node-RED's per-message metric events cost nothing when the runtime
 * has metrics off, and stay exactly as they are when it has them on. A stand-in for Node-RED's Node with
 * its metric() contract (no arguments: whether metrics are on; otherwise: log one event).
 */
import assert from 'node:assert/strict';
import type { Node } from 'node-red';
import { quietMetrics } from '../../nodes/shared/hops';

class FakeNode {
  logged: string[] = [];
  constructor(private readonly on: boolean | (() => never)) {}
  metric(eventname?: string): boolean | void {
    if (eventname === undefined) return typeof this.on === 'function' ? this.on() : this.on;
    this.logged.push(eventname);
  }
}

describe('quietMetrics (nodes/shared/hops.ts)', () => {
  it('with metrics off, a sent, received or completed message logs no metric event, and metric() still says off', () => {
    const n = new FakeNode(false);
    quietMetrics(n as unknown as Node);
    n.metric('send');
    n.metric('receive');
    n.metric('done');
    assert.deepEqual(n.logged, []);
    assert.equal(n.metric(), false);
  });

  it('with metrics on, every metric event is logged as before', () => {
    const n = new FakeNode(true);
    quietMetrics(n as unknown as Node);
    n.metric('send');
    n.metric('done');
    assert.deepEqual(n.logged, ['send', 'done']);
    assert.equal(n.metric(), true);
  });

  it('leaves metric() alone when the runtime cannot say whether metrics are on', () => {
    const n = new FakeNode(() => {
      throw new Error('no log');
    });
    quietMetrics(n as unknown as Node);
    n.metric('send');
    assert.deepEqual(n.logged, ['send']);
  });
});

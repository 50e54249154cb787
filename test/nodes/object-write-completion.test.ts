/**
 * object-write holds neither Node-RED's per-message send() nor done() while the device answers (heap per
 * pending session, issue 17): a Complete node scoped to it still fires once per message, after the writes,
 * and a Catch node still gets its errors. msg.lwm2m.peer and .query are the session's own objects, frozen.
 */
import assert from 'node:assert/strict';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, patch } from './support/flows';
import { ALL_NODES, callsOf, helper, nextMessage, until, type RuntimeNode } from './support/runtime';

type Msg = Record<string, any>;

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  (helper.getNode(id) as RuntimeNode).on('input', (m: Msg) => got.push(m));
  return got;
}

describe('object-write: completion and errors without the per-message closures', function () {
  this.timeout(20000);
  let dev: ScriptedDevice | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    await helper.unload();
  });

  for (const extra of [false, true]) {
    it(`a Complete node scoped to object-write fires once per message, after the writes${extra ? ' (a second input handler on the node: done() kept)' : ''}`, async () => {
      const port = await nextPort();
      const flow = bootstrapFlow({ port });
      flow.push(
        { id: 'n-complete', z: 'tab', type: 'complete', scope: ['n-write'], uncaught: false, wires: [['h-complete']] },
        { id: 'h-complete', z: 'tab', type: 'helper' },
      );
      await helper.load(ALL_NODES, flow);
      // With two input handlers Node-RED completes the message when both called done: object-write keeps its done().
      if (extra) helper.getNode('n-write').on('input', (_m: Msg, _s: unknown, done: () => void) => done());
      const completed = collect('h-complete');
      const success = nextMessage(helper.getNode('h-success'));
      dev = await ScriptedDevice.create();
      assert.equal((await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'complete-1' })).code, '2.04');
      await success;
      await until(() => completed.length >= 1, 5000, 'the Complete message');
      const m = completed[0];
      assert.equal(m.lwm2m.endpoint, 'complete-1');
      // Complete fired after object-write's run: the message carries the steps it recorded.
      assert.ok(m.lwm2m.steps.some((s: { op: string }) => s.op === 'write'), JSON.stringify(m.lwm2m.steps));
      await new Promise((r) => setTimeout(r, 200)); // a second Complete would arrive meanwhile
      assert.equal(completed.length, 1);
    });
  }

  it('a Catch node gets the error of a message without msg.profile, and the session ends with 5.00', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port });
    // The listener's message straight to object-write: no profile-lookup, no msg.profile.
    patch(flow, 'n-listener', { wires: [['n-write', 'h-requests'], ['h-audit']] });
    await helper.load(ALL_NODES, flow);
    const caught = nextMessage(helper.getNode('h-caught'));
    const audit = nextMessage(helper.getNode('h-audit'));
    dev = await ScriptedDevice.create();
    const res = await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'no-profile-1' });
    assert.equal(res.code, '5.00');
    const c = await caught;
    assert.match(String(c.error.message), /msg\.profile is missing/);
    assert.equal(c.error.source.id, 'n-write');
    assert.equal((await audit).lwm2m.outcome, 'INTERNAL_ERROR');
  });

  it('msg.lwm2m.peer and .query are frozen: an edit in place throws and the audit record keeps what the device sent', async () => {
    const port = await nextPort();
    // One wire per output: the message at h-success is the listener's own (a second wire gets a clone).
    const flow = patch(bootstrapFlow({ port }), 'n-listener', { wires: [['n-lookup'], ['h-audit']] });
    patch(flow, 'n-lookup', { wires: [['n-write'], ['h-notFound']] });
    patch(flow, 'n-write', { wires: [['n-finish'], ['h-err']] });
    await helper.load(ALL_NODES, flow);
    const success = nextMessage(helper.getNode('h-success'));
    const audit = nextMessage(helper.getNode('h-audit'));
    dev = await ScriptedDevice.create();
    assert.equal((await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'frozen-1' })).code, '2.04');
    const msg = await success;
    assert.equal(msg.lwm2m.query.ep, 'frozen-1');
    assert.ok(Object.isFrozen(msg.lwm2m.peer) && Object.isFrozen(msg.lwm2m.query));
    assert.throws(() => {
      msg.lwm2m.query.ep = 'someone-else';
    }, TypeError);
    assert.throws(() => {
      msg.lwm2m.peer.port = 1;
    }, TypeError);
    const a = await audit;
    assert.equal(a.lwm2m.audit.query.ep, 'frozen-1');
    assert.equal(a.lwm2m.audit.peer.port, msg.lwm2m.peer.port);
  });

  it('the listener sends no audit message when its second output is wired to nothing (or not listed), and one when it is', async () => {
    // Wires for output 2: none, none listed at all (a flow written by hand, the bench's), one.
    for (const second of [[], undefined, ['h-audit']]) {
      const wired = second !== undefined && second.length > 0;
      const port = await nextPort();
      const flow = patch(bootstrapFlow({ port }), 'n-listener', { wires: second ? [['n-lookup'], second] : [['n-lookup']] });
      await helper.load(ALL_NODES, flow);
      const success = nextMessage(helper.getNode('h-success'));
      const audits = collect('h-audit');
      dev = await ScriptedDevice.create();
      assert.equal((await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: `audit-wired-${second === undefined ? 'unlisted' : wired}` })).code, '2.04');
      await success;
      if (wired) await until(() => audits.length === 1, 5000, 'the audit message');
      else await new Promise((r) => setTimeout(r, 300)); // a record is sent as the session ends: it would be here
      const auditSends = callsOf(helper.getNode('n-listener'), 'send').filter((a) => Array.isArray(a[0]) && (a[0] as unknown[])[0] === null);
      assert.equal(auditSends.length, wired ? 1 : 0);
      await dev.close();
      dev = undefined;
      await helper.unload();
    }
  });
});

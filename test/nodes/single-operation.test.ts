/** object-write's single-operation mode: a trainer steps through a bootstrap by hand, one msg.operation at a time. */
import assert from 'node:assert/strict';
import { decode, encode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { defaultModel } from '../../lib/model/registry';
import { nodeFromJson, nodeToJson } from '../../lib/model/tree';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, patch } from './support/flows';
import { ALL_NODES, helper, nextMessage } from './support/runtime';

describe('server nodes: single operations from msg.operation', function () {
  this.timeout(20000);
  let dev: ScriptedDevice | undefined;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    await helper.unload();
  });

  it('accepts, then discovers, deletes, writes, reads and finishes step by step', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, listenerOnly: true, listener: { decisionTimeout: '30', sessionTimeout: '60' } });
    patch(flow, 'n-write', { mode: 'single', wires: [['h-ok'], ['h-err']] });
    await helper.load(ALL_NODES, flow);
    const write = helper.getNode('n-write');
    const ok = helper.getNode('h-ok');

    const requested = nextMessage(helper.getNode('h-requests'));
    dev = await ScriptedDevice.create();
    const serverObject = { '0': { '0': 1, '1': 86400, '6': true, '7': 'UQ' } };
    dev.reply('GET', '/1', { code: '2.05', contentFormat: 11542, payload: encode(11542, LwM2mPath.parse('/1'), nodeFromJson('/1', serverObject, defaultModel)) });
    const answered = dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'trainee', pct: 110 });
    const first = await requested;

    const step = async (operation: Record<string, unknown>) => {
      const out = nextMessage(ok);
      write.receive({ ...first, lwm2m: { ...first.lwm2m, steps: [] }, operation });
      return out;
    };

    let msg = await step({ op: 'discover' });
    assert.equal((await answered).code, '2.04', 'the first operation accepted the Bootstrap-Request');
    assert.equal(msg.lwm2m.steps[0].op, 'discover');
    assert.equal(msg.lwm2m.discovered.bootstrapAccountInstanceId, 0);
    assert.equal(msg.lwm2m.lwm2mVersion, '1.1');

    msg = await step({ op: 'delete', path: '/1' });
    assert.deepEqual([msg.lwm2m.steps[0].method, msg.lwm2m.steps[0].path, msg.lwm2m.steps[0].code], ['DELETE', '/1', '2.02']);

    msg = await step({ op: 'write', path: '/1/0', value: { '0': 1, '1': 300, '6': false, '7': 'U' } });
    const put = dev.received.find((r) => r.method === 'PUT')!;
    assert.equal(put.path, '/1/0');
    assert.equal(put.contentFormat, 110, "the client's pct");
    assert.deepEqual(nodeToJson(decode(110, LwM2mPath.parse('/1/0'), put.payload)), { '0': 1, '1': 300, '6': false, '7': 'U' });

    msg = await step({ op: 'write', path: '/1/0/1', value: 600, contentFormat: 11542 });
    const put2 = dev.received.filter((r) => r.method === 'PUT')[1];
    assert.equal(put2.contentFormat, 11542);
    assert.equal(put2.path, '/1/0/1');

    msg = await step({ op: 'read', path: '/1', contentFormat: 11542 });
    assert.deepEqual(msg.payload, serverObject);
    const get = dev.received.find((r) => r.method === 'GET' && r.path === '/1')!;
    assert.equal(get.accept, 11542);

    // A payload the device got wrong is a failed step (error output), not a crash.
    dev.reply('GET', '/2', { code: '2.05', contentFormat: 11542, payload: Buffer.from('080007c10001', 'hex') });
    const bad = nextMessage(helper.getNode('h-err'));
    write.receive({ ...first, lwm2m: { ...first.lwm2m, steps: [] }, operation: { op: 'read', path: '/2', contentFormat: 11542 } });
    const badStep = (await bad).lwm2m.steps[0];
    assert.equal(badStep.code, '2.05');
    assert.equal(badStep.success, false);
    assert.match(badStep.error, /TLV|byte|length/i);

    const success = nextMessage(helper.getNode('h-success'));
    helper.getNode('n-finish').receive({ ...first, lwm2m: { ...first.lwm2m, steps: [] } });
    const done = await success;
    assert.equal(done.lwm2m.outcome, 'SUCCESS');
    assert.equal(done.lwm2m.audit.steps.length, 7);
  });

  it('refuses a malformed operation with a clear error, and leaves the session usable', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, listenerOnly: true, listener: { decisionTimeout: '30' } });
    patch(flow, 'n-write', { mode: 'single', wires: [['h-ok'], ['h-err']] });
    await helper.load(ALL_NODES, flow);
    const requested = nextMessage(helper.getNode('h-requests'));
    dev = await ScriptedDevice.create();
    void dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'trainee-2' });
    const first = await requested;
    const caught = helper.getNode('h-caught');
    for (const [operation, pattern] of [
      [{ op: 'format' }, /must be write, delete, discover or read/],
      [{ op: 'read', path: '/3' }, /Bootstrap-Read targets \/1/],
      [{ op: 'write', path: '/1/0', value: { '1': 'not a number' } }, /\/1\/0\/1/],
      [{ op: 'delete', path: '/0/0/1' }, /Bootstrap-Delete targets/],
    ] as [Record<string, unknown>, RegExp][]) {
      const c = nextMessage(caught);
      helper.getNode('n-write').receive({ ...first, operation });
      assert.match((await c).error.message, pattern);
    }
    // Many operations on one session: one 'ended' listener, no MaxListeners warning.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 15; i++) {
        const ok = nextMessage(helper.getNode('h-ok'));
        helper.getNode('n-write').receive({ ...first, operation: { op: 'delete', path: '/' } });
        assert.equal((await ok).lwm2m.steps[0].code, '2.02');
      }
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.map((w) => w.name), []);
  });
});

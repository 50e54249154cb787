/**
 * The four server nodes in the real Node-RED runtime, bootstrapping a scripted device over real UDP on
 * loopback; assertions on the bytes the device received.
 */
import assert from 'node:assert/strict';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { nodeToJson } from '../../lib/model/tree';
import { nextPort } from '../support/ports';
import { ScriptedDevice, type ReceivedRequest } from '../support/scripted-device';
import { bootstrapFlow, NOSEC_PROFILE } from './support/flows';
import { ALL_NODES, helper, nextMessage, statusCalls } from './support/runtime';

function writes(dev: ScriptedDevice): ReceivedRequest[] {
  return dev.received.filter((r) => r.method === 'PUT');
}

/** The JSON form of what a Bootstrap-Write carried, decoded independently of the node code. */
function written(r: ReceivedRequest): unknown {
  return nodeToJson(decode(r.contentFormat!, LwM2mPath.parse(r.path), r.payload));
}

describe('server nodes: a whole bootstrap in the Node-RED runtime', function () {
  this.timeout(20000);
  let dev: ScriptedDevice | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    await helper.unload();
  });

  const formats: [string, number | undefined, number][] = [
    ['TLV when the client names no pct', undefined, 11542],
    ['TLV as pct', 11542, 11542],
    ['SenML JSON', 110, 110],
    ['SenML CBOR', 112, 112],
    ['LwM2M CBOR', 11544, 11544],
  ];
  for (const [name, pct, cf] of formats) {
    it(`provisions a device in ${name} and finishes with 2.04`, async () => {
      const port = await nextPort();
      await helper.load(ALL_NODES, bootstrapFlow({ port }));
      const success = helper.getNode('h-success');
      const done = nextMessage(success);
      dev = await ScriptedDevice.create();
      const res = await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'meter-1', pct });
      assert.equal(res.code, '2.04');
      const msg = await done;

      const seen = dev.received.map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(seen.slice(0, 3), ['GET /', 'DELETE /0', 'DELETE /1']);
      assert.equal(seen[seen.length - 1], 'POST /bs');
      const puts = writes(dev);
      assert.ok(puts.length >= 2, 'a Security and a Server write');
      for (const p of puts) assert.equal(p.contentFormat, cf, `${p.path} written in ${cf}`);
      // The device's bootstrap account is /0/0 (scripted Discover): the DM account must not overwrite it.
      const sec = puts.find((p) => p.path.startsWith('/0/'))!;
      assert.notEqual(sec.path, '/0/0');
      const secJson = written(sec) as Record<string, unknown>;
      assert.equal(secJson['0'], 'coap://127.0.0.1:5783');
      assert.equal(secJson['1'], false);
      assert.equal(secJson['2'], 3);
      assert.equal(secJson['10'], 1);
      const srv = written(puts.find((p) => p.path.startsWith('/1/'))!) as Record<string, unknown>;
      assert.equal(srv['0'], 1);
      assert.equal(srv['1'], 300);

      assert.equal(msg.lwm2m.endpoint, 'meter-1');
      assert.equal(msg.lwm2m.outcome, 'SUCCESS');
      assert.equal(msg.lwm2m.profileName, 'meters');
      const ops = (msg.lwm2m.steps as { op: string; code: string }[]).map((s) => `${s.op} ${s.code}`);
      assert.deepEqual(ops.slice(0, 3), ['discover 2.05', 'delete 2.02', 'delete 2.02']);
      assert.equal(ops[ops.length - 1], 'finish 2.04');
      assert.equal(msg.lwm2m.audit.outcome, 'SUCCESS');
      assert.equal(msg.lwm2m.audit.endpoint, 'meter-1');
      assert.ok(Array.isArray(msg.lwm2m.audit.steps) && msg.lwm2m.audit.steps.length === ops.length);
      if (pct !== undefined) assert.equal(msg.lwm2m.preferredContentFormat, pct);
      // The listener reported it (green dot), with the port.
      const listenerStatus = statusCalls(helper.getNode('n-listener'));
      assert.ok(listenerStatus.some((s) => s.fill === 'green' && s.shape === 'dot'));
    });
  }

  it('writes the profile\'s content format over the client\'s pct', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, profiles: [{ ...NOSEC_PROFILE, contentFormat: 110 }] }));
    const done = nextMessage(helper.getNode('h-success'));
    dev = await ScriptedDevice.create();
    await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'meter-2', pct: 112 });
    await done;
    assert.ok(writes(dev).every((p) => p.contentFormat === 110));
  });

  it('reads /1 back from a 1.1 client after the writes (Bootstrap-Read)', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, profiles: [{ ...NOSEC_PROFILE, read: ['/1'] }] }));
    const done = nextMessage(helper.getNode('h-success'));
    dev = await ScriptedDevice.create();
    dev.reply('GET', '/1', { code: '2.05', contentFormat: 11542, payload: Buffer.from('080006c10001c10101', 'hex') });
    await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'reader', pct: 11542 });
    const msg = await done;
    const read = dev.received.find((r) => r.method === 'GET' && r.path === '/1');
    assert.ok(read, 'a Bootstrap-Read of /1');
    assert.equal(read.accept, 11542);
    const step = msg.lwm2m.steps.find((s: { op: string }) => s.op === 'read');
    assert.deepEqual([step.path, step.code, step.success, step.error], ['/1', '2.05', true, undefined]);
  });

  it('without autoId writes where the profile says and sends no Discover', async () => {
    const port = await nextPort();
    const profile = { ...NOSEC_PROFILE, autoId: false, delete: ['/1'] };
    await helper.load(ALL_NODES, bootstrapFlow({ port, profiles: [profile] }));
    const done = nextMessage(helper.getNode('h-success'));
    dev = await ScriptedDevice.create();
    await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'meter-3' });
    await done;
    const seen = dev.received.map((r) => `${r.method} ${r.path}`);
    assert.ok(!seen.includes('GET /'));
    assert.equal(seen[0], 'DELETE /1');
  });
});

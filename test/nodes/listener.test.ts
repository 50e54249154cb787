/** The listener's socket and settings: IPv6, wrong settings reported, a pack request answered by bootstrap-finish, 4.15 fallback. */
import assert from 'node:assert/strict';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, patch, rejectNode } from './support/flows';
import { ALL_NODES, errorCalls, helper, nextMessage, statusCalls, until } from './support/runtime';

describe('server nodes: listener', function () {
  this.timeout(20000);
  const devices: ScriptedDevice[] = [];
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await helper.unload();
  });

  it('bootstraps a device over IPv6', async () => {
    const port = await nextPort('udp6');
    await helper.load(ALL_NODES, bootstrapFlow({ port, address: '::1' }));
    const done = nextMessage(helper.getNode('h-success'));
    const dev = await ScriptedDevice.create({ type: 'udp6', address: '::1' });
    devices.push(dev);
    assert.equal((await dev.bootstrapRequest({ address: '::1', port }, { ep: 'v6-device' })).code, '2.04');
    const msg = await done;
    assert.equal(msg.lwm2m.peer.address, '::1');
    assert.equal(msg.lwm2m.peer.family, 'IPv6');
    assert.equal(msg.lwm2m.outcome, 'SUCCESS');
  });

  it('falls back to the port default when ${BS_PORT} is not set, and reports a bad port', async () => {
    delete process.env.LWM2M_TEST_UNSET_PORT;
    await helper.load(ALL_NODES, bootstrapFlow({ port: 0, listenerOnly: true, listener: { port: 'not-a-port' } }));
    const listener = helper.getNode('n-listener');
    await until(() => errorCalls(listener).length > 0, 3000, 'an error');
    assert.equal(errorCalls(listener)[0][0], 'lwm2m-bootstrap-listener.errors.badPort');
    assert.equal(statusCalls(listener).pop()?.fill, 'red');
    await helper.unload();

    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { port: '${LWM2M_TEST_UNSET_PORT}' } }));
    assert.equal(helper.getNode('n-listener').listenerSettings.port, 5683, 'an unset ${VAR} means the default');
  });

  it('reports a port already in use with a red ring, without crashing', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, listenerOnly: true });
    flow.push({ ...(flow[1] as object), id: 'n-listener-2', wires: [[]] });
    await helper.load(ALL_NODES, flow);
    const a = helper.getNode('n-listener');
    const b = helper.getNode('n-listener-2');
    await until(() => [a, b].some((n) => statusCalls(n).some((s) => s.fill === 'red')), 5000, 'a red status');
    const loser = statusCalls(a).some((s) => s.fill === 'red') ? a : b;
    assert.equal(errorCalls(loser)[0][0], 'lwm2m-bootstrap-listener.errors.listenFailed');
  });

  it('lets bootstrap-finish answer a pack request with the profile (no object-write in between)', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port });
    patch(flow, 'n-lookup', { wires: [['n-finish'], ['h-notFound']] });
    await helper.load(ALL_NODES, flow);
    const success = nextMessage(helper.getNode('h-success'));
    const dev = await ScriptedDevice.create();
    devices.push(dev);
    const res = await dev.packRequest({ address: '127.0.0.1', port }, { ep: 'pack-3', accept: 110 });
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 110);
    const root = decode(110, LwM2mPath.root(), res.payload);
    assert.ok(root.kind === 'root' && root.objects.has(1));
    const msg = await success;
    assert.equal(msg.lwm2m.outcome, 'SUCCESS');
    assert.equal(msg.lwm2m.steps[0].code, '2.05');
  });

  it('rejects a pack request with the chosen code, so the client falls back at once', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, listenerOnly: true });
    patch(flow, 'n-listener', { wires: [['n-reject']] });
    flow.push(...rejectNode('n-reject', '4.04', 'use POST /bs'));
    await helper.load(ALL_NODES, flow);
    const rejected = nextMessage(helper.getNode('h-rejected'));
    const dev = await ScriptedDevice.create();
    devices.push(dev);
    const res = await dev.packRequest({ address: '127.0.0.1', port }, { ep: 'pack-4' });
    assert.equal(res.code, '4.04');
    // The flow's answer, not the pack timeout's (also 4.04, with no payload): the device is not kept waiting.
    assert.equal(res.payload.toString(), 'use POST /bs');
    assert.equal((await rejected).lwm2m.outcome, 'REJECTED');
  });

  it('retries a write answered 4.15 in the next format and records the refused format on the step', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const success = nextMessage(helper.getNode('h-success'));
    const dev = await ScriptedDevice.create();
    devices.push(dev);
    dev.reply('PUT', '/0/1', (r) => (r.contentFormat === 112 ? { code: '4.15' } : undefined));
    dev.reply('PUT', '/1/0', (r) => (r.contentFormat === 112 ? { code: '4.15' } : undefined));
    await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'picky', pct: 112 });
    const msg = await success;
    const puts = dev.received.filter((r) => r.method === 'PUT').map((r) => `${r.path} ${r.contentFormat}`);
    assert.deepEqual(puts.slice(0, 2), ['/0/1 112', '/0/1 110']);
    assert.ok(puts.includes('/1/0 110'));
    const writes = msg.lwm2m.steps.filter((s: { op: string }) => s.op === 'write');
    assert.ok(writes.every((s: { success: boolean; contentFormat: number }) => s.success && s.contentFormat === 110));
    assert.deepEqual(writes[0].retriedFormats, [112]);
    // The refused writes are left out, and no step on the message carries the library's `superseded` mark.
    assert.equal(writes.length, new Set(puts.map((p) => p.split(' ')[0])).size);
    assert.ok(msg.lwm2m.steps.every((s: object) => !('superseded' in s)));
    // The listener's message id, as Node-RED's own (16 hex digits), carried through the flow.
    assert.match(msg._msgid, /^[0-9a-f]{16}$/);
  });
});

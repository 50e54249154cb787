/**
 * How the flow decides a request's fate: rejection, the listener's own answer when the flow is silent,
 * pack requests, Finish failures and timeouts, cancelled sessions, and the socket released on close.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { markAfter } from '../support/timer-mark';
import { bootstrapFlow, patch, rejectNode } from './support/flows';
import { ALL_NODES, helper, nextMessage, statusCalls, until } from './support/runtime';

const SERVER = (port: number) => ({ address: '127.0.0.1', port });

describe('server nodes: decisions, failures and timeouts', function () {
  this.timeout(20000);
  const devices: ScriptedDevice[] = [];
  async function device(): Promise<ScriptedDevice> {
    const d = await ScriptedDevice.create();
    devices.push(d);
    return d;
  }

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await helper.unload();
  });

  it('rejects an unknown device with the code chosen in bootstrap-finish (reject mode): NO_BOOTSTRAP_CONFIG', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, lookup: { profileName: 'no-such-profile' }, defaultProfile: '' });
    patch(flow, 'n-lookup', { wires: [['n-write'], ['n-reject', 'h-notFound']] });
    flow.push(...rejectNode('n-reject', '4.03', 'unknown device'));
    await helper.load(ALL_NODES, flow);
    const rejected = nextMessage(helper.getNode('h-rejected'));
    const dev = await device();
    const res = await dev.bootstrapRequest(SERVER(port), { ep: 'stranger' });
    assert.equal(res.code, '4.03');
    assert.equal(res.payload.toString(), 'unknown device');
    const msg = await rejected;
    // profile lookup found no profile: the automatic outcome of a rejection after its "not found" output.
    assert.equal(msg.lwm2m.outcome, 'NO_BOOTSTRAP_CONFIG');
    assert.equal(msg.lwm2m.audit.outcome, 'NO_BOOTSTRAP_CONFIG');
    assert.equal(dev.received.length, 0, 'no operation reached the device');
  });

  it('takes the rejection text from the message when told to (e.g. an authorization service\'s reason)', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, listenerOnly: true });
    patch(flow, 'n-listener', { wires: [['h-requests']] });
    flow.push(...rejectNode('n-reject', '4.01', 'payload.reason', 'msg'));
    await helper.load(ALL_NODES, flow);
    const requested = nextMessage(helper.getNode('h-requests'));
    const dev = await device();
    const answer = dev.bootstrapRequest(SERVER(port), { ep: 'revoked' });
    const msg = await requested;
    const rejected = nextMessage(helper.getNode('h-rejected'));
    helper.getNode('n-reject').receive({ ...msg, payload: { reason: 'certificate revoked' } });
    const res = await answer;
    assert.equal(res.code, '4.01');
    assert.equal(res.payload.toString(), 'certificate revoked');
    assert.equal((await rejected).lwm2m.outcome, 'REJECTED');
  });

  it('answers the configured code itself when the flow does not decide in time', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { decisionTimeout: '1', decisionCode: '4.04' } }));
    const requested = nextMessage(helper.getNode('h-requests'));
    const dev = await device();
    const decisionNear = markAfter(800);
    const res = await dev.bootstrapRequest(SERVER(port), { ep: 'slow-flow', timeoutMs: 8000 });
    const msg = await requested;
    assert.equal(res.code, '4.04');
    assert.ok(decisionNear.fired, 'answered by the 1 s decision timer, not before the decision time');
    assert.equal(msg.lwm2m.kind, 'bootstrap');
    assert.equal(msg.lwm2m.endpoint, 'slow-flow');
    assert.equal(typeof msg.lwm2m.sessionId, 'string');
    assert.equal(msg.lwm2m.listenerId, 'n-listener');
    assert.equal(msg.lwm2m.peer.address, '127.0.0.1');
    assert.equal(msg.lwm2m.peer.port, dev.port);
  });

  it('answers a Bootstrap-Pack-Request with the profile as one SenML CBOR pack', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const ok = nextMessage(helper.getNode('h-ok'));
    const dev = await device();
    const res = await dev.packRequest(SERVER(port), { ep: 'pack-1', accept: 112 });
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 112);
    const root = decode(112, LwM2mPath.root(), res.payload);
    assert.equal(root.kind, 'root');
    if (root.kind !== 'root') return;
    assert.ok(root.objects.has(0) && root.objects.has(1), 'Security and Server objects in the pack');
    const msg = await ok;
    assert.equal(msg.lwm2m.kind, 'pack');
    assert.equal(msg.lwm2m.steps[0].op, 'pack');
    assert.equal(dev.received.length, 0, 'a pack needs no requests to the device');
  });

  it('lets a pack request fall back with the listener\'s error when the flow gives no profile', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { packTimeout: '1', packCode: '4.04' } }));
    const dev = await device();
    const res = await dev.packRequest(SERVER(port), { ep: 'pack-2', timeoutMs: 8000 });
    assert.equal(res.code, '4.04');
  });

  it('sends a Finish answered 4.06 to the failure output with the client\'s diagnostic', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const failure = nextMessage(helper.getNode('h-failure'));
    const dev = await device();
    dev.reply('POST', '/bs', { code: '4.06', payload: 'C3: no Server instance for SSID 1' });
    await dev.bootstrapRequest(SERVER(port), { ep: 'inconsistent' });
    const msg = await failure;
    assert.deepEqual(msg.payload, { code: '4.06', diagnostic: 'C3: no Server instance for SSID 1' });
    assert.equal(msg.lwm2m.outcome, 'FINISH_FAILED');
    const last = msg.lwm2m.steps[msg.lwm2m.steps.length - 1];
    assert.equal(last.op, 'finish');
    assert.equal(last.code, '4.06');
    const finishStatus = statusCalls(helper.getNode('n-finish'));
    assert.ok(finishStatus.some((s) => s.fill === 'red' && s.shape === 'ring'));
  });

  it('sends a Finish the device never answers to the timeout output', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, finish: { timeout: '1' } }));
    const timedOut = nextMessage(helper.getNode('h-timeout'), 10000);
    const dev = await device();
    dev.reply('POST', '/bs', { code: '2.04', drop: true });
    await dev.bootstrapRequest(SERVER(port), { ep: 'mute-at-finish' });
    const msg = await timedOut;
    assert.equal(msg.lwm2m.outcome, 'TIMEOUT');
    assert.equal(msg.lwm2m.audit.outcome, 'TIMEOUT');
  });

  it('sends a run cut short by a vanished device to the error output, with the steps so far', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, write: { requestTimeout: '1' } }));
    const err = nextMessage(helper.getNode('h-err'), 10000);
    const dev = await device();
    dev.reply('DELETE', '/1', { code: '2.02', drop: true });
    await dev.bootstrapRequest(SERVER(port), { ep: 'vanishing' });
    const msg = await err;
    assert.equal(msg.lwm2m.outcome, 'TIMEOUT');
    assert.match(String(msg.error.message), /DELETE \/1/);
    assert.ok(msg.lwm2m.steps.some((s: { op: string; path: string }) => s.op === 'delete' && s.path === '/0'));
  });

  it('stops at an error response by default and goes on when told to', async () => {
    for (const onError of ['stop', 'continue']) {
      const port = await nextPort();
      await helper.load(ALL_NODES, bootstrapFlow({ port, write: { onError } }));
      const out = nextMessage(helper.getNode('h-err'));
      const dev = await device();
      dev.reply('DELETE', '/0', { code: '4.00' });
      await dev.bootstrapRequest(SERVER(port), { ep: `err-${onError}` });
      const msg = await out;
      const ops = msg.lwm2m.steps.map((s: { op: string; path: string }) => `${s.op} ${s.path}`);
      if (onError === 'stop') assert.deepEqual(ops, ['discover /', 'delete /0']);
      else assert.ok(ops.length > 3 && ops.includes('delete /1'), `went on: ${ops.join(', ')}`);
      assert.equal(msg.error.step.code, '4.00');
      await helper.unload();
    }
  });

  it('fails a message whose session was cancelled by a newer request with SessionNotFoundError', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { decisionTimeout: '2' } }));
    const requests = helper.getNode('h-requests');
    const first = nextMessage(requests);
    const devA = await device();
    const pendingA = devA.bootstrapRequest(SERVER(port), { ep: 'twice', timeoutMs: 8000 }).catch(() => undefined);
    const msgA = await first;
    const second = nextMessage(requests);
    const pendingB = devA.bootstrapRequest(SERVER(port), { ep: 'twice', timeoutMs: 8000 }).catch(() => undefined);
    await second;
    const caught = nextMessage(helper.getNode('h-caught'));
    helper.getNode('n-write').receive({ ...msgA, profile: { name: 'x', servers: [] } });
    const c = await caught;
    assert.equal(c.error.source.id, 'n-write');
    assert.match(c.error.message, /no live bootstrap session/);
    await Promise.all([pendingA, pendingB]);
  });

  it('releases the UDP port on close, so it can be bound again', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true }));
    const listener = helper.getNode('n-listener');
    await until(() => statusCalls(listener).some((s) => s.fill === 'green'), 5000, 'listening');
    const after: unknown[] = [];
    const show = listener.status.bind(listener);
    listener.status = ((s: object) => {
      after.push(s);
      show(s);
    }) as typeof listener.status;
    await helper.unload();
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => sock.close(() => r()));
    // The status is cleared on close.
    assert.deepEqual(after[after.length - 1], {});
  });
});

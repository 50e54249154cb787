/**
 * Paths through the flow whose result is more than a response code: what a pack in LwM2M CBOR carries,
 * the audit record of a refused Bootstrap-Finish, a Write the device never answers, and the listener's own
 * answer when the flow does not decide in time.
 */
import assert from 'node:assert/strict';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { nodeToJson } from '../../lib/model/tree';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, NOSEC_PROFILE, patch } from './support/flows';
import { ALL_NODES, helper, nextMessage, statusCalls, until } from './support/runtime';
import { TRANSLATED_NODES } from './support/translated';

const SERVER = (port: number) => ({ address: '127.0.0.1', port });

/** Two DM servers with values that differ from every default, so a value from the wrong place shows. */
const TWO_SERVERS = {
  name: 'two-dm',
  autoId: true,
  servers: [
    { shortServerId: 1, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec', lifetime: 300 },
    { shortServerId: 7, uri: 'coap://192.0.2.7:5683', securityMode: 'nosec', lifetime: 86400, binding: 'UQ', notificationStoring: false },
  ],
};

describe('server nodes: what packs, audit records and timeouts carry', function () {
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

  it('answers a Bootstrap-Pack-Request with Accept 11544 in LwM2M CBOR, each server of the profile with its own values', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, profiles: [TWO_SERVERS], defaultProfile: 'two-dm' }));
    const ok = nextMessage(helper.getNode('h-ok'));
    const dev = await device();
    const res = await dev.packRequest(SERVER(port), { ep: 'pack-cbor', accept: 11544 });
    assert.equal(res.code, '2.05');
    assert.equal(res.contentFormat, 11544);
    const root = nodeToJson(decode(11544, LwM2mPath.root(), res.payload)) as Record<string, Record<string, Record<string, unknown>>>;
    assert.deepEqual(Object.keys(root).sort(), ['0', '1'], 'Security and Server objects, nothing else');
    // Security (LwM2M 1.1 E.1): 0 URI, 1 Bootstrap-Server false, 2 Security Mode 3 = NoSec, 3-5 no keys, 10 SSID.
    const security = Object.values(root['0']).sort((a, b) => Number(a['10']) - Number(b['10']));
    assert.deepEqual(security, [
      { 0: 'coap://127.0.0.1:5783', 1: false, 2: 3, 3: '', 4: '', 5: '', 10: 1 },
      { 0: 'coap://192.0.2.7:5683', 1: false, 2: 3, 3: '', 4: '', 5: '', 10: 7 },
    ]);
    // Server (E.2): 0 SSID, 1 Lifetime, 6 Notification Storing, 7 Binding.
    const servers = Object.values(root['1']).sort((a, b) => Number(a['0']) - Number(b['0']));
    assert.deepEqual(servers, [
      { 0: 1, 1: 300, 6: true, 7: 'U' },
      { 0: 7, 1: 86400, 6: false, 7: 'UQ' },
    ]);
    const msg = await ok;
    assert.equal(msg.lwm2m.kind, 'pack');
    assert.deepEqual(msg.lwm2m.steps.map((s: { op: string; code: string; contentFormat: number }) => [s.op, s.code, s.contentFormat]), [['pack', '2.05', 11544]]);
    assert.equal(dev.received.length, 0, 'a pack needs no requests to the device');
  });

  // With the audit output wired to nothing, the listener hands bootstrap-finish a copy of the record the server
  // emitted at the session's end instead of building it again: the same record either way.
  for (const auditWired of [true, false]) {
    it(`a Finish answered 4.06: one message on the failure output, its audit record FINISH_FAILED with the diagnostic, every step and who asked (audit output ${auditWired ? 'wired' : 'unwired'})`, async () => {
      const port = await nextPort();
      const flow = bootstrapFlow({ port });
      if (!auditWired) patch(flow, 'n-listener', { wires: [['n-lookup', 'h-requests'], []] });
      await helper.load(ALL_NODES, flow);
      const failures: Record<string, any>[] = [];
      const others: string[] = [];
      helper.getNode('h-failure').on('input', (m: Record<string, any>) => failures.push(m));
      for (const id of ['h-success', 'h-timeout', 'h-err', 'h-caught']) helper.getNode(id).on('input', () => others.push(id));
      const dev = await device();
      dev.reply('POST', '/bs', { code: '4.06', payload: 'C3: no Server instance for SSID 1' });
      assert.equal((await dev.bootstrapRequest(SERVER(port), { ep: 'finish-refused', pct: 112 })).code, '2.04');
      await until(() => failures.length > 0, 8000, 'the failure output');
      const audit = failures[0].lwm2m.audit;
      assert.equal(audit.outcome, 'FINISH_FAILED');
      assert.equal(audit.detail, '4.06 C3: no Server instance for SSID 1');
      assert.equal(audit.endpoint, 'finish-refused');
      assert.deepEqual(audit.peer, { address: '127.0.0.1', port: dev.port, family: 'IPv4' });
      assert.equal(audit.sessionId, failures[0].lwm2m.sessionId);
      assert.equal(audit.query.pct, '112');
      for (const t of [audit.startedAt, audit.acceptedAt, audit.endedAt]) assert.ok(!Number.isNaN(Date.parse(t)), `an ISO time: ${t}`);
      assert.ok(Date.parse(audit.startedAt) <= Date.parse(audit.acceptedAt) && Date.parse(audit.acceptedAt) <= Date.parse(audit.endedAt), 'started, accepted, ended in that order');
      // Every request the device received is a step, in order, the refused Finish last.
      const sent = dev.received.map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(audit.steps.map((s: { method: string; path: string }) => `${s.method} ${s.path}`), sent);
      assert.deepEqual(audit.steps.slice(0, -1).filter((s: { success: boolean }) => !s.success), [], 'only the Finish failed');
      const last = audit.steps[audit.steps.length - 1];
      assert.deepEqual([last.op, last.method, last.path, last.code, last.success], ['finish', 'POST', '/bs', '4.06', false]);
      // One outcome, one record: a later session on the same listener does not add to this one's.
      await dev.bootstrapRequest(SERVER(port), { ep: 'finish-refused-2' });
      await until(() => failures.length > 1, 8000, 'the second failure');
      assert.equal(failures.length, 2);
      assert.notEqual(failures[1].lwm2m.sessionId, failures[0].lwm2m.sessionId);
      assert.deepEqual(others, [], 'no other output fired');
      // Each message's record is its own (a detached copy): editing one changes no other.
      failures[0].lwm2m.audit.steps[0].code = 'edited';
      failures[0].lwm2m.audit.peer.port = 1;
      assert.notEqual(failures[1].lwm2m.audit.steps[0].code, 'edited');
      assert.equal(failures[1].lwm2m.audit.peer.port, dev.port);
    });
  }

  it('object-write: a Write the device never answers fails after the node\'s request timeout; the record ends TIMEOUT with that Write unanswered', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, write: { requestTimeout: '1' } }));
    const err = nextMessage(helper.getNode('h-err'), 10000);
    const dev = await device();
    dev.reply('PUT', '*', (r) => (r.path.startsWith('/1/') ? { code: '2.04', drop: true } : undefined));
    await dev.bootstrapRequest(SERVER(port), { ep: 'write-unanswered' });
    const msg = await err;
    assert.equal(msg.lwm2m.outcome, 'TIMEOUT');
    // The node's 1 s, not the listener's 3 s request timeout.
    assert.match(String(msg.error.message), /^no response to PUT \/1\/\d+ within 1000 ms$/);
    const dropped = dev.received.filter((r) => r.dropped).map((r) => `${r.method} ${r.path}`);
    assert.ok(dropped.length >= 1 && dropped.every((d) => /^PUT \/1\/\d+$/.test(d)), `the device dropped: ${dropped.join(', ')}`);
    const audit = msg.lwm2m.audit;
    assert.equal(audit.outcome, 'TIMEOUT');
    const last = audit.steps[audit.steps.length - 1];
    assert.deepEqual([last.op, last.method, last.code, last.success], ['write', 'PUT', '', false]);
    assert.match(last.path, /^\/1\/\d+$/);
    assert.equal(last.error, msg.error.message, 'the step says why it failed');
    assert.ok(!audit.steps.some((s: { op: string }) => s.op === 'finish'), 'no Finish after the timeout');
    assert.ok(!dev.received.some((r) => r.method === 'POST' && r.path === '/bs'), 'the device got no Bootstrap-Finish');
  });

  it('answers 5.03 itself when the flow does not decide in time; a profile sent afterwards fails to Catch, and the status says timeout', async () => {
    const port = await nextPort();
    await helper.load(TRANSLATED_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { decisionTimeout: '1' } }));
    const requested = nextMessage(helper.getNode('h-requests'));
    const dev = await device();
    const res = await dev.bootstrapRequest(SERVER(port), { ep: 'undecided', timeoutMs: 8000 });
    assert.equal(res.code, '5.03', 'the listener\'s default decision code');
    const msg = await requested;
    assert.equal(msg.lwm2m.endpoint, 'undecided');
    // The flow decides too late: the session is gone, and the node that tried says so through Catch.
    const caught = nextMessage(helper.getNode('h-caught'));
    helper.getNode('n-write').receive({ ...msg, profile: NOSEC_PROFILE });
    const c = await caught;
    assert.equal(c.error.source.id, 'n-write');
    assert.match(c.error.message, /no live bootstrap session/);
    assert.equal(dev.received.length, 0, 'nothing reached the device after the 5.03');
    const listener = helper.getNode('n-listener');
    await until(() => statusCalls(listener).some((s) => /^listening :\d+ · last: timeout$/.test(String(s.text))), 5000, 'status with the last outcome');
  });
});

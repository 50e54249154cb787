/**
 * profile-lookup's msg.profile is a read-only view: a user's node that edits it in place (a function node,
 * sloppy mode; a change node, which swallows errors) gets a clear error instead of a silently lost edit, and
 * the session still ends with one outcome and one audit record; the copy the error message recommends
 * bootstraps the device with the edit, checked once more by object-write. Real function, change and debug
 * nodes from Node-RED's core, a scripted device over UDP.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isReadOnlyView, profileValidations } from '../../lib/profile';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, patch } from './support/flows';
import { ALL_NODES, helper, listenerNode, lookupNode, nextMessage, until, type RuntimeNode } from './support/runtime';
import { translatedListener } from './support/translated';

/* eslint-disable @typescript-eslint/no-require-imports */
const functionNode: unknown = require('@node-red/nodes/core/function/10-function.js');
const changeNode: unknown = require('@node-red/nodes/core/function/15-change.js');
const debugNode: unknown = require('@node-red/nodes/core/common/21-debug.js');
const { events } = require('@node-red/util') as { events: { on(e: string, f: (x: any) => void): void; removeListener(e: string, f: (x: any) => void): void } };

type Msg = Record<string, any>;
type Translate = (key: string, vars?: Record<string, unknown>) => string;

/** profile-lookup's English catalog (the helper's RED._ returns keys), so the tests read the real message. */
const LOOKUP = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'locales', 'en-US', 'profile-lookup.json'), 'utf8')) as Msg;
const READ_ONLY: string = LOOKUP['lwm2m-profile-lookup'].errors.readOnly;
function translatedLookup(red: { _: Translate }): void {
  const original = red._;
  red._ = (key, vars) => {
    if (key !== 'lwm2m-profile-lookup.errors.readOnly') return original(key, vars);
    return READ_ONLY.replace(/__(\w+)__/g, (m, k: string) => (vars && k in vars ? String(vars[k]) : m));
  };
  (lookupNode as (r: unknown) => void)(red);
}
const NODES = [translatedListener, translatedLookup, ...ALL_NODES.filter((n) => n !== lookupNode && n !== listenerNode), functionNode, changeNode, debugNode];

/** The copy the error message recommends, as it stands in the catalog: `msg.profile = …` up to its `;`. */
const RECIPE = /msg\.profile = [^;]+;/.exec(READ_ONLY)![0];

const SERVER = (port: number) => ({ address: '127.0.0.1', port });
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

function collect(id: string): Msg[] {
  const got: Msg[] = [];
  (helper.getNode(id) as RuntimeNode).on('input', (m: Msg) => got.push(m));
  return got;
}

/** The bootstrap flow with a user's node between profile-lookup and object-write. */
function flowWith(port: number, user: Msg, listener: Msg = {}): object[] {
  const flow = bootstrapFlow({ port, listener });
  patch(flow, 'n-lookup', { wires: [['n-user', 'h-found'], ['h-notFound']] });
  flow.push({ id: 'n-user', z: 'tab', ...user, wires: [['n-write', 'h-user']] }, { id: 'h-user', z: 'tab', type: 'helper' });
  return flow;
}

const fn = (func: string): Msg => ({ type: 'function', func, outputs: 1, noerr: 0, initialize: '', finalize: '', libs: [] });

describe('profile lookup: msg.profile is read-only, loudly', function () {
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

  it('a function node that edits msg.profile in place gets a node error with the fix; the device gets nothing of the old profile and the session one audit record', async () => {
    const port = await nextPort();
    await helper.load(NODES, flowWith(port, fn('msg.profile.servers[0].uri = "coap://127.0.0.1:5999";\nreturn msg;'), { decisionTimeout: '1' }));
    const audits = collect('h-audit');
    const passed = collect('h-user');
    const ok = collect('h-ok');
    const caught = nextMessage(helper.getNode('h-caught'));
    const dev = await device();
    const res = await dev.bootstrapRequest(SERVER(port), { ep: 'edits-in-place', timeoutMs: 8000 });
    const c = await caught;
    assert.equal(c.error.source.id, 'n-user');
    assert.match(c.error.message, /^ReadOnlyProfileError: msg\.profile is read-only: profile lookup checked it \(refused: a change to \/servers\/0\/uri\)/);
    assert.ok(c.error.message.includes(RECIPE), c.error.message);
    assert.equal(res.code, '5.03', 'no decision: the listener answers the device itself');
    await until(() => audits.length >= 1, 5000, 'the audit message');
    await settle();
    assert.equal(audits.length, 1, 'exactly one audit record');
    assert.equal(audits[0].lwm2m.outcome, 'TIMEOUT');
    assert.deepEqual(passed, [], 'the function node sent nothing on');
    assert.deepEqual(ok, []);
    assert.ok(!dev.received.some((r) => r.method === 'PUT'), 'no write with the old profile');
  });

  it('a function node that assigns the copy the error recommends bootstraps the device with its edit, checked once more', async () => {
    const port = await nextPort();
    assert.equal(RECIPE, 'msg.profile = RED.util.cloneMessage(msg.profile);');
    await helper.load(NODES, flowWith(port, fn(`${RECIPE}\nmsg.profile.servers[0].uri = "coap://127.0.0.1:5999";\nreturn msg;`)));
    const audits = collect('h-audit');
    const success = nextMessage(helper.getNode('h-success'));
    const dev = await device();
    const before = profileValidations();
    assert.equal((await dev.bootstrapRequest(SERVER(port), { ep: 'copies' })).code, '2.04');
    const msg = await success;
    assert.equal(msg.lwm2m.outcome, 'SUCCESS');
    assert.equal(profileValidations() - before, 2, 'profile-lookup once, object-write once for the copy');
    const sec = dev.received.filter((q) => q.method === 'PUT' && q.path.startsWith('/0/'));
    assert.ok(sec.some((q) => q.payload.includes(Buffer.from('coap://127.0.0.1:5999'))), 'the edited URI was written');
    assert.ok(!sec.some((q) => q.payload.includes(Buffer.from('coap://127.0.0.1:5783'))), 'the old URI was not');
    await until(() => audits.length >= 1, 5000, 'the audit message');
    await settle();
    assert.equal(audits.length, 1);
  });

  it('a function node that assigns a new object built with spread from the view bootstraps the device with it, checked once more', async () => {
    const port = await nextPort();
    const func = 'msg.profile = { ...msg.profile, servers: msg.profile.servers.map((s) => ({ ...s, uri: "coap://127.0.0.1:5999" })) };\nreturn msg;';
    await helper.load(NODES, flowWith(port, fn(func)));
    const success = nextMessage(helper.getNode('h-success'));
    const dev = await device();
    const before = profileValidations();
    assert.equal((await dev.bootstrapRequest(SERVER(port), { ep: 'spreads' })).code, '2.04');
    const done = await success;
    assert.equal(done.lwm2m.outcome, 'SUCCESS');
    assert.equal(profileValidations() - before, 2);
    // Past object-write, the profile it checked is a read-only view too: a later edit throws instead of being lost.
    assert.ok(isReadOnlyView(done.profile), 'object-write hands on a read-only view');
    assert.throws(() => { done.profile.servers[0].uri = 'coap://127.0.0.1:6000'; }, (e: Error) => e.name === 'ReadOnlyProfileError' && /lwm2m-object-write\.errors\.readOnly/.test(e.message)); // (the helper's RED._ gives the key)
    const sec = dev.received.filter((q) => q.method === 'PUT' && q.path.startsWith('/0/'));
    assert.ok(sec.some((q) => q.payload.includes(Buffer.from('coap://127.0.0.1:5999'))), 'the new URI was written');
  });

  it('a change node that sets a property inside msg.profile (it swallows the error) makes object-write fail with the message: 5.00, INTERNAL_ERROR, one audit record', async () => {
    const port = await nextPort();
    const change = { type: 'change', rules: [{ t: 'set', p: 'profile.servers[0].uri', pt: 'msg', to: 'coap://127.0.0.1:5999', tot: 'str' }] };
    await helper.load(NODES, flowWith(port, change));
    const audits = collect('h-audit');
    const caught = nextMessage(helper.getNode('h-caught'));
    const dev = await device();
    assert.equal((await dev.bootstrapRequest(SERVER(port), { ep: 'changes' })).code, '5.00');
    const c = await caught;
    assert.equal(c.error.source.id, 'n-write');
    assert.match(c.error.message, /^ProfileError: profile: \/servers\/0\/uri: msg\.profile is read-only: profile lookup checked it \(refused: a change to \/servers\/0\/uri\)/);
    assert.ok(c.error.message.includes(RECIPE));
    await until(() => audits.length >= 1, 5000, 'the audit message');
    await settle();
    assert.equal(audits.length, 1);
    assert.equal(audits[0].lwm2m.outcome, 'INTERNAL_ERROR');
    assert.ok(!dev.received.some((r) => r.method === 'PUT'), 'no write with the old profile');
  });

  it('reads work as on a plain object: spread, JSON, keys, array methods, the debug sidebar; a second wire gets a plain copy; checked once', async () => {
    const port = await nextPort();
    const read = fn(
      [
        'const p = msg.profile;',
        'msg.spread = { ...p, name: "spread" };',
        'msg.json = JSON.stringify(p);',
        'msg.keys = Object.keys(p);',
        'msg.uris = p.servers.map((s) => s.uri).filter(Boolean);',
        'msg.count = 0; for (const s of p.servers) msg.count += s.shortServerId;',
        'return msg;',
      ].join('\n'),
    );
    const flow = flowWith(port, read);
    patch(flow, 'n-lookup', { wires: [['n-user', 'h-found', 'n-debug'], ['h-notFound']] });
    flow.push({ id: 'n-debug', z: 'tab', type: 'debug', active: true, tosidebar: true, console: false, complete: 'true', targetType: 'full', wires: [] });
    await helper.load(NODES, flow);
    const debugged: Msg[] = [];
    const onComms = (e: Msg) => {
      if (e.topic === 'debug' && e.data?.id === 'n-debug') debugged.push(e.data);
    };
    events.on('comms', onComms);
    try {
      const user = nextMessage(helper.getNode('h-user'));
      const found = nextMessage(helper.getNode('h-found'));
      const success = nextMessage(helper.getNode('h-success'));
      const dev = await device();
      const before = profileValidations();
      assert.equal((await dev.bootstrapRequest(SERVER(port), { ep: 'reads' })).code, '2.04');
      assert.equal((await success).lwm2m.outcome, 'SUCCESS');
      assert.equal(profileValidations() - before, 1, 'the view went to object-write unchecked');
      const m = await user;
      assert.equal(m.spread.name, 'spread');
      assert.equal(m.spread.servers[0].uri, 'coap://127.0.0.1:5783');
      assert.deepEqual(JSON.parse(m.json).servers[0], { shortServerId: 1, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec', lifetime: 300 });
      assert.deepEqual([...m.keys], Object.keys(JSON.parse(m.json)));
      assert.deepEqual([...m.uris], ['coap://127.0.0.1:5783']);
      assert.equal(m.count, 1);
      const f = await found;
      assert.equal(isReadOnlyView(f.profile), false, 'the second wire got a clone: plain');
      f.profile.servers[0].uri = 'coap://edited';
      assert.equal(f.profile.servers[0].uri, 'coap://edited');
      await until(() => debugged.length >= 1, 5000, 'the debug message');
      assert.equal(debugged[0].format, 'Object');
      assert.equal(JSON.parse(debugged[0].msg).profile.servers[0].uri, 'coap://127.0.0.1:5783');
    } finally {
      events.removeListener('comms', onComms);
    }
  });
});

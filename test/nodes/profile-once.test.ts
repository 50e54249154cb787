/**
 * A bootstrap validates its profile once, where it enters the library: profile-lookup's fill (a stored
 * profile, or one from msg), or object-write for a profile a node upstream set without a lookup. Counted
 * with the library's own counter (profileValidations), in the real runtime against a scripted device.
 */
import assert from 'node:assert/strict';
import { profileValidations } from '../../lib/profile';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, NOSEC_PROFILE, patch } from './support/flows';
import { ALL_NODES, helper, nextMessage } from './support/runtime';

/* eslint-disable @typescript-eslint/no-require-imports */
const changeNode: unknown = require('@node-red/nodes/core/function/15-change.js');

/** A change node that sets msg.profile to this JSON (a new object per message, as a user's node would). */
function setProfile(profile: unknown, wires: string[]): object {
  return {
    id: 'n-set',
    z: 'tab',
    type: 'change',
    rules: [{ t: 'set', p: 'profile', pt: 'msg', to: JSON.stringify(profile), tot: 'json' }],
    wires: [wires],
  };
}

describe('profile validation: once per bootstrap', function () {
  this.timeout(20000);
  let dev: ScriptedDevice | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    await helper.unload();
  });

  /** Bootstraps one device through the loaded flow; the validations counted from its request to the verdict. */
  async function bootstrapOnce(port: number, ep: string): Promise<{ code: string; validations: number; msg: Record<string, any> }> {
    const success = nextMessage(helper.getNode('h-success'));
    dev = await ScriptedDevice.create();
    const before = profileValidations();
    const res = await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep });
    const msg = await success;
    return { code: res.code, validations: profileValidations() - before, msg };
  }

  it('a stored profile: checked once, by profile-lookup', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const r = await bootstrapOnce(port, 'stored-1');
    assert.equal(r.code, '2.04');
    assert.equal(r.msg.lwm2m.outcome, 'SUCCESS');
    assert.equal(r.validations, 1);
  });

  it('a profile given on msg (with a placeholder) through profile-lookup: checked once', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port });
    patch(flow, 'n-listener', { wires: [['n-set', 'h-requests'], ['h-audit']] });
    const profile = { ...NOSEC_PROFILE, name: 'from-msg', servers: [{ ...NOSEC_PROFILE.servers[0], uri: 'coap://${peerAddress}:5783' }] };
    flow.push(setProfile(profile, ['n-lookup']));
    await helper.load([changeNode, ...ALL_NODES], flow);
    const r = await bootstrapOnce(port, 'msg-1');
    assert.equal(r.code, '2.04');
    assert.equal(r.msg.lwm2m.outcome, 'SUCCESS');
    assert.equal(r.msg.lwm2m.profileName, 'from-msg');
    assert.equal(r.validations, 1);
    const sec = dev!.received.find((q) => q.method === 'PUT' && q.path.startsWith('/0/'));
    assert.ok(sec && sec.payload.includes(Buffer.from('coap://127.0.0.1:5783')), 'the filled-in profile was written');
  });

  it('a profile a node upstream set, straight into object-write: checked once, by object-write', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port });
    patch(flow, 'n-listener', { wires: [['n-set', 'h-requests'], ['h-audit']] });
    flow.push(setProfile(NOSEC_PROFILE, ['n-write']));
    await helper.load([changeNode, ...ALL_NODES], flow);
    const r = await bootstrapOnce(port, 'direct-1');
    assert.equal(r.code, '2.04');
    assert.equal(r.msg.lwm2m.outcome, 'SUCCESS');
    assert.equal(r.validations, 1);
  });

  it('an invalid profile from upstream still fails with the pointer and the fix, and the device gets 5.00', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port });
    patch(flow, 'n-listener', { wires: [['n-set', 'h-requests'], ['h-audit']] });
    flow.push(setProfile({ name: 'bad', servers: [{ shortServerId: 70000, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec' }] }, ['n-write']));
    await helper.load([changeNode, ...ALL_NODES], flow);
    const caught = nextMessage(helper.getNode('h-caught'));
    const audit = nextMessage(helper.getNode('h-audit'));
    dev = await ScriptedDevice.create();
    const before = profileValidations();
    const res = await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'bad-1' });
    assert.equal(res.code, '5.00');
    const c = await caught;
    assert.equal(c.error.source.id, 'n-write');
    assert.match(c.error.message, /\/servers\/0\/shortServerId: 70000 is not valid here; expected the Short Server ID/);
    assert.equal((await audit).lwm2m.outcome, 'INTERNAL_ERROR');
    assert.equal(profileValidations() - before, 1);
  });
});

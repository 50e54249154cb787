/**
 * A profile is validated at most once per distinct profile, where it enters the library: profile-lookup's
 * fill (a stored profile, or one from msg), or object-write for a profile a node upstream set without a
 * lookup. Bootstraps that fill the same stored template with the same values share one checked profile
 * (lib/profile/template-memo.ts); other values are checked again; an invalid profile is checked, and fails,
 * every time. Counted with the library's own counter (profileValidations), in the real runtime against a
 * scripted device.
 */
import assert from 'node:assert/strict';
import { isReadOnlyView, profileValidations, viewTarget } from '../../lib/profile';
import { templateRecord } from '../../lib/profile/template-memo';
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

describe('profile validation: at most once per distinct profile', function () {
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

  /**
   * Bootstraps `eps` one after another; the validations counted over all of them. The messages are kept (their
   * msg.profile is the read-only view of the shared profile), as a session in flight keeps its profile.
   */
  async function bootstrapAll(port: number, eps: string[]): Promise<{ codes: string[]; validations: number; msgs: Record<string, any>[] }> {
    const codes: string[] = [];
    const msgs: Record<string, any>[] = [];
    const before = profileValidations();
    for (const ep of eps) {
      const success = nextMessage(helper.getNode('h-success'));
      await dev?.close();
      dev = await ScriptedDevice.create();
      codes.push((await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep })).code);
      msgs.push(await success);
    }
    return { codes, validations: profileValidations() - before, msgs };
  }

  it('a stored profile, the same values for every device: three bootstraps, one check', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const r = await bootstrapAll(port, ['same-1', 'same-2', 'same-3']);
    assert.deepEqual(r.codes, ['2.04', '2.04', '2.04']);
    assert.deepEqual(r.msgs.map((m) => m.lwm2m.outcome), ['SUCCESS', 'SUCCESS', 'SUCCESS']);
    assert.ok(isReadOnlyView(r.msgs[0].profile));
    assert.equal(r.validations, 1);
    assert.equal(viewTarget(r.msgs[2].profile), viewTarget(r.msgs[0].profile), 'one profile for all three');
    assert.notEqual(r.msgs[2].profile, r.msgs[0].profile, 'each message its own read-only view');
  });

  it('a stored profile whose values differ per device (the endpoint in a resource): one check per device', async () => {
    const port = await nextPort();
    const perDevice = { ...NOSEC_PROFILE, objects: { '11': [{ resources: { '0': 'APN', '1': 'apn-${endpoint}', '4': 3 } }] } };
    await helper.load(ALL_NODES, bootstrapFlow({ port, profiles: [perDevice] }));
    const r = await bootstrapAll(port, ['diff-1', 'diff-2', 'diff-3']);
    assert.deepEqual(r.codes, ['2.04', '2.04', '2.04']);
    assert.equal(r.validations, 3);
    const apn = dev!.received.find((q) => q.method === 'PUT' && q.path.startsWith('/11/'));
    assert.ok(apn && apn.payload.includes(Buffer.from('apn-diff-3')) && !apn.payload.includes(Buffer.from('apn-diff-2')), "the last device got its own APN, not another's");
    // the same device again: its profile is the one already checked
    const again = await bootstrapAll(port, ['diff-2']);
    assert.equal(again.validations, 0);
    assert.equal(viewTarget(again.msgs[0].profile), viewTarget(r.msgs[1].profile), 'the profile diff-2 got the first time');
    assert.notEqual(viewTarget(r.msgs[0].profile), viewTarget(r.msgs[1].profile));
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

  it('an invalid profile from upstream fails every time with the pointer and the fix, and the device gets 5.00', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port });
    patch(flow, 'n-listener', { wires: [['n-set', 'h-requests'], ['h-audit']] });
    flow.push(setProfile({ name: 'bad', servers: [{ shortServerId: 70000, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec' }] }, ['n-write']));
    await helper.load([changeNode, ...ALL_NODES], flow);
    for (const ep of ['bad-1', 'bad-2']) {
      const caught = nextMessage(helper.getNode('h-caught'));
      const audit = nextMessage(helper.getNode('h-audit'));
      await dev?.close();
      dev = await ScriptedDevice.create();
      const before = profileValidations();
      const res = await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep });
      assert.equal(res.code, '5.00');
      const c = await caught;
      assert.equal(c.error.source.id, 'n-write');
      assert.match(c.error.message, /\/servers\/0\/shortServerId: 70000 is not valid here; expected the Short Server ID/);
      assert.equal((await audit).lwm2m.outcome, 'INTERNAL_ERROR');
      assert.equal(profileValidations() - before, 1, `${ep}: checked again`);
    }
  });

  it('an invalid stored profile filled with a bad device value fails at profile-lookup every time, checked every time', async () => {
    const port = await nextPort();
    const bad = { ...NOSEC_PROFILE, servers: [{ ...NOSEC_PROFILE.servers[0], shortServerId: '${ssid}' }], templates: { ssid: 70000 } };
    await helper.load(ALL_NODES, bootstrapFlow({ port, profiles: [bad] }));
    for (const ep of ['badval-1', 'badval-2']) {
      const caught = nextMessage(helper.getNode('h-caught'));
      await dev?.close();
      dev = await ScriptedDevice.create();
      const before = profileValidations();
      // The device waits for the listener's decision timeout; the lookup's error is what is checked here.
      void dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep }).catch(() => undefined);
      const c = await caught;
      assert.equal(c.error.source.id, 'n-lookup');
      assert.match(c.error.message, /\/servers\/0\/shortServerId/);
      assert.equal(profileValidations() - before, 1, `${ep}: checked again`);
    }
  });

  it('a stored profile is frozen at deploy, so its template is read once, not once per bootstrap', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const raw = (helper.getNode('n-profiles') as unknown as { getProfile(n: string): { raw: Record<string, any> } }).getProfile('meters').raw;
    const frozen = (v: unknown): boolean => v === null || typeof v !== 'object' || (Object.isFrozen(v) && Object.values(v).every(frozen));
    assert.ok(frozen(raw), 'every object of the stored profile is frozen');
    const rec = templateRecord(raw);
    assert.equal(rec?.frozen, true);
    const r1 = await bootstrapOnce(port, 'frozen-1');
    const r2 = await bootstrapOnce(port, 'frozen-2');
    assert.deepEqual([r1.code, r2.code], ['2.04', '2.04']);
    assert.equal(templateRecord(raw), rec, 'the same record: the text was not read again');
  });
});

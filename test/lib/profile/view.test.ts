/**
 * The read-only view profile-lookup puts on msg.profile: reads like the profile, throws on every write (in
 * sloppy-mode code too, where a write to the frozen profile itself is lost without a word), and is the plain
 * validated profile to the library.
 */
import assert from 'node:assert/strict';
import * as vm from 'node:vm';
import {
  applyTemplate,
  buildBootstrapPack,
  isReadOnlyView,
  isValidatedProfile,
  planBootstrap,
  profileValidations,
  profileView,
  ReadOnlyProfileError,
  refusedEdit,
  validatedProfile,
  viewTarget,
} from '../../../lib/profile';
import { readOnlyView } from '../../../lib/profile/view';
import { REDACTED } from '../../../lib/profile/redact';
import { meters } from './fixtures';

/* eslint-disable @typescript-eslint/no-require-imports */
const cloneDeep = require('lodash.clonedeep') as <T>(v: T) => T;

type Any = Record<string, any>;

function counted<T>(f: () => T): { value: T; validations: number } {
  const before = profileValidations();
  const value = f();
  return { value, validations: profileValidations() - before };
}

/** Runs `code` as sloppy-mode script with `msg` in scope, as a Node-RED function node does. */
function sloppy(code: string, msg: Any): void {
  vm.runInNewContext(code, { msg });
}

describe('profile: the read-only view of a validated profile', () => {
  const make = () => {
    const p = applyTemplate(meters(), { endpoint: 'm-1' });
    return { p, view: profileView(p) as Any };
  };

  it('reads like the profile: keys, spread, nested arrays and their methods, the same proxy each time; JSON without the key', () => {
    const { p, view } = make();
    assert.equal(JSON.stringify(view), JSON.stringify({ ...p, servers: [{ ...p.servers![0], pskKey: REDACTED }] }));
    assert.deepEqual(view.servers[0].pskKey, { hex: '000102030405060708090a0b0c0d0e0f' }, 'code reads the key');
    assert.deepEqual(Object.keys(view), Object.keys(p));
    assert.deepEqual({ ...view }.name, 'meters');
    assert.equal(Array.isArray(view.servers), true);
    assert.equal(view.servers.length, 1);
    assert.deepEqual(view.servers.map((s: Any) => s.uri), ['coaps://dm.example.com:5684']);
    assert.deepEqual(view.servers.filter((s: Any) => s.shortServerId === 2), []);
    assert.equal([...view.servers][0].pskIdentity, 'm-1');
    assert.equal(view.servers, view.servers, 'a nested object is wrapped once');
    assert.equal(view.servers[0], view.servers[0]);
    assert.deepEqual(Object.entries(view.servers[0]).map(([k]) => k), Object.keys(p.servers![0]));
    assert.deepEqual(JSON.parse(JSON.stringify(view.servers)), JSON.parse(JSON.stringify(p.servers)), 'a nested part is not redacted on its own');
  });

  for (const [what, code, pointer] of [
    ['a changed value', 'msg.profile.servers[0].pskIdentity = "other";', '/servers/0/pskIdentity'],
    ['a new property', 'msg.profile.lifetime = 60;', '/lifetime'],
    ['a deleted property', 'delete msg.profile.servers[0].uri;', '/servers/0/uri'],
    ['an array push', 'msg.profile.servers.push({});', '/servers/1'],
    ['Object.defineProperty', 'Object.defineProperty(msg.profile, "name", { value: "x" });', '/name'],
    ['Object.assign', 'Object.assign(msg.profile.servers[0], { uri: "coap://x" });', '/servers/0/uri'],
    ['Object.setPrototypeOf', 'Object.setPrototypeOf(msg.profile, null);', ''],
    ['Object.freeze', 'Object.freeze(msg.profile.servers);', '/servers'],
  ] as const) {
    it(`throws on ${what} in sloppy-mode code, naming ${pointer || 'the root'}, and the profile keeps its value`, () => {
      const { p, view } = make();
      const before = JSON.stringify(p);
      assert.throws(
        () => sloppy(code, { profile: view }),
        (e: unknown) => {
          assert.ok(e instanceof ReadOnlyProfileError);
          assert.equal(e.pointer, pointer);
          assert.match(e.message, /^msg\.profile is read-only/);
          assert.ok(e.message.includes('msg.profile = RED.util.cloneMessage(msg.profile);'), e.message);
          return true;
        },
      );
      assert.equal(JSON.stringify(p), before);
      assert.equal(refusedEdit(view)?.pointer, pointer, 'the refused write is remembered on the root view');
    });
  }

  it('the same write on the frozen profile itself is lost without an error in sloppy mode (why the view exists)', () => {
    const { p } = make();
    sloppy('msg.profile.servers[0].pskIdentity = "other";', { profile: p });
    assert.equal(p.servers![0].pskIdentity, 'm-1');
  });

  it('deleting a property that is not there changes nothing and does not throw (RED.util.cloneMessage does it)', () => {
    const { view } = make();
    assert.equal(delete view.req, true);
    assert.equal(refusedEdit(view), undefined);
  });

  it('a deep copy (lodash cloneDeep, as RED.util.cloneMessage) is plain, editable, still without keys in JSON, and checked once more', () => {
    const { view } = make();
    const copy = cloneDeep(view);
    assert.equal(isReadOnlyView(copy), false);
    assert.equal(isReadOnlyView(copy.servers), false);
    assert.equal(isValidatedProfile(copy), false);
    assert.equal(JSON.parse(JSON.stringify(copy)).servers[0].pskKey, REDACTED);
    assert.deepEqual(copy.servers[0].pskKey, { hex: '000102030405060708090a0b0c0d0e0f' });
    copy.servers[0].pskIdentity = 'minted';
    const again = counted(() => validatedProfile(copy));
    assert.equal(again.validations, 1);
    assert.equal(again.value.servers![0].pskIdentity, 'minted');
    assert.deepEqual(again.value.servers![0].pskKey, { hex: '000102030405060708090a0b0c0d0e0f' });
    assert.throws(() => structuredClone(view), /could not be cloned/, 'structuredClone refuses a proxy: not a recipe to offer');
  });

  it('is the plain validated profile to the library: not checked again, and planned without the proxy', () => {
    const { p, view } = make();
    assert.equal(isValidatedProfile(view), true);
    assert.equal(viewTarget(view), p);
    const r = counted(() => validatedProfile(view));
    assert.equal(r.validations, 0);
    assert.equal(r.value, p, 'the frozen object behind the view');
    assert.equal(isReadOnlyView(r.value), false);
    const plan = counted(() => planBootstrap(view as never, { contentFormat: 11542 }));
    assert.equal(plan.validations, 0);
    assert.deepEqual(plan.value, planBootstrap(p, { contentFormat: 11542 }));
    assert.deepEqual(buildBootstrapPack(view as never), buildBootstrapPack(p));
  });

  it('each view remembers only its own refused writes', () => {
    const a = make().view;
    const b = make().view;
    assert.throws(() => (a.servers[0].uri = 'coap://x'), ReadOnlyProfileError);
    assert.equal(refusedEdit(a)?.operation, 'set');
    assert.equal(refusedEdit(b), undefined);
  });

  it('hands Buffers and typed arrays out as they are, and takes the message it is given', () => {
    const buf = Buffer.from('0102', 'hex');
    const target = Object.freeze({ key: buf, list: Object.freeze([1, 2]) });
    const view = readOnlyView(target, { message: (at) => `nein: ${at}` }) as Any;
    assert.equal(view.key, buf);
    assert.equal(Buffer.isBuffer(view.key), true);
    assert.throws(() => (view.list[0] = 3), { name: 'ReadOnlyProfileError', message: 'nein: /list/0' });
  });
});

describe('profile: new profiles made from parts of a view', () => {
  it('a new object with the view spread into it ({...view, name}) is checked once, and the library gets no proxy inside', () => {
    const p = applyTemplate(meters(), { endpoint: 'm-1' });
    const view = profileView(p) as Any;
    const spread: Any = { ...view, name: 'renamed' };
    assert.equal(isReadOnlyView(spread.servers), true, 'spread copies the top level only');
    const r = counted(() => validatedProfile(spread));
    assert.equal(r.validations, 1);
    assert.equal(r.value.name, 'renamed');
    assert.equal(isReadOnlyView(r.value.servers), false);
    assert.equal(r.value.servers, p.servers, 'the frozen array behind the view');
    assert.deepEqual(planBootstrap(r.value, { contentFormat: 11542 }).length, planBootstrap(p, { contentFormat: 11542 }).length);
  });

  it('a view filled again (a second profile-lookup, templates kept) gives a plain validated profile', () => {
    const p = applyTemplate({ ...meters(), templates: { region: 'eu' } }, { endpoint: 'm-1' });
    const again = applyTemplate(profileView(p) as never, { endpoint: 'm-2' });
    assert.equal(isValidatedProfile(again), true);
    assert.equal(isReadOnlyView(again.templates), false);
  });

  it('one remembered profile behind two sessions\' views: a write through one throws, and neither sees the other\'s', () => {
    // Two devices with the same values get the same ValidatedProfile from the template memo.
    const t = { ...meters(), templates: { endpoint: 'shared' } };
    const p = applyTemplate(t, { endpoint: 'same-ep' });
    assert.equal(applyTemplate(t, { endpoint: 'same-ep' }), p, 'the same profile object');
    const one = profileView(p) as Any;
    const two = profileView(p) as Any;
    assert.throws(() => sloppy('msg.profile.servers[0].pskIdentity = "mine";', { profile: one }), ReadOnlyProfileError);
    assert.ok(refusedEdit(one) instanceof ReadOnlyProfileError, 'the refusal is this view\'s');
    assert.equal(refusedEdit(two), undefined, 'not the other session\'s');
    assert.equal(two.servers[0].pskIdentity, 'same-ep');
    assert.equal(p.servers![0].pskIdentity, 'same-ep');
    assert.notEqual(one.servers, two.servers, 'each view wraps its own nested objects');
    // a copy to edit (what the error says to do) is one session's alone
    const copy = cloneDeep(two);
    copy.servers[0].pskIdentity = 'edited';
    assert.equal(one.servers[0].pskIdentity, 'same-ep');
    assert.equal(applyTemplate(t, { endpoint: 'same-ep' }).servers![0].pskIdentity, 'same-ep');
  });
});

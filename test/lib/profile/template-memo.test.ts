/**
 * applyTemplate's memo (lib/profile/template-memo.ts): the same template filled with the same values of its
 * placeholders is the same ValidatedProfile, checked once; anything else is filled and checked as before.
 */
import assert from 'node:assert/strict';
import { applyTemplate, fillProfile, profileValidations, ProfileError, type BootstrapProfile } from '../../../lib/profile';
import { MEMO_SIZE, templateMemoCounts } from '../../../lib/profile/template-memo';
import { clone, meters } from './fixtures';

function counted<T>(f: () => T): { value: T; validations: number } {
  const before = profileValidations();
  const value = f();
  return { value, validations: profileValidations() - before };
}

/** meters() with an APN object whose value is a placeholder, as a new object per test. */
function template(): BootstrapProfile {
  return { ...clone(meters()), objects: { '11': [{ resources: { '0': 'APN', '1': '${apn}', '4': 3 } }] } };
}

describe('profile: the template memo', () => {
  it('the same template with the same values gives the same profile, checked once', () => {
    const t = template();
    const r = counted(() => Array.from({ length: 5 }, () => applyTemplate(t, { endpoint: 'ep-1', apn: 'a.example' })));
    assert.equal(r.validations, 1);
    for (const p of r.value) assert.equal(p, r.value[0]);
    assert.equal(r.value[0].servers![0].pskIdentity, 'ep-1');
    assert.equal(r.value[0].objects!['11'][0].resources['1'], 'a.example');
  });

  it('values the template does not use do not make another profile (a request has many)', () => {
    const t = template();
    const r = counted(() => [1, 2, 3].map((port) => applyTemplate(t, { endpoint: 'ep-2', apn: 'a', peerPort: port, peerAddress: `10.0.0.${port}` })));
    assert.equal(r.validations, 1);
    assert.equal(r.value[1], r.value[0]);
    assert.equal(r.value[2], r.value[0]);
  });

  it('different values give different profiles, each checked, each with its own values', () => {
    const t = template();
    const r = counted(() => ['d1', 'd2', 'd3', 'd4'].map((ep) => applyTemplate(t, { endpoint: ep, apn: 'a' })));
    assert.equal(r.validations, 4);
    assert.deepEqual(r.value.map((p) => p.servers![0].pskIdentity), ['d1', 'd2', 'd3', 'd4']);
    assert.equal(new Set(r.value).size, 4);
  });

  it('a number and the same digits as text are different values', () => {
    const t: BootstrapProfile = { ...template(), servers: [{ ...meters().servers![0], lifetime: '${lifetime}' as unknown as number }] };
    const a = applyTemplate(t, { endpoint: 'e', apn: 'a', lifetime: 300 });
    assert.equal(a.servers![0].lifetime, 300);
    assert.throws(() => applyTemplate(t, { endpoint: 'e', apn: 'a', lifetime: '300' }), (e: unknown) => e instanceof ProfileError && e.issues[0].pointer === '/servers/0/lifetime');
    // fillProfile's second try with typed values finds the first profile
    const b = counted(() => fillProfile(t as unknown as Record<string, unknown>, { endpoint: 'e', apn: 'a', lifetime: '300' }, ['lifetime']));
    assert.equal(b.value, a);
  });

  it('a template changed in place is filled from its new text, not from what was remembered', () => {
    const t = template();
    const first = applyTemplate(t, { endpoint: 'e', apn: 'a' });
    assert.equal(applyTemplate(t, { endpoint: 'e', apn: 'a' }), first);
    (t.objects!['11'][0].resources as Record<string, unknown>)['0'] = 'changed';
    const after = applyTemplate(t, { endpoint: 'e', apn: 'a' });
    assert.notEqual(after, first);
    assert.equal(after.objects!['11'][0].resources['0'], 'changed');
    assert.equal(first.objects!['11'][0].resources['0'], 'APN');
  });

  it('an invalid fill is not remembered: every time it is checked and fails with its pointer and the fix', () => {
    const t: BootstrapProfile = { ...template(), servers: [{ ...meters().servers![0], shortServerId: '${ssid}' as unknown as number }] };
    const r = counted(() =>
      [1, 2, 3].map(() => {
        try {
          applyTemplate(t, { endpoint: 'e', apn: 'a', ssid: 70000 });
          return undefined;
        } catch (e) {
          return e;
        }
      }),
    );
    assert.equal(r.validations, 3);
    for (const e of r.value) {
      assert.ok(e instanceof ProfileError);
      assert.equal(e.issues[0].pointer, '/servers/0/shortServerId');
      assert.match(e.message, /70000 is not valid here; expected the Short Server ID/);
    }
    // the same template with a good value is remembered as usual
    assert.equal(counted(() => [1, 2].map(() => applyTemplate(t, { endpoint: 'e', apn: 'a', ssid: 7 }))).validations, 1);
    // a placeholder without a value: named with its pointer every time, nothing checked or remembered
    for (let i = 0; i < 2; i++) {
      assert.throws(() => applyTemplate(t, { endpoint: 'e', ssid: 7 }), (e: unknown) => e instanceof ProfileError && e.issues[0].pointer === '/objects/11/0/resources/1' && /\$\{apn\} has no value/.test(e.message));
    }
  });

  it('names given as fresh (one-time keys) are never remembered: checked every time', () => {
    const t: BootstrapProfile = { ...template(), servers: [{ ...meters().servers![0], pskKey: { hex: '${pskKey}' } }] };
    const values = { endpoint: 'e', apn: 'a', pskKey: '00112233445566778899aabbccddeeff' };
    const r = counted(() => [1, 2, 3].map(() => applyTemplate(t, values, { fresh: ['pskIdentity', 'pskKey'] })));
    assert.equal(r.validations, 3);
    assert.equal(new Set(r.value).size, 3);
    // a template that does not use them is remembered even when they are given
    const u = template();
    const s = counted(() => [1, 2, 3].map(() => applyTemplate(u, values, { fresh: ['pskIdentity', 'pskKey'] })));
    assert.equal(s.validations, 1);
  });

  it('is bounded: more distinct fills than it holds leave it at its size', () => {
    const t = template();
    const held = Array.from({ length: MEMO_SIZE + 50 }, (_, i) => applyTemplate(t, { endpoint: `bound-${i}`, apn: 'a' }));
    assert.ok(templateMemoCounts().size <= MEMO_SIZE, `size ${templateMemoCounts().size}`);
    // the oldest was pushed out: filled and checked again (a new object), the newest is still found
    const again = counted(() => applyTemplate(t, { endpoint: 'bound-0', apn: 'a' }));
    assert.equal(again.validations, 1);
    assert.notEqual(again.value, held[0]);
    assert.equal(counted(() => applyTemplate(t, { endpoint: `bound-${MEMO_SIZE + 49}`, apn: 'a' })).value, held[MEMO_SIZE + 49]);
  });

  it('a deep-frozen template (a validated profile filled again) is remembered like any other', () => {
    const base = applyTemplate({ ...template(), templates: { apn: 'frozen.apn' } }, { endpoint: 'first' });
    assert.ok(Object.isFrozen(base));
    const r = counted(() => [1, 2, 3].map(() => applyTemplate(base, { endpoint: 'x' })));
    assert.equal(r.validations, 1);
    assert.equal(r.value[2], r.value[0]);
    assert.equal(r.value[0].objects!['11'][0].resources['1'], 'frozen.apn');
  });
});

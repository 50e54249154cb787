/**
 * Secrets in msg.profile stay out of JSON (the debug sidebar, files, logs): every key position, in the view
 * and in copies RED.util.cloneMessage makes; a profile copied through JSON is refused instead of writing
 * the marker into a device as a key.
 */
import assert from 'node:assert/strict';
import { OneTimeCredentials, ProfileError, REDACTED, applyTemplate, placeholderNames, profileView, redactedProfile, templateValues, validatedProfile, validateProfile, type BootstrapProfile } from '../../../lib/profile';

/* eslint-disable @typescript-eslint/no-require-imports */
const cloneDeep = require('lodash.clonedeep') as <T>(v: T) => T;

type Any = Record<string, any>;

const PSK = '000102030405060708090a0b0c0d0e0f';
const SMS = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
const PRIV = '3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420' + '11'.repeat(32);

/** Every kind of secret a profile can hold, next to values that are not secret. */
function secretive(): BootstrapProfile {
  return {
    name: 'secretive',
    servers: [
      { shortServerId: 1, uri: 'coaps://dm.example.com:5684', securityMode: 'psk', pskIdentity: '${endpoint}', pskKey: { hex: PSK }, security: { '8': { hex: SMS } } },
      {
        shortServerId: 2,
        uri: 'coaps://dm2.example.com:5684',
        securityMode: 'rpk',
        publicKeyOrIdentity: { hex: '3059' + '22'.repeat(20) },
        serverPublicKey: { hex: '3059' + '33'.repeat(20) },
        secretKey: { hex: PRIV },
      },
    ],
    objects: { '11': [{ resources: { '0': 'internet', '1': 'apn.example', '4': 1, '5': 'apn-user', '6': 'apn-password-1' } }] },
  };
}

const SECRETS = [PSK, SMS, PRIV, 'apn-password-1'];

function assertNoSecret(text: string, what: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what}: ${s.slice(0, 12)}… must not show`);
}

describe('profile: secrets stay out of JSON', () => {
  const make = () => validatedProfile(applyTemplate(secretive(), { endpoint: 'dev-1' }));

  it('the view serializes with every key position redacted and the rest as it is; code still reads the keys', () => {
    const view = profileView(make()) as Any;
    const text = JSON.stringify(view);
    assertNoSecret(text, 'JSON of msg.profile');
    const json = JSON.parse(text) as Any;
    assert.equal(json.servers[0].pskKey, REDACTED);
    assert.equal(json.servers[0].security['8'], REDACTED);
    assert.equal(json.servers[1].secretKey, REDACTED);
    assert.equal(json.objects['11'][0].resources['6'], REDACTED);
    assert.equal(json.servers[0].pskIdentity, 'dev-1', 'identities are not secret');
    assert.deepEqual(json.servers[1].serverPublicKey, { hex: '3059' + '33'.repeat(20) }, 'public keys are not secret');
    assert.equal(json.objects['11'][0].resources['1'], 'apn.example');
    assert.deepEqual(view.servers[0].pskKey, { hex: PSK });
    assert.equal(view.objects['11'][0].resources['6'], 'apn-password-1');
    assert.equal('toJSON' in view, true);
    assert.deepEqual(Object.keys(view), ['name', 'servers', 'objects'], 'toJSON is not an own or enumerable key');
    const seen: string[] = [];
    for (const k in view) seen.push(k);
    assert.deepEqual(seen, ['name', 'servers', 'objects']);
  });

  it('a copy for a second wire (lodash cloneDeep, as RED.util.cloneMessage) is redacted too, and a copy of the copy', () => {
    const copy = cloneDeep(cloneDeep(profileView(make())) as Any);
    assertNoSecret(JSON.stringify({ payload: 'x', profile: copy }), 'JSON of a cloned msg');
    assert.deepEqual(copy.servers[0].pskKey, { hex: PSK });
    copy.servers[0].pskKey = { hex: 'ff'.repeat(16) };
    assert.deepEqual(validatedProfile(copy).servers![0].pskKey, { hex: 'ff'.repeat(16) }, 'the edited copy is a valid profile');
  });

  it('a profile that went through JSON is refused where its keys were, naming each one and what to do', () => {
    const back = JSON.parse(JSON.stringify(profileView(make()))) as BootstrapProfile;
    let err: unknown;
    try {
      validatedProfile(back);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ProfileError, 'refused');
    const issues = err.issues.map((i) => i.pointer);
    assert.deepEqual(issues.sort(), ['/objects/11/0/resources/6', '/servers/0/pskKey', '/servers/0/security/8', '/servers/1/secretKey']);
    assert.match(err.issues[0].message, /copied through JSON.*RED\.util\.cloneMessage/);
  });

  it('redactedProfile leaves the profile it copies untouched', () => {
    const p = make();
    const r = redactedProfile(p) as Any;
    assert.equal(r.servers[0].pskKey, REDACTED);
    assert.deepEqual(p.servers![0].pskKey, { hex: PSK });
  });

  it('one-time credentials: the key reads as itself, JSON and a cloneMessage copy show it redacted', () => {
    const c = new OneTimeCredentials('dev-1-abc', 'aa'.repeat(16));
    assert.equal(c.pskKey, 'aa'.repeat(16));
    assert.deepEqual(JSON.parse(JSON.stringify({ lwm2m: { credentials: c } })), { lwm2m: { credentials: { pskIdentity: 'dev-1-abc', pskKey: REDACTED, secret: true } } });
    const copy = cloneDeep({ credentials: c });
    assert.equal(copy.credentials.pskKey, 'aa'.repeat(16));
    assert.ok(!JSON.stringify(copy).includes('aa'.repeat(16)));
  });
});

describe('profile: a view or a cloneMessage copy as a template', () => {
  it('fills again with its keys (not "<redacted>"): applyTemplate, templateValues, placeholderNames', () => {
    const template = { ...secretive(), templates: { apnPw: 'apn-password-2' } } as BootstrapProfile;
    (template.objects!['11'][0].resources as Any)['6'] = '${apnPw}';
    const first = applyTemplate(template, { endpoint: 'dev-1' });
    for (const [what, t] of [
      ['view', profileView(first)],
      ['copy', cloneDeep(profileView(first))],
    ] as const) {
      assert.deepEqual(placeholderNames(t), [], what);
      assert.deepEqual(templateValues(t, { request: { endpoint: 'dev-2' } } as never).unresolved, [], what);
      const filled = applyTemplate(t as BootstrapProfile, { endpoint: `dev-${what}` }) as Any;
      assert.ok(!JSON.stringify(redactedProfile(filled)).includes('${'), what);
      assert.deepEqual(filled.servers[0].pskKey, { hex: PSK }, what);
      assert.deepEqual(filled.servers[1].secretKey, { hex: PRIV }, what);
      assert.equal(filled.objects['11'][0].resources['6'], 'apn-password-2', what);
      assert.equal(filled.servers[0].pskIdentity, 'dev-1', what);
    }
  });
});

describe('profile: copies that differ only in their keys', () => {
  it('fill to profiles with their own keys, with or without a templates section', () => {
    for (const templates of [undefined, { region: 'eu' }]) {
      const made = ['11', '22'].map((b) => {
        const t = secretive() as Any;
        t.servers[0].pskKey = { hex: b.repeat(16) };
        if (templates) t.templates = templates;
        return cloneDeep(profileView(applyTemplate(t as BootstrapProfile, { endpoint: 'dev-1' })));
      });
      const filled = made.map((c) => applyTemplate(c as BootstrapProfile, {}) as Any);
      assert.deepEqual(filled.map((f) => f.servers[0].pskKey.hex), ['11'.repeat(16), '22'.repeat(16)], `templates: ${JSON.stringify(templates)}`);
    }
  });
});

describe('profile: checks do not quote secrets', () => {
  const account = (pskKey: unknown) => ({ name: 'x', servers: [{ shortServerId: 1, uri: 'coaps://h:5684', securityMode: 'psk', pskIdentity: 'id-1', pskKey }] });
  const cases: [string, unknown, string, RegExp][] = [
    ['a hex key with a typo', { hex: '00112233445566778899aabbccddeezz' }, '/servers/0/pskKey/hex', /not valid: pairs of hex digits/],
    ['bad base64', { base64: '!!!secretpart' }, '/servers/0/pskKey/base64', /Base64/],
    ['a number', 1234567890123, '/servers/0/pskKey', /expected bytes/],
    ['a list', ['a1b2c3d4'], '/servers/0/pskKey', /expected bytes/],
  ];
  for (const [what, key, at, hint] of cases) {
    it(`${what}: the issue names the place and the form, not the value`, () => {
      const r = validateProfile(account(key));
      assert.equal(r.ok, false);
      if (r.ok) return;
      const issue = r.issues.find((i) => i.pointer === at);
      assert.ok(issue, JSON.stringify(r.issues));
      assert.match(issue.message, hint);
      assert.match(issue.message, /not shown/);
      for (const t of JSON.stringify(key).match(/[0-9A-Za-z!]{3,}/g) ?? []) if (!['hex', 'base64'].includes(t)) assert.ok(!JSON.stringify(r.issues).includes(t), `${t} quoted`);
    });
  }

  it('an APN password of the wrong type (a model check)', () => {
    const r = validateProfile({
      name: 'x',
      servers: [{ shortServerId: 1, uri: 'coap://h:5683', securityMode: 'nosec' }],
      objects: { '11': [{ resources: { '0': 'n', '1': 'apn', '4': 1, '6': 24681357 } }] },
    } as never);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const text = JSON.stringify(r.issues);
    assert.ok(!text.includes('24681357'), text);
    assert.ok(r.issues.some((i) => i.pointer === '/objects/11/0/resources/6' && /not shown.*a text/.test(i.message)), text);
  });

  it('values that are not secret are still quoted', () => {
    const r = validateProfile({ ...account({ hex: PSK }), servers: [{ ...account({ hex: PSK }).servers[0], pskIdentity: 12345 }] });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(JSON.stringify(r.issues), /12345/);
  });
});

import assert from 'node:assert/strict';
import { assertProfile, ProfileError, profileSchema, validateProfile } from '../../../lib/profile';
import type { ProfileIssue } from '../../../lib/profile';
import { clone, meters } from './fixtures';

function issuesOf(json: unknown): ProfileIssue[] {
  const r = validateProfile(json);
  assert.equal(r.ok, false, 'expected the profile to be rejected');
  return r.ok ? [] : r.issues;
}

/** Exactly one issue at `pointer`, whose message matches `re`. */
function oneIssue(json: unknown, pointer: string, re: RegExp): void {
  const issues = issuesOf(json);
  const at = issues.filter((i) => i.pointer === pointer);
  assert.equal(at.length, 1, `one issue at ${pointer}, got ${JSON.stringify(issues)}`);
  assert.match(at[0].message, re);
}

describe('profile: schema', () => {
  it('has an $id, draft 2020-12, and a description on every property', () => {
    assert.equal(profileSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.match(profileSchema.$id, /^https:\/\/.*profile\.schema\.json$/);
    const missing: string[] = [];
    (function walk(node: unknown, at: string): void {
      if (!node || typeof node !== 'object') return;
      const props = (node as { properties?: Record<string, { description?: string }> }).properties;
      for (const [k, v] of Object.entries(props ?? {})) if (!v.description) missing.push(`${at}/properties/${k}`);
      for (const [k, v] of Object.entries(node)) if (k !== 'if') walk(v, `${at}/${k}`); // "if" holds conditions, not definitions
    })(profileSchema, '#');
    assert.deepEqual(missing, []);
  });

  it('describes every set of alternatives, since those descriptions become the messages', () => {
    const bare: string[] = [];
    (function walk(node: unknown, at: string): void {
      if (!node || typeof node !== 'object') return;
      if ('anyOf' in node && !('description' in node)) bare.push(at);
      for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
    })(profileSchema, '#');
    assert.deepEqual(bare, []);
    oneIssue({ ...meters(), acl: [{ objectId: 3, objectInstanceId: 0, rights: { '1': 40 } }] }, '/acl/0/rights/1', /40 is not valid here; expected rights as a bitmask 0..31/);
  });
});

describe('profile: validateProfile accepts', () => {
  it('the PSK example, with placeholders', () => {
    const r = validateProfile(meters());
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('a full profile: nosec and x509 servers, BS rewrite, ACL, APN, device time, templates', () => {
    const p = {
      $schema: 'https://unpkg.com/node-red-contrib-lwm2m-bootstrap/lib/profile/profile.schema.json',
      name: 'full',
      contentFormat: 'senml-cbor',
      autoId: false,
      bootstrapAccountInstanceId: 0,
      delete: ['/', '/11'],
      discover: true,
      read: ['/1', '/2/0'],
      servers: [
        { shortServerId: 1, uri: 'coap://10.0.0.1:5683', securityMode: 'nosec', binding: 'UQ', notificationStoring: false, server: { '10': '11:0' } },
        {
          shortServerId: 2,
          uri: 'coaps+tcp://dm2.example.com',
          securityMode: 2,
          publicKeyOrIdentity: { base64: 'MIIB' },
          serverPublicKey: { hex: '3082' },
          secretKey: { hex: '3041' },
          ciphersuites: [49326],
          sni: 'dm2.example.com',
          securityInstanceId: 5,
          security: { '15': 3 },
        },
      ],
      bootstrapServer: { uri: 'coaps://bs.example.com:5684', securityMode: 'psk', pskIdentity: 'bs-${endpoint}', pskKey: { hex: '${bsKey}' }, clientHoldOffTime: 10, accountTimeout: 0 },
      acl: [{ objectId: 3, objectInstanceId: 0, rights: { '0': 'R', '1': 'RWE', '2': 1 }, owner: 1 }],
      objects: { '11': [{ instanceId: 0, resources: { '0': 'apn', '1': '${apn}', '4': 3, '8': ['262,01'] } }], '3': [{ resources: { '13': '2026-01-01T00:00:00Z' } }] },
      templates: { apn: 'internet.m2m', bsKey: '00112233445566778899aabbccddeeff' },
    };
    const r = validateProfile(p);
    assert.equal(r.ok, true, JSON.stringify(r));
  });
});

describe('profile: validateProfile rejects, naming the pointer and the fix', () => {
  it('a server account without a URI', () => {
    const p = clone(meters()) as unknown as { servers: Record<string, unknown>[] };
    delete p.servers[0].uri;
    oneIssue(p, '/servers/0', /missing uri \(the LwM2M Server URI/);
  });

  it('a Short Server ID out of range (0 and 65535)', () => {
    for (const bad of [0, 65535]) {
      const p = clone(meters());
      p.servers![0].shortServerId = bad;
      oneIssue(p, '/servers/0/shortServerId', /^\d+ is not valid here; expected the Short Server ID .*1\.\.65534/);
    }
  });

  it('a PSK account missing its key', () => {
    const p = clone(meters());
    delete p.servers![0].pskKey;
    oneIssue(p, '/servers/0', /a Security account in PSK mode needs pskKey \(the pre-shared key/);
    const err = (() => {
      try {
        assertProfile(p);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ProfileError);
    assert.equal(err.code, 'PROFILE');
    assert.match(err.message, /profile "meters": \/servers\/0: a Security account in PSK mode needs pskKey/);
    assert.deepEqual(err.issues.map((i) => i.pointer), ['/servers/0']);
  });

  it('an X.509 account missing its private key, an EST account without the server certificate', () => {
    oneIssue({ servers: [{ shortServerId: 3, uri: 'coaps://h', securityMode: 'x509', publicKeyOrIdentity: 'a', serverPublicKey: 'b' }] }, '/servers/0', /certificate \(X.509\) mode needs secretKey/);
    oneIssue({ servers: [{ shortServerId: 3, uri: 'coaps://h', securityMode: 4 }] }, '/servers/0', /EST mode needs serverPublicKey/);
  });

  it('duplicate Short Server IDs', () => {
    const p = clone(meters());
    p.servers!.push({ ...p.servers![0], uri: 'coaps://other' });
    oneIssue(p, '/servers/1/shortServerId', /Short Server ID 1 is already used at \/servers\/0\/shortServerId/);
  });

  it('a URI scheme that does not fit the security mode, and a URI that is not CoAP', () => {
    oneIssue({ servers: [{ shortServerId: 1, uri: 'coaps://h', securityMode: 'nosec' }] }, '/servers/0/uri', /nosec .* starts with coap:\/\//);
    const p = clone(meters());
    p.servers![0].uri = 'coap://h:5683';
    oneIssue(p, '/servers/0/uri', /psk account connects over DTLS, so its URI starts with coaps:\/\//);
    p.servers![0].uri = 'http://h';
    oneIssue(p, '/servers/0/uri', /not a CoAP scheme/);
    p.servers![0].uri = 'dm.example.com';
    oneIssue(p, '/servers/0/uri', /not a CoAP URI/);
  });

  it('credentials the mode does not use, and an empty or oversized PSK', () => {
    oneIssue({ servers: [{ shortServerId: 1, uri: 'coap://h', securityMode: 'nosec', pskKey: 'x' }] }, '/servers/0/pskKey', /nosec account takes no credentials; remove pskKey/);
    const p = clone(meters());
    p.servers![0].pskKey = { hex: '' };
    oneIssue(p, '/servers/0/pskKey', /empty/);
    p.servers![0].pskKey = { hex: '00'.repeat(65) };
    oneIssue(p, '/servers/0/pskKey', /65 bytes/);
    p.servers![0].pskKey = { hex: '0g' };
    oneIssue(p, '/servers/0/pskKey/hex', /pairs of hex digits/);
  });

  it('unknown properties, with a suggestion', () => {
    const p = clone(meters()) as unknown as { servers: Record<string, unknown>[]; sever: unknown };
    p.servers[0].lifeTime = 5;
    oneIssue(p, '/servers/0/lifeTime', /unknown property "lifeTime"; did you mean "lifetime"\?/);
  });

  it('extra resources of the wrong type, or set through a named field, or unknown', () => {
    const p = clone(meters());
    p.servers![0].security = { '17': 'OSCORE', '0': 'coaps://x' };
    p.servers![0].server = { '16': 'yes', '99': 1 };
    const issues = issuesOf(p);
    const byPointer = Object.fromEntries(issues.map((i) => [i.pointer, i.message]));
    assert.match(byPointer['/servers/0/security/17'], /object link "OID:IID"/);
    assert.match(byPointer['/servers/0/security/0'], /set through uri/);
    assert.match(byPointer['/servers/0/server/16'], /expected true or false/);
    assert.match(byPointer['/servers/0/server/99'], /has no resource 99/);
  });

  it('objects: 0/1/2 through objects, unknown objects, wrong values, missing mandatory resources, two Device instances', () => {
    const p = {
      ...meters(),
      objects: {
        '1': [{ resources: {} }],
        '4242': [{ resources: { '0': 1 } }],
        '11': [{ instanceId: 1, resources: { '0': 'apn', '4': 'none', '8': { x: '1' } } }, { instanceId: 1, resources: { '0': 'b', '4': 1 } }],
        '21': [{ resources: { '0': { hex: '01' } } }],
        '3': [{ instanceId: 1, resources: { '13': 0 } }],
      },
    };
    const byPointer = Object.fromEntries(issuesOf(p).map((i) => [i.pointer, i.message]));
    assert.match(byPointer['/objects/1'], /written through servers/);
    assert.match(byPointer['/objects/4242'], /not in the object model/);
    assert.match(byPointer['/objects/11/0/resources/4'], /expected a whole number/);
    assert.match(byPointer['/objects/11/0/resources/8'], /"x" is not a resource instance id/);
    assert.match(byPointer['/objects/11/1/instanceId'], /instance 1 of object 11 is already used/);
    assert.match(byPointer['/objects/21/0/resources'], /needs its mandatory resources: add 1 \(OSCORE Sender ID\), 2 \(OSCORE Recipient ID\)/);
    assert.match(byPointer['/objects/3'], /single instance, \/3\/0/);
  });

  it('ACL rows naming servers the device will not have, duplicates, bad rights', () => {
    const p = {
      ...meters(),
      acl: [
        { objectId: 3, objectInstanceId: 0, rights: { '0': 1, '7': 'RW' }, owner: 9 },
        { objectId: 3, objectInstanceId: 0, rights: { '1': 'RW' } },
      ],
    };
    const byPointer = Object.fromEntries(issuesOf(p).map((i) => [i.pointer, i.message]));
    assert.match(byPointer['/acl/0/owner'], /no server account in this profile has Short Server ID 9/);
    assert.match(byPointer['/acl/0/rights/7'], /Short Server ID 7/);
    assert.match(byPointer['/acl/1'], /an Access Control row for \/3\/0 is already used at \/acl\/0/);
    oneIssue({ ...meters(), acl: [{ objectId: 3, objectInstanceId: 0, rights: { '1': 'RX' } }] }, '/acl/0/rights/1', /"RX" is not valid here/);
    // with the server accounts kept on the device (no delete of /0 or /1), other SSIDs may exist there
    assert.equal(validateProfile({ ...p, acl: [p.acl[0]], delete: ['/2'] }).ok, true);
  });

  it('deletes of /3/0 and of the pinned Bootstrap-Server account; a delete that is not a path', () => {
    const p = { ...meters(), autoId: false, bootstrapAccountInstanceId: 2, delete: ['/3/0', '/0/2', '/3'] };
    const byPointer = Object.fromEntries(issuesOf(p).map((i) => [i.pointer, i.message]));
    assert.match(byPointer['/delete/0'], /\/3\/0 cannot be deleted/);
    assert.match(byPointer['/delete/1'], /Bootstrap-Server account/);
    assert.equal(byPointer['/delete/2'], undefined);
    oneIssue({ ...meters(), delete: ['/0/1/5'] }, '/delete/0', /"\/0\/1\/5" is not valid: a Bootstrap-Delete target/);
  });

  it('a server account pinned onto the Bootstrap-Server account', () => {
    const p = clone(meters());
    p.autoId = false;
    p.servers![0].securityInstanceId = 0;
    oneIssue(p, '/servers/0/securityInstanceId', /holds the Bootstrap-Server account/);
  });

  it('deleting every server account while writing none', () => {
    oneIssue({ name: 'x' }, '/servers', /deletes the device's server accounts \(\/0, \/1\) and writes none/);
    assert.equal(validateProfile({ name: 'rotate', delete: [], bootstrapServer: { uri: 'coap://bs', securityMode: 'nosec' } }).ok, true);
  });

  it('a second Bootstrap-Server account (through security extras)', () => {
    const p = clone(meters());
    p.servers![0].security = { '1': true };
    oneIssue(p, '/servers/0/security/1', /set through bootstrap flag/);
  });

  it('non-objects, with an issue at the root', () => {
    for (const bad of [null, 5, 'x', []]) assert.equal(issuesOf(bad)[0].pointer, '');
  });

  it('unresolved placeholders when asked for a resolved profile', () => {
    const r = validateProfile(meters(), { resolved: true });
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.issues.map((i) => i.pointer), ['/servers/0/pskIdentity']);
  });
});

import assert from 'node:assert/strict';
import { applyTemplate, findPlaceholders, ProfileError } from '../../../lib/profile';
import type { BootstrapProfile } from '../../../lib/profile';
import { clone, meters } from './fixtures';

function profileError(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProfileError, `expected ProfileError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ProfileError');
}

describe('profile: templates', () => {
  it('fills placeholders inside strings and keeps the value type of whole-string placeholders', () => {
    const p = clone(meters()) as unknown as Record<string, unknown> & BootstrapProfile;
    const s = p.servers![0] as unknown as Record<string, unknown>;
    s.uri = 'coaps://${host}:5684';
    s.lifetime = '${lifetime}';
    s.notificationStoring = '${store}';
    s.pskKey = { hex: '${key}' };
    const out = applyTemplate(p, { endpoint: 'urn:imei:1', host: 'dm.example.com', lifetime: 3600, store: false, key: 'aabbccddeeff00112233445566778899' });
    const o = out.servers![0];
    assert.equal(o.pskIdentity, 'urn:imei:1');
    assert.equal(o.uri, 'coaps://dm.example.com:5684');
    assert.equal(o.lifetime, 3600);
    assert.equal(o.notificationStoring, false);
    assert.deepEqual(o.pskKey, { hex: 'aabbccddeeff00112233445566778899' });
    // the input is not changed
    assert.equal(p.servers![0].pskIdentity, '${endpoint}');
  });

  it('takes defaults from templates, overridden by per-device values', () => {
    const p: BootstrapProfile = {
      ...meters(),
      objects: { '11': [{ instanceId: 0, resources: { '0': 'APN for ${apn}', '1': '${apn}', '4': 3 } }] },
      templates: { apn: 'internet.m2m', endpoint: 'default-ep' },
    };
    const a = applyTemplate(p, {});
    assert.equal(a.objects!['11'][0].resources['1'], 'internet.m2m');
    assert.equal(a.objects!['11'][0].resources['0'], 'APN for internet.m2m');
    assert.equal(a.servers![0].pskIdentity, 'default-ep');
    const b = applyTemplate(p, { apn: 'private.apn', endpoint: 'dev-7' });
    assert.equal(b.objects!['11'][0].resources['1'], 'private.apn');
    assert.equal(b.servers![0].pskIdentity, 'dev-7');
  });

  it('names the pointer of each placeholder without a value', () => {
    const p = clone(meters());
    p.servers![0].uri = 'coaps://${host}:${port}';
    const err = profileError(() => applyTemplate(p, { endpoint: 'e' }));
    assert.deepEqual(
      err.issues.map((i) => [i.pointer, i.message]),
      [
        ['/servers/0/uri', "the placeholder ${host} has no value; give it one in the device's values or in templates"],
        ['/servers/0/uri', "the placeholder ${port} has no value; give it one in the device's values or in templates"],
      ],
    );
    assert.match(err.message, /^profile "meters": 2 problems:/);
  });

  it('validates the filled-in profile: a device value that breaks it is reported at its pointer', () => {
    const p = clone(meters()) as unknown as BootstrapProfile;
    (p.servers![0] as unknown as Record<string, unknown>).shortServerId = '${ssid}';
    const err = profileError(() => applyTemplate(p, { endpoint: 'e', ssid: 70000 }));
    assert.equal(err.issues[0].pointer, '/servers/0/shortServerId');
    assert.equal(applyTemplate(p, { endpoint: 'e', ssid: 7 }).servers![0].shortServerId, 7);
  });

  it('rejects values that are not text, number or boolean', () => {
    const err = profileError(() => applyTemplate(meters(), { endpoint: { x: 1 } as unknown as string }));
    assert.match(err.issues[0].message, /\$\{endpoint\} must be a text, number or boolean/);
  });

  it('finds placeholders outside the templates section', () => {
    const p = { ...meters(), templates: { a: '${b}' } };
    assert.deepEqual(findPlaceholders(p), [{ pointer: '/servers/0/pskIdentity', name: 'endpoint' }]);
  });
});

/**
 * A profile object found valid is not checked again while it stays the same (a bootstrap validates the
 * same object in applyTemplate, object-write and planBootstrap); any change makes it checked again.
 */
import assert from 'node:assert/strict';
import { applyTemplate, findPlaceholders, validateProfile } from '../../../lib/profile';
import type { BootstrapProfile } from '../../../lib/profile';
import { meters } from './fixtures';

function resolvedMeters(): BootstrapProfile {
  return applyTemplate(meters(), { endpoint: 'm-1' });
}

describe('profile: validation of the same object again', () => {
  it('finds an object changed in place since it was valid invalid', () => {
    const p = resolvedMeters();
    assert.equal(validateProfile(p).ok, true);
    assert.equal(validateProfile(p, { resolved: true }).ok, true);
    (p.servers as { uri: string }[])[0].uri = 'http://dm.example.com';
    const r = validateProfile(p);
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.issues.map((i) => i.pointer), ['/servers/0/uri']);
    (p.servers as { uri: string }[])[0].uri = 'coaps://dm.example.com:5684';
    assert.equal(validateProfile(p).ok, true);
  });

  it('finds a property added since invalid, and a placeholder put back unresolved', () => {
    const p = resolvedMeters();
    assert.equal(validateProfile(p, { resolved: true }).ok, true);
    (p as unknown as Record<string, unknown>).lifetme = 300;
    assert.equal(validateProfile(p).ok, false);
    delete (p as unknown as Record<string, unknown>).lifetme;
    assert.equal(validateProfile(p, { resolved: true }).ok, true);
    (p.servers as { pskIdentity: string }[])[0].pskIdentity = '${endpoint}';
    assert.equal(validateProfile(p).ok, true, 'placeholders are allowed unresolved');
    assert.equal(validateProfile(p, { resolved: true }).ok, false, 'but not in a resolved profile');
  });

  it('checks as resolved an object so far only valid with placeholders allowed', () => {
    const p = meters();
    assert.equal(validateProfile(p).ok, true);
    assert.equal(validateProfile(p, { resolved: true }).ok, false);
    assert.equal(validateProfile(p).ok, true);
  });

  it('returns the object itself, as before', () => {
    const p = resolvedMeters();
    const a = validateProfile(p);
    const b = validateProfile(p);
    assert.ok(a.ok && b.ok && a.profile === p && b.profile === p);
  });

  it('names the pointer of placeholders at any depth, escaping ~ and /', () => {
    const p = {
      ...meters(),
      objects: { '11': [{ resources: { '1': 'apn-${apn}', '2': ['x', '${a}${b}'], 'a/b~c': '${k}' } }] },
    };
    assert.deepEqual(findPlaceholders(p), [
      { pointer: '/servers/0/pskIdentity', name: 'endpoint' },
      { pointer: '/objects/11/0/resources/1', name: 'apn' },
      { pointer: '/objects/11/0/resources/2/1', name: 'a' },
      { pointer: '/objects/11/0/resources/2/1', name: 'b' },
      { pointer: '/objects/11/0/resources/a~1b~0c', name: 'k' },
    ]);
    assert.deepEqual(findPlaceholders('${x}', '/at'), [{ pointer: '/at', name: 'x' }]);
    assert.deepEqual(findPlaceholders({ templates: { a: '${b}' } }, '/inner'), [{ pointer: '/inner/templates/a', name: 'b' }]);
  });
});

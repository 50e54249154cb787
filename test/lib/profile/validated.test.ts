/**
 * ValidatedProfile: made only by the validator (applyTemplate, fillProfile, validatedProfile), frozen, and
 * taken by planBootstrap and buildBootstrapPack without a second check; a plain object is checked once.
 */
import assert from 'node:assert/strict';
import {
  applyTemplate,
  buildBootstrapPack,
  findPlaceholders,
  isValidatedProfile,
  planBootstrap,
  ProfileError,
  profileValidations,
  validatedProfile,
  type ValidatedProfile,
} from '../../../lib/profile';
import { ObjectRegistry } from '../../../lib/model/registry';
import { clone, meters } from './fixtures';

function counted<T>(f: () => T): { value: T; validations: number } {
  const before = profileValidations();
  const value = f();
  return { value, validations: profileValidations() - before };
}

describe('profile: ValidatedProfile, checked once', () => {
  it('applyTemplate validates the filled profile once and brands it', () => {
    const r = counted(() => applyTemplate(meters(), { endpoint: 'm-1' }));
    assert.equal(r.validations, 1);
    assert.equal(isValidatedProfile(r.value), true);
    assert.equal(isValidatedProfile(meters()), false);
  });

  it('planBootstrap and buildBootstrapPack take it without checking again', () => {
    const p = applyTemplate(meters(), { endpoint: 'm-1' });
    const plan = counted(() => planBootstrap(p, { contentFormat: 11542 }));
    assert.ok(plan.value.length > 0);
    assert.equal(plan.validations, 0);
    assert.equal(counted(() => buildBootstrapPack(p)).validations, 0);
    assert.equal(counted(() => validatedProfile(p)).validations, 0);
  });

  it('is frozen, deep: it cannot become invalid after the check', () => {
    const p = applyTemplate(meters(), { endpoint: 'm-1' });
    assert.throws(() => {
      (p.servers as { uri: string }[])[0].uri = 'http://dm.example.com';
    }, TypeError);
    assert.throws(() => {
      (p as unknown as Record<string, unknown>).lifetme = 300;
    }, TypeError);
    assert.equal(p.servers![0].uri, 'coaps://dm.example.com:5684');
  });

  it('a copy is a plain profile again, checked once where it reaches the library', () => {
    const p = applyTemplate(meters(), { endpoint: 'm-1' });
    const copy = clone(p);
    assert.equal(isValidatedProfile(copy), false);
    const again = counted(() => validatedProfile(copy));
    assert.equal(again.validations, 1);
    assert.equal(isValidatedProfile(again.value), true);
    // A JavaScript caller (or a cast) handing planBootstrap an unchecked object: checked there, once.
    const plain = clone(p) as ValidatedProfile;
    assert.equal(counted(() => planBootstrap(plain, { contentFormat: 11542 })).validations, 1);
    assert.equal(counted(() => planBootstrap(plain, { contentFormat: 11542 })).validations, 0, 'and branded by that check');
  });

  it('an invalid or unresolved profile is a ProfileError naming the pointer, and is not branded', () => {
    const unresolved = meters();
    assert.throws(
      () => validatedProfile(unresolved),
      (e: unknown) => e instanceof ProfileError && e.issues[0].pointer === '/servers/0/pskIdentity' && /placeholder \$\{endpoint\} has no value/.test(e.message),
    );
    assert.equal(isValidatedProfile(unresolved), false);
    assert.equal(Object.isFrozen(unresolved), false, 'a refused profile is left as it was');
    const bad = { name: 'bad', servers: [{ shortServerId: 70000, uri: 'coap://dm', securityMode: 'nosec' }] };
    assert.throws(
      () => validatedProfile(bad),
      (e: unknown) => e instanceof ProfileError && e.profileName === 'bad' && e.issues[0].pointer === '/servers/0/shortServerId',
    );
  });

  it('a profile checked against one object model is checked again for another', () => {
    const p = applyTemplate(meters(), { endpoint: 'm-1' });
    const other = new ObjectRegistry();
    assert.equal(isValidatedProfile(p, other), false);
    const r = counted(() => {
      try {
        return validatedProfile(p, { model: other });
      } catch (e) {
        return e;
      }
    });
    assert.equal(r.validations, 1);
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

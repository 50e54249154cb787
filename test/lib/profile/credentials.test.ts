import assert from 'node:assert/strict';
import { applyTemplate, CredentialsError, generatePskCredentials, pskTemplateValues } from '../../../lib/profile';
import type { BootstrapProfile } from '../../../lib/profile';

describe('profile: one-time PSK credentials', () => {
  it('makes a 16-byte key and a prefixed random identity by default', () => {
    const c = generatePskCredentials({ identityPrefix: 'dev-1:' });
    assert.equal(c.key.length, 16);
    assert.match(c.identity, /^dev-1:[0-9a-f]{16}$/);
  });

  it('never repeats itself', () => {
    const keys = new Set<string>();
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = generatePskCredentials({ keyBytes: 32 });
      assert.equal(c.key.length, 32);
      keys.add(c.key.toString('hex'));
      ids.add(c.identity);
    }
    assert.equal(keys.size, 200);
    assert.equal(ids.size, 200);
  });

  it('rejects key sizes outside 16..64 and identities over 128 bytes', () => {
    for (const keyBytes of [8, 65, 16.5]) {
      assert.throws(() => generatePskCredentials({ keyBytes }), (e: unknown) => e instanceof CredentialsError && e.option === 'keyBytes');
    }
    assert.throws(() => generatePskCredentials({ identityPrefix: 'x'.repeat(120) }), /128 bytes/);
  });

  it('fills a profile written for generated credentials', () => {
    const c = generatePskCredentials();
    const p: BootstrapProfile = {
      servers: [{ shortServerId: 1, uri: 'coaps://h:5684', securityMode: 'psk', pskIdentity: '${pskIdentity}', pskKey: { hex: '${pskKey}' } }],
    };
    const out = applyTemplate(p, pskTemplateValues(c));
    assert.equal(out.servers![0].pskIdentity, c.identity);
    assert.deepEqual(out.servers![0].pskKey, { hex: c.key.toString('hex') });
  });
});

/** The leak check finds a key in each spelling it claims to know, and only that key. */
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { assertNoKey, keySpellings } from './no-secret';

describe('assertNoKey (test support)', () => {
  const key = Buffer.from('00ff10e3a1b2c3d4e5f60718293a4b5c', 'hex');
  const other = Buffer.from('11ff10e3a1b2c3d4e5f60718293a4b5d', 'hex');
  const leaks: [string, (k: Buffer) => string | Buffer][] = [
    ['lower-case hex', (k) => `psk=${k.toString('hex')}`],
    ['upper-case hex', (k) => `PSK=${k.toString('hex').toUpperCase()}`],
    ['base64', (k) => `k:${k.toString('base64')}`],
    ['base64url', (k) => `k:${k.toString('base64url')}`],
    ['a serialised Buffer', (k) => JSON.stringify({ msg: { key: k } })],
    ['util.inspect of a Buffer', (k) => inspect({ key: k })],
    ['util.inspect of the byte array', (k) => inspect([...k])],
    ['the raw bytes as text', (k) => `key ${k.toString('latin1')} end`],
    ['the raw bytes in a JSON string', (k) => JSON.stringify({ k: k.toString('latin1') })],
    ['the raw bytes in a file', (k) => Buffer.concat([Buffer.from('header '), k, Buffer.from(' trailer')])],
  ];
  for (const [how, leak] of leaks) {
    it(`finds the key as ${how}, and not another key spelled the same way`, () => {
      assert.throws(() => assertNoKey(leak(key), key, 'here'), /^AssertionError.*here: the key/);
      assert.throws(() => assertNoKey(leak(key), key.toString('hex'), 'here'), /here: the key/, 'the key given as hex');
      assertNoKey(leak(other), key, 'here');
    });
  }

  it('refuses an empty key (it would match everything)', () => {
    assert.throws(() => keySpellings(Buffer.alloc(0)), /empty key/);
  });
});

/**
 * Unit tests of a CoAPs listener's PSK key parsing (lib/keys/psk.ts): errors never echo a key. No sockets.
 */
import assert from 'node:assert/strict';
import { parsePskKeys, PskKeyError } from '../../../lib/keys';

describe('listener PSK keys from the credential field', () => {
  const KEY = '00112233445566778899aabbccddeeff';

  it('reads "identity = hexkey" lines, comments and blank lines, and ; as a separator', () => {
    const m = parsePskKeys(`# demo\n dev-1 = ${KEY}\n\nurn:imei:1 = 0A0B ; x=y = ff\n`);
    assert.deepEqual([...m.keys()], ['dev-1', 'urn:imei:1', 'x=y']);
    assert.equal(m.get('dev-1')!.key.toString('hex'), KEY);
    assert.equal(m.get('urn:imei:1')!.key.toString('hex'), '0a0b');
    assert.equal(m.get('x=y')!.key.toString('hex'), 'ff', 'the last " = " splits');
  });

  it('reads a JSON object of identity -> hex key, or -> {key, endpoint}', () => {
    const m = parsePskKeys(JSON.stringify({ a: KEY, b: { key: 'ff00', endpoint: 'meter-b' } }));
    assert.equal(m.get('a')!.key.toString('hex'), KEY);
    assert.equal(m.get('b')!.endpoint, 'meter-b');
  });

  it('empty text or an unresolved ${VAR} is no keys', () => {
    assert.equal(parsePskKeys('').size, 0);
    assert.equal(parsePskKeys('${DEMO_PSK_KEYS}').size, 0);
  });

  const bad: [string, string, RegExp][] = [
    ['not hex', `dev-1 = ${KEY}zz`, /line 1.*dev-1.*hex/],
    ['odd length', `dev-1 = ${KEY}0`, /line 1.*dev-1.*hex/],
    ['no =', `dev-1 ${KEY}`, /line 1/],
    ['empty identity', ` = ${KEY}`, /line 1.*identity/],
    ['duplicate identity', `a = ${KEY}\na = ${KEY}`, /line 2.*"a".*twice/],
    ['bad JSON', `{"a": "${KEY}"`, /JSON/],
    ['JSON value not a key', `{"a": 5}`, /"a"/],
  ];
  for (const [name, text, re] of bad) {
    it(`refuses ${name} with a reason that does not echo the key`, () => {
      assert.throws(
        () => parsePskKeys(text),
        (e: Error) => {
          assert.ok(e instanceof PskKeyError);
          assert.match(e.message, re);
          assert.ok(!e.message.toLowerCase().includes(KEY.slice(0, 12)), e.message);
          return true;
        },
      );
    });
  }
});

/**
 * Unit tests of the endpoint/identity binding rule (lib/dtls/endpoint-binding.ts) the CoAPs listener
 * applies to every Bootstrap-Request, and of the listener's PSK key parsing (errors never echo a key).
 * No sockets: pure functions.
 */
import assert from 'node:assert/strict';
import { checkEndpointBinding } from '../../lib/dtls/endpoint-binding';
import { parsePskKeys, PskKeyError } from '../../nodes/bootstrap-listener/psk-keys';

describe('endpoint/identity binding rule', () => {
  const cases: [string, Parameters<typeof checkEndpointBinding>, ReturnType<typeof checkEndpointBinding>][] = [
    ['ep equal to the PSK identity belongs', ['dev-1', { type: 'psk', id: 'dev-1' }], { ok: true, by: 'identity' }],
    ['another ep does not', ['dev-2', { type: 'psk', id: 'dev-1' }], { ok: false, reason: 'not-bound' }],
    ['the store naming the ep for the identity', ['meter-7', { type: 'psk', id: 'sim-8949' }, ['meter-7']], { ok: true, by: 'store' }],
    ['the store naming another ep', ['meter-8', { type: 'psk', id: 'sim-8949' }, ['meter-7']], { ok: false, reason: 'not-bound' }],
    ['certificate CN', ['urn:dev:cert1', { type: 'x509', id: 'urn:dev:cert1', san: [] }], { ok: true, by: 'identity' }],
    ['certificate SAN', ['node-9.example', { type: 'x509', id: 'CN-X', san: ['urn:x', 'node-9.example'] }], { ok: true, by: 'san' }],
    ['a SAN on a PSK identity is ignored', ['b', { type: 'psk', id: 'a', san: ['b'] }], { ok: false, reason: 'not-bound' }],
    ['no identity never belongs', ['dev-1', undefined], { ok: false, reason: 'no-identity' }],
    ['an empty identity never belongs', ['', { type: 'psk', id: '' }], { ok: false, reason: 'no-identity' }],
    ['case matters (endpoint names are exact)', ['DEV-1', { type: 'psk', id: 'dev-1' }], { ok: false, reason: 'not-bound' }],
  ];
  for (const [name, args, expected] of cases) {
    it(name, () => assert.deepEqual(checkEndpointBinding(...args), expected));
  }
});

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

describe('listener dialog defaults for CoAPs', () => {
  it('are lib/dtls defaults (max peers, handshake and idle timeout), and the binding check is on', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('fs') as typeof import('fs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DTLS_DEFAULTS } = require('../../lib/dtls') as typeof import('../../lib/dtls');
    const html = fs.readFileSync(require.resolve('../../../nodes/bootstrap-listener/bootstrap-listener.html'), 'utf8');
    const dflt = (name: string) => new RegExp(`${name}: \\{ value: '([^']*)'`).exec(html)?.[1];
    assert.equal(dflt('maxPeers'), String(DTLS_DEFAULTS.maxPeers));
    assert.equal(dflt('handshakeTimeout'), String(DTLS_DEFAULTS.handshakeTimeoutMs / 1000));
    assert.equal(dflt('idleTimeout'), String(DTLS_DEFAULTS.idleTimeoutMs / 1000));
    assert.equal(dflt('handshakeRate'), String(DTLS_DEFAULTS.handshakesPerSourcePerSecond));
    assert.equal(dflt('maxHalfOpenPerSource'), String(DTLS_DEFAULTS.maxHalfOpenPerSource));
    assert.equal(dflt('halfOpenTimeout'), String(DTLS_DEFAULTS.halfOpenTimeoutMs / 1000));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { LIMIT_DEFAULTS } = require('../../nodes/bootstrap-listener/settings') as typeof import('../../nodes/bootstrap-listener/settings');
    assert.equal(dflt('maxPendingPerSource'), String(LIMIT_DEFAULTS.maxPendingPerSource));
    assert.equal(dflt('maxEndpointBytes'), String(LIMIT_DEFAULTS.maxEndpointBytes));
    assert.equal(dflt('bindingCheck'), 'on');
    assert.equal(dflt('bindingCode'), '4.03');
  });
});

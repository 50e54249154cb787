/**
 * Unit tests of the endpoint/identity binding rule (lib/dtls/endpoint-binding.ts) the CoAPs listener
 * applies to every Bootstrap-Request. No sockets: a pure function.
 */
import assert from 'node:assert/strict';
import { checkEndpointBinding } from '../../../lib/dtls/endpoint-binding';

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

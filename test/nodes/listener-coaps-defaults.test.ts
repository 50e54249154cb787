/**
 * The CoAPs listener's dialog defaults match the library's (lib/dtls) and the listener's limits. The binding
 * rule and PSK parsing are tested under test/lib (dtls/endpoint-binding, keys/psk).
 */
import assert from 'node:assert/strict';

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

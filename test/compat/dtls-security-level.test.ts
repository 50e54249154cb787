/**
 * Node 22 ships OpenSSL 3.5, which allows the CCM_8 suites only at security level 0: without it a device offering
 * TLS_PSK_WITH_AES_128_CCM_8 (mandatory in LwM2M) got "no shared cipher" there, while Node 20 (OpenSSL 3.0) worked.
 * The handshake itself is tested by test/lib/dtls on whichever Node runs the suite (scripts/compat-check.sh runs
 * it on Node 22); this pins the rule for both OpenSSL lines on any Node.
 */
import assert from 'node:assert/strict';
import { defaultSecurityLevel, nativeOptions } from '../../lib/dtls/config';
import { MemoryPskStore } from '../../lib/dtls';

const DEFAULT = 'PSK-AES128-CCM8:PSK-AES128-CBC-SHA256:ECDHE-ECDSA-AES128-CCM8:ECDHE-ECDSA-AES128-GCM-SHA256';

describe('DTLS security level for the CCM_8 suites', function () {
  it('is 0 on OpenSSL 3.2 and newer when a CCM_8 suite is configured', function () {
    assert.equal(defaultSecurityLevel(DEFAULT, '3.5.9'), 0);
    assert.equal(defaultSecurityLevel('PSK-AES128-CCM8', '3.2.0'), 0);
    assert.equal(defaultSecurityLevel('ECDHE-ECDSA-AES128-CCM8', '4.0.0'), 0);
  });

  it('stays OpenSSL\'s default on OpenSSL 3.0 and 3.1, and without a CCM_8 suite', function () {
    assert.equal(defaultSecurityLevel(DEFAULT, '3.0.19'), undefined);
    assert.equal(defaultSecurityLevel(DEFAULT, '3.1.4'), undefined);
    assert.equal(defaultSecurityLevel('PSK-AES128-CBC-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256', '3.5.9'), undefined);
    assert.equal(defaultSecurityLevel(DEFAULT, ''), undefined, 'no OpenSSL version: no guess');
  });

  it('leaves a level the options name alone, and applies the rule to the default suites in this Node', function () {
    const log = {};
    const psk = new MemoryPskStore();
    assert.equal(nativeOptions({ psk, securityLevel: 1 }, log).securityLevel, 1);
    const expected = defaultSecurityLevel(DEFAULT, process.versions.openssl);
    assert.equal(nativeOptions({ psk }, log).securityLevel, expected);
    assert.equal(nativeOptions({ psk, ciphers: ['TLS_PSK_WITH_AES_128_CBC_SHA256'] }, log).securityLevel, undefined);
  });
});

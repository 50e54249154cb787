import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { createDtlsSocket, dtlsCapabilities, DtlsError, loadDtls, MemoryPskStore } from '../../../lib/dtls';

describe('DTLS addon loading and capabilities', function () {
  it('loads the addon built in this tree', () => {
    const r = loadDtls();
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(r.binding.opensslVersion().split(' ')[1], process.versions.openssl);
  });

  it('reports why, without throwing, when the addon is not there', () => {
    const r = loadDtls('/nonexistent-folder');
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.reason, /^cannot load the DTLS addon from \/nonexistent-folder: No native build was found/);
  });

  it('keeps the module usable when DTLS is off, and says so', () => {
    const dtlsIndex = path.resolve(__dirname, '../../../lib/dtls/index.js');
    const script = `
      const d = require(${JSON.stringify(dtlsIndex)});
      const caps = d.dtlsCapabilities();
      let thrown;
      try { d.createDtlsSocket({ psk: new d.MemoryPskStore() }); } catch (e) { thrown = e.name + ': ' + e.message; }
      process.stdout.write(JSON.stringify({ load: d.loadDtls(), available: caps.available, reason: caps.reason, thrown }));`;
    const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, LWM2M_DTLS_DISABLE: '1' } }).toString();
    assert.deepEqual(JSON.parse(out), {
      load: { ok: false, reason: 'disabled by LWM2M_DTLS_DISABLE=1' },
      available: false,
      reason: 'disabled by LWM2M_DTLS_DISABLE=1',
      thrown: 'DtlsUnavailableError: DTLS is not available: disabled by LWM2M_DTLS_DISABLE=1',
    });
  });

  it('lists the cipher suites, and says why raw public keys are unavailable where they are', () => {
    const caps = dtlsCapabilities();
    assert.equal(caps.available, true);
    assert.deepEqual(
      caps.cipherSuites.map((c) => [c.iana, c.available]),
      [
        ['TLS_PSK_WITH_AES_128_CCM_8', true],
        ['TLS_PSK_WITH_AES_128_CBC_SHA256', true],
        ['TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', true],
        ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', true],
        ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', true],
      ],
    );
    assert.equal(caps.psk.available, true);
    assert.equal(caps.x509.available, true);
    const [maj, min] = (process.versions.openssl ?? '0.0').split('.').map(Number);
    if (maj < 3 || (maj === 3 && min < 2)) {
      assert.equal(caps.rpk.available, false);
      assert.match(caps.rpk.reason ?? '', /need OpenSSL 3\.2 or newer/);
      assert.ok(caps.rpk.reason?.endsWith(`Node.js ${process.version} has OpenSSL ${process.versions.openssl}`), caps.rpk.reason);
    } else {
      assert.deepEqual(caps.rpk, { available: true });
    }
    assert.equal(caps.connectionId.available, false);
  });

  it('refuses bad options with DtlsErrors that say what is wrong', () => {
    const psk = new MemoryPskStore();
    assert.throws(() => createDtlsSocket({}), (e: unknown) => e instanceof DtlsError && /PSK store \(psk\), a certificate \(cert and key\) or raw public keys/.test(e.message));
    assert.throws(() => createDtlsSocket({ psk, ciphers: ['NOT-A-SUITE'] }), (e: unknown) => e instanceof DtlsError && e.dtlsCode === 'DTLS_CIPHERS');
    assert.throws(() => createDtlsSocket({ psk, ciphers: ['bad name;'] }), (e: unknown) => e instanceof DtlsError && e.dtlsCode === 'DTLS_CIPHERS');
    assert.throws(
      () => createDtlsSocket({ cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key: 'x' }),
      (e: unknown) => e instanceof DtlsError && e.dtlsCode === 'DTLS_CERT',
    );
    assert.throws(() => createDtlsSocket({ psk, maxPeers: 0 }), (e: unknown) => e instanceof DtlsError && /maxPeers/.test(e.message));
    assert.throws(() => createDtlsSocket({ psk, mtu: 100 }), (e: unknown) => e instanceof DtlsError && /mtu/.test(e.message));
  });

  it('refuses the dgram methods it does not implement', () => {
    const s = createDtlsSocket({ psk: new MemoryPskStore() });
    assert.throws(() => (s as unknown as { addMembership(a: string): void }).addMembership('224.0.1.187'), /addMembership\(\) is not available on a DTLS socket/);
    s.close();
  });
});

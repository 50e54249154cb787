/** What DTLS can do in this process, and why not when it cannot. */
import { loadDtls } from './binding';
import { CIPHER_SUITES } from './ciphers';

export interface Capability {
  available: boolean;
  reason?: string;
}

export interface DtlsCapabilities extends Capability {
  /** OpenSSL inside this Node.js (process.versions.openssl). */
  openssl: string | undefined;
  /** OpenSSL version string the addon sees at run time. */
  addonOpenssl?: string;
  psk: Capability;
  x509: Capability;
  /** Raw public keys (RFC 7250). */
  rpk: Capability;
  /** DTLS Connection ID (RFC 9146). */
  connectionId: Capability;
  cipherSuites: { iana: string; openssl: string; auth: 'psk' | 'x509'; available: boolean }[];
}

function opensslAtLeast(version: string | undefined, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

export function dtlsCapabilities(): DtlsCapabilities {
  const openssl = process.versions.openssl;
  const loaded = loadDtls();
  const rpk: Capability = opensslAtLeast(openssl, 3, 2)
    ? { available: false, reason: `OpenSSL ${openssl} could do raw public keys, but this addon does not implement them yet` }
    : {
        available: false,
        reason: `raw public keys (RFC 7250) need OpenSSL 3.2 or newer; Node.js ${process.version} has OpenSSL ${openssl ?? 'none'}`,
      };
  const connectionId: Capability = { available: false, reason: 'OpenSSL has no DTLS 1.2 Connection ID (RFC 9146)' };
  if (!loaded.ok) {
    const off: Capability = { available: false, reason: loaded.reason };
    return {
      available: false,
      reason: loaded.reason,
      openssl,
      psk: off,
      x509: off,
      rpk,
      connectionId,
      cipherSuites: CIPHER_SUITES.map((c) => ({ ...c, available: false })),
    };
  }
  const b = loaded.binding;
  const cipherSuites = CIPHER_SUITES.map((c) => ({ ...c, available: b.cipherAvailable(c.openssl) }));
  const has = (auth: 'psk' | 'x509'): Capability =>
    cipherSuites.some((c) => c.auth === auth && c.available)
      ? { available: true }
      : { available: false, reason: `no ${auth} cipher suite is available in OpenSSL ${openssl}` };
  return {
    available: true,
    openssl,
    addonOpenssl: b.opensslVersion(),
    psk: has('psk'),
    x509: has('x509'),
    rpk,
    connectionId,
    cipherSuites,
  };
}

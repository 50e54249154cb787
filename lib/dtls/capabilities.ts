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

/**
 * Raw public keys: the addon asks the node binary for OpenSSL 3.2's RFC 7250 functions at load time, so the
 * answer is the addon's (a Node built with a shared system OpenSSL may differ from process.versions.openssl).
 */
export function rpkCapability(): Capability {
  const openssl = process.versions.openssl;
  const loaded = loadDtls();
  if (!loaded.ok) return { available: false, reason: loaded.reason };
  if (loaded.binding.rpkAvailable?.()) return { available: true };
  if (typeof loaded.binding.rpkAvailable !== 'function') {
    return { available: false, reason: 'the DTLS addon in use predates raw public key support; rebuild it (npm run build:addon)' };
  }
  return {
    available: false,
    reason: opensslAtLeast(openssl, 3, 2)
      ? `OpenSSL ${openssl} in Node.js ${process.version} does not export the raw public key functions`
      : `raw public keys (RFC 7250) need OpenSSL 3.2 or newer (recent Node.js 22 releases and Node.js 24 ship 3.5); Node.js ${process.version} has OpenSSL ${openssl ?? 'none'}`,
  };
}

export function dtlsCapabilities(): DtlsCapabilities {
  const openssl = process.versions.openssl;
  const loaded = loadDtls();
  const rpk = rpkCapability();
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

/** DTLS 1.2 cipher suites: IANA names (as in RFC and LwM2M texts) to OpenSSL names. */
import { DtlsError } from './errors';

export interface CipherSuite {
  iana: string;
  openssl: string;
  auth: 'psk' | 'x509';
}

/**
 * The suites we offer by default, in preference order: the ones LwM2M makes a server support (PSK: CCM_8 and
 * CBC_SHA256; certificates and raw public keys: ECDHE-ECDSA CCM_8 and CBC_SHA256) plus ECDHE-ECDSA GCM.
 * CCM_8 is what constrained clients offer (tinydtls offers nothing else).
 */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  { iana: 'TLS_PSK_WITH_AES_128_CCM_8', openssl: 'PSK-AES128-CCM8', auth: 'psk' },
  { iana: 'TLS_PSK_WITH_AES_128_CBC_SHA256', openssl: 'PSK-AES128-CBC-SHA256', auth: 'psk' },
  { iana: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', openssl: 'ECDHE-ECDSA-AES128-CCM8', auth: 'x509' },
  { iana: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', openssl: 'ECDHE-ECDSA-AES128-GCM-SHA256', auth: 'x509' },
  // LwM2M 1.1/1.2 make a server support this one beside CCM_8 for RPK and X.509 (clients should not pick CBC,
  // so it comes last; EtM is negotiated when the client offers it).
  { iana: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', openssl: 'ECDHE-ECDSA-AES128-SHA256', auth: 'x509' },
];

export const DEFAULT_CIPHER_SUITES: readonly string[] = CIPHER_SUITES.map((c) => c.iana);

/** Maps IANA names to OpenSSL names (OpenSSL names pass through) and joins them for SSL_CTX_set_cipher_list. */
export function opensslCipherList(names: readonly string[]): string {
  if (names.length === 0) throw new DtlsError('DTLS_CIPHERS', 'the cipher suite list is empty');
  return names
    .map((n) => {
      const known = CIPHER_SUITES.find((c) => c.iana === n || c.openssl === n);
      if (known) return known.openssl;
      if (!/^[A-Za-z0-9_-]+$/.test(n)) throw new DtlsError('DTLS_CIPHERS', `"${n}" is not a cipher suite name`);
      return n; // any other OpenSSL name; one OpenSSL does not know is reported when the context is made
    })
    .join(':');
}

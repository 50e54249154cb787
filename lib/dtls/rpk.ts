/**
 * Raw public keys (RFC 7250): how a device's public key is written down, recognised and trusted.
 *
 * On the wire a raw public key is a SubjectPublicKeyInfo (SPKI, DER). Operators meet the same key in other
 * shapes: a PEM "PUBLIC KEY" block, base64 or hex of the SPKI, or (what constrained clients such as tinydtls
 * and many LwM2M Security objects hold) the bare uncompressed P-256 point, 04||x||y or x||y. `parseRawPublicKey`
 * turns any of these into the canonical SPKI DER, and a key is named by the SHA-256 of that DER (hex), the
 * same value DANE's "3 1 1" records and `openssl pkey -pubin -outform DER | sha256sum` give.
 */
import { createHash, createPublicKey } from 'crypto';
import { DtlsError } from './errors';
import type { RpkStore } from './types';

/** DER prefix of a SubjectPublicKeyInfo for an uncompressed NIST P-256 point (id-ecPublicKey, prime256v1). */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** The SHA-256 of a SubjectPublicKeyInfo DER, lowercase hex: the id of a raw-public-key identity. */
export function rpkFingerprint(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

function spkiOf(der: Buffer): Buffer | undefined {
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/**
 * A public key in any of the usual shapes -> canonical SPKI DER. Throws DtlsError('DTLS_RPK_KEY') with a
 * message that says which shapes are accepted (public keys are not secret, but the text is not repeated).
 */
export function parseRawPublicKey(input: string | Buffer): Buffer {
  let der: Buffer | undefined;
  if (Buffer.isBuffer(input)) der = input;
  else {
    const text = input.trim();
    if (text.includes('-----BEGIN')) {
      // PEM, also squeezed onto one line (as in a one-line list of keys): the base64 between the markers.
      const m = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----$/.exec(text);
      const body = m && Buffer.from(m[1].replace(/\s/g, ''), 'base64');
      const spki = body && spkiOf(body);
      if (!spki) throw new DtlsError('DTLS_RPK_KEY', 'the PEM block is not a public key (expected -----BEGIN PUBLIC KEY-----)');
      return spki;
    }
    const compact = text.replace(/[\s:]/g, '');
    if (/^(?:[0-9a-fA-F]{2})+$/.test(compact)) der = Buffer.from(compact, 'hex');
    else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) der = Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
  }
  if (der && der.length === 65 && der[0] === 0x04) der = Buffer.concat([P256_SPKI_PREFIX, der]);
  else if (der && der.length === 64) der = Buffer.concat([P256_SPKI_PREFIX, Buffer.from([0x04]), der]);
  const spki = der && spkiOf(der);
  if (!spki) {
    throw new DtlsError(
      'DTLS_RPK_KEY',
      'not a public key: expected a PEM PUBLIC KEY, the SubjectPublicKeyInfo DER in base64 or hex, or a P-256 point (04||x||y or x||y) in hex or base64',
    );
  }
  return spki;
}

/** An RpkStore over a Map: trusted keys by fingerprint, each with the endpoint names bound to it. */
export class MemoryRpkStore implements RpkStore {
  private readonly keys = new Map<string, string[]>();
  /** Trusts `key` (any shape parseRawPublicKey takes); `endpoint` binds an endpoint name to it. */
  add(key: string | Buffer, endpoint?: string): this {
    const fp = rpkFingerprint(parseRawPublicKey(key));
    const eps = this.keys.get(fp) ?? [];
    if (endpoint && !eps.includes(endpoint)) eps.push(endpoint);
    this.keys.set(fp, eps);
    return this;
  }
  delete(key: string | Buffer): boolean {
    return this.keys.delete(rpkFingerprint(parseRawPublicKey(key)));
  }
  trusts(fingerprint: string): boolean {
    return this.keys.has(fingerprint);
  }
  endpointsOf(fingerprint: string): readonly string[] {
    return this.keys.get(fingerprint) ?? [];
  }
  get size(): number {
    return this.keys.size;
  }
}

/** DtlsServerOptions -> checked limits and the native context options. */
import type { NativeContextOptions } from './binding';
import { rpkCapability } from './capabilities';
import { DEFAULT_CIPHER_SUITES, opensslCipherList } from './ciphers';
import { DtlsError } from './errors';
import type { EngineLimits } from './engine';
import { pskIdentityArg } from './peer';
import { rpkFingerprint } from './rpk';
import type { DtlsLogger, DtlsServerOptions } from './types';
import { logQuoted, logText } from '../log-text';

export const DTLS_DEFAULTS = {
  mtu: 1200,
  maxPeers: 1000,
  handshakeTimeoutMs: 30_000,
  idleTimeoutMs: 600_000,
  // Devices behind one carrier NAT share a source address; 10 throttled such a fleet to a crawl.
  handshakesPerSourcePerSecond: 100,
  // A NAT's devices finish their handshakes in a few round trips; a source holding 32 unfinished ones is flooding.
  maxHalfOpenPerSource: 32,
  // Between two flights a client waits its retransmission timer (1 s doubling, RFC 6347 §4.2.4): 10 s of
  // silence is four lost flights.
  halfOpenTimeoutMs: 10_000,
  cookieSecretRotationMs: 60_000,
} as const;

function positive(name: string, value: number | undefined, dflt: number, min = 1): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new DtlsError('DTLS_ARGUMENT', `option ${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Bounds of a shared cookie secret, in bytes (native/dtls.h). */
export const COOKIE_SECRET_BYTES = { min: 16, max: 1024 } as const;

/** The shared cookie secret as bytes; the error names the length, never the secret. */
export function cookieSecretBytes(v: Buffer | string | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.isBuffer(v) ? v : undefined;
  if (!b) throw new DtlsError('DTLS_ARGUMENT', 'option cookieSecret must be a Buffer or a string');
  if (b.length < COOKIE_SECRET_BYTES.min || b.length > COOKIE_SECRET_BYTES.max) {
    throw new DtlsError(
      'DTLS_ARGUMENT',
      `option cookieSecret must be ${COOKIE_SECRET_BYTES.min} to ${COOKIE_SECRET_BYTES.max} bytes, got ${b.length}`,
    );
  }
  return b;
}

function pem(name: string, v: string | Buffer | undefined): Buffer | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  throw new DtlsError('DTLS_ARGUMENT', `option ${name} must be PEM text or a Buffer`);
}

export function engineLimits(o: DtlsServerOptions): EngineLimits {
  return {
    maxPeers: positive('maxPeers', o.maxPeers, DTLS_DEFAULTS.maxPeers),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', o.handshakeTimeoutMs, DTLS_DEFAULTS.handshakeTimeoutMs),
    idleTimeoutMs: positive('idleTimeoutMs', o.idleTimeoutMs, DTLS_DEFAULTS.idleTimeoutMs),
    handshakesPerSourcePerSecond: positive(
      'handshakesPerSourcePerSecond',
      o.handshakesPerSourcePerSecond,
      DTLS_DEFAULTS.handshakesPerSourcePerSecond,
    ),
    maxHalfOpenPerSource: positive('maxHalfOpenPerSource', o.maxHalfOpenPerSource, DTLS_DEFAULTS.maxHalfOpenPerSource),
    halfOpenTimeoutMs: positive('halfOpenTimeoutMs', o.halfOpenTimeoutMs, DTLS_DEFAULTS.halfOpenTimeoutMs),
  };
}

/** Wraps the PSK store for the addon: exact identity bytes in, Buffer or undefined out, never a throw. */
function pskLookup(store: NonNullable<DtlsServerOptions['psk']>, log: DtlsLogger): (identity: Buffer) => Buffer | undefined {
  return (raw) => {
    const id = pskIdentityArg(raw);
    const shown = typeof id === 'string' ? logQuoted(id) : logText(raw);
    try {
      const key = store.get(id);
      if (key === undefined) {
        // Not logged here: the failed handshake's one line names the identity (engine.ts).
        log.debug?.(`DTLS: unknown PSK identity ${shown}`);
        return undefined;
      }
      if (!Buffer.isBuffer(key) || key.length === 0) {
        log.warn?.(`DTLS: the PSK store gave no usable key (not a non-empty Buffer) for identity ${shown}`);
        return undefined;
      }
      return key;
    } catch (err) {
      log.error?.(`DTLS: the PSK store failed for identity ${shown}: ${logText(err instanceof Error ? err.message : String(err), 200)}`);
      return undefined;
    }
  };
}

/** Wraps the raw-public-key store for the addon: SPKI DER in, trusted or not out, never a throw. */
function rpkLookup(store: NonNullable<DtlsServerOptions['rpk']>, log: DtlsLogger): (spki: Buffer) => boolean {
  return (spki) => {
    const fp = rpkFingerprint(spki);
    try {
      if (store.trusts(fp, spki) === true) return true;
      log.debug?.(`DTLS: untrusted raw public key sha256:${fp}`);
      return false;
    } catch (err) {
      log.error?.(`DTLS: the raw public key store failed for sha256:${fp}: ${logText(err instanceof Error ? err.message : String(err), 200)}`);
      return false;
    }
  };
}

/**
 * The security level a context gets when the options name none. OpenSSL 3.2 and newer rate the CCM_8 suites
 * (8-byte tag) at security level 0 and drop them at any higher level, so on Node 22 (OpenSSL 3.5) a device that
 * offers TLS_PSK_WITH_AES_128_CCM_8, the suite LwM2M mandates for PSK, is refused with "no shared cipher". With a
 * CCM_8 suite configured such an OpenSSL gets level 0; OpenSSL 3.0 (Node 20) keeps its own default.
 */
export function defaultSecurityLevel(opensslCiphers: string, openssl = process.versions.openssl): number | undefined {
  if (!/(^|:)[A-Z0-9-]*CCM8(:|$)/.test(opensslCiphers)) return undefined;
  const m = /^(\d+)\.(\d+)/.exec(openssl ?? '');
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 3 || (major === 3 && minor >= 2) ? 0 : undefined;
}

export function nativeOptions(o: DtlsServerOptions, log: DtlsLogger): NativeContextOptions {
  const cert = pem('cert', o.cert);
  const key = pem('key', o.key);
  const ca = pem('ca', o.ca);
  if (o.rpk) {
    if (typeof o.rpk.trusts !== 'function') throw new DtlsError('DTLS_ARGUMENT', 'rpk must have a trusts(fingerprint, spki) method');
    const can = rpkCapability();
    if (!can.available) throw new DtlsError('DTLS_RPK_UNAVAILABLE', `raw public keys are not available: ${can.reason}`);
    if (!key) throw new DtlsError('DTLS_ARGUMENT', 'raw public keys need the server private key (key); a certificate is optional');
  }
  if (!o.psk && !cert && !o.rpk) {
    throw new DtlsError('DTLS_ARGUMENT', 'a DTLS server needs a PSK store (psk), a certificate (cert and key) or raw public keys (rpk and key)');
  }
  if (cert && !key) throw new DtlsError('DTLS_ARGUMENT', 'cert and key go together');
  if (key && !cert && !o.rpk) throw new DtlsError('DTLS_ARGUMENT', 'cert and key go together (a key alone serves raw public keys only)');
  if (o.psk && typeof o.psk.get !== 'function') throw new DtlsError('DTLS_ARGUMENT', 'psk must have a get(identity) method');
  const opts: NativeContextOptions = {
    ciphers: opensslCipherList(o.ciphers ?? DEFAULT_CIPHER_SUITES),
    mtu: positive('mtu', o.mtu, DTLS_DEFAULTS.mtu, 256),
    cookieRotateMs: positive('cookieSecretRotationMs', o.cookieSecretRotationMs, DTLS_DEFAULTS.cookieSecretRotationMs),
  };
  if (o.securityLevel !== undefined) opts.securityLevel = positive('securityLevel', o.securityLevel, 0, 0);
  else {
    const level = defaultSecurityLevel(opts.ciphers);
    if (level !== undefined) opts.securityLevel = level;
  }
  const cookieSecret = cookieSecretBytes(o.cookieSecret);
  if (cookieSecret) opts.cookieSecret = cookieSecret;
  if (o.psk) opts.psk = pskLookup(o.psk, log);
  if (o.rpk) opts.rpk = rpkLookup(o.rpk, log);
  if (cert) opts.cert = cert;
  if (key) opts.key = key;
  if (ca) opts.ca = ca;
  if (o.requireClientCert !== undefined) opts.requireClientCert = o.requireClientCert;
  return opts;
}

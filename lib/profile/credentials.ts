/**
 * One-time PSK credentials for a device, e.g. a fresh key per server account at each bootstrap. The key
 * comes from crypto.randomBytes; the identity is a prefix plus random hex, so it names nothing secret.
 */
import { randomBytes } from 'node:crypto';
import { Lwm2mError } from '../errors';

/** A credential option is out of range. */
export class CredentialsError extends Lwm2mError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('CREDENTIALS', message);
    this.option = option;
  }
}

export interface PskCredentials {
  /** The PSK identity, as text (written as its UTF-8 bytes). */
  identity: string;
  /** The pre-shared key. Secret: never log it. */
  key: Buffer;
}

export interface PskOptions {
  /** Text before the random part of the identity, e.g. the endpoint name plus ":". Default "". */
  identityPrefix?: string;
  /** Key length in bytes, 16..64 (LwM2M clients must support up to 64). Default 16. */
  keyBytes?: number;
  /** Random bytes in the identity, 4..32, written as hex. Default 8. */
  identityRandomBytes?: number;
}

export function generatePskCredentials(opts: PskOptions = {}): PskCredentials {
  const { identityPrefix = '', keyBytes = 16, identityRandomBytes = 8 } = opts;
  if (!Number.isInteger(keyBytes) || keyBytes < 16 || keyBytes > 64) {
    throw new CredentialsError('keyBytes', `keyBytes must be a whole number 16..64, got ${String(keyBytes)}`);
  }
  if (!Number.isInteger(identityRandomBytes) || identityRandomBytes < 4 || identityRandomBytes > 32) {
    throw new CredentialsError('identityRandomBytes', `identityRandomBytes must be a whole number 4..32, got ${String(identityRandomBytes)}`);
  }
  if (typeof identityPrefix !== 'string') throw new CredentialsError('identityPrefix', 'identityPrefix must be a text');
  const identity = identityPrefix + randomBytes(identityRandomBytes).toString('hex');
  if (Buffer.byteLength(identity, 'utf8') > 128) {
    throw new CredentialsError('identityPrefix', 'the identity would exceed 128 bytes, the length every client must accept; shorten identityPrefix');
  }
  return { identity, key: randomBytes(keyBytes) };
}

/** Template values for a profile written with `"pskIdentity": "${pskIdentity}", "pskKey": {"hex": "${pskKey}"}`. */
export function pskTemplateValues(c: PskCredentials, prefix = 'psk'): Record<string, string> {
  return { [`${prefix}Identity`]: c.identity, [`${prefix}Key`]: c.key.toString('hex') };
}

/**
 * Trusted device public keys (RFC 7250 raw public keys) of a CoAPs listener: from the node's own field and,
 * optionally, a device table column. Public keys are not secrets, so the field lives in the flow.
 *
 * The field holds lines `endpoint = publicKey` (blank lines and `#` comments allowed); a line with only a key
 * trusts it without binding an endpoint to it. A key is a PEM PUBLIC KEY on one line or the SubjectPublicKeyInfo
 * in base64 or hex, or the bare P-256 point (04||x||y or x||y) in hex or base64, as LwM2M Security objects
 * hold it. Keys are kept by fingerprint (SHA-256 of the SPKI DER), which is the identity's id on the message.
 */
import { parseRawPublicKey, rpkFingerprint, type RpkStore } from '../dtls';
import type { TableRows } from './psk';
import type { KeySource } from './source';

/** A key line or table that cannot be used; the message names the line, not the key. */
export class RpkKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RpkKeyError';
  }
}

/** fingerprint -> endpoints bound to it (maybe none). */
export type RpkKeys = Map<string, string[]>;

function add(out: RpkKeys, fp: string, endpoint: string | undefined): void {
  const eps = out.get(fp) ?? [];
  if (endpoint && !eps.includes(endpoint)) eps.push(endpoint);
  out.set(fp, eps);
}

function fingerprintOf(text: string): string | undefined {
  try {
    return rpkFingerprint(parseRawPublicKey(text));
  } catch {
    return undefined;
  }
}

/** Parses the field; an empty text or an unresolved `${VAR}` gives no keys. */
export function parseRpkKeys(text: string | undefined): RpkKeys {
  const out: RpkKeys = new Map();
  const s = (text ?? '').trim();
  if (s === '' || /^\$\{\w+\}$/.test(s)) return out;
  s.split(/\r?\n/).forEach((line, i) => {
    const entry = line.trim();
    if (entry === '' || entry.startsWith('#')) return;
    // A key alone (base64 may end in '='), else "endpoint = key" split at the first '='.
    let endpoint: string | undefined;
    let fp = fingerprintOf(entry);
    if (!fp) {
      const eq = entry.indexOf('=');
      endpoint = eq > 0 ? entry.slice(0, eq).trim() || undefined : undefined;
      fp = eq > 0 ? fingerprintOf(entry.slice(eq + 1)) : undefined;
    }
    if (!fp) {
      throw new RpkKeyError(
        `line ${i + 1}${endpoint ? ` (endpoint ${JSON.stringify(endpoint)})` : ''}: not a public key; write endpoint = key, the key as PEM, base64 or hex SubjectPublicKeyInfo, or a P-256 point`,
      );
    }
    add(out, fp, endpoint);
  });
  return out;
}

/** Fingerprint -> endpoints from a device table's rows; rows without a key are skipped, unreadable keys counted. */
export function rpkKeysFromTable(t: TableRows, cols: { key: string; endpoint: string }): { keys: RpkKeys; badRows: number } {
  const keys: RpkKeys = new Map();
  let badRows = 0;
  for (const row of t.rows()) {
    const key = row.values[cols.key];
    if (!key || !key.trim()) continue;
    const fp = fingerprintOf(key);
    if (!fp) {
      badRows++;
      continue;
    }
    add(keys, fp, row.values[cols.endpoint] || undefined);
  }
  return { keys, badRows };
}

/**
 * The listener's RpkStore: the handshake's synchronous view of a KeySource's raw public keys, as
 * ListenerPskStore is for PSKs: a key not known yet is prefetched and this handshake fails.
 */
export class ListenerRpkStore implements RpkStore {
  /** Called with the fingerprint of a key no source trusts now (e.g. to check the table file again). */
  onUnknown: ((fingerprint: string) => void) | undefined;

  constructor(private readonly keys: KeySource & { rpkEndpoints?(fingerprint: string): string[] }) {}

  trusts(fingerprint: string): boolean {
    const e = this.keys.cachedRpk(fingerprint);
    if (e) return true;
    if (e === undefined) this.keys.prefetchRpk(fingerprint);
    this.onUnknown?.(fingerprint);
    return false;
  }

  endpointsOf(fingerprint: string): string[] {
    if (this.keys.rpkEndpoints) return this.keys.rpkEndpoints(fingerprint);
    return [...(this.keys.cachedRpk(fingerprint)?.endpoints ?? [])];
  }
}

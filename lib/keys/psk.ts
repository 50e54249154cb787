/**
 * PSK keys of a CoAPs listener: from the node's credential field and, optionally, from a device table
 * (lwm2m-device-table config node), merged into one synchronous PskStore the DTLS handshake can call.
 *
 * The credential field holds either lines `identity = hexkey` (blank lines and `#` comments allowed, `;`
 * also separates entries so a one-line field works) or a JSON object `{ "identity": "hexkey" }` /
 * `{ "identity": { "key": "hexkey", "endpoint": "ep" } }`. Errors name the line or identity, never a key.
 */
import type { PskStore } from '../dtls';
import type { KeySource } from './source';

export interface PskEntry {
  key: Buffer;
  /** An endpoint the operator binds to this identity (besides the identity itself). */
  endpoint?: string;
}

/** A credential field or device table that cannot be used; the message never contains key material. */
export class PskKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PskKeyError';
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function hexKey(v: unknown, where: string): Buffer {
  if (typeof v !== 'string' || !HEX.test(v.trim())) throw new PskKeyError(`${where}: the key must be hex (an even number of 0-9, a-f)`);
  return Buffer.from(v.trim(), 'hex');
}

/** Parses the credential text; an empty text or an unresolved `${VAR}` gives no keys. */
export function parsePskKeys(text: string | undefined): Map<string, PskEntry> {
  const out = new Map<string, PskEntry>();
  const s = (text ?? '').trim();
  if (s === '' || /^\$\{\w+\}$/.test(s)) return out;
  if (s.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(s);
    } catch (e) {
      // V8's message quotes the text it could not parse, which may be a key: keep only the position.
      const pos = /position (\d+)/.exec((e as Error).message);
      throw new PskKeyError(`the PSK keys are not valid JSON${pos ? ` (at character ${pos[1]})` : ''}`);
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new PskKeyError('the PSK keys must be a JSON object of identity: key');
    for (const [identity, v] of Object.entries(data as Record<string, unknown>)) {
      const where = `identity ${JSON.stringify(identity)}`;
      if (identity === '') throw new PskKeyError('an identity is empty');
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const o = v as { key?: unknown; endpoint?: unknown };
        const endpoint = typeof o.endpoint === 'string' && o.endpoint !== '' ? o.endpoint : undefined;
        out.set(identity, { key: hexKey(o.key, where), endpoint });
      } else {
        out.set(identity, { key: hexKey(v, where) });
      }
    }
    return out;
  }
  const lines = s.split(/\r?\n/);
  lines.forEach((line, i) => {
    for (const part of line.split(';')) {
      const entry = part.trim();
      if (entry === '' || entry.startsWith('#')) continue;
      const where = `line ${i + 1}`;
      const eq = entry.lastIndexOf('=');
      if (eq < 0) throw new PskKeyError(`${where}: write identity = hexkey`);
      const identity = entry.slice(0, eq).trim();
      if (identity === '') throw new PskKeyError(`${where}: the identity is empty`);
      if (out.has(identity)) throw new PskKeyError(`${where}: identity ${JSON.stringify(identity)} is given twice`);
      out.set(identity, { key: hexKey(entry.slice(eq + 1), `${where} (identity ${JSON.stringify(identity)})`) });
    }
  });
  return out;
}

/** Rows of a device table, as the listener reads them (see lib/devices/file-table.ts). */
export interface TableRows {
  rows(): Iterable<{ values: Record<string, string> }>;
}

export interface TableColumns {
  identity: string;
  key: string;
  endpoint: string;
}

/** Identity -> entry from a device table's rows; rows without identity or key are skipped, bad keys counted. */
export function keysFromTable(t: TableRows, cols: TableColumns): { keys: Map<string, PskEntry>; badRows: number } {
  const keys = new Map<string, PskEntry>();
  let badRows = 0;
  for (const row of t.rows()) {
    const identity = row.values[cols.identity];
    const key = row.values[cols.key];
    if (!identity || !key) continue;
    if (!HEX.test(key.trim())) {
      badRows++;
      continue;
    }
    const endpoint = row.values[cols.endpoint] || undefined;
    keys.set(identity, { key: Buffer.from(key.trim(), 'hex'), endpoint });
  }
  return { keys, badRows };
}

/**
 * The listener's PskStore: the DTLS handshake's synchronous view of a KeySource (source.ts). A key in
 * memory answers; a known-absent identity fails; an identity no source knows yet is prefetched and this
 * handshake fails, so that the device's next handshake finds it.
 */
export class ListenerPskStore implements PskStore {
  /** Called with the identity text when no source has its key now (e.g. to check the table file again). */
  onUnknown: ((identity: string) => void) | undefined;
  private readonly counts = { hits: 0, absent: 0, prefetched: 0 };

  constructor(private readonly keys: KeySource & { pskEndpoints?(identity: string): string[] }) {}

  get(identity: Buffer | string): Buffer | undefined {
    const id = typeof identity === 'string' ? identity : identity.toString('hex');
    const e = this.keys.cachedPsk(id);
    if (e) {
      this.counts.hits++;
      return e.key;
    }
    if (e === undefined) {
      this.counts.prefetched++;
      this.keys.prefetchPsk(id);
    } else this.counts.absent++;
    this.onUnknown?.(id);
    return undefined;
  }

  /** Endpoints the operator bound to this identity (never a key). */
  endpointsOf(identity: string): string[] {
    if (this.keys.pskEndpoints) return this.keys.pskEndpoints(identity);
    const ep = this.keys.cachedPsk(identity)?.endpoint;
    return ep ? [ep] : [];
  }

  /** Handshake lookups: answered from memory, refused as known absent, refused and prefetched. */
  stats(): { hits: number; absent: number; prefetched: number } {
    return { ...this.counts };
  }
}

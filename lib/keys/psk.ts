/**
 * PSK keys of a CoAPs listener: from the node's credential field and, optionally, from a device table
 * (lwm2m-device-table config node), merged into one synchronous PskStore the DTLS handshake can call.
 *
 * The credential field holds either lines `identity = hexkey` (blank lines and `#` comments allowed, `;`
 * also separates entries so a one-line field works) or a JSON object `{ "identity": "hexkey" }` /
 * `{ "identity": { "key": "hexkey", "endpoint": "ep" } }`. Errors name the line or identity, never a key.
 */
import type { PskStore } from '../dtls';

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
 * The listener's PskStore: the node's own keys first, then the device table's snapshot (replaced as a
 * whole when the table reloads). Synchronous, as the handshake needs it.
 */
export class ListenerPskStore implements PskStore {
  private table = new Map<string, PskEntry>();
  /** Called with the identity text when an identity is unknown (e.g. to check the table file again). */
  onUnknown: ((identity: string) => void) | undefined;
  /** A device source's in-memory answer, asked after the own keys and the table (see CoapsController.useSource). */
  fallback: ((identity: string) => PskEntry | undefined) | undefined;

  constructor(private readonly own: Map<string, PskEntry>) {}

  setTable(keys: Map<string, PskEntry>): void {
    this.table = keys;
  }

  get(identity: Buffer | string): Buffer | undefined {
    const id = typeof identity === 'string' ? identity : identity.toString('hex');
    const e = this.own.get(id) ?? this.table.get(id) ?? this.fallback?.(id);
    if (!e) this.onUnknown?.(id);
    return e?.key;
  }

  /** Endpoints the operator bound to this identity (never a key). */
  endpointsOf(identity: string): string[] {
    const out: string[] = [];
    for (const e of [this.own.get(identity), this.table.get(identity), this.fallback?.(identity)]) if (e?.endpoint) out.push(e.endpoint);
    return out;
  }

  get size(): number {
    return this.own.size + this.table.size;
  }
}

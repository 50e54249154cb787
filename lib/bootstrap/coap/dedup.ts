/**
 * Duplicate detection for inbound Confirmable/Non-confirmable messages (RFC 7252 §4.5): remembers
 * peer+Message-ID for EXCHANGE_LIFETIME with the reply to repeat. Every entry lives equally long, so
 * insertion order is expiry order: expired entries are swept from the front of the Map on insert
 * (no timers), and the Map is capped so a flood cannot grow it without bound.
 *
 * Where we depart from RFC 7252 §4.5: the RFC calls a message a duplicate when it has the Message ID
 * and source endpoint of a recent one, which assumes one endpoint per address and port. Behind a
 * carrier-grade NAT (the normal case for cellular IoT) successive devices share a public address:port
 * and start from random Message IDs, so a new device's first request can carry the ID of an earlier
 * device's request from the same mapping within EXCHANGE_LIFETIME; answering it from the cache hands
 * the new device the old device's answer (another token) and its request is never processed. So an
 * entry also keeps a 32-bit digest of the message (everything but the Message ID: type, code, token,
 * options, payload), and only a message with the same digest is a duplicate: a retransmission is the
 * same message byte for byte (§4.2), a different request is not. A same-ID message that differs drops
 * the stale entry and is processed as new. The digest is one small integer per entry (no token or
 * datagram copy is kept); two different requests from one mapping that share the Message ID and also
 * collide in 32 bits are about one in 4 billion such pairs.
 */

export interface DedupEntry {
  /**
   * Expiry time, ms since the cache's first entry (a small integer for 24 days; an epoch-sized number field
   * is a heap object of its own for every entry).
   */
  expires: number;
  /** messageDigest() of the message this entry is for. */
  digest: number;
  /**
   * The datagram to repeat when the same message arrives again (empty ACK, piggy-backed response); a short one
   * as a latin1 string (see compactReply).
   */
  reply?: Buffer | string;
  /** The open exchange while it awaits an answer (dropped once answered). */
  open?: { onDuplicate(): void };
}

/**
 * The front (oldest entries) of a Map whose insertion order is age, for sweeping: one iterator kept from sweep to
 * sweep. A new iterator for every sweep starts at the Map's first slot and steps over every entry deleted since
 * the table was last compacted (V8 leaves deleted slots in place until then): with the front swept again and
 * again, tens of thousands of slots, ~50 us per new entry in a Map of 50,000 (measured). A kept iterator is
 * already past them (the language keeps it valid across deletions and insertions, and visits the entries added
 * after it).
 */
export class MapFront<K, V> {
  private cursor: Iterator<[K, V]> | undefined;
  /** The entry the cursor stopped at, while it is the oldest one. */
  private head: [K, V] | undefined;

  constructor(private readonly map: Map<K, V>) {}

  /** The oldest entry, or undefined when the Map is empty. */
  peek(): [K, V] | undefined {
    for (;;) {
      let h = this.head;
      if (h === undefined) {
        this.cursor ??= this.map.entries();
        const r = this.cursor.next();
        if (r.done === true) {
          this.cursor = undefined; // an iterator that has finished stays finished: the next peek starts a new one
          return undefined;
        }
        h = this.head = r.value;
      }
      if (this.map.get(h[0]) === h[1]) return h;
      this.head = undefined; // deleted, or set again (to the back) since the cursor passed it
    }
  }

  /** Deletes the entry peek() returned. */
  shift(): void {
    if (this.head === undefined) return;
    this.map.delete(this.head[0]);
    this.head = undefined;
  }

  /** `value` is being deleted and set again under its key (moved to the back, the same object): it is not the oldest. */
  moving(value: V): void {
    if (this.head !== undefined && this.head[1] === value) this.head = undefined;
  }

  /** The Map was cleared. */
  reset(): void {
    this.cursor = undefined;
    this.head = undefined;
  }
}

export class DedupCache {
  private readonly map = new Map<string, DedupEntry>();
  private readonly front = new MapFront(this.map);
  /** Entries dropped because a different message came with their peer and Message ID (see above). */
  stale = 0;
  /** The `now` of the first entry: expiry times count from it. */
  private base: number | undefined;

  constructor(
    private readonly lifetimeMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /**
   * The entry of a duplicate of this message, or undefined when the message is new. An unexpired entry
   * for the same peer and Message ID whose digest differs is a different message: it is dropped (and
   * counted in `stale`), so the caller processes the message as new and adds its own entry.
   */
  get(key: string, digest: number, now: number): DedupEntry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= now - (this.base as number)) {
      this.map.delete(key);
      return undefined;
    }
    if (e.digest !== digest) {
      this.map.delete(key);
      this.stale++;
      return undefined;
    }
    return e;
  }

  add(key: string, digest: number, now: number): DedupEntry {
    this.base ??= now;
    this.sweep(now);
    const e: DedupEntry = { expires: now - this.base + this.lifetimeMs, digest, reply: undefined, open: undefined };
    this.map.delete(key);
    this.map.set(flat(key), e);
    return e;
  }

  /**
   * add() for a key get() has just answered undefined for (so it is not in the cache), already flat: stored as
   * it is, without add()'s delete and flat copy.
   */
  addAbsent(key: string, digest: number, now: number): DedupEntry {
    this.base ??= now;
    this.sweep(now);
    const e: DedupEntry = { expires: now - this.base + this.lifetimeMs, digest, reply: undefined, open: undefined };
    this.map.set(key, e);
    return e;
  }

  clear(): void {
    this.map.clear();
    this.front.reset();
  }

  private sweep(now: number): void {
    const t = now - (this.base as number);
    for (let h = this.front.peek(); h !== undefined; h = this.front.peek()) {
      if (h[1].expires > t && this.map.size < this.maxEntries) break;
      this.front.shift();
    }
  }
}

/**
 * A 32-bit FNV-1a digest of a datagram without its Message ID (bytes 2-3): the version, type and token
 * length, the code, the token, the options and the payload. A retransmission has the digest of the
 * original (RFC 7252 §4.2: the same message); a different request from the same address, port and
 * Message ID almost surely has another. Returned as a signed 32-bit integer (a small integer in V8,
 * stored inline in the entry).
 */
export function messageDigest(buf: Buffer): number {
  let h = 0x811c9dc5 | 0;
  if (buf.length > 0) h = Math.imul(h ^ buf[0], 0x01000193);
  if (buf.length > 1) h = Math.imul(h ^ buf[1], 0x01000193);
  for (let i = 4; i < buf.length; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h | 0;
}

/**
 * The key as one flat string: keys are built as address + '|' + port + '|' + Message ID, a chain of
 * concatenated pieces (~0.1 KiB) that would stay in the cache for EXCHANGE_LIFETIME.
 */
function flat(key: string): string {
  const f = key.toLowerCase(); // V8's flat copy when there is nothing to lower (see flatKey in endpoint.ts)
  return f === key ? f : key; // (addresses are lower-case; anything else is kept as it is)
}

/** Replies up to this many bytes are kept as strings. */
const COMPACT_REPLY_MAX = 64;

/**
 * A reply to keep for EXCHANGE_LIFETIME: a short one (the empty ACK, a 2.04 with its token) as a latin1 string
 * of its bytes, ~0.03 KiB of heap where a Buffer object is ~0.1 KiB however short. replyBytes() turns it back.
 */
export function compactReply(buf: Buffer): Buffer | string {
  return buf.length <= COMPACT_REPLY_MAX ? buf.toString('latin1') : buf;
}

export function replyBytes(reply: Buffer | string): Buffer {
  return typeof reply === 'string' ? Buffer.from(reply, 'latin1') : reply;
}

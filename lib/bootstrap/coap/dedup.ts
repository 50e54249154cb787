/**
 * Duplicate detection for inbound Confirmable/Non-confirmable messages (RFC 7252 §4.5): remembers
 * peer+Message-ID for EXCHANGE_LIFETIME with the reply to repeat. Every entry lives equally long, so
 * insertion order is expiry order: expired entries are swept from the front of the Map on insert
 * (no timers), and the Map is capped so a flood cannot grow it without bound.
 */

export interface DedupEntry {
  /** Expiry time, ms since epoch (performance-free Date.now()). */
  expires: number;
  /** The datagram to repeat when the same message arrives again (empty ACK, piggy-backed response). */
  reply?: Buffer;
  /** The open exchange while it awaits an answer (dropped once answered). */
  open?: { onDuplicate(): void };
}

export class DedupCache {
  private readonly map = new Map<string, DedupEntry>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string, now: number): DedupEntry | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  add(key: string, now: number): DedupEntry {
    this.sweep(now);
    const e: DedupEntry = { expires: now + this.lifetimeMs };
    this.map.delete(key);
    this.map.set(flat(key), e);
    return e;
  }

  clear(): void {
    this.map.clear();
  }

  private sweep(now: number): void {
    for (const [k, e] of this.map) {
      if (e.expires > now && this.map.size < this.maxEntries) break;
      this.map.delete(k);
    }
  }
}

/**
 * The key as one flat string: keys are built as address + '|' + port + '|' + Message ID, a chain of
 * concatenated pieces (~0.1 KiB) that would stay in the cache for EXCHANGE_LIFETIME.
 */
function flat(key: string): string {
  const f = Buffer.from(key, 'latin1').toString('latin1');
  return f === key ? f : key; // (addresses are ASCII; anything else is kept as it is)
}

/**
 * Who holds the session table: the sessions whose device has not answered yet, per source address, oldest
 * first. A Bootstrap-Request is one datagram and its source can be forged (RFC 7252 §11.3), so a session
 * proves nothing about its source until the device answers one of our requests. Those "pending" sessions
 * are the work a flood creates; this table finds what to shed when one source holds too many of them or
 * when the server is full: the oldest pending session of the source that holds the most.
 *
 * Counting is O(1) per session (sources sit in buckets by how many sessions they hold); sessions that
 * stopped being pending (the device answered, or they ended) are dropped lazily when a scan meets them.
 */

export interface Sheddable {
  readonly peer: { readonly address: string };
}

export class PendingBySource<S extends Sheddable> {
  private readonly bySource = new Map<string, Set<S>>();
  /** count -> sources holding that many sessions. */
  private readonly buckets = new Map<number, Set<string>>();
  private maxCount = 0;

  /** `pending(s)`: still pending (not ended, the device has not answered). */
  constructor(private readonly pending: (s: S) => boolean) {}

  /** Number of sources with pending sessions. */
  get sources(): number {
    return this.bySource.size;
  }

  add(s: S): void {
    const a = s.peer.address;
    let set = this.bySource.get(a);
    if (!set) this.bySource.set(a, (set = new Set()));
    const before = set.size;
    set.add(s);
    if (set.size !== before) this.move(a, before, set.size);
  }

  delete(s: S): void {
    const a = s.peer.address;
    const set = this.bySource.get(a);
    if (!set || !set.delete(s)) return;
    this.move(a, set.size + 1, set.size);
    if (set.size === 0) this.bySource.delete(a);
  }

  /** Pending sessions of `address` (after dropping those that stopped being pending at the front). */
  count(address: string): number {
    this.oldestOf(address);
    return this.bySource.get(address)?.size ?? 0;
  }

  /** The oldest pending session of `address`, if any. */
  oldestOf(address: string): S | undefined {
    const set = this.bySource.get(address);
    if (!set) return undefined;
    for (const s of set) {
      if (this.pending(s)) return s;
      this.delete(s);
    }
    return undefined;
  }

  /** The oldest pending session of the source that holds the most pending sessions. */
  heaviest(): S | undefined {
    while (this.maxCount > 0) {
      const sources = this.buckets.get(this.maxCount);
      const address = sources?.values().next().value;
      if (address === undefined) {
        this.maxCount--;
        continue;
      }
      const s = this.oldestOf(address);
      if (s) {
        // Dropping stale entries may have moved this source down: take it only if it is still among the heaviest.
        if ((this.bySource.get(address)?.size ?? 0) >= this.maxCount) return s;
        continue;
      }
    }
    return undefined;
  }

  clear(): void {
    this.bySource.clear();
    this.buckets.clear();
    this.maxCount = 0;
  }

  private move(address: string, from: number, to: number): void {
    if (from > 0) {
      const b = this.buckets.get(from);
      b?.delete(address);
      if (b && b.size === 0) this.buckets.delete(from);
    }
    if (to > 0) {
      let b = this.buckets.get(to);
      if (!b) this.buckets.set(to, (b = new Set()));
      b.add(address);
      if (to > this.maxCount) this.maxCount = to;
    }
    while (this.maxCount > 0 && !this.buckets.has(this.maxCount)) this.maxCount--;
  }
}

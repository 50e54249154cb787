/**
 * The key seam: where a CoAPs Bootstrap-Server finds a device's PSK (by identity) and whether it trusts a
 * raw public key (by fingerprint). A source answers asynchronously (a database may answer), and holds what
 * it knows in memory for the DTLS handshake, which asks synchronously: OpenSSL calls the PSK server callback
 * (and the certificate verification of a raw public key) inside the handshake and takes the answer as it
 * returns; it has no way to wait for a database.
 *
 * So the handshake reads `cachedPsk` / `cachedRpk`: an entry, `null` (known absent: the handshake fails) or
 * undefined (not known yet). On undefined the listener calls `prefetchPsk` / `prefetchRpk` and fails this
 * handshake (a fatal alert ends it, RFC 6347 section 4.1.2.7 and RFC 5246 section 7.2.2); the device starts
 * a new handshake when it tries the Bootstrap-Request again after its back-off (OMA-TS-LightweightM2M_Core,
 * Bootstrap Interface), and that one finds the key in memory.
 *
 * Implementations: StaticKeySource (keys held in memory: the listener's credential text, a table snapshot),
 * DeviceKeySource (any lib/devices DeviceSource, with a negative cache and bounded prefetches), and
 * CompositeKeySource (the listener's: credential keys first, then the table, then device sources).
 */
import type { DeviceRecord, DeviceSource } from '../devices/types';
import type { PskEntry } from './psk';
import type { RpkKeys } from './rpk';

/** A trusted raw public key: the endpoint names bound to it (maybe none). */
export interface RpkEntry {
  endpoints: string[];
}

/** What a source holds now: the entry; `null` when it knows there is none; undefined when it does not know yet. */
export type Cached<T> = T | null | undefined;

export interface KeySource {
  /** The PSK of an identity, or undefined when there is none. Rejects when the store cannot answer. */
  pskFor(identity: string): Promise<PskEntry | undefined>;
  /** Synchronous, for the handshake: see Cached. */
  cachedPsk(identity: string): Cached<PskEntry>;
  /** Starts loading an identity into memory (bounded); never throws, never waits. */
  prefetchPsk(identity: string): void;
  /** A trusted raw public key by fingerprint (SHA-256 hex of its SubjectPublicKeyInfo), or undefined. */
  rpkFor(fingerprint: string): Promise<RpkEntry | undefined>;
  cachedRpk(fingerprint: string): Cached<RpkEntry>;
  prefetchRpk(fingerprint: string): void;
}

/** Keys held in memory: every answer is known at once. `replace` swaps them whole (a reloaded table). */
export class StaticKeySource implements KeySource {
  constructor(
    private psk: Map<string, PskEntry> = new Map(),
    private rpk: RpkKeys = new Map(),
  ) {}

  replace(psk: Map<string, PskEntry>, rpk?: RpkKeys): void {
    this.psk = psk;
    if (rpk) this.rpk = rpk;
  }

  pskFor(identity: string): Promise<PskEntry | undefined> {
    return Promise.resolve(this.psk.get(identity));
  }
  cachedPsk(identity: string): PskEntry | null {
    return this.psk.get(identity) ?? null;
  }
  prefetchPsk(): void {
    // Everything is in memory.
  }
  rpkFor(fingerprint: string): Promise<RpkEntry | undefined> {
    return Promise.resolve(this.cachedRpk(fingerprint) ?? undefined);
  }
  cachedRpk(fingerprint: string): RpkEntry | null {
    const eps = this.rpk.get(fingerprint);
    return eps ? { endpoints: eps } : null;
  }
  prefetchRpk(): void {
    // Everything is in memory.
  }

  get size(): { psk: number; rpk: number } {
    return { psk: this.psk.size, rpk: this.rpk.size };
  }
}

/** At most `max` prefetches in flight across the sources that share it (one per listener). */
export class PrefetchLimiter {
  private inFlight = 0;
  constructor(readonly max = 64) {}
  tryAcquire(): boolean {
    if (this.inFlight >= this.max) return false;
    this.inFlight++;
    return true;
  }
  release(): void {
    if (this.inFlight > 0) this.inFlight--;
  }
  get active(): number {
    return this.inFlight;
  }
}

export interface DeviceKeySourceOptions {
  /** Prefetches of this source in flight at once (default 16); more are dropped (`shed`) until one ends. */
  maxInFlight?: number;
  /** Shared with the other sources of a listener: the bound across all of them. */
  limiter?: PrefetchLimiter;
  /** How long an identity the store did not have is known absent, ms (default 30 s; a change to it ends it). */
  negativeTtlMs?: number;
  /** How long a key this adapter loaded is held for the device's next handshake, ms (default 60 s). */
  foundTtlMs?: number;
  /** Identities held, each of the two caches (default 10,000; the oldest go first). */
  maxEntries?: number;
  /** The clock, for tests. */
  now?: () => number;
}

export interface KeySourceStats {
  /** Prefetches started, ended with a key, ended without one, failed (store down), dropped by a bound. */
  prefetches: number;
  found: number;
  absent: number;
  errors: number;
  shed: number;
  inFlight: number;
}

/**
 * A DeviceSource as a KeySource. The source's own memory (`cachedByIdentity`) is asked first; what this
 * adapter fetched is held beside it for a while: a key for the device's retry (`foundTtlMs`, in case the
 * source itself keeps nothing, e.g. a database whose change feed is down), an absent identity so that a
 * device (or a flood of made-up identities) does not send one query per ClientHello (`negativeTtlMs`).
 * The source's change events end both for the keys they name. Device rows carry no raw public keys: the
 * RPK answers are "known absent".
 */
export class DeviceKeySource implements KeySource {
  private readonly found = new Map<string, { entry: PskEntry; at: number }>();
  private readonly absent = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private readonly counts = { prefetches: 0, found: 0, absent: 0, errors: 0, shed: 0 };
  private readonly maxInFlight: number;
  private readonly negativeTtlMs: number;
  private readonly foundTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: DeviceSource,
    private readonly opts: DeviceKeySourceOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? 16;
    this.negativeTtlMs = opts.negativeTtlMs ?? 30_000;
    this.foundTtlMs = opts.foundTtlMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
    this.unsubscribe = source.onChange((change) => {
      if (change.all) {
        this.found.clear();
        this.absent.clear();
        return;
      }
      for (const k of change.keys) {
        if (k.kind !== 'identity') continue;
        this.found.delete(k.key);
        this.absent.delete(k.key);
      }
    });
  }

  async pskFor(identity: string): Promise<PskEntry | undefined> {
    return entryOf(await this.source.lookup('identity', identity));
  }

  cachedPsk(identity: string): Cached<PskEntry> {
    const r = this.source.cachedByIdentity(identity);
    if (r) return entryOf(r) ?? null;
    if (r === null) return null;
    const now = this.now();
    const f = this.found.get(identity);
    if (f) {
      if (now - f.at < this.foundTtlMs) return f.entry;
      this.found.delete(identity);
    }
    const a = this.absent.get(identity);
    if (a !== undefined) {
      if (now - a < this.negativeTtlMs) return null;
      this.absent.delete(identity);
    }
    return undefined;
  }

  prefetchPsk(identity: string): void {
    if (this.inFlight.has(identity)) return;
    if (this.inFlight.size >= this.maxInFlight) {
      this.counts.shed++;
      return;
    }
    const limiter = this.opts.limiter;
    if (limiter && !limiter.tryAcquire()) {
      this.counts.shed++;
      return;
    }
    this.inFlight.add(identity);
    this.counts.prefetches++;
    let lookup: Promise<DeviceRecord | undefined>;
    try {
      lookup = this.source.lookup('identity', identity);
    } catch (e) {
      lookup = Promise.reject(e);
    }
    lookup
      .then(
        (r) => {
          const entry = entryOf(r);
          if (entry) {
            this.counts.found++;
            remember(this.found, identity, { entry, at: this.now() }, this.maxEntries);
          } else {
            this.counts.absent++;
            remember(this.absent, identity, this.now(), this.maxEntries);
          }
        },
        () => {
          // The store cannot answer now: nothing is remembered, a later handshake asks again.
          this.counts.errors++;
        },
      )
      .finally(() => {
        this.inFlight.delete(identity);
        limiter?.release();
      });
  }

  rpkFor(): Promise<RpkEntry | undefined> {
    return Promise.resolve(undefined);
  }
  cachedRpk(): null {
    return null;
  }
  prefetchRpk(): void {
    // Device rows hold no raw public keys.
  }

  stats(): KeySourceStats {
    return { ...this.counts, inFlight: this.inFlight.size };
  }

  /** Stops listening to the source's changes (the source itself belongs to its config node). */
  close(): void {
    this.unsubscribe();
    this.found.clear();
    this.absent.clear();
  }
}

function entryOf(r: DeviceRecord | null | undefined): PskEntry | undefined {
  return r?.pskKey ? { key: r.pskKey, endpoint: r.endpoint } : undefined;
}

/** Map insertion order is age: a re-set entry moves to the end; past `max` the oldest goes. */
function remember<V>(m: Map<string, V>, k: string, v: V, max: number): void {
  m.delete(k);
  m.set(k, v);
  if (m.size > max) {
    const oldest = m.keys().next().value;
    if (oldest !== undefined) m.delete(oldest);
  }
}

/**
 * Sources asked in order; the first that has the key answers. Known absent only when every source knows it
 * is absent; while one does not know yet, the answer is "not known" and a prefetch asks those that do not.
 */
export class CompositeKeySource implements KeySource {
  constructor(readonly sources: KeySource[] = []) {}

  add(source: KeySource): void {
    this.sources.push(source);
  }

  remove(source: KeySource): void {
    const i = this.sources.indexOf(source);
    if (i >= 0) this.sources.splice(i, 1);
  }

  async pskFor(identity: string): Promise<PskEntry | undefined> {
    for (const s of this.sources) {
      const e = await s.pskFor(identity);
      if (e) return e;
    }
    return undefined;
  }
  cachedPsk(identity: string): Cached<PskEntry> {
    return first(this.sources, (s) => s.cachedPsk(identity));
  }
  prefetchPsk(identity: string): void {
    for (const s of this.sources) if (s.cachedPsk(identity) === undefined) s.prefetchPsk(identity);
  }
  async rpkFor(fingerprint: string): Promise<RpkEntry | undefined> {
    for (const s of this.sources) {
      const e = await s.rpkFor(fingerprint);
      if (e) return e;
    }
    return undefined;
  }
  cachedRpk(fingerprint: string): Cached<RpkEntry> {
    return first(this.sources, (s) => s.cachedRpk(fingerprint));
  }
  prefetchRpk(fingerprint: string): void {
    for (const s of this.sources) if (s.cachedRpk(fingerprint) === undefined) s.prefetchRpk(fingerprint);
  }

  /** Every endpoint any source binds to this PSK identity (for the endpoint binding check); never a key. */
  pskEndpoints(identity: string): string[] {
    const out: string[] = [];
    for (const s of this.sources) {
      const ep = s.cachedPsk(identity)?.endpoint;
      if (ep && !out.includes(ep)) out.push(ep);
    }
    return out;
  }

  /** Every endpoint any source binds to this raw public key. */
  rpkEndpoints(fingerprint: string): string[] {
    const out: string[] = [];
    for (const s of this.sources) for (const ep of s.cachedRpk(fingerprint)?.endpoints ?? []) if (!out.includes(ep)) out.push(ep);
    return out;
  }
}

function first<T>(sources: KeySource[], ask: (s: KeySource) => Cached<T>): Cached<T> {
  let unknown = false;
  for (const s of sources) {
    const c = ask(s);
    if (c) return c;
    if (c === undefined) unknown = true;
  }
  return unknown ? undefined : null;
}

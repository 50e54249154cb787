/**
 * A DeviceSource on PostgreSQL (table `lwm2m_devices`, see postgres-schema.ts) for fleets that do not fit
 * in memory: each lookup asks the database by an indexed column, and answers are kept in a bounded LRU
 * cache (found records under every key they have; misses for `missTtlMs`). One connection LISTENs on
 * channel `lwm2m_devices`; the table's trigger notifies every insert, update and delete with the row's
 * keys, and the cache drops them. While that connection is down nothing is cached (a missed notification
 * could leave a stale key in memory), and the cache is emptied when it comes back.
 *
 * The DTLS PSK callback is synchronous: it reads `cachedByIdentity` and, on a miss, calls
 * `prefetchIdentity`; the handshake fails at once (unknown identity) and the device's next attempt finds
 * the record in memory.
 */
import { EventEmitter } from 'events';
import type { Pool, PoolClient } from 'pg';
import { LruMap } from './lru';
import { DEVICES_SCHEMA } from './postgres-schema';
import { recordKeys, type DeviceChange, type DeviceKeyKind, type DeviceRecord, type DeviceSource, type DeviceSourceStats } from './types';

export interface PostgresDeviceSourceOptions {
  /** A pg Pool (shared with other users of the same database, e.g. the audit sink). */
  pool: Pool;
  /** Records and misses kept in memory at most (default 100,000). */
  cacheSize?: number;
  /** How long a "no such device" answer is kept, ms (default 5,000; 0 keeps none). */
  missTtlMs?: number;
  /** Create the table and trigger when missing (default true). */
  createSchema?: boolean;
  /** Wait before reconnecting the LISTEN connection, ms (default 1,000). */
  reconnectMs?: number;
  /** Reports LISTEN connection problems (no row content). */
  onError?: (e: Error) => void;
}

const COLUMN: Record<DeviceKeyKind, string> = { endpoint: 'endpoint', identity: 'psk_identity', imei: 'imei', iccid: 'iccid' };
const SELECT = 'SELECT endpoint, psk_identity, psk_key, imei, iccid, profile, template_values FROM lwm2m_devices';
export const DEVICES_CHANNEL = 'lwm2m_devices';

interface Row {
  endpoint: string;
  psk_identity: string | null;
  psk_key: Buffer | null;
  imei: string | null;
  iccid: string | null;
  profile: string | null;
  template_values: Record<string, unknown> | null;
}

interface Entry {
  record: DeviceRecord | null;
  at: number;
}

export function recordFromRow(r: Row): DeviceRecord {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.template_values ?? {})) {
    if (v !== undefined && v !== null) values[k] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  values.endpoint = r.endpoint;
  const rec: DeviceRecord = { endpoint: r.endpoint, values };
  if (r.psk_identity) values.pskIdentity = rec.identity = r.psk_identity;
  if (r.psk_key) {
    rec.pskKey = Buffer.from(r.psk_key);
    values.pskKey = rec.pskKey.toString('hex');
  }
  if (r.imei) values.imei = rec.imei = r.imei;
  if (r.iccid) values.iccid = rec.iccid = r.iccid;
  if (r.profile) values.profile = rec.profile = r.profile;
  return rec;
}

export class PostgresDeviceSource implements DeviceSource {
  private readonly pool: Pool;
  private readonly cache: LruMap<string, Entry>;
  private readonly missTtlMs: number;
  private readonly inflight = new Map<string, Promise<DeviceRecord | undefined>>();
  private readonly events = new EventEmitter();
  private listenClient: PoolClient | undefined;
  private listening = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /**
   * Bumped by every invalidation. A load that started before a resync, or before a notification about one
   * of its keys (kept in `touched` while loads are in flight), does not fill the cache.
   */
  private epoch = 0;
  private resyncEpoch = 0;
  private readonly touched = new Map<string, number>();
  private closed = false;
  private ready: Promise<void> | undefined;
  private counters = { hits: 0, misses: 0, loads: 0, errors: 0 };

  constructor(private readonly opts: PostgresDeviceSourceOptions) {
    this.pool = opts.pool;
    this.cache = new LruMap(opts.cacheSize ?? 100_000);
    this.missTtlMs = opts.missTtlMs ?? 5_000;
    this.events.setMaxListeners(0);
  }

  /** Creates the schema (unless told not to) and starts listening for changes. */
  start(): Promise<void> {
    if (!this.ready) {
      this.ready = (async () => {
        if (this.opts.createSchema !== false) await this.pool.query(DEVICES_SCHEMA);
        await this.listen();
      })();
    }
    return this.ready;
  }

  /** True while change notifications arrive (and so answers are cached). */
  get isListening(): boolean {
    return this.listening;
  }

  async lookup(kind: DeviceKeyKind, key: string): Promise<DeviceRecord | undefined> {
    const hit = this.cached(kind, key);
    if (hit !== undefined) {
      this.counters.hits++;
      return hit ?? undefined;
    }
    this.counters.misses++;
    const k = cacheKey(kind, key);
    let p = this.inflight.get(k);
    if (!p) {
      p = this.load(kind, key).finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    return p;
  }

  cachedByIdentity(identity: string): DeviceRecord | null | undefined {
    const r = this.cached('identity', identity);
    if (r === undefined) this.counters.misses++;
    else this.counters.hits++;
    return r;
  }

  prefetchIdentity(identity: string): void {
    if (this.closed || this.inflight.has(cacheKey('identity', identity))) return;
    this.lookup('identity', identity).catch(() => undefined);
  }

  onChange(listener: (change: DeviceChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.removeListener('change', listener);
  }

  stats(): DeviceSourceStats {
    return { cached: this.cache.size, ...this.counters };
  }

  /** Drops keys from the cache (what a notification does; exposed for callers that change rows themselves). */
  invalidate(keys: Array<{ kind: DeviceKeyKind; key: string }>): void {
    this.epoch++;
    for (const { kind, key } of keys) {
      const k = cacheKey(kind, key);
      if (this.inflight.size > 0) this.touched.set(k, this.epoch);
      const e = this.cache.peek(k);
      this.cache.delete(k);
      if (e?.record) for (const o of recordKeys(e.record)) this.cache.delete(cacheKey(o.kind, o.key));
    }
    this.events.emit('change', { keys } satisfies DeviceChange);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.listening = false;
    const c = this.listenClient;
    this.listenClient = undefined;
    if (c) {
      c.removeAllListeners('notification');
      c.release(true);
    }
    this.cache.clear();
    this.events.removeAllListeners();
  }

  /** The cached answer: a record, null (known miss), or undefined (not known here). */
  private cached(kind: DeviceKeyKind, key: string): DeviceRecord | null | undefined {
    const e = this.cache.get(cacheKey(kind, key));
    if (!e) return undefined;
    if (e.record === null && Date.now() - e.at > this.missTtlMs) {
      this.cache.delete(cacheKey(kind, key));
      return undefined;
    }
    return e.record;
  }

  private async load(kind: DeviceKeyKind, key: string): Promise<DeviceRecord | undefined> {
    const epoch = this.epoch;
    this.counters.loads++;
    let rows: Row[];
    try {
      const res = await this.pool.query<Row>(`${SELECT} WHERE ${COLUMN[kind]} = $1 ORDER BY endpoint LIMIT 1`, [key]);
      rows = res.rows;
    } catch (e) {
      this.counters.errors++;
      throw e;
    }
    const rec = rows.length > 0 ? recordFromRow(rows[0]) : undefined;
    const keys = rec ? recordKeys(rec).map((o) => cacheKey(o.kind, o.key)) : [cacheKey(kind, key)];
    const stale = this.resyncEpoch > epoch || keys.some((k) => (this.touched.get(k) ?? 0) > epoch);
    // inflight still holds this load; the last one to finish forgets the touched keys.
    if (this.inflight.size <= 1) this.touched.clear();
    if (this.listening && !this.closed && !stale) {
      const now = Date.now();
      if (rec) for (const o of recordKeys(rec)) this.cache.set(cacheKey(o.kind, o.key), { record: rec, at: now });
      else if (this.missTtlMs > 0) this.cache.set(cacheKey(kind, key), { record: null, at: now });
    }
    return rec;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.opts.onError?.(e as Error);
      this.retryListen();
      return;
    }
    if (this.closed) {
      client.release();
      return;
    }
    const lost = (e?: Error) => {
      if (this.listenClient !== client) return;
      this.listenClient = undefined;
      this.listening = false;
      if (e) this.opts.onError?.(e);
      client.release(true);
      this.resync();
      this.retryListen();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (n) => {
      if (n.channel !== DEVICES_CHANNEL) return;
      this.onNotification(n.payload);
    });
    this.listenClient = client;
    try {
      await client.query(`LISTEN ${DEVICES_CHANNEL}`);
      this.resync();
      this.listening = true;
    } catch (e) {
      lost(e as Error);
    }
  }

  private retryListen(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.listen();
    }, this.opts.reconnectMs ?? 1_000);
    this.reconnectTimer.unref?.();
  }

  /** Forgets everything cached (notifications may have been missed). */
  private resync(): void {
    this.resyncEpoch = ++this.epoch;
    this.cache.clear();
    this.events.emit('change', { all: true } satisfies DeviceChange);
  }

  private onNotification(payload: string | undefined): void {
    let p: Record<string, unknown>;
    try {
      p = JSON.parse(payload ?? '') as Record<string, unknown>;
    } catch {
      this.resync();
      return;
    }
    if (p.all === true) return this.resync();
    const keys: Array<{ kind: DeviceKeyKind; key: string }> = [];
    for (const kind of ['endpoint', 'identity', 'imei', 'iccid'] as const) {
      const v = p[kind];
      if (typeof v === 'string' && v !== '') keys.push({ kind, key: v });
    }
    this.invalidate(keys);
  }
}

function cacheKey(kind: DeviceKeyKind, key: string): string {
  return `${kind}\u0000${key}`;
}

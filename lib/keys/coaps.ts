/**
 * What a CoAPs listener adds to a plain one, apart from Node-RED: its keys (one CompositeKeySource: the
 * node's own keys, then a device table snapshot refreshed on reload, then device sources and any other
 * KeySource, source.ts) with the synchronous PSK and RPK stores the handshake reads, the full DTLS identity
 * of each established peer (certificate SANs included, which sessions do not carry), and the
 * endpoint/identity binding check.
 */
import { checkEndpointBinding, type BindingIdentity, type BindingResult, type DtlsSocket } from '../dtls';
import type { DeviceSource } from '../devices/types';
import { keysFromTable, ListenerPskStore, type PskEntry, type TableColumns } from './psk';
import { ListenerRpkStore, rpkKeysFromTable, type RpkKeys } from './rpk';
import {
  CompositeKeySource,
  DeviceKeySource,
  PrefetchLimiter,
  StaticKeySource,
  type DeviceKeySourceOptions,
  type KeySource,
  type KeySourceStats,
} from './source';

/** The part of lib/devices' DeviceTable (a file table) the listener uses. */
export interface PskTable {
  allRows(): Iterable<{ values: Record<string, string> }>;
  on(event: 'loaded', listener: () => void): unknown;
  removeListener(event: 'loaded', listener: () => void): unknown;
  checkFresh(force?: boolean): Promise<void>;
  /** Rows loaded now (a DeviceTable has it). */
  readonly count?: number;
  /** The columns its DeviceSource records come from (a DeviceTable has them). */
  readonly columns?: Readonly<{ endpoint: string; identity: string; pskKey: string }>;
}

/**
 * A file table of this many rows or more is not copied into the listener's own key map (a million PSKs would
 * be ~100 MB more and a copy of seconds, on the event loop, at every reload): when it is a DeviceSource whose
 * identity, key and endpoint columns are the listener's, the handshake reads it through its own index.
 */
export const TABLE_SNAPSHOT_MAX_ROWS = 10_000;

function isDeviceSource(t: PskTable): t is PskTable & DeviceSource {
  const d = t as Partial<DeviceSource>;
  return typeof d.cachedByIdentity === 'function' && typeof d.onChange === 'function' && typeof d.lookup === 'function';
}

export interface CoapsLog {
  warn(msg: string): void;
}

export class CoapsController {
  /** Every key source of the listener, in the order they are asked. */
  readonly keys: CompositeKeySource;
  readonly psk: ListenerPskStore;
  /** Trusted device public keys; undefined while raw public keys are off. */
  rpk: ListenerRpkStore | undefined;
  /** The bound on prefetches in flight across the listener's device sources. */
  readonly limiter = new PrefetchLimiter(64);
  private readonly own: StaticKeySource;
  private tableKeys: StaticKeySource | undefined;
  /** The file table read through its index (a DeviceSource), when its columns are the listener's. */
  private tableIndex: DeviceKeySource | undefined;
  private indexed = false;
  private readonly deviceKeys: DeviceKeySource[] = [];
  private rpkColumn: string | undefined;
  private readonly peers = new Map<string, BindingIdentity>();
  private maxTracked = 1000;
  private readonly onLoaded = () => this.snapshot();
  private table: PskTable | undefined;
  private cols: TableColumns | undefined;

  constructor(
    private readonly ownPsk: Map<string, PskEntry>,
    private readonly log: CoapsLog,
    private readonly badRowsText: (count: number) => string,
  ) {
    this.own = new StaticKeySource(ownPsk);
    this.keys = new CompositeKeySource([this.own]);
    this.psk = new ListenerPskStore(this.keys);
  }

  /** Turns raw public keys on with the node's own trusted keys (and, with a table, its `tableColumn`). */
  useRpk(own: RpkKeys, tableColumn: string): void {
    this.own.replace(this.ownPsk, own);
    this.rpk = new ListenerRpkStore(this.keys);
    this.rpkColumn = tableColumn;
  }

  /** Keeps a snapshot of the table's identities and keys, refreshed whenever the table reloads. */
  useTable(table: PskTable, cols: TableColumns): void {
    this.table = table;
    this.cols = cols;
    if (!this.tableKeys) {
      this.tableKeys = new StaticKeySource();
      this.keys.sources.splice(1, 0, this.tableKeys); // right after the node's own keys
    }
    const tc = table.columns;
    if (!this.tableIndex && isDeviceSource(table) && tc && tc.identity === cols.identity && tc.pskKey === cols.key && tc.endpoint === cols.endpoint) {
      // Asked right after the snapshot, which is empty while the table is large (snapshot()).
      this.tableIndex = new DeviceKeySource(table, { limiter: this.limiter });
      this.keys.sources.splice(2, 0, this.tableIndex);
    }
    table.on('loaded', this.onLoaded);
    this.snapshot();
    // A handshake with an unknown identity asks the table to check its file again (at most once per its
    // check interval), so a row added where file watching does not work is there for the device's retry.
    const recheck = () => void table.checkFresh().catch(() => undefined);
    this.psk.onUnknown = recheck;
    if (this.rpk) this.rpk.onUnknown = recheck;
  }

  /**
   * Keys from a device source too large to hold (PostgreSQL, any DeviceSource): asked after the own keys
   * and the table, through a DeviceKeySource (a negative cache, prefetches bounded per source and by the
   * listener's limiter). The handshake reads only memory; an identity not known yet fails this handshake
   * and is fetched, so that the device's next handshake finds it.
   */
  useSource(source: DeviceSource, opts: Omit<DeviceKeySourceOptions, 'limiter'> = {}): DeviceKeySource {
    const ks = new DeviceKeySource(source, { ...opts, limiter: this.limiter });
    this.deviceKeys.push(ks);
    this.keys.add(ks);
    return ks;
  }

  /** Any other key source (a key server, a vault), asked after the ones before it. */
  useKeySource(source: KeySource): void {
    this.keys.add(source);
  }

  /** Handshake lookups, and the prefetches of the device sources (summed); never a key or an identity. */
  stats(): { handshake: ReturnType<ListenerPskStore['stats']>; prefetch: KeySourceStats } {
    const prefetch: KeySourceStats = { prefetches: 0, found: 0, absent: 0, errors: 0, shed: 0, inFlight: 0 };
    for (const d of this.deviceKeys) {
      const s = d.stats();
      for (const k of Object.keys(prefetch) as (keyof KeySourceStats)[]) prefetch[k] += s[k];
    }
    return { handshake: this.psk.stats(), prefetch };
  }

  /** How the handshake reads the file table now: a copy of its keys, or the table's own index (large tables). */
  get tableMode(): 'snapshot' | 'index' | undefined {
    return this.table ? (this.indexed ? 'index' : 'snapshot') : undefined;
  }

  private snapshot(): void {
    if (!this.table || !this.cols || !this.tableKeys) return;
    // Raw public keys come only from the snapshot (a DeviceRecord has no public key), so they keep it.
    this.indexed = this.tableIndex !== undefined && !this.rpk && (this.table.count ?? 0) >= TABLE_SNAPSHOT_MAX_ROWS;
    if (this.indexed) {
      this.tableKeys.replace(new Map());
      return;
    }
    const rows = { rows: () => this.table!.allRows() };
    const { keys, badRows } = keysFromTable(rows, this.cols);
    let bad = badRows;
    let rpkKeys: RpkKeys | undefined;
    if (this.rpk && this.rpkColumn) {
      const r = rpkKeysFromTable(rows, { key: this.rpkColumn, endpoint: this.cols.endpoint });
      rpkKeys = r.keys;
      bad += r.badRows;
    }
    this.tableKeys.replace(keys, rpkKeys);
    if (bad > 0) this.log.warn(this.badRowsText(bad));
  }

  /** Remembers each established peer's identity (with SANs) until it closes. */
  attach(socket: DtlsSocket, maxPeers: number): void {
    this.maxTracked = maxPeers;
    socket.on('handshake', (p) => {
      if (!p.identity) return;
      const key = `${p.address}|${p.port}`;
      this.peers.delete(key);
      if (this.peers.size >= this.maxTracked) {
        // Peers that expired without an event: forget the oldest.
        const oldest = this.peers.keys().next().value;
        if (oldest !== undefined) this.peers.delete(oldest);
      }
      const id = p.identity;
      this.peers.set(key, id.type === 'x509' ? { type: id.type, id: id.id, san: [...id.san] } : { type: id.type, id: id.id });
    });
    const forget = (ev: { address: string; port: number }) => this.peers.delete(`${ev.address}|${ev.port}`);
    socket.on('peerClosed', forget);
    socket.on('handshakeFailed', forget);
  }

  /** Does `endpoint` belong to the identity of the peer that sent the request? */
  check(endpoint: string, peer: { address: string; port: number }, identity: { type: string; id: string } | undefined): BindingResult {
    const full = this.peers.get(`${peer.address}|${peer.port}`);
    const id = full && identity && full.id === identity.id ? full : identity;
    const bound = !id ? undefined : id.type === 'rpk' ? this.rpk?.endpointsOf(id.id) : this.psk.endpointsOf(id.id);
    return checkEndpointBinding(endpoint, id, bound);
  }

  release(): void {
    this.table?.removeListener('loaded', this.onLoaded);
    this.table = undefined;
    this.psk.onUnknown = undefined;
    for (const d of this.deviceKeys) {
      d.close();
      this.keys.remove(d);
    }
    this.deviceKeys.length = 0;
    if (this.rpk) this.rpk.onUnknown = undefined;
    this.peers.clear();
  }
}

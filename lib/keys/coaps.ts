/**
 * What a CoAPs listener adds to a plain one, apart from Node-RED: its PSK store (own keys plus a device
 * table snapshot refreshed on reload), the full DTLS identity of each established peer (certificate SANs
 * included, which sessions do not carry), and the endpoint/identity binding check.
 */
import { checkEndpointBinding, type BindingIdentity, type BindingResult, type DtlsSocket } from '../dtls';
import type { DeviceSource } from '../devices/types';
import { keysFromTable, ListenerPskStore, type PskEntry, type TableColumns } from './psk';
import { ListenerRpkStore, rpkKeysFromTable, type RpkKeys } from './rpk';

/** The part of lib/devices' DeviceTable (a file table) the listener uses. */
export interface PskTable {
  allRows(): Iterable<{ values: Record<string, string> }>;
  on(event: 'loaded', listener: () => void): unknown;
  removeListener(event: 'loaded', listener: () => void): unknown;
  checkFresh(force?: boolean): Promise<void>;
}

export interface CoapsLog {
  warn(msg: string): void;
}

export class CoapsController {
  readonly psk: ListenerPskStore;
  /** Trusted device public keys; undefined while raw public keys are off. */
  rpk: ListenerRpkStore | undefined;
  private rpkColumn: string | undefined;
  private readonly peers = new Map<string, BindingIdentity>();
  private maxTracked = 1000;
  private readonly onLoaded = () => this.snapshot();
  private table: PskTable | undefined;
  private cols: TableColumns | undefined;

  constructor(
    own: Map<string, PskEntry>,
    private readonly log: CoapsLog,
    private readonly badRowsText: (count: number) => string,
  ) {
    this.psk = new ListenerPskStore(own);
  }

  /** Turns raw public keys on with the node's own trusted keys (and, with a table, its `tableColumn`). */
  useRpk(own: RpkKeys, tableColumn: string): void {
    this.rpk = new ListenerRpkStore(own);
    this.rpkColumn = tableColumn;
  }

  /** Keeps a snapshot of the table's identities and keys, refreshed whenever the table reloads. */
  useTable(table: PskTable, cols: TableColumns): void {
    this.table = table;
    this.cols = cols;
    table.on('loaded', this.onLoaded);
    this.snapshot();
    // A handshake with an unknown identity asks the table to check its file again (at most once per its
    // check interval), so a row added where file watching does not work is there for the device's retry.
    const recheck = () => void table.checkFresh().catch(() => undefined);
    this.psk.onUnknown = recheck;
    if (this.rpk) this.rpk.onUnknown = recheck;
  }

  /**
   * Keys from a device source too large to hold (PostgreSQL): the handshake reads only what the source has
   * in memory; an identity it does not know yet fails this handshake and is fetched, so that the device's
   * next handshake finds it (the PSK callback inside OpenSSL cannot wait for a database).
   */
  useSource(source: Pick<DeviceSource, 'cachedByIdentity' | 'prefetchIdentity'>): void {
    this.psk.fallback = (id) => {
      const r = source.cachedByIdentity(id);
      return r?.pskKey ? { key: r.pskKey, endpoint: r.endpoint } : undefined;
    };
    const before = this.psk.onUnknown;
    this.psk.onUnknown = (id) => {
      before?.(id);
      if (source.cachedByIdentity(id) === undefined) source.prefetchIdentity(id);
    };
  }

  private snapshot(): void {
    if (!this.table || !this.cols) return;
    const rows = { rows: () => this.table!.allRows() };
    const { keys, badRows } = keysFromTable(rows, this.cols);
    this.psk.setTable(keys);
    let bad = badRows;
    if (this.rpk && this.rpkColumn) {
      const r = rpkKeysFromTable(rows, { key: this.rpkColumn, endpoint: this.cols.endpoint });
      this.rpk.setTable(r.keys);
      bad += r.badRows;
    }
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
    this.psk.fallback = undefined;
    if (this.rpk) this.rpk.onUnknown = undefined;
    this.peers.clear();
  }
}

/**
 * The device seam: where the rows that say who a device is (endpoint, PSK identity and key, IMEI, ICCID)
 * and what it gets (profile name, per-device template values) come from. A file table, a database or a
 * provisioning service implements DeviceSource; profile lookup asks it asynchronously, the DTLS handshake
 * (synchronous inside OpenSSL) reads only what a source already holds in memory (`cachedByIdentity`) and
 * asks for the rest with `prefetchIdentity`, so that the device's next handshake attempt finds it.
 */

/** The parts of a request a device can be found by. */
export type DeviceKeyKind = 'endpoint' | 'identity' | 'imei' | 'iccid';

export interface DeviceRecord {
  endpoint: string;
  /** PSK identity towards this Bootstrap-Server. */
  identity?: string;
  /** The PSK. Secret: never log it, never put it on a message. */
  pskKey?: Buffer;
  imei?: string;
  iccid?: string;
  /** Profile name, if the row names one. */
  profile?: string;
  /** Per-device template values (every column, as text). */
  values: Record<string, string>;
}

/** What changed: the keys of the rows that were inserted, updated or deleted; `all` after a resync. */
export type DeviceChange = { all: true } | { all?: false; keys: Array<{ kind: DeviceKeyKind; key: string }> };

export interface DeviceSourceStats {
  /** Records (and known misses) held in memory now. */
  cached: number;
  hits: number;
  misses: number;
  /** Lookups that went to the backing store. */
  loads: number;
  /** Lookups that failed (store down). */
  errors: number;
}

export interface DeviceSource {
  /** The device with this key, or undefined when there is none. Rejects when the store cannot answer. */
  lookup(kind: DeviceKeyKind, key: string): Promise<DeviceRecord | undefined>;
  /**
   * Synchronous: the record of a PSK identity if it is in memory now; `null` when the source knows there is
   * no such identity; undefined when it does not know yet (then call prefetchIdentity).
   */
  cachedByIdentity(identity: string): DeviceRecord | null | undefined;
  /** Starts loading an identity into memory; never throws, never waits. */
  prefetchIdentity(identity: string): void;
  /** Called after rows changed; returns a function that removes the listener. */
  onChange(listener: (change: DeviceChange) => void): () => void;
  stats(): DeviceSourceStats;
  close(): Promise<void>;
}

/** The key of a record for each kind, where it has one. */
export function recordKeys(r: Pick<DeviceRecord, 'endpoint' | 'identity' | 'imei' | 'iccid'>): Array<{ kind: DeviceKeyKind; key: string }> {
  const out: Array<{ kind: DeviceKeyKind; key: string }> = [{ kind: 'endpoint', key: r.endpoint }];
  if (r.identity) out.push({ kind: 'identity', key: r.identity });
  if (r.imei) out.push({ kind: 'imei', key: r.imei });
  if (r.iccid) out.push({ kind: 'iccid', key: r.iccid });
  return out;
}

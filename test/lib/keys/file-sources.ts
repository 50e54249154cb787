/**
 * Key stores for the tests whose answers really are asynchronous: each lookup reads a JSON file from disk
 * (fs.promises), as a store on another machine answers later. Nothing is held in memory by the store, so
 * the handshake path must carry what a prefetch found to the device's next attempt.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import type { DeviceChange, DeviceKeyKind, DeviceRecord, DeviceSource, DeviceSourceStats } from '../../../lib/devices/types';
import type { Cached, KeySource, RpkEntry } from '../../../lib/keys/source';
import type { PskEntry } from '../../../lib/keys/psk';

export interface FileRow {
  endpoint: string;
  identity?: string;
  /** hex */
  pskKey?: string;
  /** SHA-256 fingerprint of a trusted raw public key */
  rpk?: string;
}

export function writeRows(file: string, rows: FileRow[]): void {
  fs.writeFileSync(file, JSON.stringify(rows));
}

async function readRows(file: string): Promise<FileRow[]> {
  return JSON.parse(await fs.promises.readFile(file, 'utf8')) as FileRow[];
}

/** A DeviceSource over a JSON file, read on every lookup; `changed()` is its change feed (as a NOTIFY). */
export class FileDeviceSource implements DeviceSource {
  lookups = 0;
  private readonly events = new EventEmitter();
  constructor(private readonly file: string) {}

  async lookup(kind: DeviceKeyKind, key: string): Promise<DeviceRecord | undefined> {
    this.lookups++;
    const row = (await readRows(this.file)).find((r) => (kind === 'identity' ? r.identity : kind === 'endpoint' ? r.endpoint : undefined) === key);
    if (!row) return undefined;
    return { endpoint: row.endpoint, identity: row.identity, pskKey: row.pskKey ? Buffer.from(row.pskKey, 'hex') : undefined, values: {} };
  }
  cachedByIdentity(): undefined {
    return undefined; // keeps nothing in memory
  }
  prefetchIdentity(identity: string): void {
    void this.lookup('identity', identity).catch(() => undefined);
  }
  onChange(listener: (change: DeviceChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.removeListener('change', listener);
  }
  changed(change: DeviceChange): void {
    this.events.emit('change', change);
  }
  stats(): DeviceSourceStats {
    return { cached: 0, hits: 0, misses: 0, loads: this.lookups, errors: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A KeySource of trusted raw public keys over a JSON file: a prefetch reads the file and keeps the answer. */
export class FileRpkSource implements KeySource {
  lookups = 0;
  private readonly known = new Map<string, RpkEntry | null>();
  private readonly inFlight = new Set<string>();
  constructor(private readonly file: string) {}

  pskFor(): Promise<PskEntry | undefined> {
    return Promise.resolve(undefined);
  }
  cachedPsk(): null {
    return null;
  }
  prefetchPsk(): void {}
  async rpkFor(fingerprint: string): Promise<RpkEntry | undefined> {
    this.lookups++;
    const eps = (await readRows(this.file)).filter((r) => r.rpk === fingerprint).map((r) => r.endpoint);
    return eps.length ? { endpoints: eps } : undefined;
  }
  cachedRpk(fingerprint: string): Cached<RpkEntry> {
    return this.known.get(fingerprint);
  }
  prefetchRpk(fingerprint: string): void {
    if (this.known.has(fingerprint) || this.inFlight.has(fingerprint)) return;
    this.inFlight.add(fingerprint);
    void this.rpkFor(fingerprint)
      .then(
        (e) => void this.known.set(fingerprint, e ?? null),
        () => undefined,
      )
      .finally(() => this.inFlight.delete(fingerprint));
  }
}

/** The in-memory DeviceSource: every record in Maps, one per key kind. A file table or a test fills it. */
import { EventEmitter } from 'events';
import { recordKeys, type DeviceChange, type DeviceKeyKind, type DeviceRecord, type DeviceSource, type DeviceSourceStats } from './types';

export class MemoryDeviceSource implements DeviceSource {
  private readonly index: Record<DeviceKeyKind, Map<string, DeviceRecord>> = {
    endpoint: new Map(),
    identity: new Map(),
    imei: new Map(),
    iccid: new Map(),
  };
  private readonly events = new EventEmitter();
  private hits = 0;
  private misses = 0;

  constructor(records: Iterable<DeviceRecord> = []) {
    this.events.setMaxListeners(0);
    for (const r of records) this.add(r);
  }

  /** Replaces every record (a reloaded file). Listeners hear `{ all: true }`. */
  replaceAll(records: Iterable<DeviceRecord>): void {
    for (const m of Object.values(this.index)) m.clear();
    for (const r of records) this.add(r);
    this.emit({ all: true });
  }

  /** Adds or replaces the record of `r.endpoint`. */
  upsert(r: DeviceRecord): void {
    const old = this.index.endpoint.get(r.endpoint);
    if (old) this.remove(old);
    this.add(r);
    this.emit({ keys: [...(old ? recordKeys(old) : []), ...recordKeys(r)] });
  }

  delete(endpoint: string): boolean {
    const old = this.index.endpoint.get(endpoint);
    if (!old) return false;
    this.remove(old);
    this.emit({ keys: recordKeys(old) });
    return true;
  }

  get size(): number {
    return this.index.endpoint.size;
  }

  lookup(kind: DeviceKeyKind, key: string): Promise<DeviceRecord | undefined> {
    const r = this.index[kind].get(key);
    if (r) this.hits++;
    else this.misses++;
    return Promise.resolve(r);
  }

  cachedByIdentity(identity: string): DeviceRecord | null {
    return this.index.identity.get(identity) ?? null;
  }

  prefetchIdentity(): void {
    // Everything is in memory already.
  }

  onChange(listener: (change: DeviceChange) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.removeListener('change', listener);
  }

  stats(): DeviceSourceStats {
    return { cached: this.size, hits: this.hits, misses: this.misses, loads: 0, errors: 0 };
  }

  close(): Promise<void> {
    this.events.removeAllListeners();
    return Promise.resolve();
  }

  private add(r: DeviceRecord): void {
    for (const { kind, key } of recordKeys(r)) this.index[kind].set(key, r);
  }

  private remove(r: DeviceRecord): void {
    for (const { kind, key } of recordKeys(r)) if (this.index[kind].get(key) === r) this.index[kind].delete(key);
  }

  private emit(change: DeviceChange): void {
    this.events.emit('change', change);
  }
}

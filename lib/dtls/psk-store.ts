/** The simplest PskStore: keys in a Map. Identities given as text or bytes find the same entry. */
import { pskIdentityArg } from './peer';
import type { PskStore } from './types';

/** A PskStore over a Map, keyed by identity text (or raw bytes). */
export class MemoryPskStore implements PskStore {
  private readonly keys = new Map<string, Buffer>();
  private static k(identity: Buffer | string): string {
    return typeof identity === 'string' ? `s:${identity}` : pskKeyOfBytes(identity);
  }
  set(identity: Buffer | string, key: Buffer): this {
    this.keys.set(MemoryPskStore.k(identity), Buffer.from(key));
    return this;
  }
  delete(identity: Buffer | string): boolean {
    return this.keys.delete(MemoryPskStore.k(identity));
  }
  get(identity: Buffer | string): Buffer | undefined {
    return this.keys.get(MemoryPskStore.k(identity));
  }
  get size(): number {
    return this.keys.size;
  }
}

function pskKeyOfBytes(raw: Buffer): string {
  const id = pskIdentityArg(raw);
  return typeof id === 'string' ? `s:${id}` : `b:${raw.toString('hex')}`;
}

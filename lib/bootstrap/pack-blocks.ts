/**
 * Block2 (RFC 7959) for Bootstrap-Packs larger than one block: the first GET /bspack gets block 0 and the
 * encoded pack is kept (per peer, endpoint and format) so the client's GETs for the next blocks are served
 * from it without asking the flow again. Entries expire after `ttlMs`; the cache is capped.
 */
import { uintBuffer } from './coap/message';
import { blockSize } from './coap/transfer';

interface Entry {
  payload: Buffer;
  contentFormat: number;
  expires: number;
}

export interface PackBlock {
  payload: Buffer;
  contentFormat: number;
  options: { name: string; value: Buffer }[];
}

export class PackBlockCache {
  private readonly map = new Map<string, Entry>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1000,
  ) {}

  static key(address: string, port: number, endpoint: string, accept: number): string {
    return `${address}|${port}|${endpoint}|${accept}`;
  }

  /** Block `num` of size 2^(szx+4) of `payload`, with its Block2 (and, for block 0, Size2) options. */
  static block(payload: Buffer, contentFormat: number, num: number, szx: number): PackBlock | undefined {
    const size = blockSize(szx);
    const start = num * size;
    if (start >= payload.length && !(num === 0 && payload.length === 0)) return undefined;
    const more = start + size < payload.length ? 1 : 0;
    const options = [{ name: 'Block2', value: uintBuffer((num << 4) | (more << 3) | szx) }];
    if (num === 0) options.push({ name: 'Size2', value: uintBuffer(payload.length) });
    return { payload: payload.subarray(start, start + size), contentFormat, options };
  }

  put(key: string, payload: Buffer, contentFormat: number): void {
    const now = Date.now();
    for (const [k, e] of this.map) {
      if (e.expires > now && this.map.size < this.maxEntries) break;
      this.map.delete(k);
    }
    this.map.delete(key);
    this.map.set(key, { payload, contentFormat, expires: now + this.ttlMs });
  }

  /** The block, or undefined when the pack expired or `num` is past its end. Forgets the pack after its last block. */
  get(key: string, num: number, szx: number): PackBlock | undefined {
    const e = this.map.get(key);
    if (!e || e.expires <= Date.now()) {
      this.map.delete(key);
      return undefined;
    }
    const b = PackBlockCache.block(e.payload, e.contentFormat, num, szx);
    if (!b || (b.options[0].value[b.options[0].value.length - 1] & 0x08) === 0) this.map.delete(key);
    return b;
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * One downlink operation on the wire, block-wise when it has to be (RFC 7959): a request body larger
 * than one block goes out as Block1 parts (each answered 2.31 Continue until the last), and a response
 * that arrives with Block2 M=1 is fetched part by part and put back together. Each part is its own
 * Confirmable exchange with its own deadline; the caller sees one result.
 */
import type { CoapEndpoint, OutboundResult } from './endpoint';
import { uintBuffer } from './message';
import type { ConTransmission, TransmissionOwner } from './transmission';

/** Who hears how a transfer ended (an object with a method, not a closure per request). */
export interface TransferOwner {
  onTransferDone(t: Transfer, r: OutboundResult): void;
}

type Option = { name: string; value: Buffer };

/** Request bodies above this many bytes are sent block-wise, in 1024-byte blocks (SZX 6). */
export const BLOCK_THRESHOLD = 1024;
const DEFAULT_SZX = 6;
/** Most parts one response may come in (guards against a peer that never sets M=0). */
const MAX_BLOCKS = 1024;

export function blockSize(szx: number): number {
  return 16 << szx;
}

/** The state of a block-wise transfer (RFC 7959), made only for one: most requests are one message each. */
interface Blocks {
  /** When the first part was sent (ms since the epoch): the transfer's rttMs counts from it. */
  readonly startedAt: number;
  /** Block1: bytes of the request body the peer has taken, and the block size exponent. */
  offset: number;
  szx: number;
  /** Block2: the number and size exponent of the part to ask for next; the parts received. */
  block2Num: number;
  block2Szx: number | undefined;
  parts: Buffer[] | undefined;
}

export class Transfer implements TransmissionOwner {
  private current: ConTransmission | undefined;
  private finished = false;
  private blocks: Blocks | undefined;
  /** The token of every part (see ConTransmission.tokenRand), from the first part on; -1 before it. */
  private tokenRand = 0;
  private tokenKey = -1;

  constructor(
    private readonly coap: CoapEndpoint,
    private readonly address: string,
    private readonly port: number,
    private readonly code: string,
    private readonly options: Option[],
    private readonly payload: Buffer | undefined,
    private readonly timeoutMs: number,
    private readonly owner: TransferOwner,
    /** flatPeerKey(address, port), when the caller keeps it (see CoapEndpoint.request). */
    private readonly peer?: string,
  ) {}

  /** Sends the first part; returns an Error when the message cannot be built. */
  start(): Error | undefined {
    if (this.payload !== undefined && this.payload.length > BLOCK_THRESHOLD) this.blocks = newBlocks(Date.now());
    return this.sendPart();
  }

  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.current) this.coap.cancel(this.current);
  }

  /** A request body sent in Block1 parts. */
  private get blockwise(): boolean {
    return this.payload !== undefined && this.payload.length > BLOCK_THRESHOLD;
  }

  private sendPart(): Error | undefined {
    let options = this.options;
    let body = this.payload;
    const b = this.blocks;
    if (b !== undefined) {
      options = [...options];
      if (this.payload !== undefined && this.blockwise) {
        const size = blockSize(b.szx);
        const num = b.offset / size;
        const more = b.offset + size < this.payload.length ? 1 : 0;
        body = this.payload.subarray(b.offset, b.offset + size);
        options.push({ name: 'Block1', value: uintBuffer((num << 4) | (more << 3) | b.szx) });
        if (b.offset === 0) options.push({ name: 'Size1', value: uintBuffer(this.payload.length) });
      }
      if (b.block2Szx !== undefined) {
        options.push({ name: 'Block2', value: uintBuffer((b.block2Num << 4) | b.block2Szx) });
      }
    }
    // One token for every part: peers (node-coap among them) key block reassembly on it.
    const t = this.coap.request(this.address, this.port, this.code, options, body, this.timeoutMs, this, this.tokenRand, this.tokenKey, this.peer);
    if (t instanceof Error) return t;
    this.tokenRand = t.tokenRand;
    this.tokenKey = t.tokenKey;
    this.current = t;
    return undefined;
  }

  /** TransmissionOwner: one part has its outcome. */
  onOutcome(r: OutboundResult): void {
    this.onPart(r);
  }

  private onPart(r: OutboundResult): void {
    const sent = this.current;
    this.current = undefined;
    if (this.finished) return;
    if (r.kind !== 'response') return this.end(r);
    let b = this.blocks;
    if (b !== undefined && this.payload && this.blockwise && r.code === '2.31') {
      // Continue: the peer took this block; it may ask for smaller ones (NUM is then recounted from the offset).
      b.offset += blockSize(b.szx);
      if (r.block1 !== undefined) b.szx = Math.min(b.szx, r.block1 & 0x07);
      if (b.offset >= this.payload.length) return this.end({ ...r, rttMs: Date.now() - b.startedAt });
      return this.next();
    }
    if (r.block2 !== undefined && r.code.startsWith('2.')) {
      b ??= this.blocks = newBlocks(sent !== undefined ? sent.startedAt : Date.now() - r.rttMs);
      const num = r.block2 >> 4;
      const more = (r.block2 >> 3) & 1;
      const szx = r.block2 & 0x07;
      if (num !== b.block2Num || szx === 7) return this.end({ kind: 'send-error', error: new Error(`unexpected Block2 ${num}/${szx}`) });
      (b.parts ??= []).push(r.payload);
      if (more === 1 && b.parts.length < MAX_BLOCKS) {
        b.block2Num = num + 1;
        b.block2Szx = szx;
        return this.next();
      }
      return this.end({ ...r, payload: Buffer.concat(b.parts), rttMs: Date.now() - b.startedAt });
    }
    this.end(b !== undefined ? { ...r, rttMs: Date.now() - b.startedAt } : r);
  }

  private next(): void {
    const err = this.sendPart();
    if (err) this.end({ kind: 'send-error', error: err });
  }

  private end(r: OutboundResult): void {
    if (this.finished) return;
    this.finished = true;
    this.owner.onTransferDone(this, r);
  }
}

function newBlocks(startedAt: number): Blocks {
  return { startedAt, offset: 0, szx: DEFAULT_SZX, block2Num: 0, block2Szx: undefined, parts: undefined };
}

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

export class Transfer implements TransmissionOwner {
  private current: ConTransmission | undefined;
  private finished = false;
  private offset = 0;
  private szx = DEFAULT_SZX;
  private block2Num = 0;
  private block2Szx: number | undefined;
  private parts: Buffer[] | undefined;
  /** The token of every part (see ConTransmission.tokenRand), from the first part on; -1 before it. */
  private tokenRand = 0;
  private tokenKey = -1;
  private readonly startedAt = Date.now();
  private readonly blockwise: boolean;

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
  ) {
    this.blockwise = payload !== undefined && payload.length > BLOCK_THRESHOLD;
  }

  /** Sends the first part; returns an Error when the message cannot be built. */
  start(): Error | undefined {
    return this.sendPart();
  }

  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.current) this.coap.cancel(this.current);
  }

  private sendPart(): Error | undefined {
    let options = this.options;
    let body = this.payload;
    if (this.blockwise || this.block2Szx !== undefined) options = [...options];
    if (this.blockwise && this.payload) {
      const size = blockSize(this.szx);
      const num = this.offset / size;
      const more = this.offset + size < this.payload.length ? 1 : 0;
      body = this.payload.subarray(this.offset, this.offset + size);
      options.push({ name: 'Block1', value: uintBuffer((num << 4) | (more << 3) | this.szx) });
      if (this.offset === 0) options.push({ name: 'Size1', value: uintBuffer(this.payload.length) });
    }
    if (this.block2Szx !== undefined) {
      options.push({ name: 'Block2', value: uintBuffer((this.block2Num << 4) | this.block2Szx) });
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
    this.current = undefined;
    if (this.finished) return;
    if (r.kind !== 'response') return this.end(r);
    if (this.blockwise && this.payload && r.code === '2.31') {
      // Continue: the peer took this block; it may ask for smaller ones (NUM is then recounted from the offset).
      this.offset += blockSize(this.szx);
      if (r.block1 !== undefined) this.szx = Math.min(this.szx, r.block1 & 0x07);
      if (this.offset >= this.payload.length) return this.end({ ...r, rttMs: Date.now() - this.startedAt });
      return this.next();
    }
    if (r.block2 !== undefined && r.code.startsWith('2.')) {
      const num = r.block2 >> 4;
      const more = (r.block2 >> 3) & 1;
      const szx = r.block2 & 0x07;
      if (num !== this.block2Num || szx === 7) return this.end({ kind: 'send-error', error: new Error(`unexpected Block2 ${num}/${szx}`) });
      (this.parts ??= []).push(r.payload);
      if (more === 1 && this.parts.length < MAX_BLOCKS) {
        this.block2Num = num + 1;
        this.block2Szx = szx;
        return this.next();
      }
      return this.end({ ...r, payload: Buffer.concat(this.parts), rttMs: Date.now() - this.startedAt });
    }
    this.end(this.parts || this.blockwise ? { ...r, rttMs: Date.now() - this.startedAt } : r);
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

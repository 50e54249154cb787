/** A request we received and owe one answer: piggy-backed in the ACK, or separate (CON) once we sent an empty ACK. */
import { compactReply, type DedupEntry } from './dedup';
import { emptyMessage, generateWithoutOptions, uintBuffer, type Packet } from './message';

export interface ResponseOptions {
  payload?: Buffer;
  contentFormat?: number;
  /** Further options (Block2, Size2 …). */
  options?: { name: string; value: Buffer }[];
}

/** What an exchange needs from the endpoint. */
export interface ExchangeHost {
  nextMessageId(address: string, port: number): number;
  generate(packet: Packet): Buffer;
  /** The largest datagram generate() writes (CoAP parameters). */
  readonly maxMessageSize: number;
  sendRaw(buf: Buffer, address: string, port: number, cb?: (err: Error | null) => void): void;
  sendSeparate(buf: Buffer, mid: number, address: string, port: number, cb?: (err: Error | null) => void): void;
}

/** A request we received and owe an answer. Piggy-backed if answered before a retransmission arrives. */
export class InboundExchange {
  /** 0 open, 1 empty ACK sent (the answer goes separately, as CON), 2 answered. */
  state = 0;
  constructor(
    private readonly ep: ExchangeHost,
    readonly address: string,
    readonly port: number,
    readonly messageId: number,
    readonly token: Buffer,
    readonly confirmable: boolean,
    private entry: DedupEntry | undefined,
  ) {}

  get answered(): boolean {
    return this.state === 2;
  }

  /** A retransmission of the request arrived while we are still deciding: send the empty ACK now. */
  onDuplicate(): void {
    if (this.state !== 0 || !this.confirmable) return;
    this.state = 1;
    const ack = emptyMessage('ack', this.messageId);
    if (this.entry) this.entry.reply = compactReply(ack);
    this.ep.sendRaw(ack, this.address, this.port);
  }

  /**
   * Answers once; later calls return false. `cb` runs when the datagram has left (piggy-backed answer)
   * or when the device has acknowledged it (separate answer), or with the error.
   */
  respond(code: string, opts: ResponseOptions = {}, cb?: (err: Error | null) => void): boolean {
    if (this.state === 2) return false;
    const separate = this.state === 1;
    this.state = 2;
    const entry = this.entry;
    this.entry = undefined;
    if (entry) entry.open = undefined;
    const messageId = separate || !this.confirmable ? this.ep.nextMessageId(this.address, this.port) : this.messageId;
    if (opts.contentFormat === undefined && (opts.options === undefined || opts.options.length === 0)) {
      // No options (the 2.04 to a Bootstrap-Request, a diagnostic): written as generatePacket would, without a packet.
      const type = separate ? 0 : this.confirmable ? 2 : 1;
      let plain: Buffer | undefined;
      try {
        plain = generateWithoutOptions(code, type, messageId, this.token, opts.payload, this.ep.maxMessageSize);
      } catch {
        plain = undefined; // too large: the path below answers 5.00 and tells the caller
      }
      if (plain !== undefined) {
        this.send(plain, separate, messageId, entry, cb);
        return true;
      }
    }
    const options: { name: string; value: Buffer }[] = [];
    if (opts.contentFormat !== undefined) {
      options.push({ name: 'Content-Format', value: uintBuffer(opts.contentFormat) });
    }
    if (opts.options) options.push(...opts.options);
    const packet: Packet = {
      code,
      token: this.token,
      options: options as Packet['options'],
      payload: opts.payload,
      messageId,
      confirmable: separate,
      ack: !separate && this.confirmable,
    };
    let buf: Buffer;
    try {
      buf = this.ep.generate(packet);
    } catch (err) {
      // Too large or invalid: answer 5.00 so the device is not left waiting.
      buf = this.ep.generate({ ...packet, code: '5.00', payload: undefined, options: [] });
      cb?.(err instanceof Error ? err : new Error(String(err)));
      cb = undefined;
    }
    this.send(buf, separate, messageId, entry, cb);
    return true;
  }

  private send(buf: Buffer, separate: boolean, messageId: number, entry: DedupEntry | undefined, cb: ((err: Error | null) => void) | undefined): void {
    if (separate) {
      this.ep.sendSeparate(buf, messageId, this.address, this.port, cb);
    } else {
      if (entry) entry.reply = compactReply(buf);
      this.ep.sendRaw(buf, this.address, this.port, cb);
    }
  }
}

/**
 * Pending sessions for the heap measurement: many devices send `POST /bs` and then never answer the
 * server's first request, so each session stays open with one request in flight. They share a few
 * sockets (the server keys sessions by endpoint, requests by address, port and Message ID). `release()`
 * answers every held request with RST, which ends those sessions at once (REQUEST_FAILED).
 */
import * as dgram from 'dgram';
import { randomBytes } from 'crypto';
import { generate, parse } from 'coap-packet';

export class PendingHolder {
  private readonly socks: dgram.Socket[] = [];
  /** Per socket: Message IDs of the server's requests (first transmissions and retransmissions alike). */
  private readonly held: Set<number>[] = [];
  accepted = 0;
  refused = new Map<string, number>();

  private constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  static async open(host: string, port: number, sockets: number): Promise<PendingHolder> {
    const h = new PendingHolder(host, port);
    for (let i = 0; i < sockets; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      const held = new Set<number>();
      s.on('message', (msg) => {
        try {
          const p = parse(msg);
          if (p.code.startsWith('0.') && p.code !== '0.00') held.add(p.messageId);
          else if (p.ack && p.code === '2.04') h.accepted++;
          else if (p.ack && p.code !== '0.00') h.refused.set(p.code, (h.refused.get(p.code) ?? 0) + 1);
        } catch {
          // not CoAP: ignore
        }
      });
      h.socks.push(s);
      h.held.push(held);
    }
    return h;
  }

  /** Requests in flight to us, one per open session. */
  get pending(): number {
    let n = 0;
    for (const s of this.held) n += s.size;
    return n;
  }

  /** Sends the Bootstrap-Requests, in batches so the server's receive buffer never overflows. */
  async send(endpoints: string[], batch = 100): Promise<void> {
    let mid = Math.floor(Math.random() * 0x10000);
    for (let i = 0; i < endpoints.length; i++) {
      const s = this.socks[i % this.socks.length];
      mid = (mid + 1) & 0xffff;
      const buf = generate({
        code: '0.02',
        confirmable: true,
        messageId: mid,
        token: randomBytes(4),
        options: [
          { name: 'Uri-Path', value: Buffer.from('bs') },
          { name: 'Uri-Query', value: Buffer.from(`ep=${endpoints[i]}`) },
        ],
      });
      s.send(buf, 0, buf.length, this.port, this.host);
      if (i % batch === batch - 1) await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** RST for every held request: the server ends those sessions now. */
  async release(): Promise<void> {
    for (let i = 0; i < this.socks.length; i++) {
      let n = 0;
      for (const mid of this.held[i]) {
        this.socks[i].send(Buffer.from([0x70, 0, mid >> 8, mid & 0xff]), this.port, this.host);
        if (++n % 100 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      this.held[i].clear();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

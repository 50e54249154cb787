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
  /** Our Bootstrap-Requests not yet acknowledged, by socket index and Message ID (resent like CoAP would). */
  private readonly unacked = new Map<string, { sock: dgram.Socket; buf: Buffer }>();

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
          else if (p.ack && h.unacked.delete(`${i}|${p.messageId}`)) {
            if (p.code === '2.04') h.accepted++;
            else if (p.code !== '0.00') h.refused.set(p.code, (h.refused.get(p.code) ?? 0) + 1);
          }
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

  /**
   * Sends the Bootstrap-Requests in small batches (a socket's receive buffer holds only a few hundred
   * datagrams, whatever their size), and resends the unacknowledged ones every second until `untilMs`.
   */
  async send(endpoints: string[], untilMs: number, batch = 50): Promise<void> {
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
      this.unacked.set(`${i % this.socks.length}|${mid}`, { sock: s, buf });
      s.send(buf, 0, buf.length, this.port, this.host);
      if (i % batch === batch - 1) await new Promise((r) => setTimeout(r, 10));
    }
    const end = Date.now() + untilMs;
    while (this.unacked.size > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000));
      let n = 0;
      for (const { sock, buf } of this.unacked.values()) {
        sock.send(buf, 0, buf.length, this.port, this.host);
        if (++n % batch === 0) await new Promise((r) => setTimeout(r, 10));
      }
    }
  }

  /** Bootstrap-Requests the server has not acknowledged (yet). */
  get unacknowledged(): number {
    return this.unacked.size;
  }

  /**
   * RST for every held request, in small batches; then again for every request the server sends after
   * that (retransmissions of requests whose RST was lost), until none came for `quietMs`. Resolves with
   * the number of RSTs sent.
   */
  async release(quietMs = 4000, maxMs = 40_000): Promise<number> {
    const answered = this.held.map(() => new Set<number>());
    let sent = 0;
    let lastNew = Date.now();
    const end = Date.now() + maxMs;
    while (Date.now() < end) {
      let fresh = 0;
      for (let i = 0; i < this.socks.length; i++) {
        for (const mid of this.held[i]) {
          this.socks[i].send(Buffer.from([0x70, 0, mid >> 8, mid & 0xff]), this.port, this.host);
          if (!answered[i].has(mid)) fresh++;
          answered[i].add(mid);
          if (++sent % 50 === 0) await new Promise((r) => setTimeout(r, 5));
        }
        this.held[i].clear();
      }
      if (fresh > 0) lastNew = Date.now();
      else if (Date.now() - lastNew >= quietMs) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return sent;
  }

  async close(): Promise<void> {
    await Promise.all(this.socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

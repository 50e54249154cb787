/** Shared pieces of the bootstrap server tests: a server on loopback, a raw UDP peer, timer counting. */
import * as dgram from 'dgram';
import { generate, parse, type Packet, type ParsedPacket } from 'coap-packet';
import { BootstrapServer, type BootstrapServerOptions } from '../../../lib/bootstrap';

export async function startServer(opts: BootstrapServerOptions = {}): Promise<{ server: BootstrapServer; port: number }> {
  const server = new BootstrapServer({ port: 0, address: '127.0.0.1', ...opts });
  const { port } = await server.listen();
  return { server, port };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A bare UDP peer that speaks CoAP through coap-packet only: for what node-coap will not send (RST, duplicates, garbage). */
export class RawPeer {
  readonly inbox: { packet?: ParsedPacket; raw: Buffer }[] = [];
  private waiters: { pred: (p: ParsedPacket) => boolean; resolve: (p: ParsedPacket) => void }[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (raw) => {
      let packet: ParsedPacket | undefined;
      try {
        packet = parse(raw);
      } catch {
        packet = undefined;
      }
      this.inbox.push({ packet, raw });
      if (!packet) return;
      for (const w of [...this.waiters]) {
        if (w.pred(packet)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          w.resolve(packet);
        }
      }
    });
  }

  static async create(): Promise<RawPeer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
    return new RawPeer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  sendRaw(buf: Buffer, port: number): void {
    this.socket.send(buf, port, '127.0.0.1');
  }

  send(packet: Packet, port: number): Buffer {
    const buf = generate(packet);
    this.sendRaw(buf, port);
    return buf;
  }

  next(pred: (p: ParsedPacket) => boolean, timeoutMs = 3000): Promise<ParsedPacket> {
    const seen = this.inbox.find((m) => m.packet && pred(m.packet));
    if (seen?.packet) return Promise.resolve(seen.packet);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('RawPeer: nothing matching arrived')), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (p) => {
          clearTimeout(t);
          resolve(p);
        },
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** `POST /bs?ep=…` as coap-packet options. */
export function bsRequest(ep: string, messageId: number, token: Buffer, confirmable = true): Packet {
  return {
    code: '0.02',
    messageId,
    token,
    confirmable,
    options: [
      { name: 'Uri-Path', value: Buffer.from('bs') },
      { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
    ],
  };
}

/**
 * Tracks every timer created (ref'd or not) from now on; `alive()` lists those neither fired nor cleared,
 * leaving out mocha's own. Uses async_hooks, Node's public way to see timer creation.
 */
export function trackTimers(): { alive(): string[]; stop(): void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHook } = require('async_hooks') as typeof import('async_hooks');
  const seen = new Map<object, string>();
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type !== 'Timeout') return;
      const stack = new Error().stack ?? '';
      if (!/node_modules[\\/]mocha/.test(stack)) seen.set(resource as object, stack);
    },
  });
  hook.enable();
  return {
    alive: () => [...seen].filter(([t]) => !(t as { _destroyed?: boolean })._destroyed).map(([, s]) => s),
    stop: () => hook.disable(),
  };
}

/** Helpers for the DTLS tests: a server on loopback, node-dtls-client peers, and a raw half-handshake client. */
import * as dgram from 'dgram';
import { randomBytes } from 'crypto';
import { dtls } from 'node-dtls-client';
import { createDtlsSocket, MemoryPskStore, type DtlsServerOptions, type DtlsSocket } from '../../../lib/dtls';

export const KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

export interface TestServer {
  socket: DtlsSocket;
  port: number;
  logs: { level: string; msg: string }[];
  store: MemoryPskStore;
  close(): Promise<void>;
}

export async function startServer(opts: Partial<DtlsServerOptions> = {}): Promise<TestServer> {
  const logs: { level: string; msg: string }[] = [];
  const store = new MemoryPskStore().set('dev1', KEY);
  const logger = {
    debug: (msg: string) => logs.push({ level: 'debug', msg }),
    info: (msg: string) => logs.push({ level: 'info', msg }),
    warn: (msg: string) => logs.push({ level: 'warn', msg }),
    error: (msg: string) => logs.push({ level: 'error', msg }),
  };
  const socket = createDtlsSocket({ psk: store, logger, ...opts });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return {
    socket,
    port: socket.address().port,
    logs,
    store,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export type CipherName = 'TLS_PSK_WITH_AES_128_CCM_8' | 'TLS_PSK_WITH_AES_128_CBC_SHA256';

/** A node-dtls-client socket, resolved once connected, rejected with the client's error. */
export function connectClient(
  port: number,
  identity: string,
  key: Buffer,
  cipher: CipherName = 'TLS_PSK_WITH_AES_128_CCM_8',
  timeout = 3000,
  extra: { type?: 'udp4' | 'udp6'; address?: string; listenPort?: number } = {},
): Promise<dtls.Socket> {
  return new Promise((resolve, reject) => {
    const client = dtls.createSocket({
      type: extra.type ?? 'udp4',
      address: extra.address ?? '127.0.0.1',
      port,
      // node-dtls-client 1.x types the key as a string but copies it with Buffer.from(), so a Buffer (a binary
      // key) passes through unchanged; 2.x types it as string | Buffer.
      psk: { [identity]: key as unknown as string },
      ciphers: [cipher],
      timeout,
      ...(extra.listenPort !== undefined ? { listenPort: extra.listenPort } : {}),
    });
    client.once('connected', () => resolve(client));
    client.once('error', (err: Error) => reject(err));
  });
}

/** Sends `data` and resolves with the next datagram the client receives. */
export function roundTrip(client: dtls.Socket, data: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no answer')), timeoutMs);
    client.once('message', (msg: Buffer) => {
      clearTimeout(t);
      resolve(msg);
    });
    client.send(data);
  });
}

export function closeClient(client: dtls.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      client.close(() => resolve());
    } catch {
      resolve();
    }
    setTimeout(resolve, 200);
  });
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A DTLS 1.2 ClientHello record offering TLS_PSK_WITH_AES_128_CCM_8, with an optional cookie. */
export function clientHello(cookie: Buffer, messageSeq: number, recordSeq: number): Buffer {
  const body = Buffer.concat([
    Buffer.from([0xfe, 0xfd]),
    randomBytes(32),
    Buffer.from([0]), // session id
    Buffer.from([cookie.length]),
    cookie,
    Buffer.from([0x00, 0x02, 0xc0, 0xa8]), // cipher suites: PSK-AES128-CCM8
    Buffer.from([0x01, 0x00]), // compression: null
  ]);
  const hs = Buffer.alloc(12);
  hs[0] = 1;
  hs.writeUIntBE(body.length, 1, 3);
  hs.writeUInt16BE(messageSeq, 4);
  hs.writeUIntBE(0, 6, 3);
  hs.writeUIntBE(body.length, 9, 3);
  const rec = Buffer.alloc(13);
  rec[0] = 22;
  rec[1] = 0xfe;
  rec[2] = 0xfd;
  rec.writeUInt16BE(0, 3);
  rec.writeUIntBE(recordSeq, 5, 6);
  rec.writeUInt16BE(hs.length + body.length, 11);
  return Buffer.concat([rec, hs, body]);
}

/** Cookie from a HelloVerifyRequest record (13-byte record header, 12-byte handshake header, version, cookie). */
export function cookieOf(hvr: Buffer): Buffer {
  if (hvr[0] !== 22 || hvr[13] !== 3) throw new Error('not a HelloVerifyRequest');
  const len = hvr[13 + 12 + 2];
  return hvr.subarray(13 + 12 + 3, 13 + 12 + 3 + len);
}

/** A raw client that does the cookie exchange, gets the server's first flight, and then goes silent. */
export class HalfOpenClient {
  readonly udp = dgram.createSocket('udp4');
  readonly received: Buffer[] = [];

  /** `address`: the loopback address to send from (Linux accepts any 127.0.0.x). */
  static async create(address = '127.0.0.1'): Promise<HalfOpenClient> {
    const c = new HalfOpenClient();
    await new Promise<void>((resolve) => c.udp.bind(0, address, () => resolve()));
    c.udp.on('message', (m) => c.received.push(m));
    return c;
  }

  /** Sends ClientHello, answers the HelloVerifyRequest; true when the server answered with its flight. */
  async start(port: number, waitMs = 500, cookieDelayMs = 0): Promise<boolean> {
    this.udp.send(clientHello(Buffer.alloc(0), 0, 0), port, '127.0.0.1');
    if (!(await this.waitCount(1, waitMs))) return false;
    if (cookieDelayMs > 0) await new Promise((r) => setTimeout(r, cookieDelayMs));
    this.udp.send(clientHello(cookieOf(this.received[0]), 1, 1), port, '127.0.0.1');
    return this.waitCount(2, waitMs);
  }

  private async waitCount(n: number, ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.received.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    return this.received.length >= n;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.udp.close(() => resolve()));
  }
}

/** Handshake type of the first handshake record of a DTLS datagram (2 ServerHello, 3 HelloVerifyRequest). */
function handshakeType(d: Buffer): number | undefined {
  return d.length > 13 && d[0] === 22 ? d[13] : undefined;
}

/**
 * A load balancer without affinity, on loopback: the client's first datagram goes to server A, every later one
 * to server B, all from one source address and port (so both servers see the same peer); answers go back.
 */
export class FirstFlightRelay {
  private readonly front = dgram.createSocket('udp4');
  private readonly back = dgram.createSocket('udp4');
  private client: { port: number; address: string } | undefined;
  private fromClient = 0;
  /** What each server sent back, in order. */
  readonly answers: { server: 'A' | 'B'; type: number | undefined }[] = [];

  constructor(
    private readonly a: number,
    private readonly b: number,
  ) {
    this.front.on('message', (msg, rinfo) => {
      this.client = { port: rinfo.port, address: rinfo.address };
      this.back.send(msg, this.fromClient++ === 0 ? this.a : this.b, '127.0.0.1');
    });
    this.back.on('message', (msg, rinfo) => {
      this.answers.push({ server: rinfo.port === this.a ? 'A' : 'B', type: handshakeType(msg) });
      if (this.client) this.front.send(msg, this.client.port, this.client.address);
    });
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.back.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => this.front.bind(0, '127.0.0.1', () => r()));
    return this.front.address().port;
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}

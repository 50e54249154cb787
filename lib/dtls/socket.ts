/**
 * DtlsSocket: a DTLS 1.2 server that looks like a dgram socket, so the same CoAP code runs over UDP and
 * DTLS. `'message'` events carry decrypted application data and a remote-info object with the peer's
 * authenticated `identity`; `send()` encrypts for an established peer. It owns one UDP socket.
 *
 * node-coap's Server only repeats cached replies (and sends its error replies) when its socket is
 * `instanceof dgram.Socket`, so DtlsSocket.prototype inherits from dgram.Socket.prototype; every dgram
 * method it does not implement throws a DtlsError saying so instead of touching a UDP handle it lacks.
 */
import * as dgram from 'dgram';
import { EventEmitter } from 'events';
import type { AddressInfo } from 'net';
import { loadDtls, type DtlsBinding, type NativeContext } from './binding';
import { engineLimits, nativeOptions } from './config';
import { DtlsEngine, type PeerEvent } from './engine';
import { DtlsError, DtlsUnavailableError } from './errors';
import type { DatagramTranslator, DtlsLogger, DtlsPeerSummary, DtlsRemoteInfo, DtlsServerOptions, DtlsStats } from './types';

type SendCallback = (err: Error | null, bytes?: number) => void;
type Payload = Buffer | Uint8Array | string | ReadonlyArray<Buffer | Uint8Array | string>;

export interface DtlsSocket {
  on(event: 'message', listener: (msg: Buffer, rinfo: DtlsRemoteInfo) => void): this;
  on(event: 'listening' | 'close', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'handshake', listener: (peer: DtlsPeerSummary) => void): this;
  on(event: 'handshakeFailed' | 'peerClosed', listener: (ev: PeerEvent) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  once(event: 'message', listener: (msg: Buffer, rinfo: DtlsRemoteInfo) => void): this;
  once(event: 'listening' | 'close', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
  removeListener(event: 'message', listener: (msg: Buffer, rinfo: DtlsRemoteInfo) => void): this;
  removeListener(event: 'listening' | 'close', listener: () => void): this;
  removeListener(event: 'error', listener: (err: Error) => void): this;
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export class DtlsSocket extends EventEmitter {
  readonly type: 'udp4' | 'udp6';
  private readonly udp: dgram.Socket;
  private readonly engine: DtlsEngine;
  private readonly binding: DtlsBinding;
  private readonly ctx: NativeContext;
  private closing = false;
  private readonly datagrams: DatagramTranslator | undefined;
  private closed = false;

  /** Throws DtlsUnavailableError when the addon is missing, DtlsError for bad options. */
  constructor(options: DtlsServerOptions) {
    super();
    const loaded = loadDtls();
    if (!loaded.ok) throw new DtlsUnavailableError(loaded.reason);
    this.binding = loaded.binding;
    const log: DtlsLogger = options.logger ?? {};
    this.type = options.type ?? 'udp4';
    if (this.type !== 'udp4' && this.type !== 'udp6') throw new DtlsError('DTLS_ARGUMENT', `type must be udp4 or udp6`);
    const limits = engineLimits(options);
    if (options.cookieSecret !== undefined && typeof this.binding.sharedCookieSecret !== 'function') {
      throw new DtlsError('DTLS_ARGUMENT', 'this DTLS addon build cannot share a cookie secret; rebuild it (node scripts/build-addon.js)');
    }
    try {
      this.ctx = this.binding.createContext(nativeOptions(options, log));
    } catch (err) {
      if (err instanceof DtlsError) throw err;
      const e = err as Error & { code?: string };
      throw new DtlsError(e.code ?? 'DTLS_CONTEXT', e.message);
    }
    this.engine = new DtlsEngine(this.binding, this.ctx, limits, {
      transmit: (datagrams, port, address, done) => this.transmit(datagrams, port, address, done),
      message: (data, rinfo) => this.emit('message', data, rinfo),
      handshake: (peer) => this.emit('handshake', peer),
      handshakeFailed: (ev) => this.emit('handshakeFailed', ev),
      peerClosed: (ev) => this.emit('peerClosed', ev),
    }, log, options.clock);
    this.udp = dgram.createSocket({ type: this.type });
    const dg = options.datagrams;
    this.datagrams = dg;
    if (dg) {
      this.udp.on('message', (msg, rinfo) => {
        const x = dg.inbound(msg, rinfo);
        if (x) this.engine.receive(x.msg, x.rinfo);
      });
    } else {
      this.udp.on('message', (msg, rinfo) => this.engine.receive(msg, rinfo));
    }
    this.udp.on('error', (err) => this.emit('error', err));
    this.udp.on('listening', () => {
      this.engine.start();
      this.emit('listening');
    });
    this.udp.on('close', () => {
      this.closed = true;
      this.datagrams?.clear?.();
      this.emit('close');
    });
  }

  /** As dgram's bind: `bind(port?, address?, cb?)` or `bind({ port, address }, cb?)`. */
  bind(port?: number | dgram.BindOptions, address?: string | (() => void), cb?: () => void): this {
    (this.udp.bind as (...a: unknown[]) => void)(...[port, address, cb].filter((a) => a !== undefined));
    return this;
  }

  address(): AddressInfo {
    return this.udp.address();
  }

  /**
   * As dgram's send: `send(msg, port, address?, cb?)` or `send(msg, offset, length, port, address?, cb?)`.
   * `address` must be the peer's address as it appeared in `rinfo`; without it, the one peer on that
   * port is meant (node-coap's error replies give only the port). Fails with DtlsError 'DTLS_NO_SESSION'
   * when there is no established session with that peer.
   */
  send(msg: Payload, ...args: unknown[]): void {
    let data: Buffer;
    let port: unknown;
    let address: unknown;
    let cb: unknown;
    const buf = toBuffer(msg);
    if (typeof args[1] === 'number') {
      const offset = Number(args[0]);
      const length = Number(args[1]);
      data = buf.subarray(offset, offset + length);
      [port, address, cb] = args.slice(2);
    } else {
      data = buf;
      [port, address, cb] = args;
    }
    if (typeof address === 'function') {
      cb = address;
      address = undefined;
    }
    const done: SendCallback = typeof cb === 'function' ? (cb as SendCallback) : () => undefined;
    if (typeof port !== 'number') {
      process.nextTick(done, new DtlsError('DTLS_ARGUMENT', `send() needs a port, got ${String(port)}`));
      return;
    }
    const host = typeof address === 'string' ? address : this.engine.addressForPort(port);
    if (host === undefined) {
      process.nextTick(done, new DtlsError('DTLS_NO_SESSION', `no single DTLS session on port ${port}`));
      return;
    }
    this.engine.write(data, port, host, done);
  }

  /** Sends close_notify to every peer, frees them, then closes the UDP socket. */
  close(cb?: () => void): this {
    if (this.closed) {
      if (cb) process.nextTick(cb);
      return this;
    }
    if (cb) this.once('close', cb);
    if (this.closing) return this;
    this.closing = true;
    this.engine.closeAll(() => this.udp.close());
    return this;
  }

  /** Sends close_notify to one peer and frees it; false when there is no such peer. */
  closePeer(address: string, port: number): boolean {
    return this.engine.closePeer(address, port);
  }

  stats(): DtlsStats {
    return this.engine.stats();
  }

  peers(): DtlsPeerSummary[] {
    return this.engine.summaries();
  }

  ref(): this {
    this.udp.ref();
    return this;
  }

  unref(): this {
    this.udp.unref();
    return this;
  }

  private transmit(datagrams: Buffer[], port: number, address: string, done: (err: Error | null) => void): void {
    if (this.datagrams) ({ port, address } = this.datagrams.outbound(address, port));
    let pending = datagrams.length;
    let first: Error | null = null;
    const sent = (err: Error | null): void => {
      if (err && !first) first = err;
      if (--pending === 0) done(first);
    };
    for (const d of datagrams) {
      try {
        this.udp.send(d, port, address, sent);
      } catch (err) {
        // e.g. ERR_SOCKET_DGRAM_NOT_RUNNING once closed: report through the callback, never throw
        process.nextTick(sent, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}

function toBuffer(msg: Payload): Buffer {
  if (Buffer.isBuffer(msg)) return msg;
  if (typeof msg === 'string') return Buffer.from(msg);
  if (msg instanceof Uint8Array) return Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  return Buffer.concat(msg.map((m) => (typeof m === 'string' ? Buffer.from(m) : m)));
}

// Be a dgram.Socket for `instanceof` (see the file comment), and refuse the dgram methods we do not implement.
Object.setPrototypeOf(DtlsSocket.prototype, dgram.Socket.prototype);
for (const name of Object.getOwnPropertyNames(dgram.Socket.prototype)) {
  if (name === 'constructor' || Object.prototype.hasOwnProperty.call(DtlsSocket.prototype, name)) continue;
  if (name in EventEmitter.prototype) continue;
  const desc = Object.getOwnPropertyDescriptor(dgram.Socket.prototype, name);
  if (typeof desc?.value !== 'function') continue;
  Object.defineProperty(DtlsSocket.prototype, name, {
    configurable: true,
    writable: true,
    value(): never {
      throw new DtlsError('DTLS_UNSUPPORTED', `${name}() is not available on a DTLS socket`);
    },
  });
}

/** Creates a DTLS server socket (not yet bound). */
export function createDtlsSocket(options: DtlsServerOptions): DtlsSocket {
  return new DtlsSocket(options);
}

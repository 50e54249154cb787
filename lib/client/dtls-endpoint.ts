/**
 * A CoAPs channel to one server: node-dtls-client (PSK) opens the DTLS session, and a small socket-like
 * adapter lets node-coap's Server and Agent run over it exactly as over UDP, so the Bootstrap-Server can send
 * its requests back through the session the device opened.
 */
import { EventEmitter } from 'events';
import type * as dgram from 'dgram';
import { dtls } from 'node-dtls-client';
import { ExchangeError } from './errors';
import type { FaultState } from './faults';
import type { Target } from './target';
import { DeviceEndpoint } from './transport';

class DtlsDatagramAdapter extends EventEmitter {
  readonly type: 'udp4' | 'udp6';
  private closed = false;

  constructor(
    private readonly sock: dtls.Socket,
    private readonly target: Target,
    private readonly faults: FaultState | undefined,
  ) {
    super();
    this.type = target.address.includes(':') ? 'udp6' : 'udp4';
    sock.on('message', (msg: Buffer) => {
      const fate = this.faults?.datagram() ?? 0;
      if (fate === 'drop') return;
      const rinfo = { address: target.address, port: target.port, family: this.type === 'udp6' ? 'IPv6' : 'IPv4', size: msg.length };
      if (fate > 0) setTimeout(() => this.emit('message', msg, rinfo), fate).unref();
      else this.emit('message', msg, rinfo);
    });
    sock.on('error', (err: Error) => this.emit('error', err));
    sock.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  address(): { address: string; port: number; family: string } {
    return { address: this.type === 'udp6' ? '::' : '0.0.0.0', port: 0, family: this.type === 'udp6' ? 'IPv6' : 'IPv4' };
  }

  send(buf: Buffer, ...rest: unknown[]): void {
    const cb = rest.find((a) => typeof a === 'function') as ((e: Error | null, n: number) => void) | undefined;
    let data = buf;
    if (typeof rest[0] === 'number' && typeof rest[1] === 'number') data = buf.subarray(rest[0], rest[0] + rest[1]);
    if (this.closed) {
      if (cb) setImmediate(() => cb(new Error('DTLS session closed'), 0));
      return;
    }
    const fate = this.faults?.datagram() ?? 0;
    if (fate === 'drop') {
      if (cb) setImmediate(() => cb(null, 0));
      return;
    }
    const go = () => this.sock.send(data, (err: Error | null) => cb?.(err ?? null, data.length));
    if (fate > 0) setTimeout(go, fate).unref();
    else go();
  }

  close(cb?: () => void): void {
    if (this.closed) {
      cb?.();
      return;
    }
    this.closed = true;
    try {
      this.sock.close(() => cb?.());
    } catch {
      cb?.();
    }
  }
}

export interface DtlsChannel {
  endpoint: DeviceEndpoint;
  close(): Promise<void>;
}

/** Opens a DTLS (PSK) session to `target` and returns a CoAP endpoint running over it. */
export function openDtlsEndpoint(
  target: Target,
  opts: { timeoutMs: number; faults?: FaultState; onError?: (err: Error) => void; pskKeyOverride?: Buffer },
): Promise<DtlsChannel> {
  const identity = target.pskIdentity?.toString('utf8') ?? '';
  const key = opts.pskKeyOverride ?? target.pskKey ?? Buffer.alloc(0);
  if (!identity || !key.length) {
    return Promise.reject(new ExchangeError(`DTLS to ${target.uri}`, 'PSK identity or key missing'));
  }
  return new Promise<DtlsChannel>((resolve, reject) => {
    let settled = false;
    let sock: dtls.Socket;
    try {
      sock = dtls.createSocket({
        type: target.address.includes(':') ? 'udp6' : 'udp4',
        address: target.address,
        port: target.port,
        // node-dtls-client 1.x types the key as a string but copies it with Buffer.from(), so a Buffer (a binary
        // key) passes through unchanged; 2.x types it as string | Buffer.
        psk: { [identity]: key as unknown as string },
        timeout: Math.max(100, opts.timeoutMs),
        ciphers: ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256'],
      });
    } catch (err) {
      reject(new ExchangeError(`DTLS to ${target.uri}`, (err as Error).message));
      return;
    }
    const fail = (err: Error) => {
      if (settled) {
        opts.onError?.(err);
        return;
      }
      settled = true;
      try {
        sock.close();
      } catch {
        // already closed
      }
      reject(new ExchangeError(`DTLS to ${target.uri}`, `handshake failed: ${err.message}`));
    };
    sock.on('error', fail);
    sock.once('connected', () => {
      if (settled) return;
      settled = true;
      const adapter = new DtlsDatagramAdapter(sock, target, opts.faults);
      adapter.on('error', (err: Error) => opts.onError?.(err));
      const endpoint = DeviceEndpoint.wrap(adapter as unknown as dgram.Socket, undefined, opts.onError);
      resolve({
        endpoint,
        close: async () => {
          await endpoint.close();
          await new Promise<void>((r) => adapter.close(() => r()));
        },
      });
    });
  });
}

/**
 * DeviceEndpoint: one socket on which a device both sends its requests (POST /bs, GET /bspack, /rd) and
 * serves the requests of the Bootstrap-Server and the DM servers: node-coap's Server and Agent share the
 * socket (the Server ignores responses, the Agent ignores requests). Datagram faults are injected on the
 * socket itself so that CoAP retransmission and de-duplication really run.
 *
 * The socket is a dgram.Socket, or a socket-like object (DTLS) that behaves like one.
 */
import * as coap from 'coap';
import * as dgram from 'dgram';
import { messageDigest } from '../bootstrap/coap/dedup';
import { MEDIA_TYPES } from '../codec/formats';
import type { FaultState } from './faults';
import { ExchangeError } from './errors';

export interface CoapRequest {
  host: string;
  port: number;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Uri-Path segments, e.g. ['rd', 'abc']. */
  path: string[];
  /** Uri-Query parameters, e.g. ['ep=dev1', 'pct=110']. */
  query?: string[];
  contentFormat?: number;
  accept?: number;
  payload?: Buffer;
  timeoutMs: number;
}

export interface CoapResponse {
  code: string;
  payload: Buffer;
  contentFormat?: number;
  locationPath: string[];
  rttMs: number;
}

export interface IncomingRequest {
  method: string;
  path: string[];
  query: string[];
  contentFormat?: number;
  accept?: number;
  payload: Buffer;
  address: string;
  port: number;
}

export interface Answer {
  code: string;
  payload?: Buffer;
  contentFormat?: number;
}

export type RequestHandler = (req: IncomingRequest) => Promise<Answer>;

type RawOption = { name: string | number; value: unknown };


/** The numeric value of a Content-Format/Accept option, whether raw bytes, a number or a media type (node-coap rewrites option values to media types). */
export function formatNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (Buffer.isBuffer(value)) {
    let n = 0;
    for (const b of value) n = n * 256 + b;
    return n;
  }
  if (typeof value === 'string') return MEDIA_TYPES[value.split(';')[0].trim()];
  return undefined;
}

function uintOption(options: RawOption[] | undefined, name: string): number | undefined {
  const o = options?.find((x) => x.name === name);
  return o ? formatNumber(o.value) : undefined;
}

function stringOptions(options: RawOption[] | undefined, name: string): string[] {
  return (options ?? []).filter((x) => x.name === name).map((x) => (Buffer.isBuffer(x.value) ? x.value.toString('utf8') : String(x.value)));
}

/**
 * node-coap keeps timers (separate responses, their retransmissions) that may fire after the endpoint
 * closed its socket; dgram throws ERR_SOCKET_DGRAM_NOT_RUNNING synchronously from such a timer, which
 * would be an uncaught exception. Sends on a closed socket are dropped instead (the datagram is lost, as
 * it would be on a powered-off device).
 */
function guardSend(sock: dgram.Socket): void {
  const send = sock.send.bind(sock) as (...args: unknown[]) => void;
  (sock as unknown as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
    try {
      send(...args);
    } catch (err) {
      const cb = args.find((a) => typeof a === 'function') as ((e: Error | null, n: number) => void) | undefined;
      const closed = (err as NodeJS.ErrnoException).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING';
      if (cb) setImmediate(() => cb(closed ? null : (err as Error), 0));
    }
  };
}

/** Installs datagram fault injection on a socket (instance-level wrappers keep it a dgram.Socket). */
function injectFaults(sock: dgram.Socket, faults: FaultState): void {
  const send = sock.send.bind(sock) as (...args: unknown[]) => void;
  (sock as unknown as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
    const fate = faults.datagram();
    if (fate === 'drop') {
      const cb = args.find((a) => typeof a === 'function') as ((e: Error | null, n: number) => void) | undefined;
      if (cb) setImmediate(() => cb(null, 0));
      return;
    }
    if (fate > 0) setTimeout(() => send(...args), fate).unref();
    else send(...args);
  };
  const emit = sock.emit.bind(sock) as (event: string | symbol, ...args: unknown[]) => boolean;
  (sock as unknown as { emit: typeof emit }).emit = (event: string | symbol, ...args: unknown[]) => {
    if (event !== 'message') return emit(event, ...args);
    const fate = faults.datagram();
    if (fate === 'drop') return true;
    if (fate > 0) {
      setTimeout(() => emit(event, ...args), fate).unref();
      return true;
    }
    return emit(event, ...args);
  };
}

/** Most requests a device remembers for duplicate detection (a device sees few; the cap only bounds a flood). */
const MAX_REMEMBERED = 4096;

/**
 * The requests a device received within EXCHANGE_LIFETIME, by source and Message ID, with a digest of
 * each (type, code, token, options, payload; see lib/bootstrap/coap/dedup.ts). node-coap repeats its
 * cached answer to any request with the same source, Message ID and token (RFC 7252 §4.5 asks only for
 * source and Message ID). Where servers share one public address:port (several Bootstrap-Server or DM
 * server instances behind a load balancer or a carrier-grade NAT, each counting its own Message IDs,
 * some with empty or counted tokens) a different request can match all three, and would get the answer
 * to another request. A request whose digest differs from the remembered one is new: node-coap's cached
 * answer for it is dropped before node-coap sees the request, so it is served.
 */
class RememberedRequests {
  private readonly map = new Map<string, { digest: number; expires: number }>();

  constructor(private readonly lifetimeMs: number) {}

  /** True when this is the remembered message again (a retransmission); otherwise remembers it. */
  repeated(key: string, digest: number, now: number): boolean {
    const e = this.map.get(key);
    if (e !== undefined && e.expires > now && e.digest === digest) return true;
    this.map.delete(key);
    for (const [k, old] of this.map) {
      if (old.expires > now && this.map.size < MAX_REMEMBERED) break;
      this.map.delete(k);
    }
    this.map.set(key, { digest, expires: now + this.lifetimeMs });
    return false;
  }
}

export class DeviceEndpoint {
  private readonly server: coap.Server;
  private readonly remembered = new RememberedRequests(coap.parameters.exchangeLifetime * 1000);
  private readonly screenBound = (msg: Buffer, rinfo: dgram.RemoteInfo): void => this.screen(msg, rinfo);
  private readonly agent: coap.Agent;
  private handler: RequestHandler | undefined;
  private closed = false;
  private readonly pending = new Set<() => void>();

  private constructor(
    readonly socket: dgram.Socket,
    private readonly ownsSocket: boolean,
    faults: FaultState | undefined,
    private readonly onError: (err: Error) => void,
  ) {
    guardSend(socket);
    if (faults) injectFaults(socket, faults);
    this.server = new coap.Server({ piggybackReplyMs: 50 });
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.serve(req, res));
    this.server.on('error', (err: Error) => this.onError(err));
    this.server.listen(socket);
    // Before node-coap's own listener, whatever the order they were added in.
    socket.prependListener('message', this.screenBound);
    this.agent = new coap.Agent({ socket });
    this.agent.on('error', (err: Error) => this.onError(err));
  }

  /** Binds a new UDP socket on `address` (port 0 = any) and returns the endpoint. */
  static async open(opts: {
    address?: string;
    port?: number;
    faults?: FaultState;
    onError?: (err: Error) => void;
  }): Promise<DeviceEndpoint> {
    const address = opts.address ?? '127.0.0.1';
    const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(opts.port ?? 0, address, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return new DeviceEndpoint(sock, true, opts.faults, opts.onError ?? (() => undefined));
  }

  /** Wraps an already bound socket (or a DTLS socket-like object); the caller keeps ownership. */
  static wrap(socket: dgram.Socket, faults?: FaultState, onError?: (err: Error) => void): DeviceEndpoint {
    return new DeviceEndpoint(socket, false, faults, onError ?? (() => undefined));
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /**
   * Duplicate detection that tells a retransmission from a different request with the same source,
   * Message ID and token (see RememberedRequests): for the latter, node-coap's cached answer is dropped so
   * node-coap serves the request. Runs for every datagram; only CON/NON requests are looked at.
   */
  private screen(msg: Buffer, rinfo: { address: string; port: number }): void {
    if (msg.length < 4) return;
    const type = (msg[0] >> 4) & 3;
    const tkl = msg[0] & 0x0f;
    if (msg[1] === 0 || msg[1] >> 5 !== 0 || type > 1 || tkl > 8 || msg.length < 4 + tkl) return;
    const messageId = msg.readUInt16BE(2);
    const key = `${rinfo.address}|${rinfo.port}|${messageId}`;
    if (this.remembered.repeated(key, messageDigest(msg), Date.now())) return;
    try {
      const request = { rsinfo: rinfo } as unknown as Parameters<coap.Server['_toKey']>[0];
      const packet = { messageId, token: msg.subarray(4, 4 + tkl) } as Parameters<coap.Server['_toKey']>[1];
      this.server._lru.delete(this.server._toKey(request, packet, true));
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private serve(req: coap.IncomingMessage, res: coap.OutgoingMessage): void {
    const options = req._packet.options as RawOption[] | undefined;
    const incoming: IncomingRequest = {
      method: req.method,
      path: stringOptions(options, 'Uri-Path'),
      query: stringOptions(options, 'Uri-Query'),
      contentFormat: uintOption(options, 'Content-Format'),
      accept: uintOption(options, 'Accept'),
      payload: req.payload ?? Buffer.alloc(0),
      address: req.rsinfo.address,
      port: req.rsinfo.port,
    };
    const handler = this.handler;
    if (!handler) {
      res.code = '5.03';
      res.end();
      return;
    }
    handler(incoming).then(
      (answer) => {
        if (this.closed) return;
        res.code = answer.code;
        if (answer.contentFormat !== undefined) res.setOption('Content-Format', answer.contentFormat);
        res.end(answer.payload && answer.payload.length ? answer.payload : undefined);
      },
      (err: Error) => {
        if (this.closed) return;
        res.code = '5.00';
        res.end(Buffer.from(String(err?.message ?? err)));
      },
    );
  }

  /** Sends a CON request; resolves with any response code, rejects with ExchangeError on timeout/RST/close. */
  request(r: CoapRequest): Promise<CoapResponse> {
    const op = `${r.method} /${r.path.join('/')}`;
    if (this.closed) return Promise.reject(new ExchangeError(op, 'endpoint closed'));
    const started = Date.now();
    return new Promise<CoapResponse>((resolve, reject) => {
      let done = false;
      const req = this.agent.request({
        hostname: r.host,
        port: r.port,
        method: r.method,
        confirmable: true,
        pathname: '/' + r.path.join('/'),
        query: r.query?.length ? r.query.join('&') : undefined,
        contentFormat: r.contentFormat,
        accept: r.accept,
      });
      const finish = (err: Error | undefined, res?: CoapResponse) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending.delete(cancel);
        if (err) {
          try {
            this.agent.abort(req);
          } catch {
            // already cleaned up by the agent
          }
          reject(err);
        } else resolve(res as CoapResponse);
      };
      const cancel = () => finish(new ExchangeError(op, 'endpoint closed'));
      this.pending.add(cancel);
      const timer = setTimeout(() => finish(new ExchangeError(op, `no response within ${r.timeoutMs} ms`)), r.timeoutMs);
      req.on('response', (res: coap.IncomingMessage) => {
        const packet = res._packet as { reset?: boolean; options?: RawOption[] };
        if (packet.reset) {
          finish(new ExchangeError(op, 'reset by peer'));
          return;
        }
        finish(undefined, {
          code: res.code,
          payload: res.payload ?? Buffer.alloc(0),
          contentFormat: uintOption(packet.options, 'Content-Format'),
          locationPath: stringOptions(packet.options, 'Location-Path'),
          rttMs: Date.now() - started,
        });
      });
      req.on('timeout', () => finish(new ExchangeError(op, 'CoAP exchange timed out')));
      req.on('error', (err: Error) => finish(new ExchangeError(op, err.message)));
      req.end(r.payload && r.payload.length ? r.payload : undefined);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const cancel of [...this.pending]) cancel();
    this.socket.removeListener('message', this.screenBound);
    this.server.close();
    // With a socket it does not own, node-coap's Agent never calls close's callback: do not wait for it.
    this.agent.close();
    if (this.ownsSocket) {
      await new Promise<void>((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
  }
}

/**
 * ScriptedDevice: a small CoAP device for tests, built on node-coap (an implementation independent of our
 * server's message layer) over ONE real UDP socket, as a real LwM2M client uses one socket for both roles.
 *
 * - As a CoAP client it sends `POST /bs?ep=…[&pct=…]` (bootstrapRequest), `GET /bspack?ep=…` (packRequest)
 *   or any request (request) to a server, and resolves with the response code, payload and Content-Format.
 * - As a CoAP server it answers the Bootstrap-Server's requests with scripted replies. Defaults: 2.02 to
 *   DELETE, 2.04 to PUT and to POST /bs (Bootstrap-Finish), 2.05 link-format (`discover`) to GET with
 *   Accept 40, 4.04 to any other GET, 4.05 to the rest. `reply(method, path, …)` overrides them; the most
 *   recent matching rule wins, and `times` limits how often a rule applies.
 * - It records every request it received (`received`), in order: method, path, query, Content-Format,
 *   Accept, payload bytes, Message ID, token, time. `waitFor` waits for one. `wire` has every request
 *   datagram as it arrived (retransmissions and RFC 7959 block parts included).
 *   A reply may be delayed (`delayMs` > 50: empty ACK, then a separate CON response) or dropped (`drop`:
 *   no ACK, no answer; with `times` = 1 only the first transmission is lost and the retransmission is
 *   answered). Bodies larger than a block arrive put together (node-coap handles RFC 7959 Block1/Block2).
 * - `vanish()` makes it drop every datagram from then on (no ACK, no answer): a device that went away.
 * - It never touches node-coap's process-wide timing (`updateTiming`): RFC 7252 defaults throughout.
 *
 * Example:
 *   const dev = await ScriptedDevice.create();
 *   dev.reply('PUT', '/0/1', { code: '4.15' }, 1);      // first write to /0/1 refused once
 *   const res = await dev.bootstrapRequest({ port }, { ep: 'dev-1', pct: 112 });
 *   assert.equal(res.code, '2.04');
 *   const finish = await dev.waitFor((r) => r.method === 'POST' && r.path === '/bs');
 *   await dev.close();
 */
import * as dgram from 'dgram';
import * as coap from 'coap';
import { parse as parsePacket } from 'coap-packet';

export interface ReceivedRequest {
  /** 'GET' | 'POST' | 'PUT' | 'DELETE' (or the code text, e.g. '0.05', for others). */
  method: string;
  /** '/0/1', '/bs'; '/' when the request has no Uri-Path. */
  path: string;
  query: string[];
  contentFormat?: number;
  accept?: number;
  payload: Buffer;
  confirmable: boolean;
  messageId: number;
  token: Buffer;
  /** Date.now() on arrival. */
  time: number;
  from: { address: string; port: number };
  /** True when the device dropped it (vanished or a `drop` reply). */
  dropped?: boolean;
}

export interface ScriptedReply {
  /** Response code, e.g. '2.04', '4.06'. */
  code: string;
  payload?: Buffer | string;
  contentFormat?: number;
  /** Answer after this many ms; above ~50 ms node-coap sends an empty ACK first and a separate CON response. */
  delayMs?: number;
  /** Do not answer and do not acknowledge. */
  drop?: boolean;
}

export type Responder = ScriptedReply | ((req: ReceivedRequest) => ScriptedReply | undefined);

export interface DeviceResponse {
  code: string;
  payload: Buffer;
  contentFormat?: number;
}

export interface ServerAddress {
  address?: string;
  port: number;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: string[];
  accept?: number;
  contentFormat?: number;
  payload?: Buffer;
  confirmable?: boolean;
  /** Raw Block2 option value (NUM << 4 | M << 3 | SZX), e.g. to ask for a given block. */
  block2?: number;
  /** Give up after this many ms (default 5000). */
  timeoutMs?: number;
}

interface Rule {
  method: string;
  path: string;
  responder: Responder;
  remaining: number;
}

const METHODS: Record<string, string> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE' };

/** Default Bootstrap-Discover answer: a 1.1 client with its Bootstrap-Server account in /0/0. */
export const DEFAULT_DISCOVER = '</>;lwm2m=1.1,</0/0>,</1>,</3/0>';

export class ScriptedDevice {
  /** Requests as the device's application saw them: one per exchange, block-wise bodies put together. */
  readonly received: ReceivedRequest[] = [];
  /** Every request datagram on the wire, retransmissions and block-wise parts included. */
  readonly wire: ReceivedRequest[] = [];
  /** The Bootstrap-Discover link-format this device answers with by default. */
  discover: string;
  private readonly rules: Rule[] = [];
  private readonly server: coap.Server;
  private readonly agent: coap.Agent;
  private readonly pending = new Set<{ req: coap.OutgoingMessage; timer: NodeJS.Timeout; fail: (e: Error) => void }>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private readonly droppedSeen = new Set<string>();
  /** Requests seen on the wire, waiting for node-coap to hand them to onRequest (keyed address|port|MID). */
  private readonly arriving = new Map<string, ReceivedRequest>();
  /** Content-Format of responses to our requests, by token (node-coap turns option values into names). */
  private readonly responseCf = new Map<string, number>();
  private vanished = false;
  private closed = false;
  private waiters: { pred: (r: ReceivedRequest) => boolean; resolve: (r: ReceivedRequest) => void }[] = [];

  private constructor(
    readonly socket: dgram.Socket,
    opts: { discover?: string },
  ) {
    this.discover = opts.discover ?? DEFAULT_DISCOVER;
    // Drop datagrams before node-coap sees them when vanished or told to drop (it would ACK them otherwise).
    const emit = socket.emit.bind(socket) as (ev: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((ev: string | symbol, ...args: unknown[]): boolean => {
      if (ev === 'message' && this.shouldDrop(args[0] as Buffer, args[1] as dgram.RemoteInfo)) return false;
      return emit(ev, ...args);
    }) as typeof socket.emit;
    this.server = new coap.Server({ piggybackReplyMs: 50 });
    this.server.on('request', (req: coap.IncomingMessage, res: coap.OutgoingMessage) => this.onRequest(req, res));
    this.server.listen(socket as never);
    this.agent = new coap.Agent({ socket });
  }

  /** A device on a fresh loopback UDP socket (127.0.0.1, or ::1 for udp6). */
  static async create(opts: { type?: 'udp4' | 'udp6'; address?: string; discover?: string } = {}): Promise<ScriptedDevice> {
    const type = opts.type ?? 'udp4';
    const socket = dgram.createSocket(type);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.address ?? (type === 'udp4' ? '127.0.0.1' : '::1'), () => {
        socket.removeListener('error', reject);
        resolve();
      });
    });
    return new ScriptedDevice(socket, opts);
  }

  get address(): string {
    return this.socket.address().address;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Scripts the answer to `method path` ('*' matches any method or path); `times` limits its uses. */
  reply(method: string, path: string, responder: Responder, times = Infinity): this {
    this.rules.unshift({ method, path, responder, remaining: times });
    return this;
  }

  /** From now on the device drops every datagram: no ACK, no answer. */
  vanish(): this {
    this.vanished = true;
    return this;
  }

  /** Sends `POST /bs?ep=…[&pct=…]` (CON unless `confirmable: false`). */
  bootstrapRequest(
    server: ServerAddress,
    opts: { ep?: string; pct?: number | string; query?: string[]; confirmable?: boolean; timeoutMs?: number } = {},
  ): Promise<DeviceResponse> {
    const query: string[] = [];
    if (opts.ep !== undefined) query.push(`ep=${opts.ep}`);
    if (opts.pct !== undefined) query.push(`pct=${opts.pct}`);
    query.push(...(opts.query ?? []));
    return this.request(server, { method: 'POST', path: '/bs', query, confirmable: opts.confirmable, timeoutMs: opts.timeoutMs });
  }

  /** Sends `GET /bspack?ep=…` with Accept (default 112, SenML CBOR). */
  packRequest(server: ServerAddress, opts: { ep?: string; accept?: number; timeoutMs?: number } = {}): Promise<DeviceResponse> {
    const query = opts.ep !== undefined ? [`ep=${opts.ep}`] : [];
    return this.request(server, { method: 'GET', path: '/bspack', query, accept: opts.accept ?? 112, timeoutMs: opts.timeoutMs });
  }

  /** Any request to the server from this device's socket. */
  request(server: ServerAddress, spec: RequestSpec): Promise<DeviceResponse> {
    if (this.closed) return Promise.reject(new Error('device closed'));
    return new Promise<DeviceResponse>((resolve, reject) => {
      const options: Record<string, unknown> = {};
      if (spec.accept !== undefined) options.Accept = spec.accept;
      if (spec.contentFormat !== undefined) options['Content-Format'] = spec.contentFormat;
      if (spec.block2 !== undefined) options.Block2 = uintBytes(spec.block2);
      const req = this.agent.request({
        hostname: server.address ?? (this.socket.address().family === 'IPv6' ? '::1' : '127.0.0.1'),
        port: server.port,
        method: spec.method,
        pathname: spec.path,
        query: spec.query && spec.query.length > 0 ? spec.query.join('&') : undefined,
        confirmable: spec.confirmable !== false,
        options: options as never,
      });
      const entry = {
        req,
        timer: setTimeout(() => {
          this.pending.delete(entry);
          this.agent.abort(req);
          reject(new Error(`no response to ${spec.method} ${spec.path} within ${spec.timeoutMs ?? 5000} ms`));
        }, spec.timeoutMs ?? 5000),
        fail: (e: Error) => reject(e),
      };
      this.pending.add(entry);
      req.on('response', (res: coap.IncomingMessage) => {
        clearTimeout(entry.timer);
        this.pending.delete(entry);
        const tokenHex = res._packet.token?.toString('hex') ?? '';
        const contentFormat = this.responseCf.get(tokenHex);
        this.responseCf.delete(tokenHex);
        resolve({ code: res.code, payload: res.payload, contentFormat });
      });
      req.on('error', (err: Error) => {
        clearTimeout(entry.timer);
        this.pending.delete(entry);
        reject(err);
      });
      req.end(spec.payload);
    });
  }

  /** Resolves with the first recorded request (past or future) matching `pred`. */
  waitFor(pred: (r: ReceivedRequest) => boolean, timeoutMs = 5000): Promise<ReceivedRequest> {
    const found = this.received.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise<ReceivedRequest>((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (r: ReceivedRequest) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching request within ${timeoutMs} ms (received: ${this.summary()})`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** "PUT /0/1, POST /bs" — what arrived so far, for assertion messages. */
  summary(): string {
    return this.received.map((r) => `${r.method} ${r.path}${r.dropped ? ' (dropped)' : ''}`).join(', ');
  }

  /** Stops answering, aborts what it sent, closes the socket; leaves no timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
    for (const p of this.pending) {
      clearTimeout(p.timer);
      this.agent.abort(p.req);
      p.fail(new Error('device closed'));
    }
    this.pending.clear();
    this.server.close();
    this.agent.close();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** Sees every datagram first: records requests from the raw bytes, drops what it must (true = drop). */
  private shouldDrop(msg: Buffer, rinfo: dgram.RemoteInfo): boolean {
    if (this.closed) return true;
    let p;
    try {
      p = parsePacket(msg);
    } catch {
      return false; // let node-coap deal with it
    }
    if (p.code === '0.00') return this.vanished;
    if (!p.code.startsWith('0.')) {
      if (this.vanished) return true;
      const cf = numericOption(p.options, 12);
      if (cf !== undefined) this.responseCf.set(p.token.toString('hex'), cf);
      return false;
    }
    const rec = toRecord(p, rinfo);
    this.wire.push({ ...rec });
    const key = `${rinfo.address}|${rinfo.port}|${p.messageId}`;
    const rule = this.vanished ? undefined : this.findRule(rec, false);
    const reply = rule ? resolveResponder(rule.responder, rec) : undefined;
    if (!this.vanished && !reply?.drop) {
      // node-coap answers the inner parts of a Block1 transfer itself (2.31) and hands over only the whole.
      const b1 = p.options.find((o) => o.name === 'Block1')?.value;
      const moreBlocks = b1 !== undefined && b1.length > 0 && (b1[b1.length - 1] & 0x08) !== 0;
      if (!moreBlocks && !this.arriving.has(key)) this.arriving.set(key, rec);
      return false;
    }
    if (rule) rule.remaining--;
    if (!this.droppedSeen.has(key)) {
      this.droppedSeen.add(key);
      rec.dropped = true;
      this.record(rec);
    }
    return true;
  }

  private onRequest(req: coap.IncomingMessage, res: coap.OutgoingMessage): void {
    const key = `${req.rsinfo.address}|${req.rsinfo.port}|${req._packet.messageId}`;
    const rec = this.arriving.get(key);
    this.arriving.delete(key);
    if (!rec) return; // cannot happen: every request passes shouldDrop first
    rec.payload = Buffer.from(req.payload); // whole, when node-coap reassembled Block1 parts
    this.record(rec);
    const rule = this.findRule(rec, true);
    const reply = (rule ? resolveResponder(rule.responder, rec) : undefined) ?? this.defaultReply(rec);
    res.on('error', () => undefined);
    const answer = (): void => {
      res.code = reply.code;
      if (reply.contentFormat !== undefined) res.setOption('Content-Format', reply.contentFormat);
      const payload = typeof reply.payload === 'string' ? Buffer.from(reply.payload, 'utf8') : reply.payload;
      res.end(payload && payload.length > 0 ? payload : undefined);
    };
    if (reply.delayMs && reply.delayMs > 0) {
      const t = setTimeout(() => {
        this.delayed.delete(t);
        if (!this.closed) answer();
      }, reply.delayMs);
      this.delayed.add(t);
    } else {
      answer();
    }
  }

  private findRule(rec: ReceivedRequest, consume: boolean): Rule | undefined {
    for (const r of this.rules) {
      if (r.remaining <= 0) continue;
      if ((r.method === '*' || r.method === rec.method) && (r.path === '*' || r.path === rec.path)) {
        if (consume) r.remaining--;
        return r;
      }
    }
    return undefined;
  }

  private defaultReply(rec: ReceivedRequest): ScriptedReply {
    switch (rec.method) {
      case 'DELETE':
        return { code: '2.02' };
      case 'PUT':
        return { code: '2.04' };
      case 'POST':
        return rec.path === '/bs' ? { code: '2.04' } : { code: '4.05' };
      case 'GET':
        return rec.accept === 40
          ? { code: '2.05', payload: this.discover, contentFormat: 40 }
          : { code: '4.04' };
      default:
        return { code: '4.05' };
    }
  }

  private record(rec: ReceivedRequest): void {
    this.received.push(rec);
    for (const w of [...this.waiters]) {
      if (w.pred(rec)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(rec);
      }
    }
  }
}

function resolveResponder(r: Responder, rec: ReceivedRequest): ScriptedReply | undefined {
  return typeof r === 'function' ? r(rec) : r;
}

function numericOption(options: { name: string | number; value: Buffer }[], num: number): number | undefined {
  const names: Record<number, string> = { 12: 'Content-Format', 17: 'Accept' };
  const o = options.find((x) => x.name === names[num] || x.name === num || x.name === String(num));
  if (!o) return undefined;
  let n = 0;
  for (const b of o.value) n = n * 256 + b;
  return n;
}

function toRecord(p: ReturnType<typeof parsePacket>, rinfo: { address: string; port: number }): ReceivedRequest {
  const segs = p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString('utf8'));
  const rec: ReceivedRequest = {
    method: METHODS[p.code] ?? p.code,
    path: '/' + segs.join('/'),
    query: p.options.filter((o) => o.name === 'Uri-Query').map((o) => o.value.toString('utf8')),
    payload: Buffer.from(p.payload),
    confirmable: p.confirmable,
    messageId: p.messageId,
    token: Buffer.from(p.token),
    time: Date.now(),
    from: { address: rinfo.address, port: rinfo.port },
  };
  const cf = numericOption(p.options, 12);
  if (cf !== undefined) rec.contentFormat = cf;
  const accept = numericOption(p.options, 17);
  if (accept !== undefined) rec.accept = accept;
  return rec;
}

function uintBytes(n: number): Buffer {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return Buffer.from(out);
}

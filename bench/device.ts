/**
 * The lean simulated device of the load generator. One `DeviceSlot` owns one UDP socket and runs one
 * device's bootstrap at a time on it: `POST /bs?ep=…&pct=…`, then it answers the Bootstrap-Server's
 * requests through lib/client's BootstrapTransaction (the same staged store, codecs and Finish
 * consistency checks as SimulatedClient), with raw CoAP (coap-packet) instead of node-coap.
 *
 * Why not lib/client's SimulatedClient (there is no Fleet class in lib/client yet): each simulated
 * client opens its own socket with a node-coap Server and Agent and keeps its timers and trace, which
 * for 10,000 devices means 10,000 sockets and far more load-generator CPU than server CPU on a 2-core
 * machine. Here the number of sockets is the concurrency, and a slot is reused device after device.
 *
 * A slot is one public address:port of a carrier-grade NAT: device after device comes out of it, and
 * each new device starts from a random Message ID (RFC 7252 §4.4), as devices behind a NAT do. So a
 * device's POST /bs can carry the Message ID of an earlier device's from the same port within
 * EXCHANGE_LIFETIME (issue 20): the slot counts those reuses, and a device that gets a piggy-backed
 * answer with its Message ID but another device's token counts a stale cached answer and ignores it
 * (RFC 7252 §5.3.2: a response matches on the token), as firmware does.
 */
import * as dgram from 'dgram';
import { randomBytes } from 'crypto';
import { generate, parse, type ParsedPacket } from 'coap-packet';
import { messageDigest } from '../lib/bootstrap/coap/dedup';
import { BootstrapTransaction, type HandlerConfig } from '../lib/client/bootstrap-handler';
import type { ObjectStore } from '../lib/client/store';
import type { IncomingRequest } from '../lib/client/transport';

export interface DeviceResult {
  ok: boolean;
  /** Why the bootstrap failed (a short stable key, e.g. 'timeout', 'bs-5.03', 'finish-4.06'). */
  cause?: string;
  /** Milliseconds from the first POST /bs to the ACK of Bootstrap-Finish (or to the failure). */
  ms: number;
}

/** One datagram of a traced bootstrap: who sent it and how many bytes (the floor replays these). */
export interface WireStep {
  from: 'device' | 'server';
  size: number;
}

/** The datagram channel a slot talks over: a UDP socket, or a DTLS session. */
export interface Wire {
  send(buf: Buffer, host: string, port: number): void;
  onMessage(fn: (msg: Buffer, address: string, port: number) => void): void;
  close(): Promise<void>;
}

export interface DeviceContext {
  host: string;
  port: number;
  /** The factory store every device starts from (cloned per bootstrap). */
  base: ObjectStore;
  cfg: HandlerConfig;
  /** Milliseconds a device waits for its bootstrap to finish. */
  timeoutMs: number;
  /** CoAP ACK_TIMEOUT for the device's own POST /bs, ms (doubles per retransmission). */
  ackTimeoutMs: number;
}

/**
 * How long replies are kept for retransmitted requests: past the server's first retransmission (2-3 s),
 * and short of the time its one Message ID counter takes to wrap (65,536 messages: ~8 s at 1,000
 * bootstraps/s of 8 messages), after which an old ID may name a new request.
 */
const REPLY_KEEP_MS = 4_000;

const METHODS: Record<string, IncomingRequest['method']> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE' };

/** RFC 7252 EXCHANGE_LIFETIME, ms: how long a server remembers a request for duplicate detection. */
const EXCHANGE_LIFETIME_MS = 247_000;

interface Run {
  endpoint: string;
  pct: number | undefined;
  token: Buffer;
  mid: number;
  started: number;
  txn: BootstrapTransaction;
  replies: Map<number, { buf: Buffer; digest: number }>;
  accepted: boolean;
  /** Piggy-backed answers with this device's Message ID and another token (an earlier device's, cached). */
  staleAnswers: number;
  timer: NodeJS.Timeout;
  retx: NodeJS.Timeout | undefined;
  request: Buffer;
  trace: WireStep[] | undefined;
  /** Devices that hold their session open: do not answer the server's requests (heap measurement). */
  silent: boolean;
  /** Message ids of server requests left unanswered by a silent device (to reset them later). */
  held: number[];
  /** The first request the device refused ('PUT-4.00'): names the cause when the session then times out. */
  refused: string | undefined;
  done: (r: DeviceResult) => void;
}

export class DeviceSlot {
  private mid = Math.floor(Math.random() * 0x10000);
  private run: Run | undefined;
  /** When each Message ID last went out in a POST /bs from this port, by server (host|port|ID), pruned at EXCHANGE_LIFETIME. */
  private readonly sentIds = new Map<string, number>();
  /** POST /bs that reused the Message ID of an earlier device's from this port to the same server within EXCHANGE_LIFETIME. */
  idReuses = 0;
  /** Piggy-backed answers that carried this slot's device's Message ID but another token (see Run.staleAnswers). */
  staleAnswers = 0;
  /**
   * Every reply this socket sent in the last REPLY_KEEP_MS, by Message ID, whichever device sent it (and
   * the running device's own replies for its whole run): a
   * server that missed a device's last ACK resends its request after 2-3 s, when the socket may already
   * be on its second or third next device; firmware repeats its answer from such a cache (RFC 7252 §4.5).
   */
  private readonly recent = new Map<number, { buf: Buffer; at: number; digest: number }>();
  /** Datagrams that were not CoAP, or requests for no running device (answered with RST). */
  strays = 0;

  private constructor(
    private readonly wire: Wire,
    private ctx: DeviceContext,
  ) {
    wire.onMessage((msg, address, port) => {
      try {
        this.onMessage(msg, address, port);
      } catch {
        this.strays++;
      }
    });
  }

  /** A slot on its own UDP socket (plain CoAP), reused device after device. */
  static async open(ctx: DeviceContext): Promise<DeviceSlot> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => {
        sock.removeListener('error', reject);
        resolve();
      });
    });
    const slot = new DeviceSlot(
      {
        send: (buf, host, port) => sock.send(buf, 0, buf.length, port, host, (err) => err && slot.strays++),
        onMessage: (fn) => sock.on('message', (msg, rinfo) => fn(msg, rinfo.address, rinfo.port)),
        close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
      },
      ctx,
    );
    sock.on('error', () => slot.strays++);
    return slot;
  }

  /** A slot over any datagram channel to the server (a DTLS session). */
  static over(wire: Wire, ctx: DeviceContext): DeviceSlot {
    return new DeviceSlot(wire, ctx);
  }

  /**
   * Bootstraps one device. `silent`: send POST /bs and never answer the server (the session stays
   * pending on the server until it is reset with `resetHeld()` or times out).
   */
  bootstrap(endpoint: string, pct: number | undefined, opts: { trace?: WireStep[]; silent?: boolean } = {}): Promise<DeviceResult> {
    if (this.run) return Promise.resolve({ ok: false, cause: 'slot-busy', ms: 0 });
    return new Promise<DeviceResult>((resolve) => {
      this.mid = Math.floor(Math.random() * 0x10000); // a new device behind the NAT: its own random first ID
      this.noteId(this.mid);
      const token = randomBytes(4);
      const query = [`ep=${endpoint}`];
      if (pct !== undefined) query.push(`pct=${pct}`);
      const options = [{ name: 'Uri-Path' as const, value: Buffer.from('bs') }];
      for (const q of query) options.push({ name: 'Uri-Query' as never, value: Buffer.from(q) });
      const request = generate({ code: '0.02', confirmable: true, messageId: this.mid, token, options });
      const run: Run = {
        endpoint,
        pct,
        token,
        mid: this.mid,
        started: performance.now(),
        txn: new BootstrapTransaction(this.ctx.base, this.ctx.cfg),
        replies: new Map(),
        accepted: false,
        staleAnswers: 0,
        timer: setTimeout(() => this.end(run, false, run.refused ? `timeout-after-${run.refused}` : run.staleAnswers ? 'stale-cached-answer' : 'timeout'), this.ctx.timeoutMs),
        retx: undefined,
        request,
        trace: opts.trace,
        silent: opts.silent === true,
        held: [],
        refused: undefined,
        done: resolve,
      };
      this.run = run;
      this.send(run, request);
      this.armRetransmit(run, this.ctx.ackTimeoutMs, 0);
    });
  }

  /** Counts a Message ID reuse towards this server from this port within EXCHANGE_LIFETIME, and remembers the ID. */
  private noteId(mid: number): void {
    const now = Date.now();
    for (const [k, at] of this.sentIds) {
      if (now - at < EXCHANGE_LIFETIME_MS) break;
      this.sentIds.delete(k);
    }
    const key = `${this.ctx.host}|${this.ctx.port}|${mid}`;
    if (this.sentIds.has(key)) this.idReuses++;
    this.sentIds.delete(key);
    this.sentIds.set(key, now);
  }

  /** The server this slot's next devices talk to (a pooled slot moves between storms and servers). */
  retarget(ctx: DeviceContext): void {
    if (this.run) throw new Error('retarget() while a device runs');
    this.ctx = ctx;
  }

  /** Sends RST for every server request a silent device left unanswered, so the server ends those sessions now. */
  resetHeld(): number {
    const run = this.run;
    if (!run) return 0;
    let n = 0;
    for (const mid of run.held) {
      this.sendRaw(Buffer.from([0x70, 0, mid >> 8, mid & 0xff]), this.ctx.host, this.ctx.port);
      n++;
    }
    run.held = [];
    return n;
  }

  /** The counters since the last call (strays, Message ID reuses, stale cached answers), reset to zero. */
  takeCounts(): { strays: number; idReuses: number; staleAnswers: number } {
    const c = { strays: this.strays, idReuses: this.idReuses, staleAnswers: this.staleAnswers };
    this.strays = 0;
    this.idReuses = 0;
    this.staleAnswers = 0;
    return c;
  }

  /** Ends a silent device's run without a result (the caller counts it). */
  abandon(): void {
    const run = this.run;
    if (run) this.end(run, true, undefined);
  }

  close(): Promise<void> {
    if (this.run) this.end(this.run, false, 'closed');
    return this.wire.close();
  }

  private armRetransmit(run: Run, ms: number, count: number): void {
    if (count >= 4) return;
    run.retx = setTimeout(() => {
      if (this.run !== run || run.accepted) return;
      this.send(run, run.request);
      this.armRetransmit(run, ms * 2, count + 1);
    }, ms);
  }

  private send(run: Run, buf: Buffer): void {
    run.trace?.push({ from: 'device', size: buf.length });
    this.sendRaw(buf, this.ctx.host, this.ctx.port);
  }

  private sendRaw(buf: Buffer, host: string, port: number): void {
    this.wire.send(buf, host, port);
  }

  private end(run: Run, ok: boolean, cause: string | undefined): void {
    if (this.run !== run) return;
    clearTimeout(run.timer);
    if (run.retx) clearTimeout(run.retx);
    this.run = undefined;
    const r: DeviceResult = { ok, ms: performance.now() - run.started };
    if (cause !== undefined) r.cause = cause;
    run.done(r);
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    let p: ParsedPacket;
    try {
      p = parse(msg);
    } catch {
      this.strays++;
      return;
    }
    const run = this.run;
    run?.trace?.push({ from: 'server', size: msg.length });
    const cls = p.code.charCodeAt(0) - 48;
    if (cls === 0 && p.code !== '0.00') return this.onRequest(run, p, msg, address, port);
    if (!run) {
      if (p.confirmable) this.sendRaw(Buffer.from([0x70, 0, p.messageId >> 8, p.messageId & 0xff]), address, port);
      return;
    }
    if (p.ack || p.reset) {
      if (p.messageId !== run.mid) return;
      if (p.ack && p.code !== '0.00' && !p.token.equals(run.token)) {
        // Another device's answer, repeated from the server's cache for our Message ID: not ours.
        run.staleAnswers++;
        this.staleAnswers++;
        return;
      }
      if (run.retx) clearTimeout(run.retx);
      run.retx = undefined;
      if (p.reset) return this.end(run, false, 'bs-reset');
      if (p.code === '0.00') {
        run.accepted = true; // empty ACK: the answer comes as a separate response
        return;
      }
      return this.onBootstrapAnswer(run, p.code);
    }
    // Separate response to POST /bs, matched on the token.
    if (!p.token.equals(run.token)) return;
    if (p.confirmable) this.sendRaw(Buffer.from([0x60, 0, p.messageId >> 8, p.messageId & 0xff]), address, port);
    this.onBootstrapAnswer(run, p.code);
  }

  private onBootstrapAnswer(run: Run, code: string): void {
    if (run.retx) clearTimeout(run.retx);
    run.retx = undefined;
    if (code === '2.04') run.accepted = true;
    else this.end(run, false, `bs-${code}`);
  }

  private onRequest(run: Run | undefined, p: ParsedPacket, msg: Buffer, address: string, port: number): void {
    const now = Date.now();
    for (const [mid, r] of this.recent) {
      if (now - r.at < REPLY_KEEP_MS) break;
      this.recent.delete(mid);
    }
    // RFC 7252 §4.5, with the digest check of lib/bootstrap/coap/dedup.ts: a request is a duplicate
    // only when it is the same message, not merely the same Message ID.
    const digest = messageDigest(msg);
    const recent = this.recent.get(p.messageId);
    const mine = run?.replies.get(p.messageId);
    const cached = recent?.digest === digest ? recent.buf : mine?.digest === digest ? mine.buf : undefined;
    if (cached) {
      this.sendRaw(cached, address, port);
      return;
    }
    if (!run) {
      this.strays++;
      if (p.confirmable) this.sendRaw(Buffer.from([0x70, 0, p.messageId >> 8, p.messageId & 0xff]), address, port);
      return;
    }
    if (run.silent) {
      run.held.push(p.messageId);
      return;
    }
    const method = METHODS[p.code];
    const req: IncomingRequest = {
      method: method ?? p.code,
      path: [],
      query: [],
      payload: p.payload,
      address,
      port,
    };
    for (const o of p.options) {
      if (o.name === 'Uri-Path') req.path.push(o.value.toString('utf8'));
      else if (o.name === 'Content-Format') req.contentFormat = uint(o.value);
      else if (o.name === 'Accept') req.accept = uint(o.value);
    }
    const handled = run.txn.handle(req);
    const a = handled.answer;
    const options = a.contentFormat !== undefined ? [{ name: 'Content-Format' as const, value: uintBytes(a.contentFormat) }] : [];
    const reply = generate({
      code: a.code,
      ack: p.confirmable,
      confirmable: false,
      messageId: p.messageId,
      token: p.token,
      options,
      payload: a.payload,
    });
    run.replies.set(p.messageId, { buf: reply, digest });
    this.recent.delete(p.messageId);
    this.recent.set(p.messageId, { buf: reply, at: Date.now(), digest });
    this.send(run, reply);
    if (handled.finish === 'committed') this.end(run, true, undefined);
    else if (handled.finish === 'rejected') {
      const why = a.payload ? `: ${a.payload.toString('utf8').replace(/\d+/g, 'N').slice(0, 80)}` : '';
      this.end(run, false, `finish-${a.code}${why}`);
    }
    else if (!a.code.startsWith('2') && run.refused === undefined) run.refused = `${req.method}-${a.code}`;
  }
}

function uint(b: Buffer): number {
  let n = 0;
  for (const x of b) n = n * 256 + x;
  return n;
}

function uintBytes(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  if (n < 0x100) return Buffer.from([n]);
  if (n < 0x10000) return Buffer.from([n >> 8, n & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

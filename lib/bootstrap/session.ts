/**
 * One device's bootstrap session: from its Bootstrap-Request to Bootstrap-Finish (or a failure).
 *
 * The flow decides with `accept()` / `reject()`; after the 2.04 has left, `send()` queues downlink requests
 * and sends them one at a time (NSTART = 1), each with its own timeout; `finish()` ends the session.
 * The server's deadlines (deadlines.ts) cover the decision deadline and the session deadline. Per-session state is kept
 * small: a benchmark holds thousands of pending sessions at a few KiB each.
 */
import { EventEmitter } from 'events';
import { randomFillSync } from 'crypto';
import type { ObjectModel } from '../model/types';
import { toPeerIdentity, type AuditRecord, type AuditStep, type Peer, type PeerIdentity } from './audit';
import { flatPeerKey, type CoapEndpoint, type InboundExchange, type OutboundResult } from './coap/endpoint';
import { readResponse, requestPayload, type SendResult } from './result';
import { isResponseCode, uintBuffer } from './coap/message';
import { Transfer, type TransferOwner } from './coap/transfer';
import {
  RequestFailedError,
  RequestTimeoutError,
  ResponseCodeError,
  SessionEndedError,
  SessionStateError,
} from './errors';
import { isRejection, SessionOutcome } from './outcome';
import type { ResolvedParameters } from './parameters';
import { BootstrapFinishRequest, type BootstrapDownlinkRequest } from './requests';
import { handled, rejected } from './promise';

export type { SendResult };

export type SessionState = 'pending' | 'accepted' | 'ended';

export interface SendOptions {
  /** This request's timeout, ms (default: the server's requestTimeoutMs). */
  timeoutMs?: number;
  /** For the record: this Write repeats a refused one without the NoSec key resources (runBootstrap sets it). */
  retriedWithoutKeys?: boolean;
  /**
   * For the record: this request repeats the one recorded just before it (runBootstrap's 4.15 fallback and keyless
   * retry), which is marked `superseded`; a Write's step lists the other formats of the chain as `retriedFormats`.
   */
  supersedes?: boolean;
}

/** What a session needs from its server (a small seam, so sessions do not hold the server itself). */
export interface SessionHost {
  readonly coap: CoapEndpoint;
  readonly params: ResolvedParameters;
  readonly model: ObjectModel | undefined;
  sessionEnded(s: BootstrapSession): void;
  reportListenerError(where: string, err: unknown): void;
  /**
   * Called just before Bootstrap-Finish is queued; Finish waits for the promise (which the host bounds and
   * which never rejects). Undefined: no wait. The server's write-ahead hook (server.ts setBeforeFinish).
   */
  beforeFinish?(s: BootstrapSession): Promise<void> | undefined;
}

/**
 * @internal Who hears how a request queued with requestTo() ended: runBootstrap's run, one object per run,
 * instead of a promise (and its resolving functions and reaction) per request. Called once per request, from
 * the session (possibly before requestTo returns, when the request cannot go out); it must not throw.
 */
export interface RequestOwner {
  onRequestDone(res: SendResult | undefined, err: Error | undefined): void;
}

interface Job {
  req: BootstrapDownlinkRequest;
  timeoutMs: number;
  retriedWithoutKeys: boolean;
  supersedes: boolean;
  /** send()/request(): the promise's resolving functions; requestTo(): undefined, and `owner` hears. */
  resolve: ((r: SendResult) => void) | undefined;
  reject: ((e: Error) => void) | undefined;
  owner: RequestOwner | undefined;
  /** Its transfer, once on the wire. */
  t: Transfer | undefined;
}

function settle(job: Job, res: SendResult): void {
  if (job.owner !== undefined) job.owner.onRequestDone(res, undefined);
  else job.resolve!(res);
}

function fail(job: Job, err: Error): void {
  if (job.owner !== undefined) job.owner.onRequestDone(undefined, err);
  else job.reject!(err);
}

export interface SessionInit {
  endpoint: string;
  peer: Peer;
  identity?: unknown;
  query: Record<string, string>;
  preferredContentFormat?: number;
  lwm2mVersion?: string;
  /** 'server-initiated': opened by the server (BootstrapServer.openSession), no Bootstrap-Request to answer. */
  kind?: SessionKind;
}

/**
 * 'bootstrap': the device sent a Bootstrap-Request (client-initiated). 'server-initiated': the server opened
 * the session towards the device's address itself (OMA-TS-LightweightM2M_Core 1.0, Bootstrap Interface,
 * Server Initiated Bootstrap).
 */
export type SessionKind = 'bootstrap' | 'server-initiated';

export class BootstrapSession extends EventEmitter implements TransferOwner {
  readonly id: string = flatUuid();
  readonly kind: SessionKind;
  readonly endpoint: string;
  readonly peer: Peer;
  readonly identity: PeerIdentity | undefined;
  readonly query: Record<string, string>;
  /** The client's `pct`, if it sent one (1542 is read as 11542). */
  readonly preferredContentFormat: number | undefined;
  /**
   * LwM2M version, a hint: "1.1" when the client sent pct (1.1+ only), "1.2" for pct 11544 (LwM2M CBOR),
   * replaced by what Bootstrap-Discover reports.
   */
  lwm2mVersion: string | undefined;
  state: SessionState = 'pending';
  /**
   * The device refused a NoSec Security Write carrying the empty key resources 3, 4, 5 and took it without
   * them: runBootstrap leaves them out of this session's later NoSec Security writes (nosec-keys.ts).
   */
  omitNoSecKeys = false;
  outcome: SessionOutcome | undefined;
  detail: string | undefined;

  private readonly host: SessionHost;
  private exchange: InboundExchange | undefined;
  private readonly createdAt = Date.now();
  private acceptedAt: number | undefined;
  private endedAt: number | undefined;
  private acceptPromise: Promise<void> | undefined;
  private acceptSent = false;
  private steps: AuditStep[] | undefined;
  private queue: Job[] | undefined;
  /** The request on the wire (its job carries the transfer). */
  private inflight: Job | undefined;
  /** The device's key in the endpoint's per-peer Message IDs (flatPeerKey), made at the first request. */
  private coapPeer: string | undefined;

  constructor(host: SessionHost, exchange: InboundExchange | undefined, init: SessionInit) {
    super();
    // No listener table until the first listener: EventEmitter makes an empty dictionary object per
    // instance (~190 B of heap per pending session, measured); its methods create it when it is undefined.
    (this as unknown as { _events: unknown })._events = undefined;
    this.host = host;
    this.exchange = exchange;
    this.kind = init.kind ?? 'bootstrap';
    this.endpoint = init.endpoint;
    this.peer = init.peer;
    this.identity = toPeerIdentity(init.identity);
    this.query = init.query;
    this.preferredContentFormat = init.preferredContentFormat;
    this.lwm2mVersion = init.lwm2mVersion;
  }

  /** @internal When the session started (ms since the epoch): its deadlines count from here. */
  get startedAtMs(): number {
    return this.createdAt;
  }

  /** Answers the Bootstrap-Request 2.04. Idempotent; resolves once the 2.04 has been sent. */
  accept(): Promise<void> {
    if (this.acceptPromise) return this.acceptPromise;
    if (this.state === 'ended') return rejected(this.endedError());
    const ex = this.exchange;
    this.exchange = undefined;
    this.state = 'accepted';
    this.acceptedAt = Date.now();
    this.acceptPromise = handled(new Promise<void>((resolve, reject) => {
      const sent = ex?.respond('2.04', {}, (err) => {
        if (err) {
          this.end(SessionOutcome.REQUEST_FAILED, `could not send 2.04: ${err.message}`);
          reject(new RequestFailedError('2.04', '/bs', 'send', err.message));
          return;
        }
        this.acceptSent = true;
        this.acceptPromise = ACCEPTED; // the same answer, without holding a promise per session
        resolve();
        this.pump();
      });
      if (!sent) {
        this.acceptSent = true;
        resolve();
      }
    }));
    return this.acceptPromise;
  }

  /**
   * Answers the Bootstrap-Request with an error code and ends the session with `outcome`.
   * Only before accept(); afterwards use end().
   */
  reject(code = '4.00', diagnostic?: string, outcome: SessionOutcome = SessionOutcome.REJECTED): Promise<void> {
    if (!isResponseCode(code) || code.startsWith('2')) return rejected(new ResponseCodeError(code));
    if (this.state === 'ended') return rejected(this.endedError());
    if (this.state !== 'pending') {
      return rejected(new SessionStateError(this.state, 'reject() answers the Bootstrap-Request, which was accepted'));
    }
    return new Promise<void>((resolve) => {
      this.answerPending(code, diagnostic, () => resolve());
      this.end(outcome, diagnostic ? `${code} ${diagnostic}` : code);
    });
  }

  /** Queues a downlink request; requests go out one at a time, after the 2.04 to the Bootstrap-Request. */
  send(req: BootstrapDownlinkRequest, opts: SendOptions = {}): Promise<SendResult> {
    return handled(this.request(req, opts));
  }

  /**
   * @internal send() for a caller that handles the promise at once (awaits it, or attaches then/catch in the
   * same turn): without send()'s no-op catch, which is one more promise and reaction per request in flight.
   */
  request(req: BootstrapDownlinkRequest, opts: SendOptions = {}): Promise<SendResult> {
    const refused = this.refusal(req);
    if (refused) return rejected(refused);
    const timeoutMs = opts.timeoutMs ?? this.host.params.timings.requestTimeoutMs;
    return new Promise<SendResult>((resolve, reject) => {
      this.enqueue({ req, timeoutMs, retriedWithoutKeys: opts.retriedWithoutKeys === true, supersedes: opts.supersedes === true, resolve, reject, owner: undefined, t: undefined });
    });
  }

  /**
   * @internal request() for runBootstrap: `owner` hears the answer or the error (the same that request()'s
   * promise would settle with) instead of a promise per request.
   */
  requestTo(req: BootstrapDownlinkRequest, opts: SendOptions, owner: RequestOwner): void {
    const refused = this.refusal(req);
    if (refused) return owner.onRequestDone(undefined, refused);
    const timeoutMs = opts.timeoutMs ?? this.host.params.timings.requestTimeoutMs;
    this.enqueue({ req, timeoutMs, retriedWithoutKeys: opts.retriedWithoutKeys === true, supersedes: opts.supersedes === true, resolve: undefined, reject: undefined, owner, t: undefined });
  }

  /** Why `req` cannot be queued now, if it cannot. */
  private refusal(req: BootstrapDownlinkRequest): Error | undefined {
    if (this.state === 'ended') return this.endedError();
    if (this.state === 'pending') return new SessionStateError(this.state, 'accept() the Bootstrap-Request before sending requests');
    if (!req || typeof req !== 'object' || typeof (req as Partial<BootstrapDownlinkRequest>).expectedCode !== 'string' || typeof req.uriPath !== 'function') {
      return new SessionStateError(this.state, 'send() takes a Bootstrap*Request object');
    }
    return undefined;
  }

  /** Sends `job` now when nothing is ahead of it (no queue array for the usual one request at a time), else queues it. */
  private enqueue(job: Job): void {
    if (this.queue === undefined && this.inflight === undefined && this.acceptSent && this.state === 'accepted') this.launch(job);
    else (this.queue ??= []).push(job);
  }

  /** Bootstrap-Finish: 2.04 ends the session SUCCESS; an error code ends it FINISH_FAILED with the diagnostic. */
  finish(opts: SendOptions = {}): Promise<SendResult> {
    const ready = this.state === 'accepted' ? this.host.beforeFinish?.(this) : undefined;
    return ready ? handled(ready.then(() => this.sendFinish(opts))) : this.sendFinish(opts);
  }

  private sendFinish(opts: SendOptions): Promise<SendResult> {
    return handled(
      this.request(FINISH, opts).then((r) => {
        if (r.success) this.end(SessionOutcome.SUCCESS);
        else this.end(SessionOutcome.FINISH_FAILED, r.diagnostic ? `${r.code} ${r.diagnostic}` : r.code);
        return r;
      }),
    );
  }

  /**
   * Ends the session (idempotent): cancels what is queued or in flight, then emits 'ended' (and the server
   * 'sessionEnded' and 'audit'). Ended REQUEST_FAILED without a detail, the detail is the device's answer to
   * the last refused request ("4.00 PUT /0/1: diagnostic"), so the record says what the device said.
   */
  end(outcome: SessionOutcome, detail?: string): void {
    if (this.state === 'ended') return;
    if (detail === undefined && outcome === SessionOutcome.REQUEST_FAILED) detail = this.lastRefusal();
    if (this.exchange && !this.exchange.answered) {
      this.answerPending(isRejection(outcome) ? '4.00' : '5.03', undefined);
    }
    this.state = 'ended';
    this.outcome = outcome;
    this.detail = detail;
    this.endedAt = Date.now();
    const inflight = this.inflight;
    this.inflight = undefined;
    if (inflight) {
      inflight.t?.cancel();
      fail(inflight, this.endedError());
    }
    const queue = this.queue;
    this.queue = undefined;
    if (queue) for (const job of queue) fail(job, this.endedError());
    this.host.sessionEnded(this);
    try {
      this.emit('ended', outcome, detail);
    } catch (err) {
      this.host.reportListenerError('session ended listener', err);
    }
  }

  /** A copy of the session's record: who, from where, each step, the outcome. No keys, no payloads. */
  audit(): AuditRecord {
    const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());
    const rec: AuditRecord = {
      kind: this.kind,
      sessionId: this.id,
      endpoint: this.endpoint,
      peer: { ...this.peer },
      query: { ...this.query },
      startedAt: new Date(this.createdAt).toISOString(),
      steps: (this.steps ?? []).map(copyStep),
    };
    if (this.identity) rec.identity = { ...this.identity };
    if (this.preferredContentFormat !== undefined) rec.preferredContentFormat = this.preferredContentFormat;
    if (this.lwm2mVersion !== undefined) rec.lwm2mVersion = this.lwm2mVersion;
    if (this.acceptedAt !== undefined) rec.acceptedAt = iso(this.acceptedAt);
    if (this.endedAt !== undefined) rec.endedAt = iso(this.endedAt);
    if (this.outcome !== undefined) rec.outcome = this.outcome;
    if (this.detail !== undefined) rec.detail = this.detail;
    return rec;
  }

  /** Steps recorded so far (what `audit().steps.length` says, without copying the record). */
  get stepCount(): number {
    return this.steps?.length ?? 0;
  }

  /** Copies of the steps recorded after the first `from` (what `audit().steps.slice(from)` gives). */
  stepsSince(from: number): AuditStep[] {
    const steps = this.steps ?? [];
    const out: AuditStep[] = [];
    for (let i = Math.max(0, from); i < steps.length; i++) out.push(copyStep(steps[i]));
    return out;
  }

  /** The last step recorded (a copy), if any. */
  lastStep(): AuditStep | undefined {
    const last = this.steps?.at(-1);
    return last ? copyStep(last) : undefined;
  }

  /** "4.00 PUT /0/1: diagnostic" for the last step the device answered with an error code, if any. */
  private lastRefusal(): string | undefined {
    const steps = this.steps ?? [];
    for (let i = steps.length - 1; i >= 0; i--) {
      const st = steps[i];
      if (!st.success && st.code !== '') {
        return `${st.code} ${st.method} ${st.path}${st.diagnostic ? `: ${st.diagnostic}` : ''}`;
      }
    }
    return undefined;
  }

  /** Requests waiting behind the one in flight. */
  get queued(): number {
    return this.queue?.length ?? 0;
  }

  /**
   * True once the device has answered one of our requests: only then is its source address known to be
   * real (a Bootstrap-Request is one datagram and may be forged). The server sheds sessions without it first.
   */
  get deviceAnswered(): boolean {
    return this.steps?.some((s) => s.code !== '') ?? false;
  }

  private endedError(): SessionEndedError {
    return new SessionEndedError(this.id, this.endpoint, this.outcome);
  }

  private answerPending(code: string, diagnostic: string | undefined, cb?: () => void): void {
    const ex = this.exchange;
    this.exchange = undefined;
    const payload = diagnostic ? Buffer.from(diagnostic, 'utf8') : undefined;
    if (!ex || !ex.respond(code, { payload }, () => cb?.())) cb?.();
  }

  /** @internal The server's deadlines (deadlines.ts): the decision or the session deadline has passed. */
  deadlinePassed(now: number): void {
    if (this.state === 'ended') return;
    const t = this.host.params.timings;
    if (now >= this.createdAt + t.sessionTimeoutMs) {
      if (this.state === 'pending') this.answerPending(t.decisionTimeoutCode, 'no decision in time');
      this.end(SessionOutcome.TIMEOUT, `session not finished within ${t.sessionTimeoutMs} ms`);
    } else if (this.state === 'pending' && now >= this.createdAt + t.decisionTimeoutMs) {
      this.answerPending(t.decisionTimeoutCode, 'no decision in time');
      this.end(SessionOutcome.TIMEOUT, `Bootstrap-Request not accepted or rejected within ${t.decisionTimeoutMs} ms`);
    }
  }

  private pump(): void {
    if (this.inflight || !this.acceptSent || this.state !== 'accepted') return;
    const job = this.queue?.shift();
    if (!job) return;
    if (this.queue?.length === 0) this.queue = undefined; // an emptied array keeps its grown backing store
    this.launch(job);
  }

  private launch(job: Job): void {
    try {
      this.start(job);
    } catch (err) {
      // Encoding failed (CodecError, bad node): the request never left; the session goes on.
      const e = err instanceof Error ? err : new Error(String(err));
      this.record(job, '', false, 0, e.message);
      fail(job, e);
      this.pump();
    }
  }

  private start(job: Job): void {
    const req = job.req;
    const payload = requestPayload(req, this.host.model);
    const w = wireOf(req);
    const peer = (this.coapPeer ??= flatPeerKey(this.peer.address, this.peer.port));
    const t = new Transfer(this.host.coap, this.peer.address, this.peer.port, req.method, w.options, payload, job.timeoutMs, this, peer);
    job.t = t;
    this.inflight = job;
    const err = t.start();
    if (err) {
      this.inflight = undefined;
      throw new RequestFailedError(req.method, req.target, 'send', err.message);
    }
  }

  /** @internal TransferOwner: the request in flight has its outcome. */
  onTransferDone(t: Transfer, r: OutboundResult): void {
    const job = this.inflight;
    if (job !== undefined && job.t === t) this.onResult(job, r); // else cancelled by end(): already rejected there
  }

  private onResult(job: Job, r: OutboundResult): void {
    if (this.inflight !== job) return; // cancelled by end(): already rejected there
    this.inflight = undefined;
    const req = job.req;
    if (r.kind === 'response') {
      const res = readResponse(req, r, this.host.model);
      if (res.discover?.lwm2mVersion) this.lwm2mVersion = res.discover.lwm2mVersion;
      this.record(job, r.code, res.success && !res.decodeError, r.rttMs, res.decodeError?.message, res.diagnostic);
      settle(job, res);
      this.pump();
      return;
    }
    const ms = Date.now() - (this.acceptedAt ?? this.createdAt);
    if (r.kind === 'timeout') {
      const err = new RequestTimeoutError(req.method, req.target, job.timeoutMs);
      this.record(job, '', false, job.timeoutMs, err.message);
      fail(job, err);
      this.end(SessionOutcome.TIMEOUT, err.message);
    } else if (r.kind === 'reset' || r.kind === 'send-error') {
      const err = new RequestFailedError(
        req.method, req.target, r.kind === 'reset' ? 'reset' : 'send', r.kind === 'send-error' ? r.error.message : undefined,
      );
      this.record(job, '', false, ms, err.message);
      fail(job, err);
      this.end(SessionOutcome.REQUEST_FAILED, err.message);
    } else {
      fail(job, this.endedError());
    }
  }

  private record(job: Job, code: string, success: boolean, ms: number, error?: string, diagnostic?: string): void {
    const req = job.req;
    const w = knownWire(req);
    const step: AuditStep = { op: req.op, method: req.method, path: w ? w.target : req.target, code, success, ms };
    if (w) {
      if (w.format !== undefined) step.contentFormat = w.format;
    } else if (req.formatOption) step.contentFormat = req.formatOption.format;
    if (error !== undefined) step.error = error;
    if (diagnostic !== undefined && diagnostic !== '') step.diagnostic = diagnostic;
    if (job.retriedWithoutKeys) step.retriedWithoutKeys = true;
    const before = job.supersedes ? this.steps?.at(-1) : undefined;
    if (before) {
      before.superseded = true;
      const formats = new Set([...(before.retriedFormats ?? []), before.contentFormat]);
      formats.delete(step.contentFormat);
      formats.delete(undefined);
      if (formats.size > 0) step.retriedFormats = [...formats] as number[];
    }
    (this.steps ??= []).push(step);
  }
}

/** Bootstrap-Finish carries nothing of its own: one request object for every session. */
const FINISH = new BootstrapFinishRequest();

/** What accept() returns once the 2.04 has left: one resolved promise for every session. */
const ACCEPTED: Promise<void> = Promise.resolve();

type CoapOption = { readonly name: string; readonly value: Buffer };

/**
 * The option objects of our requests, shared: a request in flight keeps its options, and a Buffer is ~0.1 KiB
 * of heap however short, for values that repeat from session to session (the object and instance ids of the
 * path, the Accept and Content-Format numbers). The encoder only reads them. Bounded: long or rare values get
 * an option of their own.
 */
const sharedOptions = new Map<string, CoapOption>();
const MAX_SHARED_OPTIONS = 4096;

function sharedOption(name: string, format: number): CoapOption {
  const key = name + ':' + format;
  let o = sharedOptions.get(key);
  if (o === undefined) {
    o = { name, value: uintBuffer(format) };
    if (sharedOptions.size < MAX_SHARED_OPTIONS) sharedOptions.set(key, o);
  }
  return o;
}

function uriPathOption(segment: string): CoapOption {
  if (segment.length > 5) return { name: 'Uri-Path', value: Buffer.from(segment) };
  const key = 'p:' + segment;
  let o = sharedOptions.get(key);
  if (o === undefined) {
    o = { name: 'Uri-Path', value: Buffer.from(segment) };
    if (sharedOptions.size < MAX_SHARED_OPTIONS) sharedOptions.set(key, o);
  }
  return o;
}

/**
 * What a request puts on the wire besides its payload (the Uri-Path and format options), and its target for
 * the record, made once per request object: a remembered plan's requests are sent to every device of a
 * layout. Checked against the request's path, path ids and format each time, so a request changed since
 * (its fields are readonly to TypeScript only) gets its own again.
 */
interface Wire {
  readonly path: unknown;
  readonly ids: unknown;
  /** formatField(req) when made. */
  readonly field: number | undefined;
  /** The format option's number (Content-Format or Accept), if any. */
  readonly format: number | undefined;
  readonly target: string;
  /** Read-only: the Transfer and the encoder only read them (a block-wise transfer copies them). */
  readonly options: CoapOption[];
}

const wires = new WeakMap<object, Wire>();

function wireOf(req: BootstrapDownlinkRequest): Wire {
  const known = knownWire(req);
  if (known !== undefined) return known;
  const f = req.formatOption;
  const path: unknown = req.path;
  const w = newWire(path, idsOf(path), formatField(req), req.uriPath(), f?.name, f?.format, req.target);
  wires.set(req, w);
  return w;
}

/** The request's Wire made before, when its path, ids and format are still the same. */
function knownWire(req: BootstrapDownlinkRequest): Wire | undefined {
  const known = wires.get(req);
  if (known === undefined) return undefined;
  const path: unknown = req.path;
  return known.path === path && known.ids === idsOf(path) && known.field === formatField(req) ? known : undefined;
}

/** The field a request's format option comes from (a Write's contentFormat, a Read's accept); undefined for the others. */
function formatField(req: BootstrapDownlinkRequest): number | undefined {
  return req.type === 'BootstrapWriteRequest' ? req.contentFormat : req.type === 'BootstrapReadRequest' ? req.accept : undefined;
}

function idsOf(path: unknown): unknown {
  return path !== null && typeof path === 'object' ? (path as { ids?: unknown }).ids : undefined;
}

function newWire(path: unknown, ids: unknown, field: number | undefined, segments: string[], formatName: string | undefined, format: number | undefined, target: string): Wire {
  const fo = formatName !== undefined && format !== undefined ? sharedOption(formatName, format) : undefined;
  const options = new Array<CoapOption>(segments.length + (fo ? 1 : 0));
  for (let i = 0; i < segments.length; i++) options[i] = uriPathOption(segments[i]);
  if (fo) options[segments.length] = fo;
  return { path, ids, field, format, target, options };
}

function copyStep(s: AuditStep): AuditStep {
  return s.retriedFormats ? { ...s, retriedFormats: [...s.retriedFormats] } : { ...s };
}

/** Random bytes for session ids, drawn 256 ids at a time (as crypto.randomUUID() keeps its own). */
const uuidBytes = Buffer.alloc(16 * 256);
let uuidAt = uuidBytes.length;
const uuidText = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A random (version 4, RFC 9562) UUID as one flat string. crypto.randomUUID() returns a chain of ~16
 * concatenated pieces (~0.5 KiB of heap for each session it names, measured), which had to be copied out; the
 * text is written here into a scratch buffer and read out once as a 36-byte string.
 */
function flatUuid(): string {
  if (uuidAt === uuidBytes.length) {
    randomFillSync(uuidBytes);
    uuidAt = 0;
  }
  const b = uuidBytes;
  const o = uuidAt;
  uuidAt += 16;
  b[o + 6] = (b[o + 6] & 0x0f) | 0x40; // version 4
  b[o + 8] = (b[o + 8] & 0x3f) | 0x80; // variant 10
  const t = uuidText;
  let p = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) t[p++] = 0x2d; // '-'
    const v = b[o + i];
    t[p++] = HEX[v >> 4];
    t[p++] = HEX[v & 15];
  }
  return t.toString('latin1', 0, 36);
}

/**
 * The LwM2M Bootstrap-Server: owns one socket (UDP, or the DTLS socket-like), answers what is malformed or
 * unexpected itself, and hands the flow a BootstrapSession per `POST /bs?ep=…` ('bootstrapRequest') and
 * a BootstrapPackRequest per `GET /bspack?ep=…` ('packRequest'). Our requests to a device leave from the
 * same socket the device talked to, as real clients drop anything else.
 */
import * as dgram from 'dgram';
import { lookup as dnsLookup } from 'dns';
import type * as dns from 'dns';
import { EventEmitter } from 'events';
import { isIP, type AddressInfo } from 'net';
import type { ObjectModel } from '../model/types';
import { toPeerIdentity, type AuditRecord, type PeerIdentity } from './audit';
import { CoapEndpoint, type InboundExchange } from './coap/endpoint';
import { isResponseCode, unknownCriticalOption, uintOption, uriPath } from './coap/message';
import type { DatagramSocket, ParsedPacket, PeerInfo } from './coap/message';
import { ServerStateError, SessionNotFoundError } from './errors';
import { LogSummarizer } from '../log-summary';
import { logQuoted, logText } from '../log-text';
import { PendingBySource } from './fairness';
import { endpointName, parseQuery, preferredContentFormat, queryTexts, versionHint } from './inbound';
import { isRejection, SessionOutcome } from './outcome';
import { BootstrapPackRequest, PACK_FORMATS } from './pack';
import { PackBlockCache } from './pack-blocks';
import { resolveParameters, type CoapParameterOverrides, type ResolvedParameters } from './parameters';
import { BootstrapSession, type SessionHost } from './session';
import { SessionDeadlines } from './deadlines';
import { DEFAULT_BEFORE_FINISH_MS, runBeforeFinish, type BeforeFinishHook } from './write-ahead';

/** Where the library reports; nothing is printed unless the caller passes one. */
export interface Logger {
  /**
   * False when debug lines go nowhere: the server then does not build them (the per-session line escapes the
   * endpoint and the detail). Default true.
   */
  readonly debugEnabled?: boolean;
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
}

export interface BootstrapServerOptions {
  /** UDP port, default 5683 (0 = any free port). Ignored with `socket`. */
  port?: number;
  /** Bind address, default '0.0.0.0' ('::' for udp6). Ignored with `socket`. */
  address?: string;
  /** Socket type; default from the address ('udp6' when it contains ':'). */
  type?: 'udp4' | 'udp6';
  /** An already-created dgram-like socket (e.g. the DTLS socket-like), used instead of creating one. */
  socket?: DatagramSocket;
  /** Close `socket` on close(): default true for the socket we create, false for one passed in. */
  closeSocket?: boolean;
  /** Per downlink request, ms (default 30000; see parameters.ts for why not Leshan's 120 s). */
  requestTimeoutMs?: number;
  /** Whole session from Bootstrap-Request, ms (default 90000, under the 93 s Leshan clients allow). */
  sessionTimeoutMs?: number;
  /** How long the flow may take to accept/reject a Bootstrap-Request, ms (default 10000). */
  decisionTimeoutMs?: number;
  /** Answer to a Bootstrap-Request nobody decided on (or nobody listens for), default '5.03'. */
  decisionTimeoutCode?: string;
  /** How long a Bootstrap-Pack-Request may stay unanswered, ms (default 10000). */
  packResponseTimeoutMs?: number;
  /** Answer to an unanswered Bootstrap-Pack-Request, default '4.04' (1.2 clients fall back to POST /bs). */
  packDefaultCode?: string;
  /**
   * Most sessions at once (default 50000). When full, a new Bootstrap-Request sheds the oldest pending session
   * (the device has not answered anything yet) of the source address holding the most of them; only when
   * every session has a device that answered does the newcomer get 5.03.
   */
  maxSessions?: number;
  /**
   * Most pending sessions per source address (default 100): a session is pending until its device answers
   * one of our requests, which a forged source never does. A further Bootstrap-Request from that address sheds
   * its oldest pending session (outcome CANCELLED). Devices behind one NAT share an address; 100 leaves room
   * for a fleet restarting at once, as each of them stops being pending after one round trip.
   */
  maxPendingPerSource?: number;
  /** Longest endpoint name, bytes of UTF-8 (default 255); longer ones are refused 4.00. */
  maxEndpointBytes?: number;
  /** RFC 7252 transmission parameters for this server only. */
  coap?: CoapParameterOverrides;
  /** Inbound Message IDs remembered for duplicate detection (default 50000). */
  dedupMaxEntries?: number;
  /**
   * Receive buffer of the UDP socket we create, bytes (default 4 MiB; 0 keeps the system's). A storm of
   * Bootstrap-Requests arrives faster than one event loop reads it; datagrams beyond the buffer are lost
   * and cost the device a retransmission (2-3 s). Set after bind, best effort: Linux caps it at
   * net.core.rmem_max. Not applied to a socket passed in.
   */
  recvBufferSize?: number;
  logger?: Logger;
  /** Object definitions for encoding/decoding (default: lib/codec's default model). */
  model?: ObjectModel;
}

/** A server-initiated session's hints, as a Bootstrap-Request would give them (pct, version). */
export interface ServerInitiatedOptions {
  /** The format the device is known to prefer (else the profile's, else TLV). */
  preferredContentFormat?: number;
  /** The device's LwM2M version when known (server-initiated bootstrap is LwM2M 1.0's). */
  lwm2mVersion?: string;
}

export interface BootstrapServerStats {
  sessionsInFlight: number;
  /** Bootstrap-Requests that became sessions. */
  started: number;
  succeeded: number;
  /** Sessions ended by the flow's rejection (REJECTED, UNAUTHORIZED, NO_BOOTSTRAP_CONFIG). */
  rejected: number;
  /** Sessions that ended any other way (timeouts, request or finish failures, cancelled, internal errors). */
  failed: number;
  /** Datagrams that are not CoAP, and requests the server answered with an error itself (bad ep/pct, NON, unknown path). */
  malformed: number;
  /** Pending sessions shed (outcome CANCELLED) for a newcomer: its source was at maxPendingPerSource, or the server at maxSessions. */
  shed: { perSource: number; full: number };
  /** Bootstrap-Requests answered 5.03: the server was full of sessions whose devices had answered. */
  busy: number;
  /** Bootstrap-Requests for an endpoint whose session runs from another source, answered 5.03 (plain CoAP). */
  otherSource: number;
  /** Pending sessions now, and the most any one source address holds. */
  pending: number;
  pendingSources: number;
  lastOutcome: SessionOutcome | undefined;
}

export interface BootstrapServerEvents {
  bootstrapRequest: [session: BootstrapSession];
  packRequest: [req: BootstrapPackRequest];
  sessionEnded: [session: BootstrapSession, outcome: SessionOutcome, detail: string | undefined];
  /** Once per session and once per Bootstrap-Pack-Request, when it has ended: outcome and endedAt are set. */
  audit: [record: AuditRecord];
}

/** Receive buffer asked for on sockets we create (see BootstrapServerOptions.recvBufferSize). */
export const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

export class BootstrapServer extends EventEmitter<BootstrapServerEvents> implements SessionHost {
  readonly params: ResolvedParameters;
  readonly model: ObjectModel | undefined;
  private readonly opts: BootstrapServerOptions;
  private readonly logger: Logger | undefined;
  /** The logger when it shows debug lines (see Logger.debugEnabled), for the lines built per datagram or session. */
  private readonly debugLog: Logger | undefined;
  private socket: DatagramSocket | undefined;
  private endpoint: CoapEndpoint | undefined;
  private readonly sessions = new Map<string, BootstrapSession>();
  private readonly byEndpoint = new Map<string, BootstrapSession>();
  private readonly deadlines: SessionDeadlines<BootstrapSession>;
  private readonly packs = new Set<BootstrapPackRequest>();
  private readonly packBlocks: PackBlockCache;
  private readonly counters = { started: 0, succeeded: 0, rejected: 0, failed: 0, malformed: 0, busy: 0, otherSource: 0 };
  private readonly shedCount = { perSource: 0, full: 0 };
  /** Sessions whose device has not answered yet, by source address (see fairness.ts). */
  private readonly pending = new PendingBySource<BootstrapSession>((s) => s.state !== 'ended' && !s.deviceAnswered);
  private readonly warnings: LogSummarizer;
  private lastOutcome: SessionOutcome | undefined;
  private listening: Promise<AddressInfo> | undefined;
  private closed = false;
  private finishHook: { fn: BeforeFinishHook; timeoutMs: number } | undefined;

  constructor(opts: BootstrapServerOptions = {}) {
    super();
    for (const c of [opts.decisionTimeoutCode, opts.packDefaultCode]) {
      if (c !== undefined && (!isResponseCode(c) || c.startsWith('2'))) {
        throw new ServerStateError(`"${c}" is not an error response code (4.xx or 5.xx)`);
      }
    }
    this.opts = { ...opts };
    this.logger = opts.logger;
    this.debugLog = opts.logger?.debugEnabled === false ? undefined : opts.logger;
    this.model = opts.model;
    this.packBlocks = new PackBlockCache(60_000);
    for (const [name, v] of [['maxPendingPerSource', opts.maxPendingPerSource], ['maxEndpointBytes', opts.maxEndpointBytes]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new ServerStateError(`${name} must be an integer >= 1, got ${String(v)}`);
    }
    this.warnings = new LogSummarizer((line) => this.logger?.warn(line));
    this.params = resolveParameters({
      coap: opts.coap,
      timings: {
        requestTimeoutMs: opts.requestTimeoutMs,
        sessionTimeoutMs: opts.sessionTimeoutMs,
        decisionTimeoutMs: opts.decisionTimeoutMs,
        decisionTimeoutCode: opts.decisionTimeoutCode,
        packResponseTimeoutMs: opts.packResponseTimeoutMs,
        packDefaultCode: opts.packDefaultCode,
        dedupMaxEntries: opts.dedupMaxEntries,
      },
    });
    this.deadlines = new SessionDeadlines(this.params.timings);
  }

  /** The CoAP message layer (SessionHost). Throws before listen(). */
  get coap(): CoapEndpoint {
    if (!this.endpoint) throw new ServerStateError('the bootstrap server is not listening');
    return this.endpoint;
  }

  /** Binds (or adopts) the socket and starts answering. Resolves with the bound address. */
  listen(): Promise<AddressInfo> {
    if (this.closed) return Promise.reject(new ServerStateError('the bootstrap server was closed'));
    this.listening ??= this.open();
    return this.listening;
  }

  private async open(): Promise<AddressInfo> {
    let socket = this.opts.socket;
    const port = this.opts.port ?? 5683;
    if (!socket) {
      const address = this.opts.address ?? (this.opts.type === 'udp6' ? '::' : '0.0.0.0');
      const s = dgram.createSocket({ type: this.opts.type ?? (address.includes(':') ? 'udp6' : 'udp4'), lookup: literalLookup });
      await bindSocket(s, port, address).catch((err: unknown) => {
        s.close();
        throw err;
      });
      this.growReceiveBuffer(s);
      socket = s;
    } else if (!isBound(socket)) {
      await bindSocket(socket, port, this.opts.address ?? (socket.type === 'udp6' ? '::' : '0.0.0.0'));
    }
    this.socket = socket;
    this.endpoint = new CoapEndpoint(socket, this.params, {
      onRequest: (ex, p, rinfo) => this.onRequest(ex, p, rinfo),
      onMalformed: (rinfo, reason) => {
        this.counters.malformed++;
        this.debugLog?.debug(`bootstrap server: dropped datagram from ${rinfo.address}:${rinfo.port}: ${logText(reason, 200)}`);
      },
      onInternalError: (err) => this.logger?.error(`bootstrap server: ${errText(err)}`),
    });
    this.endpoint.start();
    const a = socket.address();
    return { address: a.address, port: a.port, family: a.family };
  }

  private growReceiveBuffer(s: dgram.Socket): void {
    const want = this.opts.recvBufferSize ?? DEFAULT_RECV_BUFFER;
    if (!(want > 0)) return;
    try {
      if (s.getRecvBufferSize() < want) s.setRecvBufferSize(want);
      this.logger?.debug(`bootstrap server: receive buffer ${s.getRecvBufferSize()} bytes (asked for ${want})`);
    } catch (err) {
      this.logger?.debug(`bootstrap server: receive buffer left as it is: ${errText(err)}`);
    }
  }

  /** Ends every session (CANCELLED), answers open pack requests, releases the socket. Leaves no timers. */
  /**
   * Stops serving. New Bootstrap-Requests are ignored at once (the device retries, e.g. through another
   * instance behind a load balancer); with `drainMs` the sessions in flight get that long to end by
   * themselves (one whose Bootstrap-Finish is on its way ends SUCCESS rather than CANCELLED while the device
   * already applied it); the rest then end CANCELLED.
   */
  async close(opts: { drainMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.listening;
    } catch {
      // never opened
    }
    const drainMs = opts.drainMs ?? 0;
    if (drainMs > 0 && this.sessions.size > 0) await this.drained(drainMs);
    for (const s of [...this.sessions.values()]) s.end(SessionOutcome.CANCELLED, 'bootstrap server closed');
    this.deadlines.clear();
    for (const p of [...this.packs]) p.cancel();
    this.pending.clear();
    this.warnings.close();
    await this.endpoint?.whenSent(); // the answers just given must leave before the socket closes
    this.endpoint?.stop();
    this.packBlocks.clear();
    const socket = this.socket;
    this.socket = undefined;
    const closeIt = this.opts.closeSocket ?? this.opts.socket === undefined;
    if (socket && closeIt && typeof socket.close === 'function') {
      await new Promise<void>((resolve) => {
        try {
          socket.close?.(() => resolve());
        } catch {
          resolve();
        }
      });
    }
  }

  private drained(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.removeListener('sessionEnded', check);
        resolve();
      };
      const check = () => {
        if (this.sessions.size === 0) done();
      };
      const timer = setTimeout(done, ms);
      this.on('sessionEnded', check);
    });
  }

  /** The live session with this id; throws SessionNotFoundError when it has ended or never existed. */
  getSession(id: string): BootstrapSession {
    const s = this.sessions.get(id);
    if (!s) throw new SessionNotFoundError(String(id));
    return s;
  }

  /** The live session of an endpoint, if any. */
  findSessionByEndpoint(endpoint: string): BootstrapSession | undefined {
    return this.byEndpoint.get(endpoint);
  }

  stats(): BootstrapServerStats {
    let pending = 0;
    for (const s of this.sessions.values()) if (!s.deviceAnswered) pending++;
    return {
      sessionsInFlight: this.sessions.size,
      ...this.counters,
      shed: { ...this.shedCount },
      pending,
      pendingSources: this.pending.sources,
      lastOutcome: this.lastOutcome,
    };
  }

  /** SessionHost: a session has ended. */
  sessionEnded(s: BootstrapSession): void {
    if (this.sessions.get(s.id) !== s) return;
    this.sessions.delete(s.id);
    this.deadlines.remove(s);
    this.pending.delete(s);
    if (this.byEndpoint.get(s.endpoint) === s) this.byEndpoint.delete(s.endpoint);
    const o = s.outcome ?? SessionOutcome.INTERNAL_ERROR;
    this.lastOutcome = o;
    if (o === SessionOutcome.SUCCESS) this.counters.succeeded++;
    else if (isRejection(o)) this.counters.rejected++;
    else this.counters.failed++;
    this.debugLog?.debug(`bootstrap session ${logQuoted(s.endpoint)} ended: ${o}${s.detail ? ` (${logText(s.detail, 200)})` : ''}`);
    try {
      this.emit('sessionEnded', s, o, s.detail);
    } catch (err) {
      this.reportListenerError('sessionEnded listener', err);
    }
    // Nobody listening (the library alone): no record to build.
    if (this.listenerCount('audit') > 0) this.emitAudit(s.audit());
  }

  /**
   * Write-ahead for Bootstrap-Finish (write-ahead.ts): `hook` gets each session's record (no outcome yet)
   * just before its Finish is queued, and Finish waits for it, at most `timeoutMs`. Undefined removes it.
   */
  setBeforeFinish(hook: BeforeFinishHook | undefined, timeoutMs = DEFAULT_BEFORE_FINISH_MS): void {
    if (hook && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) throw new ServerStateError(`before-finish timeout must be >= 0 ms, got ${timeoutMs}`);
    this.finishHook = hook ? { fn: hook, timeoutMs } : undefined;
  }

  /** SessionHost: the wait before a session's Bootstrap-Finish (undefined without a hook). */
  beforeFinish(s: BootstrapSession): Promise<void> | undefined {
    const h = this.finishHook;
    return h ? runBeforeFinish(h.fn, s.audit(), h.timeoutMs) : undefined;
  }

  private emitAudit(rec: AuditRecord): void {
    rec.outcome ??= SessionOutcome.INTERNAL_ERROR;
    rec.endedAt ??= new Date().toISOString();
    try {
      this.emit('audit', rec);
    } catch (err) {
      this.reportListenerError('audit listener', err);
    }
  }

  reportListenerError(where: string, err: unknown): void {
    this.logger?.error(`bootstrap server: ${where} threw: ${errText(err)}`);
  }

  packDone(p: BootstrapPackRequest): void {
    if (!this.packs.delete(p)) return;
    this.emitAudit(p.audit());
  }

  keepPack(p: BootstrapPackRequest, payload: Buffer): void {
    this.packBlocks.put(PackBlockCache.key(p.peer.address, p.peer.port, p.endpoint, p.accept), payload, p.accept);
  }

  /**
   * Answers what the server will not serve. To a datagram without a (D)TLS identity the answer is never larger
   * than the request (RFC 7252 §11.3: a forged source must not turn us into an amplifier): the diagnostic is
   * cut to what fits, or left out.
   */
  private refuse(ex: InboundExchange, code: string, diagnostic: string, rinfo: PeerInfo): void {
    this.counters.malformed++;
    this.debugLog?.debug(`bootstrap server: ${code} to ${rinfo.address}:${rinfo.port}: ${logText(diagnostic, 200)}`);
    ex.respond(code, { payload: diagnosticPayload(diagnostic, rinfo, ex.token.length) });
  }

  private onRequest(ex: InboundExchange, p: ParsedPacket, rinfo: PeerInfo): void {
    if (this.closed) return;
    const crit = unknownCriticalOption(p);
    if (crit !== undefined) return this.refuse(ex, '4.02', `unsupported critical option ${crit}`, rinfo);
    const path = uriPath(p);
    const target = path.length === 1 ? path[0] : undefined;
    if (target === 'bs') {
      if (p.code !== '0.02') return this.refuse(ex, '4.05', 'use POST /bs for a Bootstrap-Request', rinfo);
      if (!p.confirmable) return this.refuse(ex, '4.00', 'a Bootstrap-Request must be Confirmable', rinfo);
      return this.onBootstrapRequest(ex, p, rinfo);
    }
    if (target === 'bspack') {
      if (p.code !== '0.01') return this.refuse(ex, '4.05', 'use GET /bspack for a Bootstrap-Pack-Request', rinfo);
      return this.onPackRequest(ex, p, rinfo);
    }
    this.refuse(ex, '4.04', 'a Bootstrap-Server serves POST /bs and GET /bspack only', rinfo);
  }

  private checkedQuery(ex: InboundExchange, p: ParsedPacket, rinfo: PeerInfo): { query: Record<string, string>; ep: string } | undefined {
    const texts = queryTexts(p);
    if (!Array.isArray(texts)) {
      if (!texts.ok) this.refuse(ex, texts.code, texts.diagnostic, rinfo);
      return undefined;
    }
    const query = parseQuery(texts);
    const ep = endpointName(query, rinfo.identity, this.opts.maxEndpointBytes);
    if (!ep.ok) {
      this.refuse(ex, ep.code, ep.diagnostic, rinfo);
      return undefined;
    }
    return { query, ep: ep.value };
  }

  private onBootstrapRequest(ex: InboundExchange, p: ParsedPacket, rinfo: PeerInfo): void {
    const checked = this.checkedQuery(ex, p, rinfo);
    if (!checked) return;
    const { query } = checked;
    const ep = { value: checked.ep };
    const pct = preferredContentFormat(query);
    if (!pct.ok) return this.refuse(ex, pct.code, pct.diagnostic, rinfo);
    // A new request replaces the endpoint's live session only from the same source: the same (D)TLS identity,
    // or for plain CoAP the same address and port (what a NAT gives one device). Anyone else must not be able
    // to cut a device's bootstrap short by naming its ep; over plain CoAP they get 5.03 (retry later), over
    // DTLS the flow sees them (the endpoint binding check refuses a foreign identity).
    const old = this.byEndpoint.get(ep.value);
    if (old) {
      const id = toPeerIdentity(rinfo.identity);
      if (old.identity === undefined && id === undefined) {
        if (old.peer.address !== rinfo.address || old.peer.port !== rinfo.port) {
          this.counters.otherSource++;
          this.warnings.warn(
            'otherSource',
            `bootstrap server: Bootstrap-Request for ${logQuoted(ep.value)} from ${rinfo.address}:${rinfo.port} answered 5.03: its session runs from ${old.peer.address}:${old.peer.port}`,
          );
          ex.respond('5.03', { payload: diagnosticPayload('bootstrap in progress', rinfo, ex.token.length) });
          return;
        }
        old.end(SessionOutcome.CANCELLED, 'replaced by a new Bootstrap-Request from the same endpoint');
      } else if (identityKey(old.identity) === identityKey(id)) {
        old.end(SessionOutcome.CANCELLED, 'replaced by a new Bootstrap-Request from the same endpoint');
      }
    }
    if (!this.makeRoom(rinfo, ep.value)) {
      ex.respond('5.03', { payload: diagnosticPayload('too many bootstrap sessions', rinfo, ex.token.length) });
      return;
    }
    const session = new BootstrapSession(this, ex, {
      endpoint: ep.value,
      peer: { address: rinfo.address, port: rinfo.port, family: rinfo.family },
      identity: rinfo.identity,
      query,
      preferredContentFormat: pct.value,
      lwm2mVersion: versionHint(pct.value),
    });
    this.sessions.set(session.id, session);
    this.deadlines.add(session);
    this.pending.add(session);
    if (!this.byEndpoint.has(session.endpoint)) this.byEndpoint.set(session.endpoint, session);
    this.counters.started++;
    if (this.listenerCount('bootstrapRequest') === 0) {
      void session.reject(this.params.timings.decisionTimeoutCode, 'no bootstrap handler').catch(() => undefined);
      return;
    }
    try {
      this.emit('bootstrapRequest', session);
    } catch (err) {
      this.reportListenerError('bootstrapRequest listener', err);
      if (session.state === 'pending') {
        void session.reject('5.00', undefined, SessionOutcome.INTERNAL_ERROR).catch(() => undefined);
      }
    }
  }

  /**
   * Frees a place for a new session from `rinfo`: sheds the source's oldest pending session when it holds
   * maxPendingPerSource of them, then, when the server holds maxSessions, the oldest pending session of the
   * heaviest source. False when the server is full of sessions whose devices have answered.
   */
  private makeRoom(rinfo: PeerInfo, endpoint: string): boolean {
    const perSource = this.opts.maxPendingPerSource ?? 100;
    if (this.pending.count(rinfo.address) >= perSource) {
      const victim = this.pending.oldestOf(rinfo.address);
      if (victim) {
        this.shedCount.perSource++;
        this.warnings.warn(
          'shedPerSource',
          `bootstrap server: ${perSource} pending sessions from ${rinfo.address}: shed the oldest (${logQuoted(victim.endpoint)}) for a new Bootstrap-Request`,
        );
        victim.end(SessionOutcome.CANCELLED, `shed: ${perSource} pending sessions from ${rinfo.address}`);
      }
    }
    const max = this.opts.maxSessions ?? 50_000;
    while (this.sessions.size >= max) {
      const victim = this.pending.heaviest();
      if (!victim) {
        this.counters.busy++;
        this.warnings.warn('busy', `bootstrap server: ${max} sessions in flight, answering 5.03 to ${logQuoted(endpoint)}`);
        return false;
      }
      this.shedCount.full++;
      this.warnings.warn(
        'shedFull',
        `bootstrap server: ${max} sessions in flight: shed the oldest pending one from ${victim.peer.address} (${logQuoted(victim.endpoint)})`,
      );
      victim.end(SessionOutcome.CANCELLED, `shed: ${max} sessions in flight, the oldest pending one of the busiest source`);
    }
    return true;
  }

  // ---- server-initiated bootstrap ----------------------------------------------------------------------

  /**
   * Opens a bootstrap session towards a device that did not ask for one: the server-initiated bootstrap of
   * LwM2M 1.0 (OMA-TS-LightweightM2M_Core 1.0, Bootstrap Interface, Server Initiated Bootstrap), where the
   * Bootstrap-Server simply starts sending Bootstrap-Delete/Write/Finish to the client's address. The session
   * is accepted at once (there is no Bootstrap-Request to answer), has kind 'server-initiated', runs like any
   * other (send, finish, end, one 'audit' record) and replaces a live session of the same endpoint.
   * Requests leave from this server's socket: over plain CoAP that is all it takes. On a DTLS socket only a
   * peer that already holds a DTLS session with this server can be reached, since the server takes the DTLS
   * server role only. Throws ServerStateError when not listening, closed, full, or the address is unusable.
   */
  openSession(peer: { address: string; port: number; family?: string }, endpoint: string, opts: ServerInitiatedOptions = {}): BootstrapSession {
    if (this.closed) throw new ServerStateError('the bootstrap server was closed');
    if (!this.endpoint) throw new ServerStateError('the bootstrap server is not listening');
    if (typeof endpoint !== 'string' || endpoint === '' || endpoint.length > 255) {
      throw new ServerStateError('a server-initiated bootstrap needs the endpoint name (1..255 characters)');
    }
    const family = isIP(String(peer?.address ?? ''));
    if (!family) throw new ServerStateError('a server-initiated bootstrap needs the device\'s IP address');
    if (!Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) {
      throw new ServerStateError('a server-initiated bootstrap needs the device\'s UDP port (1..65535)');
    }
    const max = this.opts.maxSessions ?? 50_000;
    const old = this.byEndpoint.get(endpoint);
    if (!old && this.sessions.size >= max) throw new ServerStateError(`${max} sessions in flight`);
    old?.end(SessionOutcome.CANCELLED, 'replaced by a server-initiated bootstrap');
    const session = new BootstrapSession(this, undefined, {
      endpoint,
      peer: { address: peer.address, port: peer.port, family: peer.family ?? (family === 6 ? 'IPv6' : 'IPv4') },
      query: {},
      preferredContentFormat: opts.preferredContentFormat,
      lwm2mVersion: opts.lwm2mVersion,
      kind: 'server-initiated',
    });
    this.sessions.set(session.id, session);
    this.deadlines.add(session);
    this.byEndpoint.set(session.endpoint, session);
    this.counters.started++;
    void session.accept().catch(() => undefined);
    this.logger?.debug(`bootstrap server: server-initiated bootstrap of ${JSON.stringify(endpoint)} at ${peer.address}:${peer.port}`);
    return session;
  }

  private onPackRequest(ex: InboundExchange, p: ParsedPacket, rinfo: PeerInfo): void {
    const checked = this.checkedQuery(ex, p, rinfo);
    if (!checked) return;
    const { query } = checked;
    const ep = { value: checked.ep };
    const accept = uintOption(p, 'Accept') ?? PACK_FORMATS[0];
    if (!PACK_FORMATS.includes(accept)) {
      return this.refuse(ex, '4.06', `Accept ${accept} is not one of ${PACK_FORMATS.join(', ')}`, rinfo);
    }
    const block2 = uintOption(p, 'Block2');
    const szx = block2 === undefined ? 6 : Math.min(block2 & 0x07, 6);
    if (block2 !== undefined && block2 >> 4 > 0) {
      // A later block of a pack already encoded: served from the cache, the flow is not asked again.
      const key = PackBlockCache.key(rinfo.address, rinfo.port, ep.value, accept);
      const b = this.packBlocks.get(key, block2 >> 4, szx);
      if (!b) return this.refuse(ex, '4.08', 'no Bootstrap-Pack in progress: request block 0 again', rinfo);
      ex.respond('2.05', { payload: b.payload, contentFormat: b.contentFormat, options: b.options });
      return;
    }
    const t = this.params.timings;
    const req = new BootstrapPackRequest(
      this,
      ex,
      {
        endpoint: ep.value,
        accept,
        peer: { address: rinfo.address, port: rinfo.port, family: rinfo.family },
        identity: rinfo.identity,
        query,
        blockSzx: szx,
      },
      t.packResponseTimeoutMs,
      t.packDefaultCode,
    );
    this.packs.add(req);
    if (this.listenerCount('packRequest') === 0) {
      req.cancel(SessionOutcome.REJECTED, 'no pack handler');
      return;
    }
    try {
      this.emit('packRequest', req);
    } catch (err) {
      this.reportListenerError('packRequest listener', err);
      if (!req.answered) void req.reject('5.00', undefined, SessionOutcome.INTERNAL_ERROR).catch(() => undefined);
    }
  }
}

/**
 * The socket's address lookup: every address we send to is an IP literal (the source of a datagram), which
 * dns.lookup answers on the next tick, one scheduled callback per datagram sent; answered here at once (as
 * dgram does for a connected socket). Anything else goes to dns.lookup.
 */
function literalLookup(
  hostname: string,
  options: dns.LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options as dns.LookupOneOptions, callback);
}

function bindSocket(s: DatagramSocket, port: number, address: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (typeof s.bind !== 'function') {
      reject(new ServerStateError('the socket passed in is not bound and has no bind()'));
      return;
    }
    const onError = (err: Error): void => {
      s.removeListener('error', onError);
      reject(new ServerStateError(`cannot listen on ${address}:${port}: ${err.message}`));
    };
    s.on('error', onError);
    s.bind(port, address, () => {
      s.removeListener('error', onError);
      resolve();
    });
  });
}

function isBound(s: DatagramSocket): boolean {
  try {
    s.address();
    return true;
  } catch {
    return false;
  }
}

function identityKey(id: PeerIdentity | undefined): string {
  return id ? `${id.type}:${id.id}` : '';
}

function errText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${logText(err.message, 300)}` : logText(err, 300);
}

/**
 * A diagnostic payload for an answer to `rinfo`. Without a (D)TLS identity the whole answer (4-byte header,
 * token, payload marker, payload) stays within the request's size; over an authenticated session it is whole.
 */
export function diagnosticPayload(diagnostic: string, rinfo: PeerInfo, tokenLength: number): Buffer | undefined {
  const full = Buffer.from(diagnostic, 'utf8');
  if (rinfo.identity !== undefined) return full.length > 0 ? full : undefined;
  const room = (rinfo.size ?? 0) - 4 - tokenLength - 1;
  if (room <= 0) return undefined;
  if (full.length <= room) return full.length > 0 ? full : undefined;
  // Cut on a character boundary (no partial UTF-8 sequence).
  let end = room;
  while (end > 0 && (full[end] & 0xc0) === 0x80) end--;
  return end > 0 ? full.subarray(0, end) : undefined;
}

/**
 * The DTLS server engine: the per-peer map and its limits over the native addon. It knows nothing of
 * sockets: datagrams come in through `receive`, go out through `hooks.transmit`, and decrypted
 * application data leaves through `hooks.message`. Nothing thrown in here reaches a socket callback.
 */
import { LogSummarizer } from '../log-summary';
import { logText } from '../log-text';
import type { DtlsBinding, NativeContext, NativeResult } from './binding';
import { DtlsError } from './errors';
import { SourceRateLimiter } from './limits';
import { DtlsPeer, describeIdentity, identityOf, isClientHello, peerKey } from './peer';
import type { DtlsLogger, DtlsPeerSummary, DtlsRemoteInfo, DtlsStats } from './types';


/** A datagram this long after the identity was seen, with the handshake still open, is a retransmission. */
const WRONG_KEY_AFTER_MS = 750;

export interface EngineLimits {
  maxPeers: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  handshakesPerSourcePerSecond: number;
  /** Half-open handshakes (cookie exchange done, not established) one source address may hold. */
  maxHalfOpenPerSource: number;
  /** A half-open handshake whose peer has sent nothing for this long is freed. */
  halfOpenTimeoutMs: number;
}

export interface PeerEvent {
  address: string;
  port: number;
  reason: string;
  alertSent?: string;
  alertReceived?: string;
}

export interface EngineHooks {
  transmit(datagrams: Buffer[], port: number, address: string, done: (err: Error | null) => void): void;
  message(data: Buffer, rinfo: DtlsRemoteInfo): void;
  handshake(peer: DtlsPeerSummary): void;
  handshakeFailed(ev: PeerEvent): void;
  peerClosed(ev: PeerEvent): void;
}

export function emptyStats(): DtlsStats {
  return {
    peers: 0,
    handshaking: 0,
    established: 0,
    datagramsIn: 0,
    datagramsOut: 0,
    helloVerifyRequests: 0,
    handshakesStarted: 0,
    handshakesCompleted: 0,
    handshakesFailed: 0,
    closedByPeer: 0,
    dropped: { maxPeers: 0, rateLimited: 0, notClientHello: 0, invalidClientHello: 0, noSession: 0 },
    expired: { handshakeTimeout: 0, idleTimeout: 0, halfOpenTimeout: 0 },
    evicted: { perSource: 0, full: 0 },
    halfOpenSources: 0,
  };
}

export class DtlsEngine {
  private readonly peers = new Map<string, DtlsPeer>();
  /** Handshaking peers per source address, oldest first (see admit()). */
  private readonly halfOpen = new Map<string, Set<DtlsPeer>>();
  private readonly warnings: LogSummarizer;
  private readonly counters = emptyStats();
  private readonly rate: SourceRateLimiter;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly binding: DtlsBinding,
    private readonly ctx: NativeContext,
    private readonly limits: EngineLimits,
    private readonly hooks: EngineHooks,
    private readonly log: DtlsLogger,
    private readonly clock: () => number = Date.now,
  ) {
    this.rate = new SourceRateLimiter(limits.handshakesPerSourcePerSecond);
    this.warnings = new LogSummarizer((line) => this.log.warn?.(line), 10_000, (kind, n, s, e) => `${n} more ${kind} in the last ${s} s, e.g. ${e}`);
  }

  /** Starts the timeout sweep (handshake and idle timeouts). */
  start(): void {
    if (this.sweepTimer) return;
    const shortest = Math.min(this.limits.handshakeTimeoutMs, this.limits.idleTimeoutMs, this.limits.halfOpenTimeoutMs);
    const every = Math.min(1000, Math.max(50, shortest / 4));
    this.sweepTimer = setInterval(() => this.guard('sweep', () => this.sweep(this.clock())), every);
    this.sweepTimer.unref();
  }

  /** One datagram from the UDP socket. */
  receive(msg: Buffer, rinfo: { address: string; port: number; family: string }): void {
    this.guard('receive', () => {
      this.counters.datagramsIn++;
      const now = this.clock();
      const key = peerKey(rinfo.address, rinfo.port);
      const peer = this.peers.get(key);
      if (peer && !(peer.state === 'established' && isClientHello(msg) && msg.readUInt16BE(3) === 0)) {
        peer.lastActivity = now;
        this.apply(peer, this.binding.feed(peer.handle, msg));
        if (peer.state === 'handshaking') this.suspectWrongKey(peer, now);
        return;
      }
      // New source, or a fresh (epoch 0) ClientHello on an established association: a client that
      // restarted from the same address and port. RFC 6347 4.2.8: the old association stays until the
      // new handshake has passed the cookie exchange.
      this.receiveFromNewSource(msg, rinfo, key, now, peer);
    });
  }

  private receiveFromNewSource(
    msg: Buffer,
    rinfo: { address: string; port: number; family: string },
    key: string,
    now: number,
    replacing?: DtlsPeer,
  ): void {
    if (!isClientHello(msg)) {
      this.counters.dropped.notClientHello++;
      return;
    }
    if (!replacing && this.peers.size >= this.limits.maxPeers && this.halfOpen.size === 0) {
      // Full of established sessions: nothing to evict, so not even the (stateless) cookie exchange.
      this.counters.dropped.maxPeers++;
      return;
    }
    if (!this.rate.allows(rinfo.address, now)) {
      this.counters.dropped.rateLimited++;
      return;
    }
    const res = this.binding.listen(this.ctx, Buffer.from(key), msg);
    if (!res.peer) {
      // Stateless: a HelloVerifyRequest (no cookie or a stale one), or a datagram OpenSSL would not take.
      if (res.out.length > 0) this.counters.helloVerifyRequests++;
      else this.counters.dropped.invalidClientHello++;
      this.sendOut(res.out, rinfo.port, rinfo.address);
      return;
    }
    if (!this.admit(rinfo.address, !!replacing)) {
      this.binding.free(res.peer);
      this.counters.dropped.maxPeers++;
      return;
    }
    if (replacing) {
      this.log.debug?.(`DTLS client at ${rinfo.address}:${rinfo.port} started a new handshake; old session dropped`);
      this.remove(replacing, 'replaced by a new handshake from the same address', false);
    }
    this.rate.record(rinfo.address, now);
    this.counters.handshakesStarted++;
    const family = rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4';
    const peer = new DtlsPeer(key, rinfo.address, rinfo.port, family, res.peer, now);
    this.peers.set(key, peer);
    let set = this.halfOpen.get(peer.address);
    if (!set) this.halfOpen.set(peer.address, (set = new Set()));
    set.add(peer);
    this.apply(peer, res);
  }

  /**
   * Makes room for a cookie-verified handshake from `address`. The cookie proves the address answers, not that
   * a handshake will follow: a source that completes the cookie exchange and goes silent holds a peer slot.
   * So a source at maxHalfOpenPerSource loses its most silent half-open handshake (the one that has sent
   * nothing for longest: a flood's peers never send again, a device mid-handshake just did), and a full table
   * loses the most silent half-open handshake of the source holding the most (RFC 6347 §4.2.1 leaves such resource limits to the
   * server). False when the table is full of established sessions.
   */
  private admit(address: string, replacing: boolean): boolean {
    const own = this.halfOpen.get(address);
    if (own && own.size >= this.limits.maxHalfOpenPerSource) {
      const oldest = mostSilent(own);
      this.counters.evicted.perSource++;
      this.log.debug?.(`DTLS: ${own.size} half-open handshakes from ${address}; evicted the oldest (port ${oldest.port})`);
      this.remove(oldest, 'evicted: too many half-open handshakes from its address', false);
    }
    while (!replacing && this.peers.size >= this.limits.maxPeers) {
      let heaviest: Set<DtlsPeer> | undefined;
      for (const set of this.halfOpen.values()) if (!heaviest || set.size > heaviest.size) heaviest = set;
      const victim = heaviest ? mostSilent(heaviest) : undefined;
      if (!victim) return false;
      this.counters.evicted.full++;
      this.log.debug?.(`DTLS: ${this.peers.size} peers; evicted the oldest half-open handshake of ${victim.address} (${heaviest!.size} half-open)`);
      this.remove(victim, 'evicted: the peer table is full', false);
    }
    return true;
  }

  /** The identity a handshaking peer offered, if it got that far. */
  private identityTried(peer: DtlsPeer): ReturnType<typeof identityOf> {
    try {
      return identityOf(this.binding.peerInfo(peer.handle));
    } catch {
      return undefined;
    }
  }

  private forgetHalfOpen(peer: DtlsPeer): void {
    const set = this.halfOpen.get(peer.address);
    if (!set || !set.delete(peer)) return;
    if (set.size === 0) this.halfOpen.delete(peer.address);
  }

  /** Encrypts `data` for the established peer at address:port and sends it. */
  write(data: Buffer, port: number, address: string, done: (err: Error | null, bytes?: number) => void): void {
    const peer = this.peers.get(peerKey(address, port));
    if (!peer || peer.state !== 'established') {
      this.counters.dropped.noSession++;
      const err = new DtlsError('DTLS_NO_SESSION', `no established DTLS session with ${address}:${port}`, { address, port });
      process.nextTick(done, err);
      return;
    }
    let res: NativeResult;
    try {
      res = this.binding.write(peer.handle, data);
    } catch (err) {
      process.nextTick(done, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (res.error) {
      process.nextTick(done, new DtlsError('DTLS_WRITE', `DTLS write to ${address}:${port} failed: ${res.error}`, { address, port }));
      return;
    }
    peer.lastActivity = this.clock();
    this.sendOut(res.out, port, address, (err) => done(err, data.length));
  }

  /** The port's only peer address, for callers (node-coap's error replies) that give a port but no host. */
  addressForPort(port: number): string | undefined {
    let found: string | undefined;
    for (const p of this.peers.values()) {
      if (p.port !== port) continue;
      if (found !== undefined) return undefined;
      found = p.address;
    }
    return found;
  }

  /** Sends close_notify to the peer and forgets it. */
  closePeer(address: string, port: number, reason = 'closed by server'): boolean {
    const peer = this.peers.get(peerKey(address, port));
    if (!peer) return false;
    this.remove(peer, reason, true);
    return true;
  }

  /** Closes every peer (close_notify to established ones); `done` once those datagrams have left. */
  closeAll(done: () => void): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.warnings.close();
    let pending = 1;
    const one = (): void => {
      if (--pending === 0) done();
    };
    for (const peer of [...this.peers.values()]) {
      pending++;
      this.remove(peer, 'socket closed', true, one);
    }
    one();
  }

  stats(): DtlsStats {
    const s: DtlsStats = JSON.parse(JSON.stringify(this.counters)) as DtlsStats;
    s.peers = this.peers.size;
    s.halfOpenSources = this.halfOpen.size;
    for (const p of this.peers.values()) {
      if (p.state === 'established') s.established++;
      else s.handshaking++;
    }
    return s;
  }

  summaries(): DtlsPeerSummary[] {
    const now = this.clock();
    return [...this.peers.values()].map((p) => p.summary(now));
  }

  private apply(peer: DtlsPeer, res: NativeResult): void {
    if (peer.isClosed()) return; // closed from a callback during the native call (e.g. the PSK store)
    this.sendOut(res.out, peer.port, peer.address);
    if (res.connected) this.established(peer);
    for (const data of res.data) {
      if (peer.state !== 'established') break;
      try {
        this.hooks.message(data, peer.remoteInfo(data.length));
      } catch (err) {
        this.log.error?.(`a DTLS 'message' listener threw: ${logText(err instanceof Error ? err.message : String(err), 300)}`);
      }
    }
    if (peer.isClosed()) return; // a message handler closed it
    if (res.error) {
      this.fail(peer, res);
    } else if (res.closed) {
      this.counters.closedByPeer++;
      this.remove(peer, 'close_notify from peer', false);
    } else {
      this.arm(peer, res.timeout);
    }
  }

  private established(peer: DtlsPeer): void {
    const info = this.binding.peerInfo(peer.handle);
    peer.identity = identityOf(info);
    peer.cipher = info.cipherStandardName ?? info.cipher ?? '';
    peer.state = 'established';
    this.forgetHalfOpen(peer);
    this.counters.handshakesCompleted++;
    this.log.debug?.(`DTLS session with ${peer.address}:${peer.port} (${describeIdentity(peer.identity)}, ${peer.cipher})`);
    this.hooks.handshake(peer.summary(this.clock()));
  }

  private fail(peer: DtlsPeer, res: NativeResult): void {
    const during = peer.state === 'handshaking';
    // Some stacks (tinydtls) send close_notify at alert level fatal; OpenSSL then reports an error rather
    // than a clean shutdown. After a completed handshake that is still the peer closing, not a failure.
    if (!during && /close.?notify/i.test(res.alertReceived ?? '')) {
      this.counters.closedByPeer++;
      this.log.debug?.(`DTLS session with ${peer.address}:${peer.port} closed by the peer (fatal-level close_notify)`);
      this.remove(peer, 'close_notify from peer', false);
      return;
    }
    if (during) this.counters.handshakesFailed++;
    const alerts = [res.alertSent && `alert sent: ${res.alertSent}`, res.alertReceived && `alert received: ${res.alertReceived}`]
      .filter(Boolean)
      .join(', ');
    const reason = `${res.error ?? 'error'}${alerts ? ` (${alerts})` : ''}`;
    const what = during ? 'handshake with' : 'session with';
    // One line per failed handshake, naming the identity it offered (the PSK store does not log unknown ones),
    // and repeated failures summarised: a peer with a wrong key must not flood the log.
    const id = during ? this.identityTried(peer) : undefined;
    this.warnings.warn(
      during ? 'failed DTLS handshakes' : 'failed DTLS sessions',
      `DTLS ${what} ${peer.address}:${peer.port}${id ? ` (${describeIdentity(id)})` : ''} failed: ${logText(reason, 200)}`,
    );
    const ev: PeerEvent = { address: peer.address, port: peer.port, reason: res.error ?? 'error' };
    if (res.alertSent) ev.alertSent = res.alertSent;
    if (res.alertReceived) ev.alertReceived = res.alertReceived;
    this.remove(peer, reason, false);
    if (during) this.hooks.handshakeFailed(ev);
  }

  private remove(peer: DtlsPeer, reason: string, graceful: boolean, done?: () => void): void {
    if (peer.state === 'closed') {
      done?.();
      return;
    }
    if (peer.timer) clearTimeout(peer.timer);
    peer.timer = undefined;
    const wasEstablished = peer.state === 'established';
    peer.state = 'closed';
    this.peers.delete(peer.key);
    this.forgetHalfOpen(peer);
    if (graceful) {
      const res = this.binding.shutdown(peer.handle); // frees the SSL object
      this.sendOut(res.out, peer.port, peer.address, () => done?.());
    } else {
      this.binding.free(peer.handle);
      done?.();
    }
    if (wasEstablished) this.hooks.peerClosed({ address: peer.address, port: peer.port, reason });
  }

  /** Arms the handshake retransmission timer OpenSSL asked for (DTLSv1_get_timeout). */
  private arm(peer: DtlsPeer, timeoutMs: number): void {
    if (peer.timer) clearTimeout(peer.timer);
    peer.timer = undefined;
    if (timeoutMs < 0) return;
    peer.timer = setTimeout(() => this.guard('retransmit', () => this.retransmit(peer)), Math.max(1, timeoutMs));
    peer.timer.unref();
  }

  private retransmit(peer: DtlsPeer): void {
    peer.timer = undefined;
    if (peer.state === 'closed') return;
    this.apply(peer, this.binding.handleTimeout(peer.handle));
  }

  /**
   * A wrong key, said promptly and once. A record that does not verify is dropped silently (RFC 6347
   * section 4.1.2.7), so the server never sees the client's Finished; the client then sends its last flight
   * again after its retransmission timer (RFC 6347 section 4.2.4.1, 1 s initially). A datagram from a peer
   * whose identity has been known for that long, which leaves the handshake unfinished, is that
   * retransmission (a flight lost on the way would complete the handshake now).
   */
  private suspectWrongKey(peer: DtlsPeer, now: number): void {
    if (peer.wrongKeyWarned) return;
    const id = identityOf(this.binding.peerInfo(peer.handle));
    if (!id) return;
    peer.identityAt ??= now;
    if (now - peer.identityAt < WRONG_KEY_AFTER_MS) return;
    peer.wrongKeyWarned = true;
    this.log.warn?.(
      `DTLS handshake with ${peer.address}:${peer.port}: ${describeIdentity(id)} sent its Finished again and it does not verify (wrong key?)`,
    );
  }

  private sweep(now: number): void {
    for (const peer of [...this.peers.values()]) {
      if (peer.state === 'handshaking' && now - peer.createdAt >= this.limits.handshakeTimeoutMs) {
        this.counters.expired.handshakeTimeout++;
        // A ClientKeyExchange was seen when the identity is known: then a wrong key is the likely cause
        // (DTLS silently drops the Finished record it cannot decrypt).
        const id = identityOf(this.binding.peerInfo(peer.handle));
        const hint = id ? ` after ${describeIdentity(id)} (wrong key?)` : '';
        const line = `DTLS handshake with ${peer.address}:${peer.port} timed out${hint}; peer freed`;
        // Said once per handshake, and summarised under a flood: a warning when the identity is known (likely
        // a wrong key) unless suspectWrongKey already warned; a handshake abandoned before any identity is
        // what a half-open flood leaves, counted in the same summary.
        if (peer.wrongKeyWarned) this.log.debug?.(line);
        else this.warnings.warn(id ? 'timed-out DTLS handshakes' : 'abandoned DTLS handshakes', line);
        this.remove(peer, 'handshake timeout', false);
      } else if (peer.state === 'handshaking' && now - peer.lastActivity >= this.limits.halfOpenTimeoutMs) {
        this.counters.expired.halfOpenTimeout++;
        this.log.debug?.(`DTLS handshake with ${peer.address}:${peer.port}: peer silent for ${this.limits.halfOpenTimeoutMs} ms; freed`);
        this.remove(peer, 'half-open timeout', false);
      } else if (peer.state === 'established' && now - peer.lastActivity >= this.limits.idleTimeoutMs) {
        this.counters.expired.idleTimeout++;
        this.log.debug?.(`DTLS session with ${peer.address}:${peer.port} idle; closed`);
        this.remove(peer, 'idle timeout', true);
      }
    }
    this.rate.prune(now);
  }

  private sendOut(datagrams: Buffer[], port: number, address: string, done?: (err: Error | null) => void): void {
    if (datagrams.length === 0) {
      if (done) process.nextTick(done, null);
      return;
    }
    this.counters.datagramsOut += datagrams.length;
    this.hooks.transmit(datagrams, port, address, done ?? (() => undefined));
  }

  /** Runs `fn`, reporting anything thrown through the logger instead of letting it reach a socket callback. */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error?.(`DTLS ${where}: ${logText(err instanceof Error ? err.message : String(err), 300)}`);
    }
  }
}

/** The peer of `set` (not empty) that has sent nothing for longest; the oldest among equals. */
function mostSilent(set: Set<DtlsPeer>): DtlsPeer {
  let best: DtlsPeer | undefined;
  for (const p of set) if (!best || p.lastActivity < best.lastActivity) best = p;
  return best as DtlsPeer;
}

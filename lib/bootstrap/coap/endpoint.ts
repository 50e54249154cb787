/**
 * A lean CoAP message layer over one datagram socket (RFC 7252 §4): duplicate detection, piggy-backed
 * and separate responses for the requests we receive, Confirmable requests with retransmission and a
 * per-request deadline for the requests we send, all on the same socket (so our requests leave from
 * the address:port the device talked to). Nothing thrown in here ever reaches the socket callback.
 *
 * Why not node-coap's Server/Agent: they keep a Duplex stream, a cached reply with its own 202 s timer
 * and a retry sender per exchange (~5 KB of heap per pending Bootstrap-Request, measured), read their
 * timing from one process-wide object, and only repeat cached replies on a real `dgram.Socket` (not on
 * a DTLS socket-like). We keep node-coap's codec (`coap-packet`) and the RFC's rules.
 */
import { randomFillSync } from 'crypto';
import { Socket as UdpSocket } from 'dgram';
import { compactReply, DedupCache, MapFront, messageDigest, replyBytes } from './dedup';
import {
  codeString,
  DatagramScan,
  emptyMessage,
  generatePacket,
  generateRequest,
  packetOf,
  payloadOf,
  scanDatagram,
  type DatagramSocket,
  type Packet,
  type ParsedPacket,
  type PeerInfo,
} from './message';
import { InboundExchange, type ExchangeHost } from './exchange';
import { ConTransmission, type OutboundResult, type TransmissionHost, type TransmissionOwner } from './transmission';
import type { EndpointParameters } from './parameters';
import { TimerHeap } from './timer-heap';

export type { OutboundResult };
export { InboundExchange, type ResponseOptions } from './exchange';

export interface EndpointHandlers {
  /** A new (non-duplicate) request. `packet` is only valid during the call. */
  onRequest(ex: InboundExchange, packet: ParsedPacket, rinfo: PeerInfo): void;
  /** A datagram that is not valid CoAP (dropped). */
  onMalformed(rinfo: PeerInfo, reason: string): void;
  /** Something went wrong inside our own handling (a bug): reported, never thrown to the socket. */
  onInternalError(err: unknown): void;
}


const TOKEN_POOL_SIZE = 4096;

export function peerKey(address: string, port: number): string {
  return address + '|' + port;
}

/**
 * peerKey as one flat string, for a caller that asks for Message IDs towards the same peer again and again (a
 * session): a key built by concatenation is hashed only after it has been copied flat, at each Map lookup.
 */
export function flatPeerKey(address: string, port: number): string {
  return flatKey(peerKey(address, port));
}

/** The string as one flat string (a key built by concatenation is a chain of pieces; kept keys should not be). */
function flatKey(s: string): string {
  // toLowerCase of a string with nothing to lower returns V8's flat copy of it (a third of the cost of a Buffer
  // round trip); addresses are lower-case, anything else is kept as it is.
  const f = s.toLowerCase();
  return f === s ? f : s;
}

/** A peer's Message ID sequence (see CoapEndpoint.nextMessageId). */
class PeerMids {
  /** The second of the last use, counted from CoapEndpoint.secBase. */
  sec = 0;
  /** The last Message ID used towards the peer. */
  mid = 0;
}

/** Message types (RFC 7252 §3): the T field of the first byte. */
const CON = 0;
const ACK = 2;
const RST = 3;

export class CoapEndpoint implements TransmissionHost, ExchangeHost {
  private readonly dedup: DedupCache;
  /** The scan of the datagram being dispatched (read into locals before anything else can scan). */
  private readonly scan = new DatagramScan();
  private scanning = false;
  /**
   * Our Confirmable messages awaiting their ACK, by Message ID: we choose the IDs, unique among those in
   * flight (nextMessageId), so the ID alone finds one; the peer's address and port are checked on arrival.
   * One slot per ID (256 KiB per endpoint): looked up several times per message, without hashing.
   */
  private readonly awaitingAck: (ConTransmission | undefined)[] = new Array<ConTransmission | undefined>(0x10000).fill(undefined);
  /** How many slots of awaitingAck are taken. */
  private awaitingAckCount = 0;
  /** Our requests awaiting their response, by the counter half of the token (the whole token is checked). */
  private readonly byToken = new Map<number, ConTransmission>();
  /**
   * Per peer: the last Message ID we used towards it and when, in order of the second of last use (an entry used
   * again within the same second keeps its place, and is updated where it is: one Map lookup per message).
   */
  private readonly peerMids = new Map<string, PeerMids>();
  private readonly peerMidsFront = new MapFront(this.peerMids);
  /** The second (since the epoch) peerMids counts its seconds from: they stay small integers. */
  private readonly secBase = Math.floor(Date.now() / 1000);
  /** The second peerMids was last swept in (expired peers leave at most once a second, or when it is full). */
  private peerMidsSwept = -1;
  private readonly tokenPool = Buffer.alloc(TOKEN_POOL_SIZE);
  private tokenPos = TOKEN_POOL_SIZE;
  private tokenCounter = Math.floor(Math.random() * 0x80000000);
  /**
   * Transmissions sent less than ACK_TIMEOUT ago, in order of sending (see watchYoung): one timer for all of
   * them instead of a Timeout each, which most would clear a few milliseconds later when the answer came. A list
   * through the transmissions themselves (youngPrev/youngNext): joined and left without a hash lookup.
   */
  private youngHead: ConTransmission | undefined;
  private youngTail: ConTransmission | undefined;
  private youngTimer: NodeJS.Timeout | undefined;
  /** The retransmission and deadline times of the transmissions past their young phase, on one timer. */
  private readonly timers = new TimerHeap<ConTransmission>(ConTransmission.due);
  private running = false;
  private sending = 0;
  private drained: (() => void) | undefined;
  /** A Node UDP socket, sent to without offset and length (dgram then skips a Buffer view per datagram). */
  private readonly udp: UdpSocket | undefined;
  private readonly onMessageBound = (msg: Buffer, rinfo: PeerInfo): void => this.onMessage(msg, rinfo);
  private readonly onErrorBound = (err: Error): void => this.handlers.onInternalError(err);
  /** The send callback of a datagram nobody waits on (one function for all of them). */
  private readonly sentBound = (): void => this.sentOne();

  constructor(
    readonly socket: DatagramSocket,
    private readonly params: EndpointParameters,
    private readonly handlers: EndpointHandlers,
  ) {
    this.udp = socket instanceof UdpSocket ? socket : undefined;
    this.dedup = new DedupCache(params.coap.exchangeLifetime * 1000, params.timings.dedupMaxEntries);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.socket.on('message', this.onMessageBound);
    this.socket.on('error', this.onErrorBound);
  }

  /** Detaches from the socket and cancels every transmission (their callbacks get `cancelled`). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.socket.removeListener('message', this.onMessageBound);
    this.socket.removeListener('error', this.onErrorBound);
    for (const t of this.awaitingAck.filter((x) => x !== undefined)) this.finish(t as ConTransmission, { kind: 'cancelled' });
    for (const t of [...this.byToken.values()]) this.finish(t, { kind: 'cancelled' });
    const young: ConTransmission[] = [];
    for (let t = this.youngHead; t !== undefined; t = t.youngNext) young.push(t);
    for (const t of young) this.finish(t, { kind: 'cancelled' });
    this.youngHead = this.youngTail = undefined;
    this.timers.clear();
    if (this.youngTimer !== undefined) clearTimeout(this.youngTimer);
    this.youngTimer = undefined;
    this.dedup.clear();
    this.peerMids.clear();
    this.peerMidsFront.reset();
  }

  get pendingTransmissions(): number {
    return this.awaitingAckCount + this.byToken.size;
  }

  /**
   * Messages that came with the address, port and Message ID of a remembered one but were a different
   * message (another token, options or payload: a new device behind the same NAT mapping), so they were
   * processed as new instead of being answered from the cache (see dedup.ts).
   */
  get staleDuplicates(): number {
    return this.dedup.stale;
  }

  /**
   * The next Message ID for a message to this peer. RFC 7252 §4.4: an ID is not reused towards the same
   * endpoint within EXCHANGE_LIFETIME, or the endpoint takes the message for a duplicate and repeats
   * an old answer. One counter for all peers wraps in 4 s at 16,000 messages a second, which a storm
   * reaches; so each peer seen within EXCHANGE_LIFETIME continues its own sequence (a new peer starts
   * at a random ID). IDs in use by any of our messages awaiting an ACK are skipped, so the ID
   * alone keys that table. `key`: flatPeerKey(address, port), kept as it is given (a caller that asks
   * again and again keeps it; without it the key is built and flattened here).
   */
  nextMessageId(address: string, port: number, key?: string): number {
    return key === undefined ? this.nextMid(peerKey(address, port), false, Date.now()) : this.nextMid(key, true, Date.now());
  }

  private nextMid(key: string, keyIsFlat: boolean, now: number): number {
    const sec = Math.floor(now / 1000) - this.secBase;
    const last = this.peerMids.get(key);
    const known = last !== undefined && last.sec >= sec - this.params.coap.exchangeLifetime;
    // A new peer starts at a random ID (RFC 7252 §4.4), not next to the others: sequences started from one shared
    // counter run side by side, so in a storm most IDs were taken by another peer's message awaiting its ACK and
    // were skipped one lookup at a time (tens per message at 50 devices in flight).
    let mid = known ? (last as PeerMids).mid : this.nextTokenRand() & 0xffff;
    for (let i = 0; i < 0x10000; i++) {
      mid = (mid + 1) & 0xffff;
      if (this.awaitingAck[mid] === undefined) break;
    }
    if (last !== undefined && last.sec === sec) {
      // Used within this second already: its place in the order of last use stays right.
      last.mid = mid;
      return mid;
    }
    if (last !== undefined) {
      this.peerMidsFront.moving(last);
      this.peerMids.delete(key);
    }
    if (sec !== this.peerMidsSwept || this.peerMids.size >= this.params.timings.dedupMaxEntries) {
      this.peerMidsSwept = sec;
      this.sweepPeerMids(sec);
    }
    const entry = last ?? new PeerMids();
    entry.sec = sec;
    entry.mid = mid;
    this.peerMids.set(keyIsFlat ? key : flatKey(key), entry);
    return mid;
  }

  /** Peers unused for EXCHANGE_LIFETIME leave the front of the Map (insertion order is last use); at most dedupMaxEntries stay. */
  private sweepPeerMids(sec: number): void {
    const oldest = sec - this.params.coap.exchangeLifetime;
    for (let h = this.peerMidsFront.peek(); h !== undefined; h = this.peerMidsFront.peek()) {
      if (h[1].sec >= oldest && this.peerMids.size < this.params.timings.dedupMaxEntries) break;
      this.peerMidsFront.shift();
    }
  }

  /**
   * A fresh 8-byte token: 4 random bytes (RFC 7252 §5.3.1 asks for at least 32 bits of randomness) and a
   * 4-byte counter, which keys the token table (a number, not a hex string per request).
   */
  nextToken(): Buffer {
    const t = Buffer.allocUnsafe(8);
    t.writeInt32BE(this.nextTokenRand(), 0);
    t.writeUInt32BE(this.nextTokenKey(), 4);
    return t;
  }

  /** The random half of a fresh token (4 random bytes as a signed 32-bit number). */
  private nextTokenRand(): number {
    if (this.tokenPos + 4 > TOKEN_POOL_SIZE) {
      randomFillSync(this.tokenPool);
      this.tokenPos = 0;
    }
    const r = this.tokenPool.readInt32BE(this.tokenPos);
    this.tokenPos += 4;
    return r;
  }

  /**
   * The counter half of a fresh token: its key in the token table. 31 bits, so the key is a small integer (a
   * number above 2^31 is a heap object of its own, as a field and as a Map key); the randomness is in the other half.
   */
  private nextTokenKey(): number {
    this.tokenCounter = (this.tokenCounter + 1) & 0x7fffffff;
    return this.tokenCounter;
  }

  get maxMessageSize(): number {
    return this.params.coap.maxMessageSize;
  }

  generate(packet: Packet): Buffer {
    return generatePacket(packet, this.params.coap.maxMessageSize);
  }

  sendRaw(buf: Buffer, address: string, port: number, cb?: (err: Error | null) => void): void {
    this.sending++;
    try {
      const done =
        cb === undefined
          ? this.sentBound
          : (err: Error | null): void => {
              this.sentOne();
              cb(err ?? null);
            };
      if (this.udp !== undefined) this.udp.send(buf, port, address, done);
      else this.socket.send(buf, 0, buf.length, port, address, done);
    } catch (err) {
      this.sentOne();
      const e = err instanceof Error ? err : new Error(String(err));
      if (cb) queueMicrotask(() => cb(e));
    }
  }

  /**
   * Sends a datagram of `t` (first transmission or retransmission); a send error ends it. One callback per
   * datagram, gone once it has left (kept on the transmission it would be heap for every request in flight).
   */
  private sendTransmission(t: ConTransmission): void {
    this.sending++;
    try {
      const cb = (err: Error | null): void => this.sent(t, err);
      if (this.udp !== undefined) this.udp.send(t.buf, t.port, t.address, cb);
      else this.socket.send(t.buf, 0, t.buf.length, t.port, t.address, cb);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      queueMicrotask(() => this.sent(t, e));
    }
  }

  /** A datagram of `t` left, or could not be sent. */
  private sent(t: ConTransmission, err: Error | null): void {
    this.sentOne();
    if (err) this.finish(t, { kind: 'send-error', error: err });
  }

  private sentOne(): void {
    if (--this.sending === 0 && this.drained) {
      const d = this.drained;
      this.drained = undefined;
      d();
    }
  }

  /** Resolves when every datagram handed to the socket has left (dgram sends after an async lookup). */
  whenSent(): Promise<void> {
    if (this.sending === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.drained = undefined;
        resolve();
      }, 1000);
      this.drained = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /**
   * A separate (CON) response: retransmitted until the device ACKs it or MAX_TRANSMIT_WAIT passes.
   * `cb` runs once the device has acknowledged it (or with the error when it never does).
   */
  sendSeparate(buf: Buffer, mid: number, address: string, port: number, cb?: (err: Error | null) => void): void {
    const t = new ConTransmission(
      this, address, port, mid, buf, 0, -1, this.params.coap.maxTransmitWait * 1000, this.params.coap,
      { onOutcome: (r) => cb?.(r.kind === 'acked' ? null : new Error(`separate response not acknowledged (${r.kind})`)) },
    );
    this.setAwaitingAck(mid, t);
    this.sendTransmission(t);
  }

  /**
   * Sends a Confirmable request; `owner.onOutcome` is called exactly once with the response or the failure.
   * Returns the transmission (to cancel it) or an Error when the message cannot be generated. The request gets a
   * fresh token, or the token of an earlier one (`tokenRand`, `tokenKey` of its transmission: the parts of one
   * block-wise transfer), which must have finished. `peer`: flatPeerKey(address, port), when the caller keeps it.
   */
  request(
    address: string,
    port: number,
    code: string,
    options: readonly { name: string | number; value: unknown }[],
    payload: Buffer | undefined,
    timeoutMs: number,
    owner: TransmissionOwner,
    tokenRand = 0,
    tokenKey = -1,
    peer?: string,
  ): ConTransmission | Error {
    if (tokenKey < 0) {
      tokenRand = this.nextTokenRand();
      tokenKey = this.nextTokenKey();
    }
    const holder = this.byToken.get(tokenKey);
    if (holder !== undefined && !holder.finished) return new Error('this token is in use by another request');
    const now = Date.now();
    const mid = peer === undefined ? this.nextMid(peerKey(address, port), false, now) : this.nextMid(peer, true, now);
    let buf: Buffer;
    try {
      buf = generateRequest(code, mid, tokenRand, tokenKey, options, payload, this.params.coap.maxMessageSize);
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    const t = new ConTransmission(this, address, port, mid, buf, tokenRand, tokenKey, timeoutMs, this.params.coap, owner, now);
    this.setAwaitingAck(mid, t);
    this.byToken.set(tokenKey, t);
    this.sendTransmission(t);
    return t;
  }

  /** TransmissionHost: `t` has its first timer event ACK_TIMEOUT or more away. */
  watchYoung(t: ConTransmission): void {
    t.young = true;
    t.youngPrev = this.youngTail;
    t.youngNext = undefined;
    if (this.youngTail !== undefined) this.youngTail.youngNext = t;
    else this.youngHead = t;
    this.youngTail = t;
    if (this.youngTimer === undefined) this.armYoung(t.startedAt);
  }

  /** `t` leaves the young transmissions (answered, acknowledged, ended, or old enough for a timer of its own). */
  private dropYoung(t: ConTransmission): void {
    if (!t.young) return;
    t.young = false;
    const prev = t.youngPrev;
    const next = t.youngNext;
    if (prev !== undefined) prev.youngNext = next;
    else this.youngHead = next;
    if (next !== undefined) next.youngPrev = prev;
    else this.youngTail = prev;
    t.youngPrev = t.youngNext = undefined;
  }

  private armYoung(oldestStart: number): void {
    const at = oldestStart + this.params.coap.ackTimeout * 1000;
    this.youngTimer = setTimeout(CoapEndpoint.youngDue, Math.max(0, at - Date.now()), this);
    this.youngTimer.unref?.();
  }

  /** ACK_TIMEOUT has passed for the oldest young transmissions: they get their own timer now. */
  private static youngDue(ep: CoapEndpoint): void {
    ep.youngTimer = undefined;
    const now = Date.now();
    const age = ep.params.coap.ackTimeout * 1000;
    for (let t = ep.youngHead; t !== undefined; t = ep.youngHead) {
      if (t.startedAt + age > now) {
        ep.armYoung(t.startedAt);
        return;
      }
      ep.dropYoung(t);
      t.arm(now);
    }
  }

  /** TransmissionHost: `t`'s next timer event is at `at`. */
  schedule(t: ConTransmission, at: number): void {
    this.timers.schedule(t, at);
  }

  /** TransmissionHost: `t` has no timer event any more. */
  unschedule(t: ConTransmission): void {
    this.timers.unschedule(t);
  }

  cancel(t: ConTransmission): void {
    this.finish(t, { kind: 'cancelled' });
  }

  resend(t: ConTransmission): void {
    this.sendTransmission(t);
  }

  expire(t: ConTransmission): void {
    this.finish(t, { kind: 'timeout' });
  }

  private finish(t: ConTransmission, r: OutboundResult): void {
    if (t.finished) return;
    t.clear();
    this.dropYoung(t);
    if (this.awaitingAck[t.messageId] === t) this.clearAwaitingAck(t.messageId);
    if (t.isRequest && this.byToken.get(t.tokenKey) === t) this.byToken.delete(t.tokenKey);
    try {
      t.owner.onOutcome(r);
    } catch (err) {
      this.handlers.onInternalError(err);
    }
  }

  private onMessage(msg: Buffer, rinfo: PeerInfo): void {
    try {
      this.dispatch(msg, rinfo);
    } catch (err) {
      this.handlers.onInternalError(err);
    }
  }

  private dispatch(msg: Buffer, rinfo: PeerInfo): void {
    if (this.scanning) {
      // A datagram delivered from inside our own handling (a socket-like that answers synchronously).
      this.dispatchScanned(new DatagramScan(), msg, rinfo);
      return;
    }
    this.scanning = true;
    try {
      this.dispatchScanned(this.scan, msg, rinfo);
    } finally {
      this.scanning = false;
    }
  }

  private dispatchScanned(s: DatagramScan, msg: Buffer, rinfo: PeerInfo): void {
    try {
      scanDatagram(msg, s);
    } catch (err) {
      this.handlers.onMalformed(rinfo, err instanceof Error ? err.message : String(err));
      return;
    }
    const type = s.type;
    const codeByte = s.codeByte;
    const mid = s.messageId;
    if (codeByte === 0) {
      if (type === ACK || type === RST) {
        const t = this.awaitingAckFrom(mid, rinfo);
        if (t === undefined) return;
        if (type === RST) this.finish(t, { kind: 'reset' });
        else if (!t.isRequest) this.finish(t, { kind: 'acked' });
        else {
          this.clearAwaitingAck(t.messageId);
          this.dropYoung(t);
          t.markAcked();
        }
      } else if (type === CON) {
        this.sendRaw(emptyMessage('reset', mid), rinfo.address, rinfo.port); // CoAP ping
      }
      return;
    }
    const cls = codeByte >> 5;
    if (cls === 0) {
      if (type === ACK || type === RST) {
        this.handlers.onMalformed(rinfo, 'a request cannot be an ACK or RST');
        return;
      }
      this.onRequestPacket(packetOf(msg, s), msg, rinfo);
      return;
    }
    if (cls === 2 || cls === 4 || cls === 5) {
      this.onResponsePacket(s, msg, rinfo);
      return;
    }
    // Reserved classes 1, 3, 6, 7: reject a CON with RST, ignore the rest (RFC 7252 §4.2, §4.3).
    if (type === CON) this.sendRaw(emptyMessage('reset', mid), rinfo.address, rinfo.port);
  }

  /**
   * RFC 7252 §4.5 with one departure: a duplicate must also be the same message (digest of type, code,
   * token, options and payload), not only the same peer and Message ID, because behind a carrier-grade
   * NAT the next device on the same address:port may pick the same ID within EXCHANGE_LIFETIME (see
   * dedup.ts). Such a request is new: it gets its own exchange (and session), never the cached answer.
   */
  private onRequestPacket(p: ParsedPacket, msg: Buffer, rinfo: PeerInfo): void {
    const now = Date.now();
    // Flat before the first lookup: hashed once, and kept by the cache as it is.
    const dkey = flatKey(rinfo.address + '|' + rinfo.port + '|' + p.messageId);
    const digest = messageDigest(msg);
    const dup = this.dedup.get(dkey, digest, now);
    if (dup !== undefined) {
      if (dup.reply !== undefined) this.sendRaw(replyBytes(dup.reply), rinfo.address, rinfo.port);
      else dup.open?.onDuplicate();
      return;
    }
    const entry = this.dedup.addAbsent(dkey, digest, now);
    const ex = new InboundExchange(this, rinfo.address, rinfo.port, p.messageId, p.token, p.confirmable, entry);
    entry.open = ex;
    this.handlers.onRequest(ex, p, rinfo);
  }

  private setAwaitingAck(mid: number, t: ConTransmission): void {
    if (this.awaitingAck[mid] === undefined) this.awaitingAckCount++;
    this.awaitingAck[mid] = t;
  }

  private clearAwaitingAck(mid: number): void {
    if (this.awaitingAck[mid] === undefined) return;
    this.awaitingAck[mid] = undefined;
    this.awaitingAckCount--;
  }

  /** Our message awaiting an ACK with this Message ID, if it went to this peer. */
  private awaitingAckFrom(mid: number, rinfo: PeerInfo): ConTransmission | undefined {
    const t = this.awaitingAck[mid];
    return t !== undefined && t.address === rinfo.address && t.port === rinfo.port ? t : undefined;
  }

  /** Our request with the token of this datagram (at byte 4, `tkl` bytes), if there is one. */
  private requestWithToken(msg: Buffer, tkl: number): ConTransmission | undefined {
    if (tkl !== 8) return undefined;
    const t = this.byToken.get(msg.readUInt32BE(8));
    return t !== undefined && t.hasTokenAt(msg, tkl) ? t : undefined;
  }

  /** A response (class 2, 4 or 5); `s` is the scan of `msg`, read before anything else runs. */
  private onResponsePacket(s: DatagramScan, msg: Buffer, rinfo: PeerInfo): void {
    const type = s.type;
    if (type === RST) return;
    const mid = s.messageId;
    const tkl = s.tokenLength;
    if (type === ACK) {
      const t = this.awaitingAckFrom(mid, rinfo);
      if (t === undefined || !t.hasTokenAt(msg, tkl)) return;
      this.resolveResponse(t, s, msg);
      return;
    }
    // Separate response (CON or NON), matched on the token from the same peer.
    const t = this.requestWithToken(msg, tkl);
    if (type === CON) {
      // A retransmitted separate response gets its ACK again (RFC 7252 §4.5); one that only shares the
      // peer and Message ID with an earlier message (the next device behind a NAT mapping, see dedup.ts)
      // is a new response to one of our requests and is matched on its token.
      const now = Date.now();
      const dkey = peerKey(rinfo.address, rinfo.port) + '|' + mid;
      const digest = messageDigest(msg);
      const dup = this.dedup.get(dkey, digest, now);
      if (dup?.reply !== undefined) {
        this.sendRaw(replyBytes(dup.reply), rinfo.address, rinfo.port);
        return;
      }
      if (t === undefined || t.address !== rinfo.address || t.port !== rinfo.port) {
        this.sendRaw(emptyMessage('reset', mid), rinfo.address, rinfo.port);
        return;
      }
      const ack = emptyMessage('ack', mid);
      this.dedup.add(dkey, digest, now).reply = compactReply(ack);
      this.sendRaw(ack, rinfo.address, rinfo.port);
    } else if (t === undefined || t.address !== rinfo.address || t.port !== rinfo.port) {
      return;
    }
    this.resolveResponse(t, s, msg);
  }

  private resolveResponse(t: ConTransmission, s: DatagramScan, msg: Buffer): void {
    this.finish(t, {
      kind: 'response',
      code: codeString(s.codeByte),
      payload: payloadOf(msg, s),
      contentFormat: s.contentFormat < 0 ? undefined : s.contentFormat,
      block1: s.block1 < 0 ? undefined : s.block1,
      block2: s.block2 < 0 ? undefined : s.block2,
      rttMs: Date.now() - t.startedAt,
    });
  }
}

/**
 * One Confirmable message we sent and are waiting on (RFC 7252 §4.2): our request to a device, or a
 * separate response we owe a device. One timer event (in the host's timer heap) drives both the retransmissions (ACK_TIMEOUT, doubling,
 * MAX_RETRANSMIT) and the overall deadline; nothing else is scheduled per message.
 */
import type { CoapParameters } from './parameters';

export type OutboundResult =
  | {
      kind: 'response';
      code: string;
      payload: Buffer;
      contentFormat?: number;
      /** Raw Block1 / Block2 option values (RFC 7959), when present. */
      block1?: number;
      block2?: number;
      rttMs: number;
    }
  | { kind: 'acked' }
  | { kind: 'timeout' }
  | { kind: 'reset' }
  | { kind: 'send-error'; error: Error }
  | { kind: 'cancelled' };

/** Who hears how a transmission ended (an object with a method, not a closure per message). */
export interface TransmissionOwner {
  onOutcome(r: OutboundResult): void;
}

export interface TransmissionHost {
  resend(t: ConTransmission): void;
  /** Calls `ConTransmission.due(t, now)` at `at` (ms since the epoch) or later; again replaces the time. */
  schedule(t: ConTransmission, at: number): void;
  /** Drops what schedule() set for `t`. */
  unschedule(t: ConTransmission): void;
  expire(t: ConTransmission): void;
  /**
   * Optional: takes a new transmission whose first timer event (retransmission or deadline) is at least
   * ACK_TIMEOUT away, and calls `t.arm()` once ACK_TIMEOUT has passed if it is still waiting (most are
   * answered long before: they never get a timer of their own).
   */
  watchYoung?(t: ConTransmission): void;
}

export class ConTransmission {
  attempt = 0;
  acked = false;
  finished = false;
  /** In the host's list of transmissions younger than ACK_TIMEOUT (see TransmissionHost.watchYoung), and its neighbours there. */
  young = false;
  youngPrev: ConTransmission | undefined = undefined;
  youngNext: ConTransmission | undefined = undefined;
  /** The host's timer heap (timer-heap.ts): this message's place in it and its due time there. */
  heapIndex = -1;
  heapDue = 0;
  /** Whole milliseconds (a small integer: a fractional or epoch-sized number field is a heap object of its own). */
  private retxMs: number;
  private nextRetxAt: number;
  private readonly deadlineAt: number;

  constructor(
    readonly host: TransmissionHost,
    readonly address: string,
    readonly port: number,
    readonly messageId: number,
    readonly buf: Buffer,
    /**
     * A request's 8-byte token (responses are matched on it) as two numbers, no Buffer or string per request:
     * its random half (signed 32-bit) and its counter half, which keys the endpoint's token table (see
     * CoapEndpoint.nextTokenKey). tokenKey is -1 for our separate responses (no token to match).
     */
    readonly tokenRand: number,
    readonly tokenKey: number,
    readonly timeoutMs: number,
    private readonly params: CoapParameters,
    readonly owner: TransmissionOwner,
    /** When it is first sent (ms since the epoch): now, unless the caller has just read the clock. */
    now = Date.now(),
  ) {
    // RFC 7252 §4.2: the first timeout is random between ACK_TIMEOUT and ACK_TIMEOUT * ACK_RANDOM_FACTOR.
    this.retxMs = Math.ceil(params.ackTimeout * 1000 * (1 + Math.random() * (params.ackRandomFactor - 1)));
    this.nextRetxAt = now + this.retxMs;
    this.deadlineAt = now + timeoutMs;
    if (host.watchYoung !== undefined && timeoutMs >= params.ackTimeout * 1000) host.watchYoung(this);
    else this.arm(now);
  }

  /** A request (it has a token to match a response on), not a separate response of ours. */
  get isRequest(): boolean {
    return this.tokenKey >= 0;
  }

  /** Whether the token of a received datagram (`tkl` bytes from byte 4) is this request's. */
  hasTokenAt(msg: Buffer, tkl: number): boolean {
    return this.tokenKey >= 0 && tkl === 8 && msg.readInt32BE(4) === this.tokenRand && msg.readUInt32BE(8) === this.tokenKey;
  }

  /** When the message was first sent (ms since the epoch), from the deadline (one number field less per message). */
  get startedAt(): number {
    return this.deadlineAt - this.timeoutMs;
  }

  /** The peer acknowledged: stop retransmitting (a request then waits for its separate response). */
  markAcked(): void {
    this.acked = true;
    this.arm(Date.now());
  }

  clear(): void {
    this.finished = true;
    this.host.unschedule(this);
  }

  /** Schedules the one timer event for the next retransmission or the deadline, whichever is first. */
  arm(now: number): void {
    if (this.finished) return;
    const at = this.acked ? this.deadlineAt : Math.min(this.nextRetxAt, this.deadlineAt);
    this.host.schedule(this, Math.max(now, at));
  }

  /** The host's timer: the time arm() asked for has come. */
  static due(t: ConTransmission, now: number): void {
    if (t.finished) return;
    if (now >= t.deadlineAt) {
      t.host.expire(t);
      return;
    }
    if (!t.acked && now >= t.nextRetxAt) {
      if (t.attempt < t.params.maxRetransmit) {
        t.attempt++;
        t.retxMs *= 2;
        t.nextRetxAt = now + t.retxMs;
        t.host.resend(t);
      } else {
        t.nextRetxAt = Infinity;
      }
    }
    t.arm(now);
  }
}

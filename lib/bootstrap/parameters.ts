/**
 * CoAP (RFC 7252 §4.8) and LwM2M timing constants, with their derivation, as one frozen defaults object.
 * Each BootstrapServer resolves its own copy with `resolveParameters(overrides)`; nothing here is global
 * or mutable (node-coap keeps a process-wide `parameters` object changed by `updateTiming`: we never use it).
 */

export interface CoapParameters {
  /** ACK_TIMEOUT, seconds: first retransmission timeout of a Confirmable message. RFC 7252 default 2 s. */
  readonly ackTimeout: number;
  /** ACK_RANDOM_FACTOR: the first timeout is random in [ACK_TIMEOUT, ACK_TIMEOUT * factor]. Default 1.5. */
  readonly ackRandomFactor: number;
  /** MAX_RETRANSMIT: retransmissions after the first transmission. Default 4 (5 transmissions in all). */
  readonly maxRetransmit: number;
  /** NSTART: outstanding interactions per peer. 1, hence one bootstrap command in flight per device. */
  readonly nstart: number;
  /** MAX_LATENCY, seconds: how long a datagram may take through the network. Default 100 s. */
  readonly maxLatency: number;
  /** MAX_TRANSMIT_SPAN = ACK_TIMEOUT * (2^MAX_RETRANSMIT - 1) * ACK_RANDOM_FACTOR = 2 * 15 * 1.5 = 45 s. */
  readonly maxTransmitSpan: number;
  /** MAX_TRANSMIT_WAIT = ACK_TIMEOUT * (2^(MAX_RETRANSMIT + 1) - 1) * ACK_RANDOM_FACTOR = 2 * 31 * 1.5 = 93 s. */
  readonly maxTransmitWait: number;
  /** PROCESSING_DELAY = ACK_TIMEOUT = 2 s: time a node takes to turn a CON into an ACK. */
  readonly processingDelay: number;
  /** MAX_RTT = 2 * MAX_LATENCY + PROCESSING_DELAY = 202 s. */
  readonly maxRtt: number;
  /**
   * EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 * MAX_LATENCY + PROCESSING_DELAY = 45 + 200 + 2 = 247 s: how long a
   * Message ID must be remembered for duplicate detection. It is also the LwM2M client's "waiting for
   * Bootstrap-Finish" window after each command.
   */
  readonly exchangeLifetime: number;
  /** NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY = 145 s. */
  readonly nonLifetime: number;
  /** Largest datagram we generate, bytes. 1152 is RFC 7252's recommendation for unknown paths. */
  readonly maxMessageSize: number;
}

/** What a caller may override: the base values. The derived ones are recomputed from them. */
export type CoapParameterOverrides = Partial<
  Pick<CoapParameters, 'ackTimeout' | 'ackRandomFactor' | 'maxRetransmit' | 'maxLatency' | 'maxMessageSize'>
>;

function derive(base: {
  ackTimeout: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  maxLatency: number;
  maxMessageSize: number;
}): CoapParameters {
  const maxTransmitSpan = base.ackTimeout * (2 ** base.maxRetransmit - 1) * base.ackRandomFactor;
  const maxTransmitWait = base.ackTimeout * (2 ** (base.maxRetransmit + 1) - 1) * base.ackRandomFactor;
  const processingDelay = base.ackTimeout;
  const maxRtt = 2 * base.maxLatency + processingDelay;
  return Object.freeze({
    ...base,
    nstart: 1,
    maxTransmitSpan,
    maxTransmitWait,
    processingDelay,
    maxRtt,
    exchangeLifetime: maxTransmitSpan + 2 * base.maxLatency + processingDelay,
    nonLifetime: maxTransmitSpan + base.maxLatency,
  });
}

/** RFC 7252 defaults: 2 s, 1.5, 4, 100 s -> span 45 s, wait 93 s, MAX_RTT 202 s, EXCHANGE_LIFETIME 247 s. */
export const DEFAULT_COAP_PARAMETERS: CoapParameters = derive({
  ackTimeout: 2,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  maxLatency: 100,
  maxMessageSize: 1152,
});

/**
 * LwM2M-level timing defaults of the Bootstrap-Server (milliseconds).
 *
 * - requestTimeoutMs 30 s: Leshan's BS waits 120 s per downlink request ("a bit above MAX_TRANSMIT_WAIT"),
 *   but Leshan clients give the *whole* session 93 s, and a request that has had no answer after
 *   30 s has already been retransmitted 3-4 times (t = 0, 2-3, 6-9, 14-21 s): the device is gone. Failing
 *   fast frees the session and lets the client retry within its own window. Raise it for very lossy links.
 * - sessionTimeoutMs 90 s: the whole session (Bootstrap-Request to Finish), just under the 93 s Leshan
 *   clients allow and far below the 247 s EXCHANGE_LIFETIME other clients wait after each command.
 * - decisionTimeoutMs 10 s: how long the flow may take to accept or reject a Bootstrap-Request before we
 *   answer `decisionTimeoutCode` (5.03 Service Unavailable: the client backs off and retries).
 * - packResponseTimeoutMs 10 s and packDefaultCode 4.04: an unanswered Bootstrap-Pack-Request gets 4.04,
 *   on which LwM2M 1.2 clients fall back to POST /bs.
 */
export interface BootstrapTimings {
  readonly requestTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly decisionTimeoutMs: number;
  readonly decisionTimeoutCode: string;
  readonly packResponseTimeoutMs: number;
  readonly packDefaultCode: string;
  /** Inbound Message IDs remembered for duplicate detection (bounded: each entry costs ~200 bytes). */
  readonly dedupMaxEntries: number;
}

export const DEFAULT_BOOTSTRAP_TIMINGS: BootstrapTimings = Object.freeze({
  requestTimeoutMs: 30_000,
  sessionTimeoutMs: 90_000,
  decisionTimeoutMs: 10_000,
  decisionTimeoutCode: '5.03',
  packResponseTimeoutMs: 10_000,
  packDefaultCode: '4.04',
  dedupMaxEntries: 50_000,
});

export interface ResolvedParameters {
  readonly coap: CoapParameters;
  readonly timings: BootstrapTimings;
}

function positive(name: string, v: number | undefined, fallback: number, min = 0): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new RangeError(`${name} must be a finite number >= ${min}, got ${String(v)}`);
  }
  return v;
}

/** Defaults merged with per-server overrides; derived CoAP values recomputed. Returns new frozen objects. */
export function resolveParameters(
  overrides: { coap?: CoapParameterOverrides; timings?: Partial<BootstrapTimings> } = {},
): ResolvedParameters {
  const c = overrides.coap ?? {};
  const d = DEFAULT_COAP_PARAMETERS;
  const coap = derive({
    ackTimeout: positive('ackTimeout', c.ackTimeout, d.ackTimeout, 0.001),
    ackRandomFactor: positive('ackRandomFactor', c.ackRandomFactor, d.ackRandomFactor, 1),
    maxRetransmit: Math.floor(positive('maxRetransmit', c.maxRetransmit, d.maxRetransmit)),
    maxLatency: positive('maxLatency', c.maxLatency, d.maxLatency),
    maxMessageSize: Math.floor(positive('maxMessageSize', c.maxMessageSize, d.maxMessageSize, 64)),
  });
  const t = overrides.timings ?? {};
  const dt = DEFAULT_BOOTSTRAP_TIMINGS;
  const timings: BootstrapTimings = Object.freeze({
    requestTimeoutMs: positive('requestTimeoutMs', t.requestTimeoutMs, dt.requestTimeoutMs, 1),
    sessionTimeoutMs: positive('sessionTimeoutMs', t.sessionTimeoutMs, dt.sessionTimeoutMs, 1),
    decisionTimeoutMs: positive('decisionTimeoutMs', t.decisionTimeoutMs, dt.decisionTimeoutMs, 1),
    decisionTimeoutCode: t.decisionTimeoutCode ?? dt.decisionTimeoutCode,
    packResponseTimeoutMs: positive('packResponseTimeoutMs', t.packResponseTimeoutMs, dt.packResponseTimeoutMs, 1),
    packDefaultCode: t.packDefaultCode ?? dt.packDefaultCode,
    dedupMaxEntries: Math.floor(positive('dedupMaxEntries', t.dedupMaxEntries, dt.dedupMaxEntries, 1)),
  });
  return Object.freeze({ coap, timings });
}

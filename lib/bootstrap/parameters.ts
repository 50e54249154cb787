/**
 * The Bootstrap-Server's parameters: the CoAP layer's (coap/parameters.ts, RFC 7252 §4.8) and its LwM2M timings.
 * Each BootstrapServer resolves its own copy with `resolveParameters(overrides)`; nothing here is global
 * or mutable (node-coap keeps a process-wide `parameters` object changed by `updateTiming`: we never use it).
 */

import {
  DEFAULT_COAP_PARAMETERS,
  deriveCoapParameters,
  type CoapParameterOverrides,
  type CoapParameters,
} from './coap/parameters';

export { DEFAULT_COAP_PARAMETERS } from './coap/parameters';
export type { CoapParameterOverrides, CoapParameters } from './coap/parameters';

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
  const coap = deriveCoapParameters({
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

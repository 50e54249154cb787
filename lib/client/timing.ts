/**
 * Client timings with their origin (RFC 7252 §4.8 Transmission Parameters; OMA-TS-LightweightM2M_Core, Bootstrap Interface). Real defaults follow RFC 7252 and the LwM2M
 * 1.1 "Registration Procedures Default Values"; tests pass short values.
 */
export interface ClientTiming {
  /** Client Hold Off Time override in ms; default: /0/<bs>/11 seconds of the BS account, else 0. */
  holdOffMs?: number;
  /** Anjay uses max(hold-off, 1 s) before a Bootstrap-Request. */
  minHoldOffMs: number;
  /** Jitter: each delay is multiplied by a random factor in [1, 1 + jitter). Anjay: 0.5. */
  jitter: number;
  /** Cap of the doubling back-off between failed bootstrap attempts (Anjay build default 20 s). */
  backoffMaxMs: number;
  /** Give up on one CoAP request after this long (MAX_TRANSMIT_WAIT 93 s). */
  requestTimeoutMs: number;
  /** No Bootstrap-Finish within this time after the last BS command = bootstrap failed (EXCHANGE_LIFETIME 247 s). */
  bootstrapTimeoutMs: number;
  /** Base delay before registration retry n: base × 2^(n-1) (Communication Retry Timer, 60 s). */
  registrationRetryMs: number;
  /** Failed registration attempts per server before re-bootstrapping (Communication Retry Count, 5). */
  registrationRetries: number;
  /** Update after this share of the lifetime has passed. */
  updateRatio: number;
  /** Override of the update period in ms (tests); default lifetime × updateRatio. */
  updateIntervalMs?: number;
  /** Delay start by a random 0..startJitterMs (fleets). */
  startJitterMs: number;
}

export const DEFAULT_TIMING: ClientTiming = {
  minHoldOffMs: 1000,
  jitter: 0.5,
  backoffMaxMs: 20_000,
  requestTimeoutMs: 93_000,
  bootstrapTimeoutMs: 247_000,
  registrationRetryMs: 60_000,
  registrationRetries: 5,
  updateRatio: 0.9,
  startJitterMs: 0,
};

/**
 * Delay before bootstrap attempt `attempt` (0 = first): hold-off (at least minHoldOffMs) doubled for each
 * failed attempt up to backoffMaxMs, times a jitter factor in [1, 1 + jitter).
 */
export function bootstrapDelay(t: ClientTiming, holdOffMs: number, attempt: number, random: () => number): number {
  const base = Math.max(holdOffMs, t.minHoldOffMs);
  const doubled = Math.min(base * 2 ** Math.min(attempt, 30), Math.max(t.backoffMaxMs, base));
  return Math.round(doubled * (1 + t.jitter * random()));
}

/** Delay before registration retry `n` (1-based): base × 2^(n-1), with the same jitter. */
export function registrationRetryDelay(t: ClientTiming, n: number, random: () => number): number {
  return Math.round(t.registrationRetryMs * 2 ** Math.min(Math.max(n - 1, 0), 30) * (1 + t.jitter * random()));
}

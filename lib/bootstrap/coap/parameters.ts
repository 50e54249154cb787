/**
 * The CoAP layer's own parameters: RFC 7252 §4.8 transmission parameters with their derivation, as one frozen
 * defaults object, and what an endpoint needs of its server's resolved parameters. The Bootstrap-Server's
 * timings (the bootstrap layer's own parameters module) build on this; nothing here knows of them.
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

export function deriveCoapParameters(base: {
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
export const DEFAULT_COAP_PARAMETERS: CoapParameters = deriveCoapParameters({
  ackTimeout: 2,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  maxLatency: 100,
  maxMessageSize: 1152,
});

/** What a CoapEndpoint needs: the CoAP parameters and the bound of its duplicate-detection cache. */
export interface EndpointParameters {
  readonly coap: CoapParameters;
  readonly timings: { readonly dedupMaxEntries: number };
}

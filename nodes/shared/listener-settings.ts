/**
 * A listener's checked settings (no secrets): what nodes/bootstrap-listener reads from its editor fields and
 * what a node that finds the listener (nodes/shared/session-ref.ts) may read back. Here so that no node
 * imports the listener's folder.
 */
import type { DtlsLimits } from './dtls';

export type Transport = 'coap' | 'coaps';

/** The DTLS engine's limits (lib/dtls), as the listener's dialog sets them. */
export type { DtlsLimits };

/** CoAPs settings without secrets (the keys come in CoapsSecrets). */
export interface CoapsSettings {
  /** Server certificate (PEM, chain allowed), may sit in the flow. */
  cert?: string;
  /** CA certificates client certificates must chain to (PEM); set = client certificates accepted. */
  ca?: string;
  limits: DtlsLimits;
  /** Refuse a Bootstrap-Request whose ep does not belong to the DTLS identity. */
  bindingCheck: boolean;
  bindingCode: string;
  /**
   * Raw public keys (RFC 7250) on: `keys` is the node's list of trusted device keys (public, so in the flow),
   * `tableColumn` the device table column that holds more.
   */
  rpk?: { keys: string; tableColumn: string };
  /** lwm2m-device-table config node with PSK identities and keys, and its columns. */
  table?: { id: string; identityColumn: string; keyColumn: string; endpointColumn: string };
}

export interface ListenerSettings {
  transport: Transport;
  address: string;
  port: number;
  requestTimeoutMs: number;
  sessionTimeoutMs: number;
  decisionTimeoutMs: number;
  decisionTimeoutCode: string;
  packResponseTimeoutMs: number;
  packDefaultCode: string;
  maxSessions: number;
  /** Pending sessions (device has not answered yet) per source address; more shed the oldest. */
  maxPendingPerSource: number;
  /** Longest endpoint name, bytes of UTF-8. */
  maxEndpointBytes: number;
  coaps?: CoapsSettings;
  /** Balancer addresses whose PROXY protocol header is believed (nodes/bootstrap-listener/proxy-protocol.ts); absent: off. */
  proxyProtocolFrom?: string[];
}

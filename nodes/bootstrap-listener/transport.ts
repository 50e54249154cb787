/**
 * The one place a listener creates its Bootstrap-Server, and so its socket: plain CoAP over UDP, or CoAPs
 * (DTLS 1.2, default port 5684) on lib/dtls's socket-like object, which the server binds and closes.
 * One transport per listener node: an operator who serves both drops two listeners.
 */
import { BootstrapServer, type BootstrapServerOptions } from '../shared/lib';
import { createDtlsSocket, type DtlsSocket, type PskStore, type RpkStore } from '../shared/dtls';

export type Transport = 'coap' | 'coaps';

export interface DtlsLimits {
  maxPeers: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  handshakesPerSourcePerSecond: number;
  maxHalfOpenPerSource: number;
  halfOpenTimeoutMs: number;
}

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
}

/** What only the runtime holds: keys from the credential store and the device table. */
export interface CoapsSecrets {
  psk?: PskStore;
  /** Trusted device public keys (on only when the listener enables raw public keys). */
  rpk?: RpkStore;
  /** Server private key (PEM), from the node's credentials. */
  key?: string;
}

export const DEFAULT_PORT: Record<Transport, number> = { coap: 5683, coaps: 5684 };

/** IPv6 when the address has a colon ('::' listens on IPv6 and, on most systems, IPv4 too). */
export function socketTypeFor(address: string): 'udp4' | 'udp6' {
  return address.includes(':') ? 'udp6' : 'udp4';
}

export interface CreatedServer {
  server: BootstrapServer;
  /** The DTLS socket of a coaps listener (stats, peers, handshake events). */
  dtls?: DtlsSocket;
}

/**
 * Throws for coaps when DTLS cannot start: DtlsUnavailableError (the addon did not load, with the
 * reason) or DtlsError (bad certificate, no keys). Neither message carries key material.
 */
export function createBootstrapServer(
  s: ListenerSettings,
  logger: BootstrapServerOptions['logger'],
  secrets: CoapsSecrets = {},
): CreatedServer {
  const common: BootstrapServerOptions = {
    address: s.address,
    port: s.port,
    type: socketTypeFor(s.address),
    requestTimeoutMs: s.requestTimeoutMs,
    sessionTimeoutMs: s.sessionTimeoutMs,
    decisionTimeoutMs: s.decisionTimeoutMs,
    decisionTimeoutCode: s.decisionTimeoutCode,
    packResponseTimeoutMs: s.packResponseTimeoutMs,
    packDefaultCode: s.packDefaultCode,
    maxSessions: s.maxSessions,
    maxPendingPerSource: s.maxPendingPerSource,
    maxEndpointBytes: s.maxEndpointBytes,
    logger,
  };
  switch (s.transport) {
    case 'coap':
      return { server: new BootstrapServer(common) };
    case 'coaps': {
      const c = s.coaps!;
      const dtls = createDtlsSocket({
        type: socketTypeFor(s.address),
        psk: secrets.psk,
        rpk: secrets.rpk,
        cert: c.cert,
        key: secrets.key,
        ca: c.ca,
        maxPeers: c.limits.maxPeers,
        handshakeTimeoutMs: c.limits.handshakeTimeoutMs,
        idleTimeoutMs: c.limits.idleTimeoutMs,
        handshakesPerSourcePerSecond: c.limits.handshakesPerSourcePerSecond,
        maxHalfOpenPerSource: c.limits.maxHalfOpenPerSource,
        halfOpenTimeoutMs: c.limits.halfOpenTimeoutMs,
        logger: {
          debug: (m) => logger?.debug(m),
          info: (m) => logger?.info(m),
          warn: (m) => logger?.warn(m),
          error: (m) => logger?.error(m),
        },
      });
      const server = new BootstrapServer({ ...common, socket: dtls as unknown as BootstrapServerOptions['socket'], closeSocket: true });
      return { server, dtls };
    }
  }
}

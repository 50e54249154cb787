/**
 * The one place a listener creates its Bootstrap-Server, and so its socket: plain CoAP over UDP, or CoAPs
 * (DTLS 1.2, default port 5684) on lib/dtls's socket-like object, which the server binds and closes.
 * One transport per listener node: an operator who serves both drops two listeners.
 */
import { BootstrapServer, type BootstrapServerOptions, type ProxyAddressTable } from '../shared/lib';
import { createDtlsSocket, type DtlsSocket, type PskStore, type RpkStore } from '../shared/dtls';
import type { ListenerSettings, Transport } from '../shared/listener-settings';
import { proxiedSocket, proxyTable } from './proxy-protocol';

export type { CoapsSettings, DtlsLimits, ListenerSettings, Transport } from '../shared/listener-settings';

/** What only the runtime holds: keys from the credential store and the device table. */
export interface CoapsSecrets {
  psk?: PskStore;
  /** Trusted device public keys (on only when the listener enables raw public keys). */
  rpk?: RpkStore;
  /** Server private key (PEM), from the node's credentials. */
  key?: string;
  /** DTLS cookie secret shared by every instance behind one load balancer, from the node's credentials. */
  cookieSecret?: string;
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
  /** The PROXY protocol's address table, when the listener takes it from a balancer (proxy-protocol.ts). */
  proxy?: ProxyAddressTable;
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
    case 'coap': {
      const socket = proxiedSocket(s); // PROXY protocol from a balancer (proxy-protocol.ts), when asked
      return { server: new BootstrapServer(socket ? { ...common, socket, closeSocket: true } : common), proxy: socket?.table };
    }
    case 'coaps': {
      const c = s.coaps!;
      const proxy = proxyTable(s); // the PROXY protocol comes off before DTLS sees a datagram
      const dtls = createDtlsSocket({
        type: socketTypeFor(s.address),
        psk: secrets.psk,
        rpk: secrets.rpk,
        cert: c.cert,
        key: secrets.key,
        ca: c.ca,
        ...(secrets.cookieSecret ? { cookieSecret: secrets.cookieSecret } : {}),
        ...(proxy ? { datagrams: proxy } : {}),
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
      return { server, dtls, proxy };
    }
  }
}

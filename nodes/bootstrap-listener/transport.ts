/**
 * The one place a listener creates its Bootstrap-Server, and so its socket. Plain CoAP over UDP today;
 * CoAPs (DTLS, default port 5684) plugs in here: build the DTLS socket-like object and pass it as
 * `socket`, keyed on `transport === 'coaps'`.
 */
import { BootstrapServer, type BootstrapServerOptions } from '../shared/lib';

export type Transport = 'coap';

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
}

export const DEFAULT_PORT: Record<Transport, number> = { coap: 5683 };

/** IPv6 when the address has a colon ('::' listens on IPv6 and, on most systems, IPv4 too). */
export function socketTypeFor(address: string): 'udp4' | 'udp6' {
  return address.includes(':') ? 'udp6' : 'udp4';
}

export function createBootstrapServer(
  s: ListenerSettings,
  logger: BootstrapServerOptions['logger'],
): BootstrapServer {
  switch (s.transport) {
    case 'coap':
      return new BootstrapServer({
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
        logger,
      });
  }
}

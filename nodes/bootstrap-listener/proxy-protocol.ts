/**
 * The listener's "PROXY protocol from" setting (issue 16): behind nginx's UDP stream proxy with
 * `proxy_protocol on;`, the balancer's addresses listed here may put the device's real address in front of
 * a datagram (lib/bootstrap/coap/proxy-protocol.ts). Sessions, per-source limits and the audit then name the
 * device; replies still go back through the balancer. Empty (the default): off, and a header from anyone is
 * just a malformed datagram.
 */
import * as dgram from 'dgram';
import { isIP } from 'net';
import { ProxyAddressTable, ProxyProtocolSocket } from '../shared/lib';
import type { ListenerSettings } from '../shared/listener-settings';

/** A mapping from a balancer socket to a device lives this long without traffic (above nginx's proxy_timeout). */
const IDLE_MS = 300_000;
/** As BootstrapServer's own sockets (DEFAULT_RECV_BUFFER): a storm arrives faster than one event loop reads. */
const RECV_BUFFER = 4 * 1024 * 1024;

/** The field's addresses (commas or spaces between), [] when empty, undefined when one is not an IP address. */
export function readProxyFrom(v: unknown): string[] | undefined {
  const text = v === undefined || v === null ? '' : String(v).trim();
  const parts = [...new Set(text.split(/[\s,]+/).filter((a) => a !== ''))];
  return parts.every((a) => isIP(a) !== 0) ? parts : undefined;
}

/** The plain CoAP listener's socket with the PROXY protocol in front, or undefined when the setting is off. */
export function proxiedSocket(s: ListenerSettings): ProxyProtocolSocket | undefined {
  if (!s.proxyProtocolFrom?.length) return undefined;
  const type = s.address.includes(':') ? 'udp6' : 'udp4';
  return new ProxyProtocolSocket(dgram.createSocket({ type }), type, { from: s.proxyProtocolFrom, idleMs: IDLE_MS }, RECV_BUFFER);
}

/**
 * The same for a CoAPs listener: the header must come off before the datagram reaches DTLS, so the table is
 * lib/dtls's datagram translator (DtlsServerOptions.datagrams); undefined when the setting is off.
 */
export function proxyTable(s: ListenerSettings): ProxyAddressTable | undefined {
  if (!s.proxyProtocolFrom?.length) return undefined;
  return new ProxyAddressTable({ from: s.proxyProtocolFrom, idleMs: IDLE_MS });
}

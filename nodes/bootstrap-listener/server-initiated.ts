/**
 * The listener's input: a message asks for a server-initiated bootstrap (LwM2M 1.0, OMA-TS-LightweightM2M_Core
 * 1.0, Bootstrap Interface, Server Initiated Bootstrap) of the device at `address:port`. The listener opens the
 * session (BootstrapServer.openSession) and sends the same message a Bootstrap-Request would, with
 * `lwm2m.kind = "server-initiated"`, so profile lookup, object write and bootstrap finish run it unchanged.
 *
 * CoAPs: refused. The DTLS addon takes the server role only (OpenSSL's DTLSv1_listen/SSL_accept in
 * native/peer.c); a server-initiated bootstrap over DTLS needs the Bootstrap-Server to open the handshake as
 * the DTLS client towards the device, which this listener's socket cannot do.
 */
import { isIP } from 'net';

export interface ServerInitiatedTarget {
  endpoint: string;
  address: string;
  port: number;
  contentFormat?: number;
  lwm2mVersion?: string;
}

/** `msg.payload = {endpoint, address, port, contentFormat?, lwm2mVersion?}` (or the same under msg.bootstrap); an error key when unusable. */
export function serverInitiatedTarget(msg: { payload?: unknown; bootstrap?: unknown }): ServerInitiatedTarget | { error: string } {
  const src = (msg.bootstrap && typeof msg.bootstrap === 'object' ? msg.bootstrap : msg.payload) as Record<string, unknown> | undefined;
  if (!src || typeof src !== 'object') return { error: 'serverInitiated.noTarget' };
  const endpoint = typeof src.endpoint === 'string' ? src.endpoint.trim() : '';
  if (!endpoint || endpoint.length > 255) return { error: 'serverInitiated.noEndpoint' };
  const address = typeof src.address === 'string' ? src.address.trim() : '';
  if (!isIP(address)) return { error: 'serverInitiated.badAddress' };
  const port = Number(src.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: 'serverInitiated.badPort' };
  const out: ServerInitiatedTarget = { endpoint, address, port };
  if (src.contentFormat !== undefined) {
    const cf = Number(src.contentFormat);
    if (![11542, 110, 112, 11544].includes(cf)) return { error: 'serverInitiated.badFormat' };
    out.contentFormat = cf;
  }
  if (typeof src.lwm2mVersion === 'string' && /^1\.[0-2]$/.test(src.lwm2mVersion)) out.lwm2mVersion = src.lwm2mVersion;
  return out;
}

/**
 * Where a device talks to: a server URI from a Security instance (`coap://127.0.0.1:5683`,
 * `coaps://bs.example:5684`) resolved to an address, with the PSK credentials when the scheme is coaps.
 */
import { promises as dns } from 'dns';
import { isIP } from 'net';
import { ClientConfigError } from './errors';
import { bufferOf, numberOf, stringOf } from './store';
import type { ObjectInstanceNode } from '../model/types';

export interface Target {
  uri: string;
  secure: boolean;
  host: string;
  address: string;
  port: number;
  securityMode: number;
  pskIdentity?: Buffer;
  pskKey?: Buffer;
}

export function parseServerUri(uri: string): { secure: boolean; host: string; port: number } {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new ClientConfigError('uri', `"${uri}" is not a URI`);
  }
  const secure = u.protocol === 'coaps:';
  if (!secure && u.protocol !== 'coap:') throw new ClientConfigError('uri', `scheme ${u.protocol} not supported (coap, coaps)`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new ClientConfigError('uri', `"${uri}" has no host`);
  const port = u.port ? Number(u.port) : secure ? 5684 : 5683;
  return { secure, host, port };
}

/** The target described by a Security instance. */
export async function targetFromSecurity(sec: ObjectInstanceNode): Promise<Target> {
  const uri = stringOf(sec.resources.get(0));
  if (!uri) throw new ClientConfigError(`/0/${sec.id}/0`, 'no server URI');
  const { secure, host, port } = parseServerUri(uri);
  const address = isIP(host) ? host : (await dns.lookup(host)).address;
  return {
    uri,
    secure,
    host,
    address,
    port,
    securityMode: numberOf(sec.resources.get(2)) ?? (secure ? 0 : 3),
    pskIdentity: bufferOf(sec.resources.get(3)),
    pskKey: bufferOf(sec.resources.get(5)),
  };
}

export function sameAddress(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/^::ffff:/, '');
  return norm(a) === norm(b);
}

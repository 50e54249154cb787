/**
 * A small HTTP control interface for the demo DM server, so a flow (an http request node) can drive it the
 * way operators drive a real LwM2M Server's REST API (Leshan's demo server executes with
 * `POST /api/clients/{endpoint}/{path}`):
 *
 *   GET  /api/clients                              the registrations (endpoint, lifetime, version, address)
 *   POST /api/clients/{endpoint}/{O}/{I}/{R}       Execute the resource, e.g. /1/0/9
 *   POST /api/clients/{endpoint}/bootstrap-trigger Execute /1/x/9, the Bootstrap-Request Trigger
 *                                                  (OMA-TS-LightweightM2M_Core 1.1, Server object, resource 9),
 *                                                  on the device's first Server instance
 *
 * Answers JSON: `{endpoint, path, code, success}` with HTTP 200 when the device answered (success = 2.04),
 * 404 for an unknown endpoint, 400 for a bad path, 504 when the device did not answer. Binds to loopback by
 * default: it has no authentication, like the demo DM server itself.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { RegistrationServer } from './server';

export interface RdControlApiOptions {
  port?: number;
  /** Default 127.0.0.1. */
  address?: string;
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * Starts the control interface for `servers` (one registration server, or one per address the demo listens
 * on: a device is looked up on each); resolves with the listening http.Server (close it to stop).
 */
export async function startRdControlApi(servers: RegistrationServer | readonly RegistrationServer[], opts: RdControlApiOptions = {}): Promise<http.Server> {
  const all = Array.isArray(servers) ? [...(servers as readonly RegistrationServer[])] : [servers as RegistrationServer];
  const server = http.createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    if (parts[0] !== 'api' || parts[1] !== 'clients') return reply(res, 404, { error: 'not found' });
    if (parts.length === 2 && req.method === 'GET') {
      return reply(res, 200, all.flatMap((rd) => [...rd.registrations.values()]).map((r) => ({ endpoint: r.endpoint, lifetime: r.lifetime, lwm2mVersion: r.lwm2mVersion, address: r.address, port: r.port })));
    }
    if (req.method !== 'POST' || parts.length < 4) return reply(res, 405, { error: 'use POST /api/clients/{endpoint}/{O}/{I}/{R} or .../bootstrap-trigger' });
    const endpoint = parts[2];
    const rd = all.find((r) => r.byEndpoint(endpoint));
    if (!rd) return reply(res, 404, { endpoint, error: 'not registered' });
    const trigger = parts.length === 4 && parts[3] === 'bootstrap-trigger';
    const path = trigger ? undefined : '/' + parts.slice(3).join('/');
    if (!trigger && !/^\/\d{1,5}\/\d{1,5}\/\d{1,5}$/.test(path ?? '')) return reply(res, 400, { endpoint, error: 'Execute needs /O/I/R' });
    const reg = rd.byEndpoint(endpoint);
    const shown = trigger ? `/1/${reg?.instances.find((p) => p.startsWith('/1/'))?.split('/')[2] ?? 0}/9` : (path as string);
    const run = trigger ? rd.bootstrapTrigger(endpoint) : rd.execute(endpoint, path as string);
    run.then(
      (code) => reply(res, 200, { endpoint, path: shown, code, success: code === '2.04' }),
      (e: Error) => reply(res, /no response/.test(e.message) ? 504 : 400, { endpoint, path: shown, error: e.message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.address ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The port a started control interface listens on. */
export function controlApiPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}

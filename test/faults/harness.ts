/**
 * The fault suite's server side and its well-behaved device: a real BootstrapServer (plain CoAP or CoAPs on the
 * real DTLS socket) with the listener's default limits, serving every Bootstrap-Request as the demo flow does
 * (accept, Bootstrap-Discover and Writes from a profile, Bootstrap-Finish), a registration server for the
 * devices to register with, and a simulated LwM2M client that must bootstrap while the server is under attack.
 */
import { BootstrapServer, runBootstrap, type BootstrapServerOptions, type BootstrapSession } from '../../lib/bootstrap';
import { SimulatedClient } from '../../lib/client/client';
import type { FaultOptions } from '../../lib/client/faults';
import { createDtlsSocket, MemoryPskStore, type DtlsServerOptions, type DtlsSocket } from '../../lib/dtls';
import type { BootstrapProfile } from '../../lib/profile/types';
import { validatedProfile } from '../../lib/profile/validated';
import { RegistrationServer } from '../../lib/rd/server';

export const GOOD_KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

/** What a listener with its default settings gives the library (nodes/bootstrap-listener/settings.ts). */
export const LISTENER_DEFAULTS: BootstrapServerOptions = {
  requestTimeoutMs: 30_000,
  sessionTimeoutMs: 90_000,
  decisionTimeoutMs: 10_000,
  maxSessions: 10_000,
  maxPendingPerSource: 100,
  maxEndpointBytes: 255,
};

export class LineCounter {
  lines = 0;
  /** Lines with a raw control character (a forged line or a terminal escape got through). */
  unsafe = 0;
  longest = 0;
  private line(msg: string): void {
    this.lines++;
    if (/[\u0000-\u001f\u007f-\u009f]/.test(msg)) this.unsafe++;
    this.longest = Math.max(this.longest, msg.length);
  }
  readonly logger = {
    debug: (): void => undefined,
    info: (m: string): void => this.line(m),
    warn: (m: string): void => this.line(m),
    error: (m: string): void => this.line(m),
  };
}

export interface Harness {
  server: BootstrapServer;
  port: number;
  transport: 'coap' | 'coaps';
  dtls?: DtlsSocket;
  psk?: MemoryPskStore;
  log: LineCounter;
  /** Sessions that ended with SUCCESS, by endpoint. */
  succeeded: Set<string>;
  close(): Promise<void>;
}

let rd: RegistrationServer | undefined;

export async function registrationServer(): Promise<RegistrationServer> {
  rd ??= await new RegistrationServer().listen();
  return rd;
}

export async function closeRegistrationServer(): Promise<void> {
  await rd?.close();
  rd = undefined;
}

function profile(rdPort: number): BootstrapProfile {
  return { servers: [{ shortServerId: 101, uri: `coap://127.0.0.1:${rdPort}`, securityMode: 'nosec', lifetime: 300 }] };
}

export async function startHarness(
  transport: 'coap' | 'coaps',
  dtlsOpts: Partial<DtlsServerOptions> = {},
  serverOpts: Partial<BootstrapServerOptions> = {},
): Promise<Harness> {
  const log = new LineCounter();
  const rdPort = (await registrationServer()).port;
  let dtls: DtlsSocket | undefined;
  let psk: MemoryPskStore | undefined;
  if (transport === 'coaps') {
    psk = new MemoryPskStore().set('good-device', GOOD_KEY);
    dtls = createDtlsSocket({ psk, logger: log.logger, ...dtlsOpts });
  }
  const server = new BootstrapServer({
    ...LISTENER_DEFAULTS,
    ...serverOpts,
    port: 0,
    address: '0.0.0.0',
    logger: log.logger,
    ...(dtls ? { socket: dtls as unknown as BootstrapServerOptions['socket'], closeSocket: true } : {}),
  });
  const succeeded = new Set<string>();
  server.on('bootstrapRequest', (s: BootstrapSession) => {
    void (async () => {
      await runBootstrap(s, validatedProfile(profile(rdPort)));
      const r = await s.finish();
      if (r.success) succeeded.add(s.endpoint);
    })().catch(() => undefined);
  });
  const { port } = await server.listen();
  return { server, port, transport, dtls, psk, log, succeeded, close: () => server.close() };
}

export interface DeviceOptions {
  endpoint: string;
  bindAddress?: string;
  faults?: FaultOptions;
  maxAttempts?: number;
  pskIdentity?: string;
}

/** A simulated LwM2M 1.1 device of the harness's transport (not started). */
export function device(h: Harness, o: DeviceOptions): SimulatedClient {
  const scheme = h.transport === 'coaps' ? 'coaps' : 'coap';
  return new SimulatedClient({
    endpoint: o.endpoint,
    version: '1.1',
    bindAddress: o.bindAddress,
    bootstrapServer: {
      uri: `${scheme}://127.0.0.1:${h.port}`,
      ...(h.transport === 'coaps' ? { pskIdentity: o.pskIdentity ?? 'good-device', pskKey: GOOD_KEY.toString('hex') } : {}),
    },
    faults: o.faults,
    maxBootstrapAttempts: o.maxAttempts,
    trace: false,
    // RFC 7252 retransmission inside; no hold-off, a short back-off between attempts.
    timing: { minHoldOffMs: 0, jitter: 0, backoffMaxMs: 1000, requestTimeoutMs: 10_000, bootstrapTimeoutMs: 10_000, registrationRetries: 1 },
  });
}

/**
 * The well-behaved device: starts, bootstraps, stops. Resolves with the milliseconds from start to its
 * 'bootstrapped' event, or undefined when it did not bootstrap within `giveUpMs`.
 */
export async function wellBehaved(h: Harness, endpoint: string, giveUpMs = 30_000): Promise<number | undefined> {
  const c = device(h, { endpoint, bindAddress: h.transport === 'coap' ? '127.0.0.200' : undefined });
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const result = new Promise<number | undefined>((resolve) => {
    c.once('bootstrapped', () => resolve(Date.now() - t0));
    timer = setTimeout(() => resolve(undefined), giveUpMs);
  });
  await c.start();
  const ms = await result;
  clearTimeout(timer);
  await c.stop(false).catch(() => undefined);
  return ms;
}

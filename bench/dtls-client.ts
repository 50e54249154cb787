/**
 * The DTLS side of the load generator: one session per device. 'raw' only handshakes and closes; 'lib'
 * bootstraps over the session. Latency counts from the first ClientHello.
 *
 * Two clients: bench/c/dtls-loadgen.c (built here with gcc and the system OpenSSL, Debian libssl-dev), used
 * when it builds; else node-dtls-client with the lean device of bench/device.ts. node-dtls-client is JavaScript
 * and spent about twice the server's CPU on a handshake, so with it the raw handshake rate was the load
 * generator's limit and the DTLS ratios measured the client. BENCH_DTLS_CLIENT=node forces node-dtls-client.
 *
 * Each device sends from its own loopback address (127.1.0.1, 127.1.0.2, ...; Linux delivers all of
 * 127.0.0.0/8 on lo), as a fleet's devices come from their own addresses: a DTLS server limits new
 * handshakes per source address (lib/dtls: 10 a second by default, which the CoAPs listener does not let an
 * operator change), so a storm from 127.0.0.1 alone would measure that limit, not the server.
 */
import type * as dgram from 'dgram';
import { buildC, runC, type CStormResult } from './c-loadgen';
import { dtls } from 'node-dtls-client';
import { DeviceSlot, type DeviceContext } from './device';
import { endpointName } from './scenario';
import { summarize } from './stats';

export interface DtlsStormArgs {
  mode: 'raw' | 'lib';
  host: string;
  port: number;
  first: number;
  count: number;
  concurrency: number;
  pct: number;
  timeoutMs: number;
  key: string;
}

export interface DtlsStormResult extends Omit<CStormResult, 'requests'> {
  /** Which DTLS client ran the storm, and why not the C one when it did not. */
  client: string;
}

/** Builds bench/c/dtls-loadgen.c once per load generator (again when the source is newer than the binary). */
export function cClient(): { binary?: string; reason?: string } {
  if (process.env.BENCH_DTLS_CLIENT === 'node') return { reason: 'BENCH_DTLS_CLIENT=node' };
  return buildC('dtls-loadgen', ['-lssl', '-lcrypto'], 'gcc libssl-dev');
}

/** One storm with the C client. */
async function cStorm(a: DtlsStormArgs, binary: string): Promise<DtlsStormResult> {
  const { requests: _r, ...r } = await runC(binary, [a.host, a.port, a.first, a.count, a.concurrency, a.mode, a.key, a.pct ?? -1, a.timeoutMs]);
  return { ...r, client: 'C client (bench/c/dtls-loadgen.c, system OpenSSL)' };
}

const HANDSHAKE_TIMEOUT_MS = 5000;

/** Device n's source address: 127.1.0.1 upwards, skipping .0 and .255 in the last byte. */
export function sourceAddress(n: number): string {
  const host = (n % 254) + 1;
  const rest = Math.floor(n / 254);
  return `127.${1 + (Math.floor(rest / 256) % 254)}.${rest % 256}.${host}`;
}

/**
 * node-dtls-client binds its UDP socket with bind() and no address, and has no option for one: an
 * options object carrying `benchSourceAddress` gets a socket whose bind() binds to that address.
 */
// The module object itself (an `import * as` namespace may be a copy under esModuleInterop).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const udp = require('dgram') as typeof dgram;
const createUdp = udp.createSocket;
(udp as { createSocket: unknown }).createSocket = function (this: unknown, ...args: Parameters<typeof dgram.createSocket>) {
  const sock = createUdp.apply(this, args);
  const from = (args[0] as { benchSourceAddress?: string }).benchSourceAddress;
  if (from) {
    const bind = sock.bind.bind(sock) as (o: dgram.BindOptions) => dgram.Socket;
    (sock as { bind: unknown }).bind = (port?: number) => bind({ port: typeof port === 'number' ? port : 0, address: from });
  }
  return sock;
};

function connect(a: DtlsStormArgs, identity: string, from: string): Promise<dtls.Socket> {
  return new Promise((resolve, reject) => {
    const client = dtls.createSocket({
      type: 'udp4',
      benchSourceAddress: from,
      address: a.host,
      port: a.port,
      psk: { [identity]: Buffer.from(a.key, 'hex') },
      ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'],
      // A handshake that lost a flight is given up after 5 s (node-dtls-client's own limit), not after the
      // device's whole deadline: one such stall would otherwise decide a short run's rate.
      timeout: Math.min(a.timeoutMs, HANDSHAKE_TIMEOUT_MS),
    } as never);
    client.once('connected', () => resolve(client));
    client.once('error', (err: Error) => reject(err));
  });
}

function close(client: dtls.Socket): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 500);
    try {
      client.close(() => {
        clearTimeout(t);
        resolve();
      });
    } catch {
      clearTimeout(t);
      resolve();
    }
  });
}

export async function dtlsStorm(a: DtlsStormArgs, ctx: DeviceContext): Promise<DtlsStormResult> {
  const c = cClient();
  if (c.binary) return cStorm(a, c.binary);
  return { ...(await nodeStorm(a, ctx)), client: `node-dtls-client (${c.reason})` };
}

async function nodeStorm(a: DtlsStormArgs, ctx: DeviceContext): Promise<Omit<DtlsStormResult, 'client'>> {
  const latencies: number[] = [];
  const causes: Record<string, number> = {};
  let failed = 0;
  let next = 0;
  const fail = (c: string): void => {
    failed++;
    causes[c] = (causes[c] ?? 0) + 1;
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(a.concurrency, a.count) }, async () => {
      while (next < a.count) {
        const n = a.first + next++;
        const ep = endpointName(n);
        const started = performance.now();
        let client: dtls.Socket;
        try {
          client = await connect(a, ep, sourceAddress(n));
        } catch (err) {
          fail(`handshake: ${err instanceof Error ? err.message.slice(0, 60) : String(err)}`);
          continue;
        }
        if (a.mode === 'raw') {
          latencies.push(performance.now() - started);
          await close(client);
          continue;
        }
        const c = client;
        const slot = DeviceSlot.over(
          {
            send: (buf) => c.send(buf),
            onMessage: (fn) => c.on('message', (msg: Buffer) => fn(msg, a.host, a.port)),
            close: () => close(c),
          },
          ctx,
        );
        const r = await slot.bootstrap(ep, a.pct);
        if (r.ok) latencies.push(performance.now() - started);
        else fail(r.cause ?? 'unknown');
        await slot.close();
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    completed: latencies.length,
    failed,
    causes,
    latency: summarize(latencies),
    wallS,
    perSecond: latencies.length / wallS,
    loadgenCpuS: (cpu.user + cpu.system) / 1e6,
  };
}

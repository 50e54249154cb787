/**
 * Where a DTLS bootstrap's server time goes, per addon call: the library's Bootstrap-Server over the DtlsSocket in
 * this process, the C client of bench/c (dtls-client.ts builds it) as the devices, and every addon call timed.
 *   npm run build && node dist/bench/dtls-calls.js [lib|raw] [--devices 1000] [--concurrency 20]
 * Prints the storm's rate, the server's CPU per bootstrap, datagrams per bootstrap, and microseconds per listen,
 * feed, write, free and peerInfo (wall clock inside the call: compare runs alternated back to back).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BootstrapServer } from '../lib/bootstrap';
import { createDtlsSocket } from '../lib/dtls';
import { loadDtls, type DtlsBinding } from '../lib/dtls/binding';
import { BENCH_PSK_HEX } from './dtls-bench';
import { cClient } from './dtls-client';
import { handleBootstraps } from './lib-handler';
import { FORMATS, readDeviceTable, writeDeviceTable } from './scenario';

const CALLS = ['listen', 'feed', 'write', 'handleTimeout', 'shutdown', 'free', 'peerInfo'] as const;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Wraps the loaded binding's calls with timers (before any socket is created, so the engine gets the wrapped one). */
function timeCalls(): Map<string, { n: number; ns: bigint }> {
  const loaded = loadDtls();
  if (!loaded.ok) throw new Error(loaded.reason);
  const acc = new Map<string, { n: number; ns: bigint }>();
  const b = loaded.binding as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const k of CALLS) {
    const f = b[k];
    const a = { n: 0, ns: 0n };
    acc.set(k, a);
    b[k] = (...args: unknown[]) => {
      const t = process.hrtime.bigint();
      try {
        return f(...args);
      } finally {
        a.ns += process.hrtime.bigint() - t;
        a.n++;
      }
    };
  }
  return acc;
}

async function main(): Promise<void> {
  const mode = process.argv[2] === 'raw' ? 'raw' : 'lib';
  const devices = arg('devices', 1000);
  const concurrency = arg('concurrency', 20);
  const c = cClient();
  if (!c.binary) throw new Error(c.reason);
  const acc = timeCalls();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dtls-calls-'));
  const table = path.join(tmp, 'devices.csv');
  writeDeviceTable(table, 2 * devices);
  const key = Buffer.from(BENCH_PSK_HEX, 'hex');
  const socket = createDtlsSocket({ psk: { get: () => key }, ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'], maxPeers: 20_000, handshakesPerSourcePerSecond: 1e6 });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const port = socket.address().port;
  const server = mode === 'lib' ? new BootstrapServer({ socket: socket as never, requestTimeoutMs: 30_000, sessionTimeoutMs: 90_000, maxSessions: 50_000 }) : undefined;
  if (server) {
    handleBootstraps(server, readDeviceTable(table), 5784);
    await server.listen();
  }
  const storm = (first: number) =>
    new Promise<{ completed: number; failed: number; wallS: number; causes: Record<string, number> }>((resolve, reject) =>
      execFile(c.binary!, ['127.0.0.1', port, first, devices, concurrency, mode, BENCH_PSK_HEX, FORMATS.tlv, 30_000].map(String), { maxBuffer: 64 << 20 }, (err, out) =>
        err ? reject(err) : resolve(JSON.parse(out)),
      ),
    );
  await storm(0); // warm-up
  for (const a of acc.values()) Object.assign(a, { n: 0, ns: 0n });
  const s0 = socket.stats();
  const cpu0 = process.cpuUsage();
  const r = await storm(devices);
  const cpu = process.cpuUsage(cpu0);
  const s1 = socket.stats();
  const per = (x: number) => (x / Math.max(1, r.completed)).toFixed(1);
  const lines = [
    `${mode}: ${(r.completed / r.wallS).toFixed(0)}/s, ${r.completed} ok, ${r.failed} failed ${JSON.stringify(r.causes)}; server ${((cpu.user + cpu.system) / 1000 / Math.max(1, r.completed)).toFixed(3)} ms CPU each; datagrams in/out each ${per(s1.datagramsIn - s0.datagramsIn)}/${per(s1.datagramsOut - s0.datagramsOut)}`,
    ...[...acc].filter(([, a]) => a.n > 0).map(([k, a]) => `  ${k.padEnd(13)} ${String(a.n).padStart(6)} calls, ${(Number(a.ns / BigInt(a.n)) / 1000).toFixed(1)} us each`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  await server?.close();
  await new Promise<void>((r2) => socket.close(() => r2()));
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

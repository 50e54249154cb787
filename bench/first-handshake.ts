/**
 * The first DTLS handshake of a device whose PSK is not in memory (issue 16), against a temporary
 * PostgreSQL cluster (scripts/pg-temp.js) through the listener's key seam (CoapsController.useSource ->
 * DeviceKeySource). Per device, alternated with the baseline in the same run:
 *   baseline   a handshake whose key the listener holds (credential keys);
 *   refused    the first attempt: the PSK callback misses, starts the lookup and the handshake fails;
 *   fetched    from the refusal until the key is in memory (the database round trip);
 *   retry      the device's next handshake, which finds the key.
 * A device adds its own back-off between `refused` and `retry`; that is not measured here.
 *
 *   npm run build && node dist/bench/first-handshake.js [--devices 100]
 */
import * as net from 'net';
import * as path from 'path';
import { Pool } from 'pg';
import { dtls } from 'node-dtls-client';
import { PostgresDeviceSource } from '../lib/devices';
import { createDtlsSocket, type DtlsSocket } from '../lib/dtls';
import { CoapsController } from '../lib/keys';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startTempPostgres } = require(path.resolve(__dirname, '..', '..', 'scripts', 'pg-temp.js')) as {
  startTempPostgres(o: { port: number }): Promise<{ url: string; stop(): void }>;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** One handshake: resolves with its milliseconds and whether it completed. */
function handshake(port: number, identity: string, key: Buffer): Promise<{ ms: number; ok: boolean }> {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  return new Promise((resolve) => {
    const c = dtls.createSocket({
      type: 'udp4', address: '127.0.0.1', port, timeout: 3000,
      psk: { [identity]: key as unknown as string }, ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'],
    });
    let done = false;
    const end = (r: { ms: number; ok: boolean }) => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      try {
        c.close();
      } catch {
        // already closed
      }
      resolve(r);
    };
    // node-dtls-client may say nothing at all when the server ends the handshake: give up after its timeout.
    const guard = setTimeout(() => end({ ms: ms(), ok: false }), 4000);
    c.once('connected', () => end({ ms: ms(), ok: true }));
    c.once('error', () => end({ ms: ms(), ok: false }));
  });
}

async function bind(socket: DtlsSocket): Promise<number> {
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket.address().port;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--devices');
  const n = i > 0 ? Number(process.argv[i + 1]) : 100;
  const pg = await startTempPostgres({ port: await freePort() });
  const pool = new Pool({ connectionString: pg.url, max: 4 });
  const source = new PostgresDeviceSource({ pool });
  const log = { warn: () => undefined };
  try {
    await source.start();
    const keys = new Map<string, Buffer>();
    for (let d = 0; d < n; d++) keys.set(`fh-${d}`, Buffer.from(`${String(d).padStart(4, '0')}aabbccddeeff00112233445566778899`.slice(0, 32), 'hex'));
    for (const [id, key] of keys) {
      await pool.query('INSERT INTO lwm2m_devices (endpoint, psk_identity, psk_key) VALUES ($1, $2, $3)', [id, id, key]);
    }
    const inMemory = new CoapsController(new Map([...keys].map(([id, key]) => [id, { key }])), log, () => '');
    const fromDb = new CoapsController(new Map(), log, () => '');
    fromDb.useSource(source);
    const memSocket = createDtlsSocket({ psk: inMemory.psk });
    const dbSocket = createDtlsSocket({ psk: fromDb.psk });
    const memPort = await bind(memSocket);
    const dbPort = await bind(dbSocket);
    const rows = { baseline: [] as number[], refused: [] as number[], fetched: [] as number[], retry: [] as number[], firstContact: [] as number[] };
    let failures = 0;
    for (const [id, key] of keys) {
      const base = await handshake(memPort, id, key);
      const found = fromDb.stats().prefetch.found;
      const first = await handshake(dbPort, id, key);
      const t = process.hrtime.bigint();
      const giveUp = Date.now() + 3000;
      while (fromDb.stats().prefetch.found === found && fromDb.stats().prefetch.errors === 0 && Date.now() < giveUp) await new Promise((r) => setImmediate(r));
      const fetched = Number(process.hrtime.bigint() - t) / 1e6;
      const retry = await handshake(dbPort, id, key);
      if (!base.ok || first.ok || !retry.ok) {
        failures++;
        process.stderr.write(`${id}: baseline ${base.ok} first ${first.ok} retry ${retry.ok} ${JSON.stringify(fromDb.stats())}\n`);
      }
      rows.baseline.push(base.ms);
      rows.refused.push(first.ms);
      rows.fetched.push(fetched);
      rows.retry.push(retry.ms);
      rows.firstContact.push(first.ms + fetched + retry.ms);
    }
    const med = pct(rows.baseline, 50);
    process.stdout.write(`first handshake of a device not in memory (PostgreSQL), ${n} devices, node ${process.version}\n`);
    process.stdout.write(`unexpected outcomes: ${failures}\n`);
    process.stdout.write('row            median ms   p95 ms   median / baseline\n');
    for (const [name, xs] of Object.entries(rows)) {
      process.stdout.write(`${name.padEnd(14)} ${pct(xs, 50).toFixed(2).padStart(9)} ${pct(xs, 95).toFixed(2).padStart(8)}   ${(pct(xs, 50) / med).toFixed(2)}\n`);
    }
    process.stdout.write(`prefetch stats: ${JSON.stringify(fromDb.stats())}\n`);
    inMemory.release();
    fromDb.release();
    await new Promise<void>((r) => memSocket.close(() => r()));
    await new Promise<void>((r) => dbSocket.close(() => r()));
  } finally {
    await source.close();
    await pool.end();
    pg.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});

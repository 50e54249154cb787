/**
 * `npm run bench -- --scale` (issue 16), slow and apart from the main bench: what PostgreSQL and nginx cost.
 *
 * 1. A 1,000,000-row device table in PostgreSQL: the PostgresDeviceSource's start time and memory, cold
 *    (database) and warm (cache) lookup times by endpoint, identity and IMEI; against that, loading every
 *    row into a MemoryDeviceSource (time and heap).
 * 2. The first CoAPs bootstrap of a device whose PSK identity is not in memory (one failed handshake, a
 *    prefetch, the device's retry) against one that is.
 * 3. The same storm of new devices (half CoAP, half CoAPs) against one Node-RED instance directly, one
 *    behind nginx, and two behind nginx, all with devices and audit in PostgreSQL.
 * Prints one table; run with `node --expose-gc` for the memory figures (the npm script does).
 */
import * as path from 'path';
import { Pool } from 'pg';
import { DEVICES_SCHEMA, MemoryDeviceSource, PostgresDeviceSource, recordFromRow, type DeviceRecord } from '../lib/devices';

const root = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lab = require(path.join(root, 'scripts', 'scale-lab.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { storm } = require(path.join(root, 'scripts', 'scale-test.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startTempPostgres } = require(path.join(root, 'scripts', 'pg-temp.js'));

const rows: Array<[string, string]> = [];
const row = (what: string, value: string) => {
  rows.push([what, value]);
  process.stdout.write(`${what.padEnd(70)} ${value}\n`);
};
const heapMiB = () => {
  (global as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))];
};

async function timed(keys: string[], f: (k: string) => Promise<unknown>): Promise<string> {
  const ms: number[] = [];
  for (const k of keys) {
    const t = process.hrtime.bigint();
    await f(k);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return `p50 ${pct(ms, 50).toFixed(3)} ms, p99 ${pct(ms, 99).toFixed(3)} ms`;
}

async function millionRows(url: string, count: number): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 4 });
  try {
    await pool.query(DEVICES_SCHEMA);
    let t = Date.now();
    await pool.query('ALTER TABLE lwm2m_devices DISABLE TRIGGER USER');
    await pool.query(
      `INSERT INTO lwm2m_devices SELECT 'meter-' || n, 'id-' || n, decode(md5(n::text), 'hex'), (350000000000000 + n)::text,
         (8949000000000000000 + n)::text, 'default', jsonb_build_object('site', 'S' || (n % 100), 'apn', 'iot.example')
       FROM generate_series(1, $1) n`,
      [count],
    );
    await pool.query('ALTER TABLE lwm2m_devices ENABLE TRIGGER USER');
    await pool.query('ANALYZE lwm2m_devices');
    row(`${count.toLocaleString('en')} device rows: INSERT … generate_series (setup, not the package)`, `${((Date.now() - t) / 1000).toFixed(1)} s`);

    const h0 = heapMiB();
    t = Date.now();
    const src = new PostgresDeviceSource({ pool, cacheSize: 100_000, createSchema: false });
    await src.start();
    row('PostgresDeviceSource: start (LISTEN, nothing loaded)', `${Date.now() - t} ms, heap +${(heapMiB() - h0).toFixed(1)} MiB`);
    const pick = (n: number) => Array.from({ length: n }, () => 1 + Math.floor(Math.random() * count));
    const ns = pick(2000);
    row('lookup by endpoint, cold (database, 2,000 random)', await timed(ns.map((n) => `meter-${n}`), (k) => src.lookup('endpoint', k)));
    row('lookup by endpoint, warm (cache)', await timed(ns.map((n) => `meter-${n}`), (k) => src.lookup('endpoint', k)));
    row('lookup by PSK identity, cold', await timed(pick(2000).map((n) => `id-${n}`), (k) => src.lookup('identity', k)));
    row('lookup by IMEI, cold', await timed(pick(2000).map((n) => String(350000000000000 + n)), (k) => src.lookup('imei', k)));
    row('lookup of an endpoint not in the table, cold', await timed(pick(500).map((n) => `nobody-${n}`), (k) => src.lookup('endpoint', k)));
    const hFill = heapMiB();
    for (const n of pick(100_000)) await src.lookup('endpoint', `meter-${n}`);
    row('PostgresDeviceSource: heap with a full cache (100,000 entries)', `+${(heapMiB() - hFill + 0).toFixed(1)} MiB (${src.stats().cached} entries)`);
    t = Date.now();
    await pool.query(`UPDATE lwm2m_devices SET profile = 'gold' WHERE endpoint = 'meter-1'`);
    await src.lookup('endpoint', 'meter-1');
    const t1 = Date.now();
    while ((await src.lookup('endpoint', 'meter-1'))?.profile !== 'gold' && Date.now() - t1 < 5000) await new Promise((r) => setTimeout(r, 1));
    row('UPDATE to the changed row seen by a lookup (NOTIFY)', `${Date.now() - t} ms`);
    await src.close();

    // The alternative: load every row into memory (what the file device table does).
    const h1 = heapMiB();
    t = Date.now();
    const all: DeviceRecord[] = [];
    let last = '';
    for (;;) {
      const r = await pool.query(
        'SELECT endpoint, psk_identity, psk_key, imei, iccid, profile, template_values FROM lwm2m_devices WHERE endpoint > $1 ORDER BY endpoint LIMIT 50000',
        [last],
      );
      if (r.rows.length === 0) break;
      for (const x of r.rows) all.push(recordFromRow(x));
      last = r.rows[r.rows.length - 1].endpoint;
    }
    const mem = new MemoryDeviceSource(all);
    all.length = 0;
    row(`MemoryDeviceSource: load all ${mem.size.toLocaleString('en')} rows`, `${((Date.now() - t) / 1000).toFixed(1)} s, heap +${(heapMiB() - h1).toFixed(0)} MiB`);
    row('MemoryDeviceSource: lookup by endpoint', await timed(ns.map((n) => `meter-${n}`), (k) => mem.lookup('endpoint', k)));
    await mem.close();
  } finally {
    await pool.end();
  }
}

async function firstHandshake(): Promise<void> {
  const devices = lab.fleetDevices(40, 'hs').filter((d: { secure: boolean }) => d.secure);
  const db = await lab.startDatabase(devices);
  const ports = [await lab.freeUdpPort(), await lab.freeUdpPort()];
  const red = await lab.startInstance({ name: 'hs', pgUrl: db.url, coapPort: ports[0], coapsPort: ports[1] });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { client } = require(path.join(root, 'dist', 'lib'));
    const once = (d: { endpoint: string; pskIdentity: string; pskKey: string }, minHoldOffMs: number) =>
      new Promise<number>((resolve, reject) => {
        const c = new client.SimulatedClient({
          endpoint: d.endpoint,
          trace: false,
          bootstrapServer: { uri: `coaps://127.0.0.1:${ports[1]}`, pskIdentity: d.pskIdentity, pskKey: d.pskKey },
          timing: { minHoldOffMs, holdOffMs: 0, jitter: 0, requestTimeoutMs: 5000, bootstrapTimeoutMs: 8000 },
        });
        const t = Date.now();
        let started = 0;
        c.on('state', (e: { state: string }) => {
          if (e.state === 'bootstrapping' && !started) started = Date.now();
        });
        c.on('warning', () => undefined);
        c.on('bootstrapped', () => {
          resolve(Date.now() - (started || t));
          void c.stop(false);
        });
        setTimeout(() => reject(new Error('no bootstrap in 20 s')), 20000).unref();
        void c.start();
      });
    for (const hold of [1000, 100]) {
      const cold: number[] = [];
      const warm: number[] = [];
      for (const d of devices.slice(hold === 1000 ? 0 : 10, hold === 1000 ? 10 : 20)) {
        cold.push(await once(d, hold));
        warm.push(await once(d, hold));
      }
      row(`CoAPs bootstrap, identity not in memory (client hold-off ${hold} ms, retry 2x later), 10 devices`, `median ${pct(cold, 50)} ms`);
      row(`CoAPs bootstrap, same identities again (in the cache)`, `median ${pct(warm, 50)} ms`);
    }
  } finally {
    await red.stop();
    db.stop();
  }
}

async function balancer(count: number): Promise<void> {
  for (const setup of ['one instance, direct, no database', 'one instance, direct', 'one instance behind nginx', 'two instances behind nginx'] as const) {
    const devices = lab.fleetDevices(count, `lb${rows.length}`);
    const db = await lab.startDatabase(devices);
    const parts: Array<() => unknown> = [() => db.stop()];
    try {
      const n = setup.startsWith('two') ? 2 : 1;
      const inst: Array<{ coapPort: number; coapsPort: number; stop(): Promise<void> }> = [];
      for (let i = 0; i < n; i++) {
        const noDbDevices = setup.endsWith('no database') ? devices : undefined;
        inst.push(await lab.startInstance({ name: `i${i}`, pgUrl: db.url, coapPort: await lab.freeUdpPort(), coapsPort: await lab.freeUdpPort(), noDbDevices }));
        parts.unshift(() => inst[i].stop());
      }
      let coap = inst[0].coapPort;
      let coaps = inst[0].coapsPort;
      if (setup.includes('nginx')) {
        const lb = [await lab.freeUdpPort(), await lab.freeUdpPort()];
        const ng = await lab.startNginx({ coapPort: lb[0], coapsPort: lb[1], coapUpstreams: inst.map((x) => x.coapPort), coapsUpstreams: inst.map((x) => x.coapsPort) });
        parts.unshift(() => ng.stop());
        [coap, coaps] = lb;
      }
      const r = await storm(devices, { coapPort: coap, coapsPort: coaps, concurrency: 50, limitMs: 300_000 });
      const times = [...r.done.values()] as number[];
      row(
        `storm ${count} new devices (half CoAPs), conc. 50: ${setup}`,
        `${((r.done.size * 1000) / r.ms).toFixed(0)} bootstraps/s, p50 ${pct(times, 50)} ms, p99 ${pct(times, 99)} ms, ${r.done.size}/${count} done`,
      );
    } finally {
      for (const p of parts) await Promise.resolve(p()).catch(() => undefined);
    }
  }
}

export async function runScaleBench(opts: { devices: number; rows: number; parts: string[] }): Promise<void> {
  process.stdout.write(`Node ${process.version}, ${require('os').cpus().length} cores${(global as { gc?: unknown }).gc ? '' : ' (no --expose-gc: heap figures are rough)'}\n`);
  if (opts.parts.includes('rows')) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const net = require('net');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = srv.address().port;
    await new Promise<void>((r) => srv.close(r));
    const pg = await startTempPostgres({ port });
    try {
      await millionRows(pg.url, opts.rows);
    } finally {
      pg.stop();
    }
  }
  if (opts.parts.includes('handshake')) await firstHandshake();
  if (opts.parts.includes('storm')) await balancer(opts.devices);
}

if (require.main === module) {
  const arg = (name: string, def: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : def;
  };
  runScaleBench({
    devices: Number(arg('--devices', '1000')),
    rows: Number(arg('--rows', '1000000')),
    parts: arg('--parts', 'rows,handshake,storm').split(','),
  }).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}

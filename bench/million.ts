/**
 * Child process of `npm run bench` (issue 17): a device table of a million rows. For the file table (CSV and
 * JSON, lib/devices/file-table.ts) and the library's MemoryDeviceSource built from the same rows: load time,
 * heap and RSS after a full GC, lookup latency by endpoint and by PSK identity (p50/p99 of single lookups),
 * and a hot reload of the file (one more row per 1,000 and a new profile) while lookups keep coming: how long
 * until the new rows answered, how many lookups failed meanwhile, and the longest a lookup waited.
 *
 * Runs alone in its process (started with --expose-gc), so heap and RSS deltas are this table's.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { DeviceTable, MemoryDeviceSource, type DeviceKeyKind, type DeviceRecord, type DeviceSource } from '../lib/devices';
import { serve } from './ipc';
import { percentile } from './stats';

export interface MillionRow {
  source: string;
  rows: number;
  fileMB?: number;
  loadS: number;
  heapMB: number;
  rssMB: number;
  /** µs */
  endpoint: { p50: number; p99: number };
  identity: { p50: number; p99: number };
  reload?: {
    /** From the file change to the new rows answering, s. */
    seconds: number;
    lookups: number;
    failed: number;
    /** The longest single lookup during the reload, ms. */
    maxLookupMs: number;
    /** The event loop's longest delay during the reload, ms. */
    maxLoopDelayMs: number;
  };
}

export interface MillionReport {
  rows: number;
  results: MillionRow[];
  notes: string[];
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function settle(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage.rss() };
}

const MB = 1048576;
const endpointOf = (i: number) => `urn:imei:${String(350000000000000 + i)}`;
const identityOf = (i: number) => `psk-${i.toString(36)}-gw`;
const keyOf = (i: number) => (0x1000000 + i).toString(16).padStart(32, 'a');

/** Rows of a realistic table: endpoint, PSK identity and key, IMEI, profile, APN. */
function writeTable(file: string, rows: number, format: 'csv' | 'json', profile: string): void {
  const fd = fs.openSync(file + '.tmp', 'w');
  const chunk: string[] = [];
  const flush = () => {
    fs.writeSync(fd, chunk.join(''));
    chunk.length = 0;
  };
  if (format === 'csv') chunk.push('endpoint,pskIdentity,pskKey,imei,profile,apn\n');
  else chunk.push('[\n');
  for (let i = 0; i < rows; i++) {
    const imei = String(350000000000000 + i);
    if (format === 'csv') chunk.push(`${endpointOf(i)},${identityOf(i)},${keyOf(i)},${imei},${profile},iot.example\n`);
    else chunk.push(`${i ? ',\n' : ''}${JSON.stringify({ endpoint: endpointOf(i), pskIdentity: identityOf(i), pskKey: keyOf(i), imei, profile, apn: 'iot.example' })}`);
    if (chunk.length >= 10_000) flush();
  }
  if (format === 'json') chunk.push('\n]\n');
  flush();
  fs.closeSync(fd);
  fs.renameSync(file + '.tmp', file);
}

/** p50/p99 of `n` single lookups of random rows, µs. */
async function lookupTimes(src: DeviceSource, kind: DeviceKeyKind, rows: number, n: number): Promise<{ p50: number; p99: number }> {
  const t = new Float64Array(n);
  let wrong = 0;
  for (let k = 0; k < n; k++) {
    const i = Math.floor(Math.random() * rows);
    const key = kind === 'endpoint' ? endpointOf(i) : identityOf(i);
    const t0 = performance.now();
    const r = await src.lookup(kind, key);
    t[k] = (performance.now() - t0) * 1000;
    if (r?.endpoint !== endpointOf(i)) wrong++;
  }
  if (wrong) throw new Error(`${wrong} of ${n} lookups by ${kind} found the wrong row or none`);
  t.sort();
  return { p50: round2(percentile(t, 50)), p99: round2(percentile(t, 99)) };
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

async function fileTable(dir: string, rows: number, format: 'csv' | 'json', n: number): Promise<MillionRow> {
  const file = path.join(dir, `devices.${format}`);
  writeTable(file, rows, format, 'meters');
  const before = await settle();
  const t0 = performance.now();
  // As a node runs it: a directory watch and the mtime check at most once a second.
  const table = new DeviceTable({ file, keyColumn: 'endpoint' });
  await table.start();
  const loadS = (performance.now() - t0) / 1000;
  if (table.lastError) throw table.lastError;
  if (table.count !== rows) throw new Error(`${format}: ${table.count} rows loaded of ${rows}`);
  const after = await settle();
  const row: MillionRow = {
    source: `file table (${format.toUpperCase()})`,
    rows,
    fileMB: fs.statSync(file).size / MB,
    loadS,
    heapMB: (after.heap - before.heap) / MB,
    rssMB: (after.rss - before.rss) / MB,
    endpoint: await lookupTimes(table, 'endpoint', rows, n),
    identity: await lookupTimes(table, 'identity', rows, n),
  };

  // Hot reload: every 1,000th row more and another profile; lookups keep coming until the new rows answer.
  const more = Math.ceil(rows / 1000);
  writeTable(file, rows + more, format, 'meters-v2');
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const r0 = performance.now();
  let lookups = 0;
  let failed = 0;
  let maxLookup = 0;
  for (;;) {
    const i = Math.floor(Math.random() * rows);
    const t = performance.now();
    let rec: DeviceRecord | undefined;
    try {
      rec = await table.lookup(lookups % 2 ? 'identity' : 'endpoint', lookups % 2 ? identityOf(i) : endpointOf(i));
    } catch {
      rec = undefined;
    }
    maxLookup = Math.max(maxLookup, performance.now() - t);
    lookups++;
    if (rec?.endpoint !== endpointOf(i)) failed++;
    if (rec?.profile === 'meters-v2') break;
    if (lookups % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  const seconds = (performance.now() - r0) / 1000;
  loop.disable();
  if (table.count !== rows + more) throw new Error(`${format}: ${table.count} rows after the reload, expected ${rows + more}`);
  row.reload = { seconds, lookups, failed, maxLookupMs: maxLookup, maxLoopDelayMs: loop.max / 1e6 };
  await table.close();
  fs.rmSync(file, { force: true });
  return row;
}

async function memorySource(rows: number, n: number): Promise<MillionRow> {
  const before = await settle();
  const t0 = performance.now();
  const records: DeviceRecord[] = [];
  for (let i = 0; i < rows; i++) {
    const values: Record<string, string> = { endpoint: endpointOf(i), pskIdentity: identityOf(i), pskKey: keyOf(i), imei: String(350000000000000 + i), profile: 'meters', apn: 'iot.example' };
    records.push({ endpoint: values.endpoint, identity: values.pskIdentity, pskKey: Buffer.from(values.pskKey, 'hex'), imei: values.imei, profile: 'meters', values });
  }
  const src = new MemoryDeviceSource(records);
  records.length = 0;
  const loadS = (performance.now() - t0) / 1000;
  const after = await settle();
  const row: MillionRow = {
    source: 'MemoryDeviceSource (records built in memory, no file)',
    rows,
    loadS,
    heapMB: (after.heap - before.heap) / MB,
    rssMB: (after.rss - before.rss) / MB,
    endpoint: await lookupTimes(src, 'endpoint', rows, n),
    identity: await lookupTimes(src, 'identity', rows, n),
  };
  await src.close();
  return row;
}

serve({
  run: async (a: { rows: number; lookups?: number; memorySource?: boolean }): Promise<MillionReport> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-bench-million-'));
    const n = a.lookups ?? 20_000;
    const results: MillionRow[] = [];
    try {
      results.push(await fileTable(dir, a.rows, 'csv', n));
      results.push(await fileTable(dir, a.rows, 'json', n));
      if (a.memorySource !== false) results.push(await memorySource(a.rows, n));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return {
      rows: a.rows,
      results,
      notes: [
        'Rows: endpoint, pskIdentity, pskKey (16 bytes hex), imei, profile, apn. Lookups: single awaited lookups of random rows. Heap and RSS: after a full GC, minus before the load, in a process of its own.',
        'Reload: the file is replaced (rename) by one with a row more per 1,000 and a new profile; lookups run back to back (yielding every 100) until one answers with the new profile. A file of 1 MiB or more is parsed in a worker thread while the old rows answer.',
      ],
    };
  },
  quit: () => setImmediate(() => process.exit(0)),
});

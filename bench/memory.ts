/**
 * `npm run bench`, memory of an edge gateway (issue 17): RSS of the demo process (Node-RED running the bench
 * flow, bench/server-red.ts) idle, at its peak during a storm of new devices, and a minute after it, for each
 * process setting compared (no flags at all, and what `npm start` sets). Each setting is a server process of
 * its own, started fresh; their storms run one after the other while the others idle.
 *
 * Idle: after start and a warm-up of a few hundred devices (JIT, schemas, first-use allocations), then quiet
 * for a few seconds; that is the process an operator leaves running.
 */
import * as path from 'path';
import { Child } from './ipc';
import { writeDeviceTable } from './scenario';
import type { StormArgs, StormResult } from './loadgen';
import type { ProbeReport } from './probe';

export interface MemorySetting {
  name: string;
  env: Record<string, string>;
  execArgv: string[];
}

export interface MemoryRow {
  setting: string;
  env: Record<string, string>;
  execArgv: string[];
  startRssMB: number;
  idleRssMB: number;
  peakRssMB: number;
  afterRssMB: number;
  /** afterRssMB / idleRssMB - 1 */
  afterOverIdle: number;
  heapAfterMB: number;
  devices: number;
  completed: number;
  failed: number;
  perSecond: number;
}

export interface MemoryReport {
  devices: number;
  /** Rows of the device table each server loads: only the devices of the memory storms. */
  tableRows?: number;
  waitS: number;
  budget: { peakMB: number; afterOverIdle: number };
  rows: MemoryRow[];
}

/** Devices that make a fresh server idle-warm before its storm. */
const WARM_DEVICES = 300;

/** The budget the README states for an edge gateway. */
export const RSS_BUDGET = { peakMB: 200, afterOverIdle: 0.2 };

/**
 * Nothing at all, and what scripts/start.js sets for the Node-RED process (see README "Performance"). Tried
 * and left out (one run each, 10,000 devices, 2 cores): MALLOC_ARENA_MAX=2 (peak 276 vs 246 MB without),
 * --max-semi-space-size=2 (idle 116 vs 140 MB, peak 262 MB), --optimize-for-size (peak 127 MB, but 414 vs
 * ~700 boots/s). --max-old-space-size=160/192/256 each peaked at 162-164 MB.
 */
export const MEMORY_SETTINGS: MemorySetting[] = [
  { name: 'no flags', env: {}, execArgv: [] },
  { name: 'npm start (edge gateway)', env: {}, execArgv: ['--max-old-space-size=256'] },
];

const MB = 1048576;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  setting: MemorySetting;
  child: Child;
  port: number;
  startRss: number;
  idleRss: number;
  storm?: StormResult;
  peakRss?: number;
  endedAt?: number;
}

async function rss(child: Child): Promise<{ rss: number; heap: number }> {
  const r = await child.call<{ rssBytes: number; heapUsedBytes: number }>('rss');
  return { rss: r.rssBytes, heap: r.heapUsedBytes };
}

export async function runMemory(o: {
  dist: string;
  loadgen: Child;
  /** A directory for the memory servers' own device table. */
  tmpDir: string;
  freePort: () => Promise<number>;
  devices: number;
  concurrency: number;
  pct: number;
  timeoutMs: number;
  waitS: number;
  settings?: MemorySetting[];
  log: (s: string) => void;
}): Promise<MemoryReport> {
  // BENCH_MEMORY_SETTINGS: a JSON list of { name, env, execArgv } to compare other settings.
  const settings = o.settings ?? (process.env.BENCH_MEMORY_SETTINGS ? (JSON.parse(process.env.BENCH_MEMORY_SETTINGS) as MemorySetting[]) : MEMORY_SETTINGS);
  const servers: Server[] = [];
  // A device table of only the devices these storms use, the same whatever else the bench runs: the bench's
  // shared table grows with its other parts (215,300 rows, then over 400,000 once the format storms ran three
  // rounds of 15,000), and a server that loads it carries it in its RSS.
  const tableRows = (WARM_DEVICES + o.devices) * settings.length;
  const tableFile = path.join(o.tmpDir, 'memory-devices.csv');
  writeDeviceTable(tableFile, tableRows);
  let next = 0;
  const alloc = (n: number): number => ((next += n), next - n);
  const storm = (s: Server, count: number): Promise<StormResult> => {
    const args: StormArgs = { host: '127.0.0.1', port: s.port, first: alloc(count), count, concurrency: o.concurrency, pct: o.pct, timeoutMs: o.timeoutMs };
    return o.loadgen.call<StormResult>('storm', args);
  };
  try {
    for (const setting of settings) {
      const port = await o.freePort();
      const child = Child.start(`Node-RED server (${setting.name})`, path.join(o.dist, 'server-red.js'), {
        execArgv: setting.execArgv,
        env: { ...setting.env, BENCH_CONFIG: JSON.stringify({ port, dmPort: 5783, tableFile, requestTimeoutS: 30, maxSessions: 50_000 }) },
      });
      await child.ready;
      const startRss = (await rss(child)).rss;
      servers.push({ setting, child, port, startRss, idleRss: 0 });
    }
    for (const s of servers) await storm(s, WARM_DEVICES);
    await sleep(5000);
    for (const s of servers) s.idleRss = (await rss(s.child)).rss;
    for (const s of servers) {
      o.log(`memory: ${o.devices} devices against the server with ${s.setting.name}`);
      await s.child.call('mark');
      s.storm = await storm(s, o.devices);
      s.peakRss = (await s.child.call<ProbeReport>('report')).peakRssBytes;
      s.endedAt = Date.now();
    }
    const rows: MemoryRow[] = [];
    for (const s of servers) {
      await sleep(Math.max(0, s.endedAt! + o.waitS * 1000 - Date.now()));
      const after = await rss(s.child);
      const r = s.storm!;
      rows.push({
        setting: s.setting.name,
        env: s.setting.env,
        execArgv: s.setting.execArgv,
        startRssMB: s.startRss / MB,
        idleRssMB: s.idleRss / MB,
        peakRssMB: s.peakRss! / MB,
        afterRssMB: after.rss / MB,
        afterOverIdle: after.rss / s.idleRss - 1,
        heapAfterMB: after.heap / MB,
        devices: o.devices,
        completed: r.completed,
        failed: r.failed,
        perSecond: r.perSecond,
      });
    }
    return { devices: o.devices, tableRows, waitS: o.waitS, budget: RSS_BUDGET, rows };
  } finally {
    await Promise.all(servers.map((s) => s.child.stop()));
  }
}

/** Does a row keep the budget? */
export function withinBudget(r: MemoryRow, b = RSS_BUDGET): boolean {
  return r.failed === 0 && r.peakRssMB < b.peakMB && r.afterOverIdle <= b.afterOverIdle;
}

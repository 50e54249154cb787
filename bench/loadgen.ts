/**
 * Child process: the load generator. Runs storms of lean devices (bench/device.ts), the floor client
 * (bench/floor.ts) and the pending-session holder (bench/holder.ts) against whatever server the parent
 * points it at, and reports latencies and failure causes.
 */
import type { HandlerConfig } from '../lib/client/bootstrap-handler';
import { FaultState } from '../lib/client/faults';
import { factoryStore, resolveOptions } from '../lib/client/options';
import { decode, encode } from '../lib/codec';
import { DeviceSlot, type DeviceResult, type WireStep } from './device';
import { runFloor } from './floor';
import { PendingHolder } from './holder';
import { serve } from './ipc';
import { endpointName } from './scenario';
import { summarize, type LatencySummary } from './stats';

export interface StormArgs {
  host: string;
  port: number;
  /** Devices first .. first+count-1 (bench-dev-N). */
  first: number;
  count: number;
  concurrency: number;
  pct: number;
  timeoutMs: number;
  /** Trace the first device's datagrams (the floor replays them). */
  trace?: boolean;
}

export interface StormResult {
  completed: number;
  failed: number;
  causes: Record<string, number>;
  latency: LatencySummary;
  wallS: number;
  perSecond: number;
  trace?: WireStep[];
  strays: number;
  loadgenCpuS: number;
}

function handlerConfig(pct: number): HandlerConfig {
  const all = [112, 110, 11544, 11542];
  return {
    version: '1.2',
    formats: [pct, ...all.filter((f) => f !== pct)],
    codec: { encode: (cf, p, n, m) => encode(cf, p, n, m), decode: (cf, p, b, m) => decode(cf, p, b, m) },
    faults: new FaultState(),
  };
}

async function storm(a: StormArgs): Promise<StormResult> {
  const opts = resolveOptions({ endpoint: 'bench-device', version: '1.2', bootstrapServer: { uri: `coap://${a.host}:${a.port}` } });
  const base = factoryStore(opts);
  const ctx = { host: a.host, port: a.port, base, cfg: handlerConfig(a.pct), timeoutMs: a.timeoutMs, ackTimeoutMs: 2000 };
  const n = Math.min(a.concurrency, a.count);
  const slots = await Promise.all(Array.from({ length: n }, () => DeviceSlot.open(ctx)));
  const latencies: number[] = [];
  const causes: Record<string, number> = {};
  let failed = 0;
  let next = 0;
  let trace: WireStep[] | undefined = a.trace ? [] : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    slots.map(async (slot) => {
      while (next < a.count) {
        const i = next++;
        const t = i === 0 ? trace : undefined;
        const r: DeviceResult = await slot.bootstrap(endpointName(a.first + i), a.pct, { trace: t });
        if (r.ok) latencies.push(r.ms);
        else {
          failed++;
          const c = r.cause ?? 'unknown';
          causes[c] = (causes[c] ?? 0) + 1;
          if (t) trace = undefined;
        }
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const strays = slots.reduce((s, x) => s + x.strays, 0);
  await Promise.all(slots.map((s) => s.close()));
  const r: StormResult = {
    completed: latencies.length,
    failed,
    causes,
    latency: summarize(latencies),
    wallS,
    perSecond: latencies.length / wallS,
    strays,
    loadgenCpuS: (cpu.user + cpu.system) / 1e6,
  };
  if (trace) r.trace = trace;
  return r;
}

let holder: PendingHolder | undefined;

serve({
  storm: (a: StormArgs) => storm(a),
  floor: async (a: { host: string; port: number; script: WireStep[]; count: number; concurrency: number }) => {
    const r = await runFloor(a.host, a.port, a.script, a.count, a.concurrency, 10_000);
    return { completed: r.completed, failed: r.failed, latency: summarize(r.latencies), wallS: r.wallS, perSecond: r.completed / r.wallS };
  },
  /** Opens `count` pending sessions and resolves when each has a request in flight (or after waitMs). */
  hold: async (a: { host: string; port: number; first: number; count: number; sockets: number; waitMs: number }) => {
    holder = await PendingHolder.open(a.host, a.port, a.sockets);
    const t0 = performance.now();
    await holder.send(Array.from({ length: a.count }, (_, i) => endpointName(a.first + i)));
    const h = holder;
    while (h.pending < a.count && performance.now() - t0 < a.waitMs) await new Promise((r) => setTimeout(r, 50));
    return { pending: h.pending, accepted: h.accepted, refused: Object.fromEntries(h.refused), ms: performance.now() - t0 };
  },
  release: async () => {
    if (!holder) return { released: 0 };
    const n = holder.pending;
    await holder.release();
    await new Promise((r) => setTimeout(r, 300));
    await holder.release(); // retransmissions that crossed the first RSTs
    await holder.close();
    holder = undefined;
    return { released: n };
  },
  quit: () => setImmediate(() => process.exit(0)),
});

/**
 * Child process: the load generator. Runs storms of lean devices (bench/device.ts), the floor client
 * (bench/floor.ts) and the pending-session holder (bench/holder.ts) against whatever server the parent
 * points it at, and reports latencies and failure causes.
 */
import type { HandlerConfig } from '../lib/client/bootstrap-handler';
import { FaultState } from '../lib/client/faults';
import { factoryStore, resolveOptions } from '../lib/client/options';
import { decode, encode } from '../lib/codec';
import { cCoapStorm, coapClient, type CStormArgs } from './c-loadgen';
import { DeviceSlot, type DeviceContext, type DeviceResult, type WireStep } from './device';
import { dtlsStorm, type DtlsStormArgs } from './dtls-client';
import { BENCH_PSK_HEX } from './dtls-bench';
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
  /** POST /bs that reused, from the same port, the Message ID of an earlier device's within EXCHANGE_LIFETIME. */
  idReuses: number;
  /** Piggy-backed answers a device got for its Message ID with another device's token (the server's stale cache). */
  staleAnswers: number;
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

function deviceContext(a: { host: string; port: number; pct: number; timeoutMs: number }, scheme = 'coap'): DeviceContext {
  const uri = `${scheme}://${a.host}:${a.port}`;
  // Over DTLS the factory Bootstrap-Server account is PSK mode and needs its identity and key (check C6).
  const psk = scheme === 'coaps' ? { pskIdentity: 'bench-dev', pskKey: BENCH_PSK_HEX } : {};
  const opts = resolveOptions({ endpoint: 'bench-device', version: '1.2', bootstrapServer: { uri, ...psk } });
  return { host: a.host, port: a.port, base: factoryStore(opts), cfg: handlerConfig(a.pct), timeoutMs: a.timeoutMs, ackTimeoutMs: 2000 };
}

/**
 * The public ports of a carrier-grade NAT: slots (one UDP port each) are kept from storm to storm and
 * reused device after device, each device with a random first Message ID, so a server sees what a NAT
 * shows it: many devices from few address:port pairs (issue 20). A slot whose device failed is closed
 * and replaced by a new port (the failed session may still send to the old one).
 */
const natPool: DeviceSlot[] = [];

async function storm(a: StormArgs): Promise<StormResult> {
  const ctx = deviceContext(a);
  const n = Math.min(a.concurrency, a.count);
  const pooled = natPool.splice(0, n);
  for (const s of pooled) s.retarget(ctx);
  const opened = await Promise.all(Array.from({ length: n - pooled.length }, () => DeviceSlot.open(ctx)));
  const slots = [...pooled, ...opened];
  const latencies: number[] = [];
  const causes: Record<string, number> = {};
  let failed = 0;
  let next = 0;
  let strays = 0;
  let idReuses = 0;
  let staleAnswers = 0;
  const count = (slot: DeviceSlot): void => {
    const c = slot.takeCounts();
    strays += c.strays;
    idReuses += c.idReuses;
    staleAnswers += c.staleAnswers;
  };
  for (const s of slots) s.takeCounts();
  let trace: WireStep[] | undefined = a.trace ? [] : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    slots.map(async (first, k) => {
      let slot = first;
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
          // The failed device's session may live on at the server: the next device gets a new socket,
          // so that session's requests cannot reach it.
          count(slot);
          await slot.close();
          slot = await DeviceSlot.open(ctx);
          slots[k] = slot;
        }
      }
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  for (const s of slots) count(s);
  natPool.push(...slots);
  const r: StormResult = {
    completed: latencies.length,
    failed,
    causes,
    latency: summarize(latencies),
    wallS,
    perSecond: latencies.length / wallS,
    strays,
    idReuses,
    staleAnswers,
    loadgenCpuS: (cpu.user + cpu.system) / 1e6,
  };
  if (trace) r.trace = trace;
  return r;
}

let holder: PendingHolder | undefined;

serve({
  storm: (a: StormArgs) => storm(a),
  /** Which plain-CoAP client the storms can use: the C one, or why not. */
  cclient: () => coapClient(),
  /** A storm (or, with a script, a floor run) with the C client. */
  cstorm: (a: CStormArgs) => {
    const c = coapClient();
    if (!c.binary) throw new Error(c.reason);
    return cCoapStorm(c.binary, a);
  },
  dtls: (a: DtlsStormArgs) => dtlsStorm(a, deviceContext(a, 'coaps')),
  floor: async (a: { host: string; port: number; script: WireStep[]; count: number; concurrency: number }) => {
    const r = await runFloor(a.host, a.port, a.script, a.count, a.concurrency, 10_000);
    return { completed: r.completed, failed: r.failed, latency: summarize(r.latencies), wallS: r.wallS, perSecond: r.completed / r.wallS, loadgenCpuS: r.loadgenCpuS };
  },
  /** Opens `count` pending sessions and resolves when each has a request in flight (or after waitMs). */
  hold: async (a: { host: string; port: number; first: number; count: number; sockets: number; waitMs: number }) => {
    holder = await PendingHolder.open(a.host, a.port, a.sockets);
    const t0 = performance.now();
    const h = holder;
    await h.send(Array.from({ length: a.count }, (_, i) => endpointName(a.first + i)), a.waitMs);
    while (h.pending < a.count && performance.now() - t0 < a.waitMs) await new Promise((r) => setTimeout(r, 50));
    return { pending: h.pending, accepted: h.accepted, unacknowledged: h.unacknowledged, refused: Object.fromEntries(h.refused), ms: performance.now() - t0 };
  },
  release: async () => {
    if (!holder) return { released: 0 };
    const n = holder.pending;
    const rst = await holder.release();
    await holder.close();
    holder = undefined;
    return { released: n, rst };
  },
  quit: () => setImmediate(() => process.exit(0)),
});

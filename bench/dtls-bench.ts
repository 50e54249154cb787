/**
 * DTLS figures: the raw handshake rate of the addon's DtlsSocket (no CoAP), then the same number of
 * DTLS-PSK (CCM_8) bootstraps through the library over the same DtlsSocket, then through the demo flow
 * (bench/flow.ts) in the real Node-RED runtime with a CoAPs listener whose PSK keys come from a device
 * table file. All three are driven by the same DTLS client in the load generator (the C client of bench/c when
 * it builds, else node-dtls-client: see dtls-client.ts) at the same concurrency, one source address per device,
 * each against a server process of its own.
 */
import * as dgram from 'dgram';
import * as path from 'path';
import { Child } from './ipc';
import type { DtlsStormResult } from './dtls-client';
import type { ProbeReport } from './probe';
import type { ProfileSummary, StormRow } from './results';
import { writePskTable } from './scenario';
import { round } from './stats';

export const BENCH_PSK_HEX = '000102030405060708090a0b0c0d0e0f';

/**
 * Warm-up bootstraps per DTLS server before its reported storm: three times the storm's devices, at most
 * max(1,500, devices) (a 2,000-device storm gets 2,000). Each DTLS
 * row is a fresh server process; with a warm-up of 100 the library's reported storm still paid V8's
 * optimising compiles of the whole bootstrap path (compiler threads count in the server's CPU): the same
 * 500-device storm cost 1.48 ms of server CPU per bootstrap after 100 warm-up bootstraps and 0.83-0.95 ms after
 * 1100-1600, at 460/s against 900/s. The plain-CoAP servers are warmed with 300 per format and storms before
 * they are measured, so the DTLS rows now are too ("warm runtime" holds for every row).
 */
export function dtlsWarm(devices: number): number {
  return Math.min(3 * devices, Math.max(1500, devices));
}

/** Device-table rows the DTLS runs use: three servers (warm-up and storm each), and the profiled storm. */
export function dtlsDeviceRows(devices: number, profile: boolean): number {
  return 3 * (devices + dtlsWarm(devices)) + (profile ? devices : 0);
}

export interface DtlsFigures {
  note: string;
  /** Library over DTLS-PSK / raw handshakes. */
  ratio?: number;
  /** Node-RED flow over CoAPs / raw handshakes (the system under test). */
  nodeRedRatio?: number;
  raw?: StormRow;
  library?: StormRow;
  nodeRed?: StormRow;
  /** Warnings and errors Node-RED logged during the CoAPs run (by message). */
  nodeRedLogged?: Record<string, number>;
  [k: string]: unknown;
}

type Mode = 'raw' | 'lib' | 'red';

const LABELS: Record<Mode, string> = { raw: 'DTLS handshakes (raw)', lib: 'library over DTLS-PSK', red: 'node-red over DTLS-PSK' };

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The server of one mode: server-dtls.js (raw, lib) or the Node-RED runtime with the CoAPs flow (red). */
async function startServer(mode: Mode, a: { tableFile: string; first: number; warmFirst: number; devices: number }): Promise<{ server: Child; port: number }> {
  if (mode !== 'red') {
    const server = Child.start(`DTLS ${mode} server`, path.join(__dirname, 'server-dtls.js'), {
      env: { BENCH_CONFIG: JSON.stringify({ mode, tableFile: a.tableFile, dmPort: 5784 }) },
    });
    const { port } = (await server.ready) as { port: number };
    return { server, port };
  }
  // The keys of exactly this run's devices (warm-up and storm), next to the device table.
  const pskTableFile = path.join(path.dirname(a.tableFile), 'psk-keys.csv');
  writePskTable(pskTableFile, Math.min(a.first, a.warmFirst), Math.max(a.first + a.devices, a.warmFirst + dtlsWarm(a.devices)) - Math.min(a.first, a.warmFirst), BENCH_PSK_HEX);
  const port = await freeUdpPort();
  const server = Child.start('Node-RED CoAPs server', path.join(__dirname, 'server-red.js'), {
    env: { BENCH_CONFIG: JSON.stringify({ port, dmPort: 5784, tableFile: a.tableFile, pskTableFile, requestTimeoutS: 30, maxSessions: 50_000 }) },
  });
  await server.ready;
  return { server, port };
}

async function one(
  mode: Mode,
  a: { loadgen: Child; tableFile: string; first: number; warmFirst: number; profileFirst?: number; profileFile?: string; onProfile?: (p: ProfileSummary) => void; onLogged?: (l: Record<string, number>) => void; onClient?: (c: string) => void; devices: number; concurrency: number; pct: number; format: string },
): Promise<StormRow> {
  const { server, port } = await startServer(mode, a);
  let client = '';
  try {
    // The load generator's 'lib' mode is a bootstrapping device; the server decides what answers it.
    const args = { mode: mode === 'raw' ? 'raw' : 'lib', host: '127.0.0.1', port, first: a.first, count: a.devices, concurrency: a.concurrency, pct: a.pct, timeoutMs: 30_000, key: BENCH_PSK_HEX };
    // Warm-up (not reported): JIT, the profile schema compiled, OpenSSL contexts; devices of the next run.
    await a.loadgen.call<DtlsStormResult>('dtls', { ...args, count: dtlsWarm(a.devices), first: a.warmFirst });
    if (mode === 'red') await server.call('clearLog');
    await server.call('mark');
    const r = await a.loadgen.call<DtlsStormResult>('dtls', args);
    client = r.client;
    const p = await server.call<ProbeReport>('report');
    if (mode === 'red') a.onLogged?.((await server.call<{ logged: Record<string, number> }>('stats')).logged);
    if (a.profileFile && a.profileFirst !== undefined) {
      // Profiled in a storm of its own with new devices (not reported: the profiler costs some speed).
      await server.call('profStart');
      await a.loadgen.call<DtlsStormResult>('dtls', { ...args, first: a.profileFirst });
      a.onProfile?.(await server.call<ProfileSummary>('profStop', { file: a.profileFile }));
    }
    a.onClient?.(client);
    return {
      label: LABELS[mode],
      format: mode === 'raw' ? '–' : a.format,
      devices: a.devices,
      concurrency: a.concurrency,
      completed: r.completed,
      failed: r.failed,
      causes: r.causes,
      perSecond: r.perSecond,
      latency: r.latency,
      serverCpuMsPerBoot: r.completed ? ((p.cpuUserS + p.cpuSystemS) * 1000) / r.completed : undefined,
      peakRssBytes: p.peakRssBytes,
      loadgenCpuS: r.loadgenCpuS,
      wallS: r.wallS,
    };
  } finally {
    await server.stop();
  }
}

export async function runDtls(a: {
  loadgen: Child;
  tableFile: string;
  alloc: (n: number) => number;
  devices: number;
  concurrency: number;
  pct: number;
  format: string;
  /** Profile the library's DTLS server in an extra (unreported) storm and keep the raw profile here. */
  profileFile?: string;
}): Promise<DtlsFigures> {
  let profile: ProfileSummary | undefined;
  let logged: Record<string, number> | undefined;
  let raw: StormRow;
  let client = '?';
  try {
    raw = await one('raw', { ...a, first: a.alloc(a.devices), warmFirst: a.alloc(dtlsWarm(a.devices)), onClient: (c) => (client = c) });
  } catch (err) {
    return { note: `DTLS not measurable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  const library = await one('lib', {
    ...a,
    first: a.alloc(a.devices),
    warmFirst: a.alloc(dtlsWarm(a.devices)),
    profileFirst: a.profileFile ? a.alloc(a.devices) : undefined,
    onProfile: (p) => (profile = p),
  });
  let nodeRed: StormRow | undefined;
  let redError: string | undefined;
  try {
    nodeRed = await one('red', { ...a, first: a.alloc(a.devices), warmFirst: a.alloc(dtlsWarm(a.devices)), onLogged: (l) => (logged = l) });
  } catch (err) {
    redError = err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
  const serverCpuS = (r: StormRow) => ((r.serverCpuMsPerBoot ?? 0) * r.completed) / 1000;
  const cores = (cpuS: number | undefined, r: StormRow) => (cpuS !== undefined && r.wallS > 0 ? round(cpuS / r.wallS, 2) : '?');
  const of = (r: StormRow) => (raw.perSecond > 0 ? r.perSecond / raw.perSecond : undefined);
  const pct = (r: StormRow) => `${round(r.perSecond, 0)}/s (${round((of(r) ?? 0) * 100, 0)}%)`;
  return {
    note:
      (nodeRed ? `DTLS-PSK (CCM_8) bootstraps through the Node-RED flow with a CoAPs listener ${pct(nodeRed)}` : `the Node-RED flow over CoAPs failed: ${redError}; DTLS-PSK (CCM_8) bootstraps`) +
      ` and through the library alone ${pct(library)}` +
      ` of raw handshakes ${round(raw.perSecond, 0)}/s (${client} in the load generator, concurrency ${a.concurrency},` +
      ` one source address per device; each a server process of its own, warmed with ${dtlsWarm(a.devices)} bootstraps or handshakes before its storm). The flow's listener reads the PSK keys from a device table file` +
      ` and checks the endpoint/identity binding (on: each device's endpoint is its PSK identity). During the raw handshakes the load generator` +
      ` used ${cores(raw.loadgenCpuS, raw)} cores and the server ${cores(serverCpuS(raw), raw)}` +
      (client.startsWith('node-dtls-client')
        ? `: node-dtls-client is JavaScript, so the raw rate is as much the load generator's limit as the server's, and the ratios understate what the server could do against faster clients`
        : ''),
    ratio: of(library),
    nodeRedRatio: nodeRed && of(nodeRed),
    raw,
    library,
    nodeRed,
    nodeRedLogged: logged,
    profile,
  };
}

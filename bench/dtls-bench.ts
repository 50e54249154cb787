/**
 * DTLS figures: the raw handshake rate of the addon's DtlsSocket (no CoAP), then the same number of
 * DTLS-PSK (CCM_8) bootstraps through the library over the same DtlsSocket, both driven by
 * node-dtls-client in the load generator at the same concurrency. The Node-RED flow cannot be measured
 * over CoAPs until the listener's coaps transport exists (nodes/bootstrap-listener/transport.ts).
 */
import * as path from 'path';
import { Child } from './ipc';
import type { DtlsStormResult } from './dtls-client';
import type { ProbeReport } from './probe';
import type { ProfileSummary, StormRow } from './results';
import { round } from './stats';

export const BENCH_PSK_HEX = '000102030405060708090a0b0c0d0e0f';

export interface DtlsFigures {
  note: string;
  ratio?: number;
  raw?: StormRow;
  library?: StormRow;
  [k: string]: unknown;
}

async function one(
  mode: 'raw' | 'lib',
  a: { loadgen: Child; tableFile: string; first: number; warmFirst: number; profileFile?: string; onProfile?: (p: ProfileSummary) => void; devices: number; concurrency: number; pct: number; format: string },
): Promise<StormRow> {
  const server = Child.start(`DTLS ${mode} server`, path.join(__dirname, 'server-dtls.js'), {
    env: { BENCH_CONFIG: JSON.stringify({ mode, tableFile: a.tableFile, dmPort: 5784 }) },
  });
  try {
    const { port } = (await server.ready) as { port: number };
    const args = { mode, host: '127.0.0.1', port, first: a.first, count: a.devices, concurrency: a.concurrency, pct: a.pct, timeoutMs: 30_000, key: BENCH_PSK_HEX };
    // Warm-up (not reported): JIT, the profile schema compiled, OpenSSL contexts; devices of the next run.
    await a.loadgen.call<DtlsStormResult>('dtls', { ...args, count: Math.min(100, a.devices), first: a.warmFirst });
    await server.call('mark');
    if (a.profileFile && mode === 'lib') await server.call('profStart');
    const r = await a.loadgen.call<DtlsStormResult>('dtls', args);
    const p = await server.call<ProbeReport>('report');
    if (a.profileFile && mode === 'lib') a.onProfile?.(await server.call<ProfileSummary>('profStop', { file: a.profileFile }));
    return {
      label: mode === 'raw' ? 'DTLS handshakes (raw)' : 'library over DTLS-PSK',
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
  /** Profile the library's DTLS server during its run and keep the raw profile here. */
  profileFile?: string;
}): Promise<DtlsFigures> {
  let profile: ProfileSummary | undefined;
  let raw: StormRow;
  try {
    raw = await one('raw', { ...a, first: a.alloc(a.devices), warmFirst: a.alloc(100) });
  } catch (err) {
    return { note: `DTLS not measurable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
  }
  const library = await one('lib', { ...a, first: a.alloc(a.devices), warmFirst: a.alloc(100), onProfile: (p) => (profile = p) });
  const ratio = raw.perSecond > 0 ? library.perSecond / raw.perSecond : undefined;
  return {
    note:
      `library bootstraps over DTLS-PSK (CCM_8) ${round(library.perSecond, 0)}/s vs raw handshakes ${round(raw.perSecond, 0)}/s` +
      ` (node-dtls-client in the load generator, concurrency ${a.concurrency}); the Node-RED flow over CoAPs is not yet measurable: the listener has no coaps transport yet`,
    ratio,
    raw,
    library,
    profile,
  };
}

/**
 * The C load generators of the bench, built at bench time with gcc: bench/c/coap-loadgen.c (plain CoAP:
 * the bootstrap device and the floor client) and bench/c/dtls-loadgen.c (DTLS, with the system OpenSSL).
 * The JavaScript device of bench/device.ts decodes and checks everything the server writes, at about half a
 * millisecond of CPU per bootstrap on the two cores the server also runs on: with it, a faster server
 * mostly measured the load generator. The C clients cost microseconds per datagram, and the floor and the
 * server storms they drive share one client, so their ratio measures the server.
 * BENCH_CLIENT=node uses the JavaScript clients for everything.
 */
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { WireStep } from './device';
import { summarize, type LatencySummary } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');
const built = new Map<string, { binary?: string; reason?: string }>();

/** Builds bench/c/NAME.c into build/bench/NAME once per process (again when it or coap-device.h is newer). */
export function buildC(name: string, libs: string[] = [], debianPackages = 'gcc'): { binary?: string; reason?: string } {
  const had = built.get(name);
  if (had) return had;
  const source = path.join(ROOT, 'bench', 'c', `${name}.c`);
  const binary = path.join(ROOT, 'build', 'bench', name);
  let r: { binary?: string; reason?: string };
  try {
    const header = path.join(ROOT, 'bench', 'c', 'coap-device.h');
    const newest = Math.max(fs.statSync(source).mtimeMs, fs.statSync(header).mtimeMs);
    const fresh = fs.existsSync(binary) && fs.statSync(binary).mtimeMs >= newest;
    if (!fresh) {
      fs.mkdirSync(path.dirname(binary), { recursive: true });
      const c = spawnSync('gcc', ['-O2', '-o', binary, source, ...libs], { encoding: 'utf8' });
      if (c.status !== 0) {
        const why = c.error ? c.error.message : (c.stderr || '').split('\n').find((l) => /error/.test(l)) ?? `gcc exited ${c.status}`;
        r = { reason: `${name} did not build (${why.trim().slice(0, 160)}; Debian: apt-get install ${debianPackages})` };
        built.set(name, r);
        return r;
      }
    }
    r = { binary };
  } catch (err) {
    r = { reason: `${name} did not build: ${err instanceof Error ? err.message : String(err)}` };
  }
  built.set(name, r);
  return r;
}

/** The plain-CoAP C client, or why not (BENCH_CLIENT=node, no gcc). */
export function coapClient(): { binary?: string; reason?: string } {
  if (process.env.BENCH_CLIENT === 'node') return { reason: 'BENCH_CLIENT=node' };
  return buildC('coap-loadgen');
}

export interface CStormResult {
  completed: number;
  failed: number;
  causes: Record<string, number>;
  latency: LatencySummary;
  wallS: number;
  perSecond: number;
  loadgenCpuS: number;
  requests: number;
}

export interface CStormArgs {
  host: string;
  port: number;
  first: number;
  count: number;
  concurrency: number;
  pct: number;
  timeoutMs: number;
  /** Floor mode: the traced bootstrap's datagrams; without it the client bootstraps devices. */
  script?: WireStep[];
}

/** Runs a C load generator and reads the one JSON object it prints (completed, failed, causes, latencies, ...). */
export async function runC(binary: string, args: (string | number)[]): Promise<CStormResult> {
  const name = binary.split('/').pop();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(binary, args.map(String), { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${name}: ${err.message} ${stderr}`)) : resolve(stdout))),
  );
  const r = JSON.parse(out) as { completed: number; failed: number; wallS: number; cpuS: number; requests?: number; causes: Record<string, number>; latencies: number[] };
  return {
    completed: r.completed,
    failed: r.failed,
    causes: r.causes,
    latency: summarize(r.latencies),
    wallS: r.wallS,
    perSecond: r.wallS > 0 ? r.completed / r.wallS : 0,
    loadgenCpuS: r.cpuS,
    requests: r.requests ?? 0,
  };
}

/** One storm (or floor run) with bench/c/coap-loadgen.c. */
export function cCoapStorm(binary: string, a: CStormArgs): Promise<CStormResult> {
  const script = a.script ? a.script.map((s) => `${s.from === 'device' ? 'd' : 's'}${Math.max(1, s.size)}`).join(',') : '-';
  return runC(binary, [a.host, a.port, a.first, a.count, a.concurrency, a.script ? 'floor' : 'boot', a.pct ?? -1, a.timeoutMs, script]);
}

/**
 * What a server process reports about itself: CPU time (process.cpuUsage), RSS sampled during a storm and
 * the kernel's peak (resourceUsage().maxRSS), and heap after a full GC (needs --expose-gc).
 */
import * as fs from 'fs';
import * as path from 'path';
import { startProfiling, stopProfiling, summarizeProfile } from './cpuprofile';

export interface ProbeReport {
  cpuUserS: number;
  cpuSystemS: number;
  /** Highest RSS sampled (every 50 ms) since mark(), bytes. */
  peakRssBytes: number;
  /** Peak RSS of the whole process life (kernel), bytes. */
  maxRssBytes: number;
  heapUsedBytes: number;
  /** Wall time since mark(), s. */
  wallS: number;
}

export class Probe {
  private cpu = process.cpuUsage();
  private t0 = performance.now();
  private peak = 0;
  private sampler: NodeJS.Timeout | undefined;

  mark(): void {
    this.cpu = process.cpuUsage();
    this.t0 = performance.now();
    this.peak = process.memoryUsage.rss();
    clearInterval(this.sampler);
    this.sampler = setInterval(() => {
      const r = process.memoryUsage.rss();
      if (r > this.peak) this.peak = r;
    }, 50);
    this.sampler.unref();
  }

  report(): ProbeReport {
    const d = process.cpuUsage(this.cpu);
    clearInterval(this.sampler);
    this.sampler = undefined;
    const rss = process.memoryUsage.rss();
    return {
      cpuUserS: d.user / 1e6,
      cpuSystemS: d.system / 1e6,
      peakRssBytes: Math.max(this.peak, rss),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: process.memoryUsage().heapUsed,
      wallS: (performance.now() - this.t0) / 1000,
    };
  }

  /** Heap in use after full collections (several, so finalizers and weak maps settle). */
  static async heapAfterGc(): Promise<{ heapUsedBytes: number; rssBytes: number }> {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run the server with --expose-gc to measure heap');
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    return { heapUsedBytes: process.memoryUsage().heapUsed, rssBytes: process.memoryUsage.rss() };
  }
}

/** The handlers every server process answers, on top of its own. */
export function probeHandlers(probe: Probe): Record<string, (args: any) => unknown> {
  return {
    mark: () => probe.mark(),
    report: () => probe.report(),
    heap: () => Probe.heapAfterGc(),
    /** RSS and heap as they are, without a collection (what an operator's process holds). */
    rss: () => ({ rssBytes: process.memoryUsage.rss(), heapUsedBytes: process.memoryUsage().heapUsed }),
    profStart: () => startProfiling(),
    /** Stops the profiler, keeps the raw profile in `file` and returns its summary. */
    profStop: async (a: { file?: string }) => {
      const p = await stopProfiling();
      if (a?.file) fs.writeFileSync(a.file, JSON.stringify(p));
      return summarizeProfile(p, path.resolve(__dirname, '..', '..'));
    },
  };
}

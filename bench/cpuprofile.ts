/**
 * CPU profiles of a server process: the V8 sampling profiler (the one behind `node --cpu-prof`) started
 * and stopped through the inspector around the storms only, so start-up is not in the figures. The
 * summary attributes self time to functions and to areas (our lib/ and nodes/ folders, each npm
 * package, Node internals, GC).
 */
import { Session } from 'inspector';
import * as path from 'path';
import type { ProfileSummary } from './results';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

let session: Session | undefined;

export function startProfiling(): Promise<void> {
  session ??= new Session();
  session.connect();
  const s = session;
  return new Promise((resolve, reject) => {
    s.post('Profiler.enable', () =>
      s.post('Profiler.setSamplingInterval', { interval: 500 }, () =>
        s.post('Profiler.start', (err) => (err ? reject(err) : resolve())),
      ),
    );
  });
}

export function stopProfiling(): Promise<CpuProfile> {
  const s = session;
  if (!s) return Promise.reject(new Error('the profiler was not started'));
  return new Promise((resolve, reject) => {
    s.post('Profiler.stop', (err, res) => {
      s.disconnect();
      session = undefined;
      if (err) reject(err);
      else resolve((res as unknown as { profile: CpuProfile }).profile);
    });
  });
}

/** The area a script belongs to: lib/<area>, nodes/<name>, npm:<package>, node:internal, (gc), … */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return 'npm:' + (rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
  }
  const m = /\/dist\/(lib|nodes|bench)\/([^/]+)/.exec(u);
  if (m) return m[1] === 'lib' ? `lib/${m[2].replace(/\.js$/, '')}` : `${m[1]}/${m[2].replace(/\.js$/, '')}`;
  if (u.startsWith('node:')) return 'node:' + u.slice(5).split('/')[0];
  return path.basename(u);
}

export function summarizeProfile(p: CpuProfile, root: string): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    for (let i = 0; i < p.samples.length; i++) {
      const d = p.timeDeltas[i + 1] ?? 0;
      self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + d);
    }
  }
  let total = 0;
  const fns = new Map<string, { name: string; where: string; selfMs: number }>();
  const areas = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
    total += us;
    const file = cf.url ? path.relative(root, cf.url.replace(/^file:\/\//, '')) || cf.url : '';
    const where = file ? `${file}:${cf.lineNumber + 1}` : '';
    const name = cf.functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const f = fns.get(key) ?? { name, where, selfMs: 0 };
    f.selfMs += us / 1000;
    fns.set(key, f);
    const a = areaOf(cf.url, cf.functionName);
    areas.set(a, (areas.get(a) ?? 0) + us / 1000);
  }
  const totalMs = total / 1000;
  return {
    sampledMs: Math.round(totalMs),
    top: [...fns.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, 25)
      .map((f) => ({ ...f, selfMs: Math.round(f.selfMs), share: f.selfMs / totalMs })),
    byArea: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([area, ms]) => ({ area, selfMs: Math.round(ms), share: ms / totalMs })),
  };
}

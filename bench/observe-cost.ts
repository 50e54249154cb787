/**
 * The share of a CPU profile spent in the audit log, the metrics and the sidebar's hub (issue 15): samples
 * whose stack holds a frame of lib/audit, nodes/shared/observe*, nodes/lwm2m-sidebar or prom-client (so
 * JSON.stringify and the file writes they call count too), over all samples that are not idle. A shared
 * machine moves rates and CPU-per-bootstrap figures by tens of percent between storms; a profile share of
 * one storm does not depend on the neighbours.
 */
import * as fs from 'fs';
import type { CpuProfile } from './cpuprofile';

const OBSERVE = /\/lib\/audit\/|\/nodes\/shared\/observe|\/nodes\/lwm2m-sidebar\/|\/prom-client\//;

export function observeShare(file: string): { share: number; sampledMs: number; observeMs: number } {
  // BENCH_OBSERVE_PROFILE=path keeps a copy of the profile (the bench deletes its own) for a closer look.
  if (process.env.BENCH_OBSERVE_PROFILE) fs.copyFileSync(file, process.env.BENCH_OBSERVE_PROFILE);
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const parent = new Map<number, number>();
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inObserve = new Map<number, boolean>();
  const isObserve = (id: number): boolean => {
    const known = inObserve.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id);
    const up = parent.get(id);
    const v = !!n && (OBSERVE.test(n.callFrame.url) || (up !== undefined && isObserve(up)));
    inObserve.set(id, v);
    return v;
  };
  let total = 0;
  let observe = 0;
  const samples = p.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i]);
    if (!n || n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)') continue;
    const d = p.timeDeltas?.[i + 1] ?? 0;
    total += d;
    if (isObserve(samples[i])) observe += d;
  }
  return { share: total ? observe / total : 0, sampledMs: total / 1000, observeMs: observe / 1000 };
}

/** The shape of bench/results/latest.json. */
import type { MemoryReport } from './memory';
import type { MillionReport } from './million';
import type { LatencySummary } from './stats';

export interface StormRow {
  label: 'floor' | 'library' | 'node-red' | string;
  format: string;
  devices: number;
  concurrency: number;
  completed: number;
  failed: number;
  causes: Record<string, number>;
  perSecond: number;
  latency: LatencySummary;
  /** perSecond / the perSecond of `floor`, the floor storm this row is compared with. */
  ofFloor?: number;
  /** The floor storm of the same run that ofFloor uses (same format and concurrency). */
  floor?: FloorRef;
  serverCpuMsPerBoot?: number;
  peakRssBytes?: number;
  loadgenCpuS?: number;
  /** Datagrams the kernel dropped on full UDP receive buffers during the storm (Linux RcvbufErrors, whole host). */
  udpDrops?: number;
  /**
   * NAT-like port reuse (issue 20): POST /bs that reused an earlier device's Message ID from the same
   * port within EXCHANGE_LIFETIME, and piggy-backed answers that carried another device's token.
   */
  idReuses?: number;
  staleAnswers?: number;
  wallS: number;
  /** The load generator that drove it: bench/c/coap-loadgen.c (c) or bench/device.ts (node). */
  client?: 'c' | 'node';
  /**
   * A row that stands for several rounds of the same storm (the format storms): the rates of every round,
   * in order; the row itself is the round with the median rate.
   */
  rounds?: number[];
}

/** Which floor storm a ratio uses: its row label, exchanges and rate. */
export interface FloorRef {
  label: string;
  devices: number;
  perSecond: number;
}

export interface SweepPoint {
  series: string;
  concurrency: number;
  perSecond: number;
  p99Ms: number;
  udpDrops?: number;
}

export interface PendingRow {
  label: string;
  sessions: number;
  heapBeforeBytes: number;
  heapHeldBytes: number;
  bytesPerSession: number;
  /** Heap after the sessions were released, minus before. */
  residualBytes: number;
}

export interface HistoryRow {
  storm: number;
  devices: number;
  perSecond: number;
  p99Ms: number;
  failed: number;
  heapAfterBytes: number;
  idReuses?: number;
  staleAnswers?: number;
}

export interface Target {
  name: string;
  met: boolean | undefined;
  measured: string;
  goal: string;
}

export interface ProfileSummary {
  sampledMs: number;
  top: { name: string; where: string; selfMs: number; share: number }[];
  byArea: { area: string; selfMs: number; share: number }[];
}

export interface Results {
  startedAt: string;
  durationS: number;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; totalMemMB: number };
  options: Record<string, unknown> & { devices: number };
  storms: StormRow[];
  sweep: SweepPoint[];
  pending: PendingRow[];
  history: HistoryRow[];
  historyBaselineHeapBytes?: number;
  dtls?: { note: string; [k: string]: unknown };
  /** Plain-CoAP storms of lean devices: devices, Message ID reuses from one port, stale cached answers, failed bootstraps. */
  nat?: { devices: number; idReuses: number; staleAnswers: number; lost: number };
  targets: Target[];
  /** The Node-RED server during the first format's storm. */
  profile?: ProfileSummary;
  /** The library-only server during one storm in the main format. */
  libraryProfile?: ProfileSummary;
  /** RSS of fresh Node-RED servers around a storm, per process setting (issue 17). */
  memory?: MemoryReport;
  /** A device table of a million rows (issue 17). */
  million?: MillionReport;
  notes: string[];
}

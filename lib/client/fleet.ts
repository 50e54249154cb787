/**
 * Fleet: N simulated devices from an endpoint pattern (`meter-{n}`, `dev-{n:4}` zero-padded), with PSK
 * identities and keys from patterns, a cap on how many start (hold-off, bootstrap, first registration) at
 * once, start jitter, and a periodic summary instead of per-message events.
 *
 * Resources: each device owns one UDP socket (one file descriptor) plus one per CoAPs session
 * (node-dtls-client opens its own socket). A fleet therefore needs `count` (x2 with DTLS) descriptors
 * below the process limit (`ulimit -n`); `maxClients` (default 5000) guards against typos.
 *
 * Events: 'summary' (FleetSummary), 'settled' (FleetSummary, once every device registered or failed),
 * 'clientFailed' ({endpoint, reason}), 'diagram' (first successful bootstrap diagram, for training).
 */
import { EventEmitter } from 'events';
import * as path from 'path';
import { SimulatedClient, type ClientState } from './client';
import { ClientConfigError } from './errors';
import type { FaultOptions } from './faults';
import type { ClientOptions } from './options';

/** One device of a device table: its endpoint and, optionally, its own PSK towards the Bootstrap-Server. */
export interface FleetDevice {
  endpoint: string;
  pskIdentity?: string;
  /** hex */
  pskKey?: string;
}

export interface FleetOptions {
  /** Number of devices from the patterns; ignored when `devices` is given. */
  count: number;
  /** A device table instead of patterns: one device per entry (count = devices.length). */
  devices?: FleetDevice[];
  /** e.g. `meter-{n}` or `meter-{n:5}` (zero-padded to 5 digits). */
  endpointPattern?: string;
  /** First n. Default 1. */
  first?: number;
  /** PSK identity towards the Bootstrap-Server, e.g. `{ep}` or `id-{n}`. */
  pskIdentityPattern?: string;
  /** PSK (hex) towards the Bootstrap-Server, e.g. `000102030405060708090a0b0c0d{n:4}`; must be hex once expanded. */
  pskKeyPattern?: string;
  /** Devices starting at the same time (hold-off to first registration). Default 50. */
  concurrency?: number;
  /** Summary period. Default 1000 ms. */
  summaryIntervalMs?: number;
  /** Each device saves its store as `<storeDir>/<endpoint>.json`. */
  storeDir?: string;
  /** Guard against typos. Default 5000. */
  maxClients?: number;
  /** Options every device shares (endpoint and credentials come from the patterns). */
  client: Omit<ClientOptions, 'endpoint' | 'storeFile'>;
}

export interface FleetSummary {
  time: number;
  elapsedMs: number;
  total: number;
  notStarted: number;
  inProgress: number;
  registered: number;
  failed: number;
  stopped: number;
  /** Devices that completed at least one bootstrap. */
  bootstrapped: number;
  bootstrapFailures: number;
  registrationFailures: number;
  /** Rates over the last summary period, per second. */
  bootstrapsPerSec: number;
  registrationsPerSec: number;
  /** Bootstrap durations (request to Finish/pack applied), ms. */
  bootstrapMs: { p50: number; p95: number; max: number } | undefined;
}

export function expandPattern(pattern: string, n: number, ep?: string): string {
  return pattern
    .replace(/\{n(?::(\d+))?\}/g, (_m, w: string | undefined) => (w ? String(n).padStart(Number(w), '0') : String(n)))
    .replace(/\{ep\}/g, ep ?? '');
}

/** A file name for an endpoint's store: `urn:imei:1/2` -> `urn_imei_1_2.json` (no path separators). */
export function storeFileName(endpoint: string): string {
  return endpoint.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') + '.json';
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export class Fleet extends EventEmitter {
  readonly clients: SimulatedClient[] = [];
  private readonly opts: Required<Pick<FleetOptions, 'concurrency' | 'summaryIntervalMs'>> & FleetOptions;
  private queue: SimulatedClient[] = [];
  private active = 0;
  private startedAt = 0;
  private summaryTimer: NodeJS.Timeout | undefined;
  private readonly bootstrappedSet = new Set<string>();
  private bootstrapFailures = 0;
  private registrationFailures = 0;
  private bootstrapDurations: number[] = [];
  private window = { bootstraps: 0, registrations: 0, since: 0 };
  private settledEmitted = false;
  private diagramSent = false;
  private running = false;

  constructor(opts: FleetOptions) {
    super();
    const max = opts.maxClients ?? 5000;
    const table = opts.devices;
    if (table) {
      if (table.length < 1 || table.length > max) throw new ClientConfigError('devices', `must list 1..${max} devices`);
      const seen = new Set<string>();
      for (const d of table) {
        if (!d || typeof d.endpoint !== 'string' || !d.endpoint) throw new ClientConfigError('devices', 'every device needs an endpoint');
        if (seen.has(d.endpoint)) throw new ClientConfigError('devices', `endpoint "${d.endpoint}" is listed twice`);
        seen.add(d.endpoint);
      }
    } else {
      if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > max) {
        throw new ClientConfigError('count', `must be an integer in 1..${max}`);
      }
      if (!opts.endpointPattern || !/\{n(:\d+)?\}/.test(opts.endpointPattern)) {
        throw new ClientConfigError('endpointPattern', 'must contain {n} (or {n:width})');
      }
    }
    this.opts = { concurrency: 50, summaryIntervalMs: 1000, ...opts };
    if (!(this.opts.concurrency >= 1)) throw new ClientConfigError('concurrency', 'must be >= 1');
    const first = opts.first ?? 1;
    const total = table ? table.length : opts.count;
    for (let i = 0; i < total; i++) {
      const n = first + i;
      const row = table?.[i];
      const endpoint = row ? row.endpoint : expandPattern(opts.endpointPattern ?? '', n);
      const base = opts.client.bootstrapServer;
      const identity = opts.pskIdentityPattern ? expandPattern(opts.pskIdentityPattern, n, endpoint) : base?.pskIdentity;
      const key = opts.pskKeyPattern ? expandPattern(opts.pskKeyPattern, n, endpoint) : base?.pskKey;
      const bootstrapServer = base && {
        ...base,
        pskIdentity: row?.pskIdentity ?? identity,
        pskKey: row?.pskKey ?? key,
      };
      if (typeof bootstrapServer?.pskKey === 'string' && !/^([0-9a-fA-F]{2})*$/.test(bootstrapServer.pskKey)) {
        throw new ClientConfigError('pskKeyPattern', `expands to a value that is not hex for ${endpoint}`);
      }
      const c = new SimulatedClient({
        ...opts.client,
        endpoint,
        bootstrapServer,
        trace: opts.client.trace ?? false,
        storeFile: opts.storeDir ? path.join(opts.storeDir, storeFileName(endpoint)) : undefined,
      });
      this.watch(c);
      this.clients.push(c);
    }
  }

  /** Devices holding a start slot (from start until first registered, failed or a failed bootstrap). */
  private readonly holding = new Set<SimulatedClient>();

  private release(c: SimulatedClient): void {
    if (!this.holding.delete(c)) return;
    this.active--;
    this.pump();
  }

  private watch(c: SimulatedClient): void {
    c.on('state', (e: { state: ClientState }) => {
      if (e.state === 'registered' || e.state === 'failed' || e.state === 'stopped') {
        this.release(c);
        this.checkSettled();
      }
    });
    c.on('bootstrapped', (e: { ms: number }) => {
      this.bootstrappedSet.add(c.endpointName);
      this.window.bootstraps++;
      this.bootstrapDurations.push(e.ms);
      if (this.bootstrapDurations.length > 10000) this.bootstrapDurations.splice(0, 5000);
    });
    c.on('bootstrapFailed', (e: { reason: string }) => {
      this.bootstrapFailures++;
      this.release(c); // a device in back-off must not block the others
      this.emit('clientFailed', { endpoint: c.endpointName, reason: e.reason });
    });
    c.on('registered', () => this.window.registrations++);
    c.on('registrationFailed', (e: { reason: string }) => {
      this.registrationFailures++;
      this.emit('clientFailed', { endpoint: c.endpointName, reason: e.reason });
    });
    c.on('diagram', (d: { success: boolean }) => {
      if (d.success && !this.diagramSent) {
        this.diagramSent = true;
        this.emit('diagram', d);
      }
    });
    c.on('warning', (w: unknown) => this.emit('warning', w));
  }

  private pump(): void {
    while (this.running && this.active < this.opts.concurrency && this.queue.length) {
      const c = this.queue.shift() as SimulatedClient;
      this.active++;
      this.holding.add(c);
      c.start().catch((err: Error) => {
        this.emit('clientFailed', { endpoint: c.endpointName, reason: err.message });
        this.release(c);
      });
    }
  }

  /** Starts every device, at most `concurrency` at a time. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.settledEmitted = false;
    this.startedAt = Date.now();
    this.window = { bootstraps: 0, registrations: 0, since: Date.now() };
    this.queue = this.clients.filter((c) => c.state === 'idle' || c.state === 'stopped');
    this.pump();
    this.summaryTimer = setInterval(() => this.emit('summary', this.summary()), this.opts.summaryIntervalMs);
  }

  private checkSettled(): void {
    if (this.settledEmitted || this.queue.length) return;
    if (this.clients.every((c) => c.state === 'registered' || c.state === 'failed' || c.state === 'stopped')) {
      this.settledEmitted = true;
      this.emit('settled', this.summary());
    }
  }

  summary(): FleetSummary {
    const now = Date.now();
    const counts = { notStarted: 0, inProgress: 0, registered: 0, failed: 0, stopped: 0 };
    for (const c of this.clients) {
      if (c.state === 'idle') counts.notStarted++;
      else if (c.state === 'registered') counts.registered++;
      else if (c.state === 'failed') counts.failed++;
      else if (c.state === 'stopped') counts.stopped++;
      else counts.inProgress++;
    }
    const secs = Math.max((now - this.window.since) / 1000, 0.001);
    const sorted = [...this.bootstrapDurations].sort((a, b) => a - b);
    const s: FleetSummary = {
      time: now,
      elapsedMs: this.startedAt ? now - this.startedAt : 0,
      total: this.clients.length,
      ...counts,
      bootstrapped: this.bootstrappedSet.size,
      bootstrapFailures: this.bootstrapFailures,
      registrationFailures: this.registrationFailures,
      bootstrapsPerSec: Math.round((this.window.bootstraps / secs) * 10) / 10,
      registrationsPerSec: Math.round((this.window.registrations / secs) * 10) / 10,
      bootstrapMs: sorted.length ? { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted[sorted.length - 1] } : undefined,
    };
    this.window = { bootstraps: 0, registrations: 0, since: now };
    return s;
  }

  /** Stops every device (De-register unless `deregister` is false). */
  async stop(deregister = true): Promise<void> {
    this.running = false;
    this.queue = [];
    clearInterval(this.summaryTimer);
    await Promise.all(this.clients.map((c) => c.stop(deregister)));
    this.holding.clear();
    this.active = 0;
  }

  /** Client-initiated bootstrap on every registered device (or those matching `endpoints`). */
  async rebootstrap(endpoints?: string[]): Promise<void> {
    await Promise.all(this.clients.filter((c) => !endpoints || endpoints.includes(c.endpointName)).map((c) => c.rebootstrap('fleet command')));
  }

  /** Sets faults on every device, or on a share 0..1 of them (the first ones). */
  setFaults(f: FaultOptions, share = 1): void {
    const n = Math.round(this.clients.length * Math.min(Math.max(share, 0), 1));
    this.clients.forEach((c, i) => c.setFaults(i < n ? f : {}));
  }

  client(endpoint: string): SimulatedClient | undefined {
    return this.clients.find((c) => c.endpointName === endpoint);
  }
}

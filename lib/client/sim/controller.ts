/**
 * SimController: the client-sim node's devices (one SimulatedClient, or a Fleet), their events turned into
 * node outputs and status, and the commands a message can give. Knows nothing of Node-RED: the node passes
 * a sink for outputs, status and warnings.
 *
 * Secrets: the PSK (from the node's credentials or the device table) goes into the clients only. Outputs
 * carry trace events (the library masks /0/x/5 and the other secret resources), summaries, diagrams and
 * states; a wrong-PSK fault shows as `wrongPsk: true`, never as a key.
 */
import { randomBytes } from 'crypto';
import * as path from 'path';
import { defaultModel } from '../../model/registry';
import { SimulatedClient } from '../client';
import { loadFactoryFile } from '../factory-file';
import type { FaultOptions } from '../faults';
import { Fleet, storeFileName, type FleetDevice, type FleetSummary } from '../fleet';
import type { ClientOptions } from '../options';
import type { TraceEvent } from '../trace';
import type { Command, SimFaults } from './commands';
import { loadDeviceTable } from './device-file';
import type { SimSettings } from './settings';
import { checkStoreFingerprint, removeAll, storeFingerprint } from './stores';

export type SimStatusKind = 'idle' | 'working' | 'done' | 'failed';

export interface SimSink {
  /** Output 1: trace events, states, summaries, command replies. */
  event(msg: Record<string, unknown>): void;
  /** Output 2: one message per bootstrap with its Mermaid sequence diagram. */
  diagram(msg: Record<string, unknown>): void;
  status(kind: SimStatusKind, key: string, vars?: Record<string, unknown>): void;
  warn(message: string): void;
}

/** Faults for the library: `wrongPsk` becomes a random key that is never shown. */
export function libraryFaults(f: SimFaults): FaultOptions {
  const { wrongPsk, ...rest } = f;
  if (wrongPsk && !rest.wrongPskKey) rest.wrongPskKey = randomBytes(16).toString('hex');
  return rest;
}

/** Faults as they may be shown (no key). */
export function shownFaults(f: FaultOptions): Record<string, unknown> {
  const { wrongPskKey, ...rest } = f;
  return wrongPskKey ? { ...rest, wrongPsk: true } : { ...rest };
}

const STATE_STATUS: Record<string, SimStatusKind> = {
  idle: 'idle',
  stopped: 'idle',
  holdoff: 'working',
  bootstrapping: 'working',
  registering: 'working',
  registered: 'done',
  failed: 'failed',
};

/**
 * One line for a trace event, first in its payload so that Node-RED's debug sidebar shows direction,
 * method and code even with the message collapsed: `dev-1 → bs  POST /bs?ep=dev-1`, `dev-1 ← bs  2.04 (POST /bs)`.
 */
export function traceSummary(e: TraceEvent): string {
  const arrow = e.direction === 'out' ? '→' : '←';
  const target = `${e.path}${e.query ? `?${e.query}` : ''}`;
  const what = e.kind === 'request' ? `${e.method ?? ''} ${target}` : `${e.code ?? ''} (${e.method ?? ''} ${target})`;
  return `${e.endpoint} ${arrow} ${e.peer}  ${what}${e.note ? ` · ${e.note}` : ''}`;
}

function short(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export class SimController {
  clients: SimulatedClient[] = [];
  fleet: Fleet | undefined;
  private lastBootstrap = new Map<SimulatedClient, { ms: number; mode: string }>();
  private lastFailure = new Map<SimulatedClient, string>();
  private registeredTo = new Map<SimulatedClient, string>();
  private failureReasons = new Map<string, number>();
  private lastFailedDiagram = 0;
  private lastSummaryKey = '';
  private closed = false;
  private faults: FaultOptions;

  constructor(
    private readonly s: SimSettings,
    private readonly pskKey: string | undefined,
    private readonly sink: SimSink,
  ) {
    this.faults = libraryFaults(s.faults);
  }

  /** Builds the devices: reads the device table, drops stores made with other settings. */
  async init(): Promise<void> {
    const s = this.s;
    const devices: FleetDevice[] | undefined = s.mode === 'fleet' && s.deviceFile ? await loadDeviceTable(s.deviceFile) : undefined;
    if (s.storeDir) await checkStoreFingerprint(s.storeDir, storeFingerprint(s, this.pskKey, devices));
    // A factory provisioning file is the device's factory data: its accounts take the place of bsUri and the PSK.
    const factory = s.mode === 'single' && s.factoryFile ? await loadFactoryFile(s.factoryFile, defaultModel) : undefined;
    const client: Omit<ClientOptions, 'endpoint' | 'storeFile'> = {
      version: s.version,
      formats: s.formats,
      factory,
      bootstrapServer: factory ? undefined : {
        uri: s.bsUri,
        pskIdentity: s.mode === 'single' && s.pskIdentity ? s.pskIdentity.replace(/\{ep\}/g, s.endpoint) : undefined,
        pskKey: s.mode === 'single' ? this.pskKey || undefined : undefined,
      },
      timing: {
        minHoldOffMs: s.holdOffMs,
        requestTimeoutMs: s.requestTimeoutMs,
        bootstrapTimeoutMs: s.requestTimeoutMs,
        startJitterMs: s.startJitterMs,
      },
      faults: this.faults,
      maxBootstrapAttempts: s.maxAttempts > 0 ? s.maxAttempts : undefined,
      noSecOnly: s.noSecOnly || undefined,
    };
    if (s.mode === 'single') {
      const c = new SimulatedClient({
        ...client,
        endpoint: s.endpoint,
        trace: true,
        storeFile: s.storeDir ? path.join(s.storeDir, storeFileName(s.endpoint)) : undefined,
      });
      this.clients = [c];
      this.watchSingle(c);
      this.sink.status('idle', 'status.idle');
      return;
    }
    const fleet = new Fleet({
      count: s.count,
      devices,
      endpointPattern: s.endpoint,
      first: s.first,
      pskIdentityPattern: s.pskIdentity || undefined,
      pskKeyPattern: this.pskKey || undefined,
      concurrency: s.concurrency,
      summaryIntervalMs: s.summaryIntervalMs,
      storeDir: s.storeDir,
      client: { ...client, trace: false },
    });
    this.fleet = fleet;
    this.clients = fleet.clients;
    this.watchFleet(fleet);
    this.fleetStatus(fleet.summary());
  }

  // ---- single device ----------------------------------------------------------------------------------

  private watchSingle(c: SimulatedClient): void {
    const ep = c.endpointName;
    const event = (name: string, payload: unknown) => {
      if (!this.closed) this.sink.event({ topic: ep, event: name, payload });
    };
    c.on('trace', (e: TraceEvent) => event('trace', { summary: traceSummary(e), ...e }));
    c.on('state', (e: { state: string; previous: string; reason?: string }) => {
      event('state', { state: e.state, previous: e.previous, reason: e.reason });
      // 'registered' shows with its server on the 'registered' event that follows.
      if (e.state !== 'registered') this.singleStatus(c, e.state, e.reason);
    });
    c.on('bootstrapped', (e: { bootstrapId: number; mode: string; ms: number }) => {
      this.lastBootstrap.set(c, { ms: e.ms, mode: e.mode });
      this.lastFailure.delete(c);
      event('bootstrapped', { bootstrapId: e.bootstrapId, mode: e.mode, ms: e.ms });
    });
    c.on('bootstrapFailed', (e: { bootstrapId: number; reason: string; attempt: number; retryInMs?: number }) => {
      this.lastFailure.set(c, e.reason);
      event('bootstrapFailed', { bootstrapId: e.bootstrapId, reason: e.reason, attempt: e.attempt, retryInMs: e.retryInMs });
    });
    c.on('registered', (e: { ssid: number; uri: string; location?: string }) => {
      this.registeredTo.set(c, e.uri);
      event('registered', { ssid: e.ssid, uri: e.uri, location: e.location });
      this.singleStatus(c, c.state);
    });
    c.on('updated', (e: { ssid: number; uri: string }) => event('updated', { ssid: e.ssid, uri: e.uri }));
    c.on('registrationFailed', (e: { ssid: number; uri: string; reason: string }) => {
      this.lastFailure.set(c, e.reason);
      event('registrationFailed', { ssid: e.ssid, uri: e.uri, reason: e.reason });
    });
    c.on('warning', (w: { message: string }) => event('warning', { message: w.message }));
    c.on('diagram', (d: { bootstrapId: number; success: boolean; mermaid: string; reason?: string }) => this.sendDiagram(c, d));
  }

  private singleStatus(c: SimulatedClient, state: string, reason?: string): void {
    if (this.closed) return;
    const kind = STATE_STATUS[state] ?? 'working';
    if (state === 'registered') this.sink.status(kind, 'status.registered', { uri: this.registeredTo.get(c) ?? '' });
    else if (state === 'failed') this.sink.status(kind, 'status.failed', { reason: short(reason ?? this.lastFailure.get(c) ?? '') });
    else if (state === 'holdoff' && this.lastFailure.has(c)) this.sink.status(kind, 'status.retrying', { reason: short(this.lastFailure.get(c) ?? '') });
    else this.sink.status(kind, `status.${state}`);
  }

  private sendDiagram(c: SimulatedClient, d: { bootstrapId: number; success: boolean; mermaid: string; reason?: string }): void {
    if (this.closed) return;
    const outcome = d.success ? 'success' : 'failure';
    const boot = d.success ? this.lastBootstrap.get(c) : undefined;
    this.sink.diagram({
      topic: c.endpointName,
      payload: d.mermaid,
      outcome,
      bootstrap: {
        endpoint: c.endpointName,
        bootstrapId: d.bootstrapId,
        outcome,
        reason: d.success ? undefined : (d.reason ?? this.lastFailure.get(c)),
        ms: boot?.ms,
        mode: boot?.mode,
      },
    });
  }

  // ---- fleet ------------------------------------------------------------------------------------------

  private watchFleet(fleet: Fleet): void {
    fleet.on('summary', (s: FleetSummary) => this.sendSummary('summary', s));
    fleet.on('settled', (s: FleetSummary) => this.sendSummary('settled', s, true));
    fleet.on('clientFailed', (e: { reason: string }) => {
      const r = short(e.reason, 100);
      this.failureReasons.set(r, (this.failureReasons.get(r) ?? 0) + 1);
    });
    fleet.on('diagram', (d: { endpoint: string; bootstrapId: number; success: boolean; mermaid: string }) => {
      const c = fleet.client(d.endpoint);
      if (c) this.sendDiagram(c, d);
    });
    for (const c of fleet.clients) {
      c.on('bootstrapped', (e: { ms: number; mode: string }) => this.lastBootstrap.set(c, { ms: e.ms, mode: e.mode }));
      c.on('bootstrapFailed', (e: { reason: string }) => this.lastFailure.set(c, e.reason));
      c.on('diagram', (d: { bootstrapId: number; success: boolean; mermaid: string }) => {
        // Failed bootstraps: at most one diagram per summary period, so a bad fleet does not flood.
        if (d.success || Date.now() - this.lastFailedDiagram < this.s.summaryIntervalMs) return;
        this.lastFailedDiagram = Date.now();
        this.sendDiagram(c, d);
      });
    }
  }

  private summaryPayload(s: FleetSummary): Record<string, unknown> {
    const failures = [...this.failureReasons.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([reason, count]) => ({ reason, count }));
    // The counts an operator looks for first, at the top (the debug sidebar shows the first keys collapsed).
    const summary = `${s.registered}/${s.total} registered, ${s.failed} failed, ${s.inProgress} in progress`;
    const { registered, failed, total, inProgress, ...rest } = s;
    return { summary, registered, failed, total, inProgress, ...rest, failureReasons: failures };
  }

  private sendSummary(event: 'summary' | 'settled', s: FleetSummary, always = false): void {
    if (this.closed) return;
    this.fleetStatus(s, event === 'settled');
    const key = [s.notStarted, s.inProgress, s.registered, s.failed, s.stopped, s.bootstrapped, s.bootstrapFailures, s.registrationFailures].join();
    if (!always && key === this.lastSummaryKey && s.bootstrapsPerSec === 0 && s.registrationsPerSec === 0) return;
    this.lastSummaryKey = key;
    this.sink.event({ topic: 'summary', event, payload: this.summaryPayload(s) });
  }

  private fleetStatus(s: FleetSummary, settled = false): void {
    if (this.closed) return;
    const vars = { registered: s.registered, total: s.total, inProgress: s.inProgress, failed: s.failed };
    let kind: SimStatusKind = 'working';
    if (s.registered === s.total) kind = 'done';
    else if (settled && s.failed > 0) kind = 'failed';
    else if (s.inProgress === 0 && s.registered === 0 && s.failed === 0) kind = 'idle';
    this.sink.status(kind, 'status.fleet', vars);
  }

  // ---- commands ---------------------------------------------------------------------------------------

  private selected(endpoints?: string[]): SimulatedClient[] {
    if (!endpoints) return this.clients;
    const out = this.clients.filter((c) => endpoints.includes(c.endpointName));
    return out;
  }

  /** Unknown endpoints named by a command. */
  unknownEndpoints(endpoints?: string[]): string[] {
    if (!endpoints) return [];
    const names = new Set(this.clients.map((c) => c.endpointName));
    return endpoints.filter((e) => !names.has(e));
  }

  async start(endpoints?: string[]): Promise<void> {
    if (this.closed) return;
    if (this.fleet && !endpoints) {
      this.fleet.start();
      return;
    }
    await Promise.all(this.selected(endpoints).map((c) => c.start()));
  }

  /** Runs a command; returns the message for output 1 when the command answers (status). */
  async command(cmd: Command): Promise<Record<string, unknown> | undefined> {
    const list = this.selected(cmd.endpoints);
    switch (cmd.name) {
      case 'start':
        await this.start(cmd.endpoints);
        return undefined;
      case 'stop':
      case 'power-off':
        if (this.fleet && !cmd.endpoints) await this.fleet.stop(cmd.name === 'stop');
        else await Promise.all(list.map((c) => c.stop(cmd.name === 'stop')));
        if (this.fleet) this.fleetStatus(this.fleet.summary());
        return undefined;
      case 'reboot':
        await Promise.all(list.map((c) => c.reboot()));
        return undefined;
      case 'rebootstrap':
        await Promise.all(list.map((c) => c.rebootstrap('bootstrap requested by message')));
        return undefined;
      case 'factory-reset':
        await Promise.all(list.map((c) => c.factoryReset()));
        return undefined;
      case 'fault':
      case 'clear-faults': {
        const f = cmd.name === 'fault' ? libraryFaults(cmd.faults ?? {}) : {};
        const n = cmd.share === undefined ? list.length : Math.round(list.length * cmd.share);
        list.forEach((c, i) => c.setFaults(i < n ? { ...f } : {}));
        return { topic: 'faults', event: 'faults', payload: { faults: shownFaults(f), devices: n } };
      }
      case 'status':
        return { topic: this.fleet ? 'summary' : this.clients[0]?.endpointName, event: 'status', payload: this.snapshot() };
    }
  }

  snapshot(): Record<string, unknown> {
    if (this.fleet) return this.summaryPayload(this.fleet.summary());
    const c = this.clients[0];
    return {
      endpoint: c.endpointName,
      state: c.state,
      version: c.version,
      bootstraps: c.bootstrapCount,
      registeredTo: this.registeredTo.get(c),
      lastFailure: this.lastFailure.get(c),
      faults: shownFaults(c.faults.opts),
      port: c.port,
    };
  }

  /** Stops every device (De-register) and releases the sockets; `removed` also deletes the stores. */
  async close(removed: boolean): Promise<void> {
    this.closed = true;
    if (this.fleet) await this.fleet.stop(true);
    else await Promise.all(this.clients.map((c) => c.stop(true)));
    const dir = this.s.storeDir;
    if (removed && dir) await removeAll(dir);
  }
}

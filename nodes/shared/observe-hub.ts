/**
 * What the "LwM2M" sidebar and the metrics endpoint see: one hub per Node-RED runtime (keyed by its admin
 * app), with which each listener registers its running server on start and deregisters on close
 * (`attach` / `detach`, a Map keyed by node id). The hub keeps
 *   - the live sessions and pack requests of each listener (from 'bootstrapRequest' / 'packRequest' until
 *     their 'audit' record),
 *   - the most recent RECENT records (seeded from the audit log at start, so a restart keeps history),
 *   - the Prometheus metrics (observe-metrics.ts),
 * and hands every record to the runtime's audit sink (observe-audit.ts). Nothing here holds a key: the
 * records have none.
 */
import type { BootstrapPackRequest, BootstrapSession, AuditEntry, AuditRecord, AuditReader, AuditSink, AuditSinkHealth, AuditStep } from './lib';
import { ObserveMetrics } from './observe-metrics';

/**
 * What the hub needs of a listener's server: its events and counters. A BootstrapServer, or the listener's
 * group of servers (one per address) that re-emits their events and adds up their counters.
 */
export interface ObservedServer {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: 'bootstrapRequest' | 'packRequest' | 'audit', listener: (...args: any[]) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener(event: 'bootstrapRequest' | 'packRequest' | 'audit', listener: (...args: any[]) => void): unknown;
  stats(): { sessionsInFlight: number; malformed: number };
}
import { SimRegistry } from './observe-sims';

/** Ended records kept in memory for the sidebar. */
export const RECENT = 1000;
/** Live sessions per listener sent to the sidebar at most (the count is always exact). */
export const LIVE_SHOWN = 200;

/** The DTLS socket events and counters the hub reads (lib/dtls's socket-like object). */
export interface ObservedDtls {
  on(event: 'handshake', l: (peer: unknown) => void): unknown;
  on(event: 'handshakeFailed', l: (ev: { reason?: string; alertSent?: string; alertReceived?: string }) => void): unknown;
  removeListener(event: string, l: (...a: never[]) => void): unknown;
  stats(): { dropped: Record<string, number>; expired: { handshakeTimeout: number } };
}

export interface ListenerInfo {
  id: string;
  name: string;
  transport: string;
  port: number;
}

/** An ended record in memory: the server's record and its listener kept apart (no copy per session). */
export interface Recent {
  seq: number;
  record: AuditRecord;
  listenerId?: string;
}

/** One row of the sidebar's live table. */
export interface LiveSummary {
  sessionId: string;
  kind: 'bootstrap' | 'server-initiated' | 'pack';
  endpoint: string;
  identity?: { type: string; id: string };
  peer: { address: string; port: number };
  lwm2mVersion?: string;
  state: string;
  step?: string;
  startedAt: string;
}

/** One row of the sidebar's outcome list. */
export interface EndedSummary {
  seq: number;
  sessionId: string;
  listenerId?: string;
  kind: string;
  endpoint: string;
  outcome: string;
  detail?: string;
  startedAt: string;
  endedAt?: string;
  steps: number;
  identity?: { type: string; id: string };
  peer: { address: string; port: number };
}

type Live = BootstrapSession | BootstrapPackRequest;

interface Watched {
  info: ListenerInfo;
  live: Map<string, Live>;
  onAudit?: (problem: string | undefined) => void;
  detach?: () => void;
}

export interface AuditState {
  sink: AuditSink;
  reader: AuditReader;
  directory: string;
}

export class ObserveHub {
  readonly metrics: ObserveMetrics;
  /** client-sim nodes (observe-sims.ts). */
  readonly sims = new SimRegistry();
  private readonly watched = new Map<string, Watched>();
  private recent: Recent[] = [];
  private seq = 0;
  private readonly ready: Promise<void>;
  private seeding = true;
  private readonly early: { record: AuditRecord; listenerId?: string }[] = [];
  private unhealth: (() => void) | undefined;

  constructor(readonly audit: AuditState | undefined, readonly auditError?: string) {
    this.metrics = new ObserveMetrics(() => {
      if (!this.audit) return undefined;
      const h = this.audit.sink.health();
      return { up: h.ok, written: h.written, dropped: h.dropped, queued: h.queued };
    }, !!audit);
    if (audit) {
      this.unhealth = audit.sink.onHealth((h) => {
        const problem = h.ok ? undefined : h.error ?? 'error';
        for (const w of this.watched.values()) w.onAudit?.(problem);
      });
    }
    this.ready = this.seed();
  }

  /** Resolves once the history from the audit log is in memory. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  auditHealth(): (AuditSinkHealth & { directory: string }) | undefined {
    return this.audit ? { ...this.audit.sink.health(), directory: this.audit.directory } : undefined;
  }

  /**
   * A listener's server started: watch it. `onAudit` hears of audit log failures (a reason) and recoveries
   * (undefined), and is called at once when the log is failing already. Returns the detach function.
   */
  attach(info: ListenerInfo, server: ObservedServer, dtls?: ObservedDtls, onAudit?: (problem: string | undefined) => void): () => void {
    this.detach(info.id);
    const w: Watched = { info, live: new Map(), onAudit };
    this.watched.set(info.id, w);
    const onSession = (s: BootstrapSession) => w.live.set(s.id, s);
    const onPack = (p: BootstrapPackRequest) => w.live.set(p.id, p);
    const onRecord = (rec: AuditRecord) => {
      w.live.delete(rec.sessionId);
      this.record(info.id, rec);
    };
    server.on('bootstrapRequest', onSession);
    server.on('packRequest', onPack);
    server.on('audit', onRecord);
    const onHandshake = () => this.metrics.handshake(info.id);
    const onFailed = (ev: { reason?: string; alertSent?: string; alertReceived?: string }) =>
      this.metrics.handshakeFailed(info.id, ev.alertSent ?? ev.alertReceived ?? ev.reason);
    dtls?.on('handshake', onHandshake);
    dtls?.on('handshakeFailed', onFailed);
    this.metrics.attach({
      id: info.id,
      info: () => ({ name: info.name, transport: info.transport, port: info.port }),
      inFlight: () => server.stats().sessionsInFlight,
      counters: () => {
        const d = dtls?.stats();
        return { malformed: server.stats().malformed, handshakeTimeouts: d?.expired.handshakeTimeout, dropped: d ? { ...d.dropped } : undefined };
      },
    });
    const h = this.audit?.sink.health();
    if (h && !h.ok) onAudit?.(h.error ?? 'error');
    let done = false;
    const detach = () => {
      if (done) return;
      done = true;
      server.removeListener('bootstrapRequest', onSession);
      server.removeListener('packRequest', onPack);
      // 'audit' stays: the server's close() ends the open sessions and their records must still be kept.
      dtls?.removeListener('handshake', onHandshake);
      dtls?.removeListener('handshakeFailed', onFailed as (...a: never[]) => void);
      this.metrics.detach(info.id);
      if (this.watched.get(info.id) === w) this.watched.delete(info.id);
    };
    w.detach = detach;
    return detach;
  }

  detach(id: string): void {
    this.watched.get(id)?.detach?.();
  }

  /** Updates a listener's port once its socket is bound (port 0 or a port from the environment). */
  setPort(id: string, port: number): void {
    const w = this.watched.get(id);
    if (!w) return;
    w.info.port = port;
  }

  /** A record of an ended session or pack request: metrics, memory, audit log. */
  record(listenerId: string, rec: AuditRecord): void {
    this.metrics.record(listenerId, rec);
    const sink = this.audit?.sink;
    if (sink?.writeRecord) sink.writeRecord(rec, listenerId);
    else sink?.write({ ...rec, listenerId });
    // A copy of the record's top level, as the listener's output 2 may hand `rec` to a flow that changes it.
    const kept = { ...rec };
    if (this.seeding) {
      this.early.push({ record: kept, listenerId });
      if (this.early.length > RECENT) this.early.shift();
    }
    else this.remember(kept, listenerId);
  }

  listeners(): { info: ListenerInfo; liveCount: number; live: LiveSummary[] }[] {
    const out = [];
    for (const w of this.watched.values()) {
      const live: LiveSummary[] = [];
      for (const s of w.live.values()) {
        if (live.length >= LIVE_SHOWN) break;
        live.push(liveSummary(s));
      }
      out.push({ info: { ...w.info }, liveCount: w.live.size, live });
    }
    return out;
  }

  /** Ended records after `since` (a seq the caller saw last), newest first, at most `limit`. */
  endedSince(since: number, limit: number): EndedSummary[] {
    const out: EndedSummary[] = [];
    for (let i = this.recent.length - 1; i >= 0 && out.length < limit; i--) {
      const r = this.recent[i];
      if (r.seq <= since) break;
      out.push(endedSummary(r));
    }
    return out;
  }

  /** Count per outcome over the records in memory. */
  counts(): Record<string, number> {
    const c: Record<string, number> = {};
    for (const r of this.recent) {
      const o = String(r.record.outcome ?? 'INTERNAL_ERROR');
      c[o] = (c[o] ?? 0) + 1;
    }
    return c;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** The full record of a session: live (steps so far), in memory, or from the audit log. */
  async detail(id: string): Promise<{ live: boolean; record: AuditEntry } | undefined> {
    for (const w of this.watched.values()) {
      const s = w.live.get(id);
      if (s) return { live: true, record: { ...s.audit(), listenerId: w.info.id } };
    }
    for (let i = this.recent.length - 1; i >= 0; i--) if (this.recent[i].record.sessionId === id) return { live: false, record: entryOf(this.recent[i]) };
    const found = await this.audit?.reader.find(id);
    return found ? { live: false, record: found } : undefined;
  }

  /** Waits until the audit log has taken what is queued (a listener closing writes its last records). */
  async flush(): Promise<void> {
    await this.audit?.sink.flush();
  }

  async close(): Promise<void> {
    this.unhealth?.();
    for (const id of [...this.watched.keys()]) this.detach(id);
  }

  private remember(record: AuditRecord, listenerId: string | undefined): void {
    this.recent.push({ seq: ++this.seq, record, listenerId });
    if (this.recent.length > RECENT + RECENT / 4) this.recent = this.recent.slice(-RECENT);
  }

  private async seed(): Promise<void> {
    try {
      const old = this.audit ? await this.audit.reader.recent(RECENT) : [];
      for (let i = old.length - 1; i >= 0; i--) {
        const { listenerId, ...record } = old[i];
        this.remember(record, listenerId);
      }
    } catch {
      // no history to show: the audit log will say what is wrong when it writes
    } finally {
      this.seeding = false;
      for (const e of this.early.splice(0)) this.remember(e.record, e.listenerId);
    }
  }
}

function liveSummary(s: Live): LiveSummary {
  // A session's start, version and last step without a copy of its whole record (up to LIVE_SHOWN per poll).
  let startedAt: string;
  let lwm2mVersion: string | undefined;
  let last: AuditStep | undefined;
  let state: string;
  if (s.kind === 'pack') {
    const rec = s.audit();
    startedAt = rec.startedAt;
    lwm2mVersion = rec.lwm2mVersion;
    last = rec.steps[rec.steps.length - 1];
    state = 'pack';
  } else {
    const b = s as BootstrapSession;
    startedAt = new Date(b.startedAtMs).toISOString();
    lwm2mVersion = b.lwm2mVersion;
    last = b.lastStep();
    state = b.state;
  }
  const out: LiveSummary = {
    sessionId: s.id,
    kind: s.kind,
    endpoint: s.endpoint,
    peer: { address: s.peer.address, port: s.peer.port },
    state,
    startedAt,
  };
  if (s.identity) out.identity = { type: s.identity.type, id: s.identity.id };
  if (lwm2mVersion) out.lwm2mVersion = lwm2mVersion;
  if (last) out.step = `${last.method} ${last.path} ${last.code || '…'}`;
  return out;
}

/** What the audit log keeps of a record in memory (the listener id last, as in the log's lines). */
function entryOf(r: Recent): AuditEntry {
  return r.listenerId === undefined ? { ...r.record } : { ...r.record, listenerId: r.listenerId };
}

function endedSummary(r: Recent): EndedSummary {
  const e = r.record;
  const out: EndedSummary = {
    seq: r.seq,
    sessionId: e.sessionId,
    kind: e.kind,
    endpoint: e.endpoint,
    outcome: String(e.outcome ?? 'INTERNAL_ERROR'),
    startedAt: e.startedAt,
    steps: Array.isArray(e.steps) ? e.steps.length : 0,
    peer: { address: e.peer?.address, port: e.peer?.port },
  };
  if (r.listenerId) out.listenerId = r.listenerId;
  if (e.detail) out.detail = e.detail;
  if (e.endedAt) out.endedAt = e.endedAt;
  if (e.identity) out.identity = { type: e.identity.type, id: e.identity.id };
  return out;
}

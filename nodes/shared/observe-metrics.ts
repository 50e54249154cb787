/**
 * The package's Prometheus metrics (prom-client, in a registry of our own, not the process-wide default).
 * Counters are kept here as plain numbers per label set and handed to prom-client when scraped, so a
 * listener that is redeployed keeps counting from where it was (what its server or DTLS socket counted is
 * folded in when it closes). Label `listener` is the listener node's id; lwm2m_bootstrap_listener_info maps
 * it to name, transport and port. No label carries an endpoint name or an identity (unbounded, and not for
 * a monitoring system).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { AuditRecord } from './lib';

/** What the metrics read from a running listener when scraped. */
export interface MetricsSource {
  id: string;
  info(): { name: string; transport: string; port: number };
  inFlight(): number;
  /** Counters of the server (malformed requests) and of a DTLS socket, since it started. */
  counters(): SourceCounters;
}

export interface SourceCounters {
  malformed: number;
  handshakes?: number;
  handshakeTimeouts?: number;
  /** Datagrams the DTLS socket dropped, by the limit that dropped them. */
  dropped?: Record<string, number>;
}

/** Outcomes that mean the request was refused rather than failed. */
const REFUSALS = new Set(['REJECTED', 'UNAUTHORIZED', 'NO_BOOTSTRAP_CONFIG']);
/** Distinct failure reasons kept per listener; beyond that they count as "other". */
const MAX_REASONS = 24;

type Labels = Record<string, string>;

/** Label values joined: the key of one label set (label names are fixed per tally). */
function keyOf(labels: Labels): string {
  let k = '';
  for (const name in labels) k += `${labels[name]}\u0000`;
  return k;
}

class Tally {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  add(labels: Labels, n = 1): void {
    const key = keyOf(labels);
    const v = this.values.get(key);
    if (v) v.value += n;
    else this.values.set(key, { labels, value: n });
  }
  get(labels: Labels): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }
  count(pred: (l: Labels) => boolean): number {
    let n = 0;
    for (const v of this.values.values()) if (pred(v.labels)) n++;
    return n;
  }
  entries(): Iterable<{ labels: Labels; value: number }> {
    return this.values.values();
  }
}

/** Upper bounds (seconds) of the session duration histogram's buckets. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Ended sessions of one label set (listener, kind, outcome): their count and their durations. */
interface Series {
  /** The same object every time (prom-client caches its text by identity). */
  readonly labels: Labels;
  ended: number;
  /** Observations per bucket (not cumulative): counts[i] had upper bound DURATION_BUCKETS[i]; above the last, only in `observed`. */
  readonly counts: number[];
  sum: number;
  observed: number;
}

/**
 * lwm2m_bootstrap_session_duration_seconds, and the count of ended sessions, kept per label set without
 * prom-client on the way: every session ends here, and prom-client's Histogram.observe hashed a new label
 * object (sorted names, joined values) and validated it per session, a measurable part of a bootstrap's CPU
 * in a storm. Here a session costs three Map lookups and a bucket search; the text is made when scraped, the
 * same text prom-client's Histogram would make (registered in the registry as a metric of its own).
 */
class SessionSeries {
  readonly name = 'lwm2m_bootstrap_session_duration_seconds';
  readonly help = 'Time from the Bootstrap-Request (or Bootstrap-Pack-Request) to the end of its session.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** In order of their first session (prom-client's order). */
  readonly all: Series[] = [];
  private readonly index = new Map<string, Map<string, Map<string, Series>>>();

  series(listener: string, kind: string, outcome: string): Series {
    let byKind = this.index.get(listener);
    if (!byKind) this.index.set(listener, (byKind = new Map()));
    let byOutcome = byKind.get(kind);
    if (!byOutcome) byKind.set(kind, (byOutcome = new Map()));
    let s = byOutcome.get(outcome);
    if (!s) {
      s = { labels: { listener, kind, outcome }, ended: 0, counts: DURATION_BUCKETS.map(() => 0), sum: 0, observed: 0 };
      byOutcome.set(outcome, s);
      this.all.push(s);
    }
    return s;
  }

  static observe(s: Series, seconds: number): void {
    s.sum += seconds;
    s.observed++;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= DURATION_BUCKETS[i]) {
        s.counts[i]++;
        return;
      }
    }
  }

  /** registry.resetMetrics(): every series from zero. */
  reset(): void {
    this.all.length = 0;
    this.index.clear();
  }

  /** The registry's text form (as prom-client's Histogram gives it: `le` first, then the series' labels). */
  getForPromString(): { name: string; help: string; type: string; aggregator: string; values: PromValue[] } {
    const values: PromValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.all) {
      if (s.observed === 0) continue;
      let acc = 0;
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        acc += s.counts[i];
        values.push({ labels: { le: DURATION_BUCKETS[i] }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.observed, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.observed, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The JSON form (registry.getMetricsAsJSON): each value's labels with the series' labels in them. */
  get(): { name: string; help: string; type: string; aggregator: string; values: PromValue[] } {
    const data = this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return data;
  }
}

interface PromValue {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName: string;
  exemplar?: null;
}

/**
 * Date.parse(end) - Date.parse(start), for less (two Date.parse were most of a session's cost here): two times
 * of the same UTC day as toISOString writes them (YYYY-MM-DDTHH:MM:SS.sssZ) differ by their times of day, read
 * digit by digit, once Date.parse has taken that day; anything else goes to Date.parse.
 */
export function isoSpanMs(start: string, end: string): number {
  if (typeof start === 'string' && typeof end === 'string' && start.length === 24 && end.length === 24 && start.charCodeAt(10) === 0x54) {
    let sameDay = true;
    for (let i = 0; i < 10 && sameDay; i++) sameDay = start.charCodeAt(i) === end.charCodeAt(i);
    if (sameDay && end.charCodeAt(10) === 0x54) {
      const a = timeOfDayMs(start);
      const b = timeOfDayMs(end);
      if (a >= 0 && b >= 0 && knownDay(start)) return b - a;
    }
  }
  return Date.parse(end) - Date.parse(start);
}

/** The last `YYYY-MM-DDT` Date.parse took (a storm's sessions end on one or two days). */
let validDay = '';

/** Whether Date.parse takes the day of `iso` (asked once per new day). */
function knownDay(iso: string): boolean {
  if (validDay !== '' && iso.startsWith(validDay)) return true;
  if (!Number.isFinite(Date.parse(iso))) return false;
  validDay = iso.slice(0, 11);
  return true;
}

/** The milliseconds of `HH:MM:SS.sssZ` at offset 11 of an ISO time, or -1 when it is not that. */
function timeOfDayMs(s: string): number {
  if (s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a || s.charCodeAt(19) !== 0x2e || s.charCodeAt(23) !== 0x5a) return -1;
  const h = digit(s, 11) * 10 + digit(s, 12);
  const m = digit(s, 14) * 10 + digit(s, 15);
  const sec = digit(s, 17) * 10 + digit(s, 18);
  const ms = digit(s, 20) * 100 + digit(s, 21) * 10 + digit(s, 22);
  if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59 || ms < 0) return -1;
  return ((h * 60 + m) * 60 + sec) * 1000 + ms;
}

/** The digit at `i`, or a large negative number when it is none (so that any sum with it is negative). */
function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 0x30;
  return c >= 0 && c <= 9 ? c : -100000;
}

/** A normalized, bounded reason label from a DTLS failure (OpenSSL's alert or error text). */
export function reasonLabel(raw: string | undefined): string {
  const s = String(raw ?? 'error').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return s.slice(0, 48) || 'error';
}

export class ObserveMetrics {
  readonly registry = new Registry();
  private readonly sessions = new SessionSeries();
  private readonly refused = new Tally();
  private readonly handshakeFailures = new Tally();
  private readonly dropped = new Tally();
  private readonly handshakes = new Tally();
  private readonly retired = new Map<string, SourceCounters>();
  private readonly sources = new Map<string, MetricsSource>();
  private readonly known = new Map<string, { name: string; transport: string; port: number }>();

  constructor(audit: () => { up: boolean; written: number; dropped: number; queued: number } | undefined, withAudit = true) {
    const self = this;
    const r = [this.registry];
    const fromTally = (t: Tally, extra?: (set: (labels: Labels, v: number) => void) => void) =>
      function (this: Counter<string>) {
        this.reset();
        const sums = new Tally();
        for (const e of t.entries()) sums.add(e.labels, e.value);
        extra?.((l, v) => sums.add(l, v));
        for (const e of sums.entries()) if (e.value > 0) this.inc(e.labels, e.value);
      };

    new Counter({
      name: 'lwm2m_bootstrap_sessions_total',
      help: 'Ended bootstrap sessions and Bootstrap-Pack-Requests, by listener, kind and outcome.',
      labelNames: ['listener', 'kind', 'outcome'],
      registers: r,
      collect() {
        this.reset();
        for (const s of self.sessions.all) if (s.ended > 0) this.inc(s.labels, s.ended);
      },
    });
    this.registry.registerMetric(this.sessions as never);
    new Gauge({
      name: 'lwm2m_bootstrap_sessions_in_flight',
      help: 'Bootstrap sessions open now, by listener.',
      labelNames: ['listener'],
      registers: r,
      collect() {
        this.reset();
        for (const s of self.sources.values()) this.set({ listener: s.id }, s.inFlight());
      },
    });
    new Counter({
      name: 'lwm2m_bootstrap_requests_refused_total',
      help: 'Requests refused, by listener and reason: the session outcomes rejected, unauthorized and no_bootstrap_config, malformed requests the server answered itself, and limits.',
      labelNames: ['listener', 'reason'],
      registers: r,
      collect: fromTally(this.refused, (set) => this.eachCounter((id, c) => set({ listener: id, reason: 'malformed' }, c.malformed))),
    });
    new Counter({
      name: 'lwm2m_bootstrap_dtls_handshakes_total',
      help: 'Completed DTLS handshakes, by listener.',
      labelNames: ['listener'],
      registers: r,
      collect: fromTally(this.handshakes),
    });
    new Counter({
      name: 'lwm2m_bootstrap_dtls_handshake_failures_total',
      help: 'Failed DTLS handshakes, by listener and reason (the alert or error OpenSSL reported; timeout when the peer went quiet).',
      labelNames: ['listener', 'reason'],
      registers: r,
      collect: fromTally(this.handshakeFailures, (set) =>
        this.eachCounter((id, c) => set({ listener: id, reason: 'timeout' }, c.handshakeTimeouts ?? 0)),
      ),
    });
    new Counter({
      name: 'lwm2m_bootstrap_datagrams_dropped_total',
      help: 'Datagrams dropped before CoAP saw them, by listener and the limit that dropped them.',
      labelNames: ['listener', 'limit'],
      registers: r,
      collect: fromTally(this.dropped, (set) =>
        this.eachCounter((id, c) => {
          for (const [limit, v] of Object.entries(c.dropped ?? {})) set({ listener: id, limit }, v);
        }),
      ),
    });
    new Gauge({
      name: 'lwm2m_bootstrap_listener_info',
      help: 'One per listener this runtime has run: its name, transport and port.',
      labelNames: ['listener', 'name', 'transport', 'port'],
      registers: r,
      collect() {
        this.reset();
        for (const s of self.sources.values()) self.known.set(s.id, s.info());
        for (const [id, i] of self.known) this.set({ listener: id, name: i.name, transport: i.transport, port: String(i.port) }, 1);
      },
    });
    // Absent when the audit log is off (a metric without labels always has a sample).
    if (withAudit) {
      new Gauge({
        name: 'lwm2m_bootstrap_audit_log_up',
        help: 'Whether the audit log is writing (1) or failing (0); absent when it is switched off.',
        registers: r,
        collect() {
          this.reset();
          const a = audit();
          if (a) this.set(a.up ? 1 : 0);
        },
      });
      new Counter({
        name: 'lwm2m_bootstrap_audit_records_total',
        help: 'Audit records written to the audit log, and records it dropped (queue full while failing).',
        labelNames: ['result'],
        registers: r,
        collect() {
          this.reset();
          const a = audit();
          if (!a) return;
          this.inc({ result: 'written' }, a.written);
          this.inc({ result: 'dropped' }, a.dropped);
        },
      });
      new Gauge({
        name: 'lwm2m_bootstrap_audit_queue_length',
        help: 'Audit records waiting to be written.',
        registers: r,
        collect() {
          this.reset();
          const a = audit();
          if (a) this.set(a.queued);
        },
      });
    }
  }

  attach(source: MetricsSource): void {
    this.sources.set(source.id, source);
    this.known.set(source.id, source.info());
  }

  /** The listener closed: what its server and socket counted stays in the totals. */
  detach(id: string): void {
    const s = this.sources.get(id);
    if (!s) return;
    this.sources.delete(id);
    this.known.set(id, s.info());
    const c = s.counters();
    const base = this.retired.get(id) ?? { malformed: 0, handshakeTimeouts: 0, dropped: {} };
    base.malformed += c.malformed;
    base.handshakeTimeouts = (base.handshakeTimeouts ?? 0) + (c.handshakeTimeouts ?? 0);
    for (const [k, v] of Object.entries(c.dropped ?? {})) base.dropped![k] = (base.dropped![k] ?? 0) + v;
    this.retired.set(id, base);
  }

  record(listener: string, rec: AuditRecord): void {
    const outcome = String(rec.outcome ?? 'INTERNAL_ERROR');
    const s = this.sessions.series(listener, rec.kind, outcome);
    s.ended++;
    const ms = rec.endedAt ? isoSpanMs(rec.startedAt, rec.endedAt) : NaN;
    if (Number.isFinite(ms)) SessionSeries.observe(s, Math.max(0, ms) / 1000);
    if (REFUSALS.has(outcome)) this.refused.add({ listener, reason: outcome.toLowerCase() });
  }

  /** A hook for limits that refuse a request before it becomes a session (e.g. per-source limits). */
  refusal(listener: string, reason: string, n = 1): void {
    this.refused.add({ listener, reason: reasonLabel(reason) }, n);
  }

  /** A hook for limits that drop datagrams outside the DTLS socket's own counters. */
  drop(listener: string, limit: string, n = 1): void {
    this.dropped.add({ listener, limit: reasonLabel(limit) }, n);
  }

  handshake(listener: string): void {
    this.handshakes.add({ listener });
  }

  handshakeFailed(listener: string, reason: string | undefined): void {
    let r = reasonLabel(reason);
    const labels = { listener, reason: r };
    if (this.handshakeFailures.get(labels) === 0 && this.handshakeFailures.count((l) => l.listener === listener) >= MAX_REASONS) r = 'other';
    this.handshakeFailures.add({ listener, reason: r });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Each listener's counters: those of closed servers plus the running one's. */
  private eachCounter(fn: (id: string, c: SourceCounters) => void): void {
    const ids = new Set([...this.retired.keys(), ...this.sources.keys()]);
    for (const id of ids) {
      const base = this.retired.get(id);
      const live = this.sources.get(id)?.counters();
      const dropped: Record<string, number> = { ...(base?.dropped ?? {}) };
      for (const [k, v] of Object.entries(live?.dropped ?? {})) dropped[k] = (dropped[k] ?? 0) + v;
      fn(id, {
        malformed: (base?.malformed ?? 0) + (live?.malformed ?? 0),
        handshakeTimeouts: (base?.handshakeTimeouts ?? 0) + (live?.handshakeTimeouts ?? 0),
        dropped,
      });
    }
  }
}

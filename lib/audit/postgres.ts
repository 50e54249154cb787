/**
 * An AuditSink into PostgreSQL: one row per ended session or pack request in `lwm2m_audit` (schema in
 * lib/devices/postgres-schema.ts), the whole AuditRecord in a JSONB column. write() only queues; one loop
 * inserts batches of up to `batchRows` in one statement. While the database is unreachable the batch stays
 * queued and is retried every `retryMs`; beyond `maxQueue` records new ones are dropped and counted
 * (health().dropped), never waited for, so a bootstrap never blocks on the database.
 *
 * The session id is the primary key and inserts say ON CONFLICT DO NOTHING: a batch whose commit answer was
 * lost and that is sent again adds no duplicate.
 */
import type { Pool } from 'pg';
import { AUDIT_SCHEMA } from '../devices/postgres-schema';
import type { AuditEntry, AuditSink, AuditSinkHealth } from './sink';

export interface PostgresAuditSinkOptions {
  pool: Pool;
  /** Written into each row's `instance` column, e.g. the host name (default ""). */
  instance?: string;
  /** Records held while the database is unreachable (default 10,000). */
  maxQueue?: number;
  /** Records per INSERT at most (default 500). */
  batchRows?: number;
  /** Wait before retrying a failed insert, ms (default 2,000). */
  retryMs?: number;
  /** Create the table when missing (default true). */
  createSchema?: boolean;
}

const INSERT = `INSERT INTO lwm2m_audit (session_id, kind, endpoint, outcome, listener_id, instance, peer, started_at, ended_at, record)
SELECT x.session_id, x.kind, x.endpoint, x.outcome, x.listener_id, x.instance, x.peer, x.started_at, x.ended_at, x.record
FROM jsonb_to_recordset($1::jsonb) AS x(session_id text, kind text, endpoint text, outcome text, listener_id text,
  instance text, peer text, started_at timestamptz, ended_at timestamptz, record jsonb)
ON CONFLICT (session_id) DO NOTHING`;

interface Row {
  session_id: string;
  kind: string;
  endpoint: string;
  outcome: string | null;
  listener_id: string | null;
  instance: string;
  peer: string | null;
  started_at: string | null;
  ended_at: string | null;
  record: AuditEntry;
}

export class PostgresAuditSink implements AuditSink {
  private queue: Row[] = [];
  private ok = true;
  private error: string | undefined;
  private written = 0;
  private dropped = 0;
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private schema: Promise<unknown> | undefined;
  private readonly listeners = new Set<(h: AuditSinkHealth) => void>();
  private readonly maxQueue: number;
  private readonly batchRows: number;
  private readonly retryMs: number;

  constructor(private readonly opts: PostgresAuditSinkOptions) {
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.batchRows = opts.batchRows ?? 500;
    this.retryMs = opts.retryMs ?? 2_000;
    for (const [name, v] of [['maxQueue', this.maxQueue], ['batchRows', this.batchRows], ['retryMs', this.retryMs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`audit ${name}: a whole number of at least 1 is needed, not ${v}`);
    }
  }

  write(entry: AuditEntry): void {
    if (this.closed || this.queue.length >= this.maxQueue) {
      this.drop(1);
      return;
    }
    const peer = entry.peer ? `${entry.peer.address}:${entry.peer.port}` : null;
    this.queue.push({
      session_id: entry.sessionId,
      kind: entry.kind,
      endpoint: entry.endpoint,
      outcome: entry.outcome === undefined ? null : String(entry.outcome),
      listener_id: entry.listenerId ?? null,
      instance: this.opts.instance ?? '',
      peer,
      started_at: entry.startedAt ?? null,
      ended_at: entry.endedAt ?? null,
      record: entry,
    });
    if (!this.draining && !this.retryTimer) this.kick();
  }

  health(): AuditSinkHealth {
    const h: AuditSinkHealth = { ok: this.ok, written: this.written, dropped: this.dropped, queued: this.queue.length };
    if (this.error) h.error = this.error;
    return h;
  }

  onHealth(listener: (h: AuditSinkHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when what is queued now has been written or has failed once. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.queue.length > 0) {
      this.kick();
      await this.draining;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    while (this.draining) await this.draining;
    if (this.queue.length > 0) {
      this.draining = this.drain();
      await this.draining;
    }
    const left = this.queue.length;
    this.queue = [];
    if (left > 0) this.drop(left);
    this.listeners.clear();
  }

  private drop(n: number): void {
    const first = this.dropped === 0;
    this.dropped += n;
    if (first) this.tell();
  }

  private kick(): void {
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.batchRows);
      try {
        if (this.opts.createSchema !== false) {
          this.schema ??= this.opts.pool.query(AUDIT_SCHEMA);
          await this.schema.catch((e: unknown) => {
            this.schema = undefined;
            throw e;
          });
        }
        await this.opts.pool.query(INSERT, [JSON.stringify(batch)]);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const changed = this.ok || this.error !== msg;
        this.ok = false;
        this.error = msg;
        if (changed) this.tell();
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            if (!this.draining) this.kick();
          }, this.retryMs);
          this.retryTimer.unref?.();
        }
        return;
      }
      this.queue.splice(0, batch.length);
      this.written += batch.length;
      if (!this.ok) {
        this.ok = true;
        this.error = undefined;
        this.tell();
      }
    }
  }

  private tell(): void {
    const h = this.health();
    for (const l of this.listeners) {
      try {
        l(h);
      } catch {
        // A listener's fault is not the sink's.
      }
    }
  }
}

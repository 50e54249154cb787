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
import { QueuedAuditSink } from './queued-sink';
import type { AuditEntry } from './sink';

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

export class PostgresAuditSink extends QueuedAuditSink<Row> {
  private schema: Promise<unknown> | undefined;

  constructor(private readonly opts: PostgresAuditSinkOptions) {
    const maxQueue = opts.maxQueue ?? 10_000;
    const batchRows = opts.batchRows ?? 500;
    const retryMs = opts.retryMs ?? 2_000;
    for (const [name, v] of [['maxQueue', maxQueue], ['batchRows', batchRows], ['retryMs', retryMs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`audit ${name}: a whole number of at least 1 is needed, not ${v}`);
    }
    super({ maxQueue, batchSize: batchRows, retryMs, batchDelayMs: 0 });
  }

  protected encode(entry: AuditEntry): Row {
    const peer = entry.peer ? `${entry.peer.address}:${entry.peer.port}` : null;
    return {
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
    };
  }

  /** One INSERT for the batch (creating the table first when asked and not done yet). */
  protected async writeBatch(batch: Row[]): Promise<void> {
    if (this.opts.createSchema !== false) {
      this.schema ??= this.opts.pool.query(AUDIT_SCHEMA);
      await this.schema.catch((e: unknown) => {
        this.schema = undefined;
        throw e;
      });
    }
    await this.opts.pool.query(INSERT, [JSON.stringify(batch)]);
  }
}

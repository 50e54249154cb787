/**
 * An AuditSink into PostgreSQL: one row per ended session or pack request in `lwm2m_audit` (schema in
 * lib/devices/postgres-schema.ts), the whole AuditRecord in a JSONB column. write() only queues; one loop
 * inserts batches of up to `batchRows` in one statement. While the database is unreachable the batch stays
 * queued and is retried every `retryMs`; beyond `maxQueue` records new ones are dropped and counted
 * (health().dropped), never waited for, so a bootstrap never blocks on the database.
 *
 * The session id is the primary key: a batch whose commit answer was lost and that is sent again adds no
 * duplicate (ON CONFLICT: nothing, except over a write-ahead row).
 *
 * Write-ahead (issue 16, "no audit record lost when an instance is killed"): writeAhead() inserts the row of a
 * session whose Bootstrap-Finish is about to leave, outcome FINISH_SENT, and resolves once it is committed
 * (group commit: every row queued meanwhile goes in the same INSERT), at most `timeoutMs` later. The session's
 * final record then replaces that row; its outcome column stays FINISH_SENT when the session ended without the
 * device's answer to Finish (see encode). A FINISH_SENT row is a session whose Finish the device may or may not
 * have applied: its instance died, or the session was ended, before the answer came. README "Running more than
 * one" says how to read it (a later session of the same endpoint says the device did not).
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
  /** Longest wait for a write-ahead row before Bootstrap-Finish, ms (default 500; 0: no write-ahead). */
  writeAheadMs?: number;
}

/** Default bound of the write-ahead wait, ms: a few round trips, well under a CoAP retransmission (2-3 s). */
export const DEFAULT_WRITE_AHEAD_MS = 500;

/** The outcome column of a write-ahead row: Bootstrap-Finish sent (or about to be), its answer not recorded. */
export const FINISH_SENT = 'FINISH_SENT';

const INSERT = `INSERT INTO lwm2m_audit (session_id, kind, endpoint, outcome, listener_id, instance, peer, started_at, ended_at, record)
SELECT x.session_id, x.kind, x.endpoint, x.outcome, x.listener_id, x.instance, x.peer, x.started_at, x.ended_at, x.record
FROM jsonb_to_recordset($1::jsonb) AS x(session_id text, kind text, endpoint text, outcome text, listener_id text,
  instance text, peer text, started_at timestamptz, ended_at timestamptz, record jsonb)
ON CONFLICT (session_id) DO UPDATE SET kind = EXCLUDED.kind, endpoint = EXCLUDED.endpoint, outcome = EXCLUDED.outcome,
  listener_id = EXCLUDED.listener_id, instance = EXCLUDED.instance, peer = EXCLUDED.peer, started_at = EXCLUDED.started_at,
  ended_at = EXCLUDED.ended_at, record = EXCLUDED.record
WHERE lwm2m_audit.outcome = '${FINISH_SENT}' AND EXCLUDED.ended_at IS NOT NULL`;

/** Outcomes that are the device's own answer to Bootstrap-Finish: every other end of a session with a write-ahead row leaves it in doubt. */
const FINISH_ANSWERED = new Set(['SUCCESS', 'FINISH_FAILED']);
/** Write-ahead session ids remembered until their final record (bounded: a record dropped on a full queue never comes). */
const MAX_AHEAD = 100_000;

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
  /** Sessions with a write-ahead row whose final record has not come yet. */
  private readonly ahead = new Set<string>();
  readonly writeAheadMs: number;

  constructor(private readonly opts: PostgresAuditSinkOptions) {
    const maxQueue = opts.maxQueue ?? 10_000;
    const batchRows = opts.batchRows ?? 500;
    const retryMs = opts.retryMs ?? 2_000;
    for (const [name, v] of [['maxQueue', maxQueue], ['batchRows', batchRows], ['retryMs', retryMs]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`audit ${name}: a whole number of at least 1 is needed, not ${v}`);
    }
    super({ maxQueue, batchSize: batchRows, retryMs, batchDelayMs: 0 });
    this.writeAheadMs = opts.writeAheadMs ?? DEFAULT_WRITE_AHEAD_MS;
    if (!(Number.isInteger(this.writeAheadMs) && this.writeAheadMs >= 0)) {
      throw new RangeError(`audit writeAheadMs: a whole number of at least 0 is needed, not ${this.writeAheadMs}`);
    }
  }

  /** The write-ahead row of a session about to send Bootstrap-Finish (see the file comment). Never rejects. */
  writeAhead(entry: AuditEntry, timeoutMs: number): Promise<boolean> {
    let row: Row;
    try {
      row = { ...this.encode(entry), outcome: FINISH_SENT, ended_at: null };
    } catch {
      return Promise.resolve(false);
    }
    this.ahead.add(row.session_id);
    if (this.ahead.size > MAX_AHEAD) this.ahead.delete(this.ahead.values().next().value as string);
    return this.writeDurable(row, timeoutMs);
  }

  /**
   * A final record of a session with a write-ahead row keeps the outcome column FINISH_SENT unless the device
   * answered Finish (SUCCESS, FINISH_FAILED): ended otherwise (cancelled at shutdown, timed out), its Finish
   * may have reached the device all the same. The record column has the session's own outcome.
   */
  protected encode(entry: AuditEntry): Row {
    const peer = entry.peer ? `${entry.peer.address}:${entry.peer.port}` : null;
    let outcome = entry.outcome === undefined ? null : String(entry.outcome);
    if (outcome !== null && this.ahead.delete(entry.sessionId) && !FINISH_ANSWERED.has(outcome)) outcome = FINISH_SENT;
    return {
      session_id: entry.sessionId,
      kind: entry.kind,
      endpoint: entry.endpoint,
      outcome,
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
    await this.opts.pool.query(INSERT, [JSON.stringify(lastPerSession(batch))]);
  }
}

/**
 * One row per session id, the last queued (a final record after its write-ahead row): one INSERT ... ON
 * CONFLICT DO UPDATE may not touch the same row twice.
 */
function lastPerSession(batch: Row[]): Row[] {
  const seen = new Map<string, number>();
  batch.forEach((r, i) => seen.set(r.session_id, i));
  return seen.size === batch.length ? batch : batch.filter((r, i) => seen.get(r.session_id) === i);
}

/**
 * The audit seam: where the records of ended bootstrap sessions and Bootstrap-Pack-Requests go to be kept.
 * A sink takes a record synchronously and never blocks or throws: it queues (bounded) and writes in the
 * background, and says through its health when it cannot (a full disk, a read-only directory, a database
 * that is down). Bootstraps never wait for it. JSON Lines files are the embedded default (jsonl.ts); a
 * database sink implements the same interface.
 */
import type { AuditRecord } from '../bootstrap/audit';

/** What a sink keeps: the server's AuditRecord, plus which listener (server) it came from. No keys. */
export interface AuditEntry extends AuditRecord {
  /** The id of the server that emitted it (in Node-RED, the listener node's id). */
  listenerId?: string;
}

export interface AuditSinkHealth {
  /** False while the last write failed; records are then queued (bounded) and retried. */
  ok: boolean;
  /** Why the last write failed (the error's message; no record content). */
  error?: string;
  /** Records written since the sink was created. */
  written: number;
  /** Records lost: the queue was full while writes failed, or the sink was closed while failing. */
  dropped: number;
  /** Records waiting to be written. */
  queued: number;
  /**
   * Write-ahead records (writeAhead) not committed within their bound, or not even tried because the sink
   * was unhealthy or full: the device got Bootstrap-Finish anyway. Absent while none.
   */
  unconfirmed?: number;
}

export interface AuditSink {
  /** Takes one record. Returns at once; never throws. */
  write(entry: AuditEntry): void;
  /**
   * Optional: the same as write({ ...record, listenerId }), for a sink that can keep it without building that
   * object (one per ended session). Returns at once; never throws.
   */
  writeRecord?(record: AuditRecord, listenerId: string): void;
  /**
   * Optional write-ahead (PostgresAuditSink): records that a session's Bootstrap-Finish is about to be sent
   * (`entry` has no outcome yet), and resolves true once that is durable, false after at most `timeoutMs`.
   * The session's final record, given to write() later, replaces it. Never rejects.
   */
  writeAhead?(entry: AuditEntry, timeoutMs: number): Promise<boolean>;
  /** How long a caller of writeAhead() should wait at most, ms; 0: do not write ahead. */
  readonly writeAheadMs?: number;
  health(): AuditSinkHealth;
  /** Called on every change of `health().ok` (and with the error text when it fails). */
  onHealth(listener: (health: AuditSinkHealth) => void): () => void;
  /** Resolves once what is queued now has been written, or has failed once (it stays queued then). */
  flush(): Promise<void>;
  /** Writes what is queued (one attempt), then stops taking records. */
  close(): Promise<void>;
}

/** Newest-first reading of what a sink kept, for a history view. */
export interface AuditReader {
  /** Up to `limit` entries, newest first, that match the filter. */
  recent(limit: number, filter?: AuditFilter): Promise<AuditEntry[]>;
  /** The entry of a session or pack request id, if still kept. */
  find(sessionId: string): Promise<AuditEntry | undefined>;
}

export interface AuditFilter {
  /** Substring of the endpoint name (case-sensitive). */
  endpoint?: string;
  outcome?: string;
  listenerId?: string;
}

export function auditEntryMatches(e: AuditEntry, f: AuditFilter | undefined): boolean {
  if (!f) return true;
  if (f.endpoint && !String(e.endpoint).includes(f.endpoint)) return false;
  if (f.outcome && e.outcome !== f.outcome) return false;
  if (f.listenerId && e.listenerId !== f.listenerId) return false;
  return true;
}

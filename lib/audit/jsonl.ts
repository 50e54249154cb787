/**
 * The embedded audit sink: JSON Lines files in one directory, one line per ended session or pack request.
 * `audit.jsonl` takes new lines; when the next batch would take it past `maxFileBytes` it is renamed to
 * `audit-<UTC time>-<n>.jsonl` and a new one started; only the `filesKept` newest rotated files stay.
 *
 * write() only queues (bounded by `maxQueue`); one background loop appends batches. A failed append (full
 * disk, read-only or missing directory) keeps the batch queued, reports `ok: false` through onHealth and
 * retries every `retryMs`; records beyond the queue bound are dropped and counted, never waited for.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { AuditEntry, AuditSink, AuditSinkHealth } from './sink';

export interface JsonlAuditSinkOptions {
  directory: string;
  /** Size at which the current file is rotated, bytes (default 10 MiB, at least 4 KiB). */
  maxFileBytes?: number;
  /** Rotated files kept besides the current one; older ones are deleted (default 10; 0 keeps none). */
  filesKept?: number;
  /** Records held in memory while writes fail; beyond that new records are dropped (default 10,000). */
  maxQueue?: number;
  /** Wait before retrying a failed write, ms (default 5,000). */
  retryMs?: number;
  /** Lines appended per write call at most (default 500). */
  batchLines?: number;
  /**
   * Records gather this long before an append, ms (default 50): in a storm one append takes many lines
   * (an append per record costs about twice the CPU). flush() and close() do not wait for it.
   */
  batchDelayMs?: number;
}

export const AUDIT_FILE = 'audit.jsonl';
const ROTATED = /^audit-(\d{8}T\d{9})-(\d+)\.jsonl$/;

/** Rotated file names sort by time (then sequence) when compared as strings. */
export function isRotatedAuditFile(name: string): boolean {
  return ROTATED.test(name);
}

export class AuditOptionError extends Error {}

export function resolveJsonlOptions(o: JsonlAuditSinkOptions): Required<JsonlAuditSinkOptions> {
  const r = {
    directory: o.directory,
    maxFileBytes: o.maxFileBytes ?? 10 * 1024 * 1024,
    filesKept: o.filesKept ?? 10,
    maxQueue: o.maxQueue ?? 10_000,
    retryMs: o.retryMs ?? 5_000,
    batchLines: o.batchLines ?? 500,
    batchDelayMs: o.batchDelayMs ?? 50,
  };
  if (typeof r.directory !== 'string' || r.directory === '') throw new AuditOptionError('audit directory: a path is needed');
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new AuditOptionError(`audit ${name}: an integer of at least ${min} is needed, not ${v}`);
  };
  int('maxFileBytes', r.maxFileBytes, 4096);
  int('filesKept', r.filesKept, 0);
  int('maxQueue', r.maxQueue, 1);
  int('retryMs', r.retryMs, 1);
  int('batchLines', r.batchLines, 1);
  int('batchDelayMs', r.batchDelayMs, 0);
  return r;
}

export class JsonlAuditSink implements AuditSink {
  readonly options: Required<JsonlAuditSinkOptions>;
  private readonly file: string;
  private queue: string[] = [];
  private fh: fsp.FileHandle | undefined;
  private size = 0;
  private ok = true;
  private error: string | undefined;
  private written = 0;
  private dropped = 0;
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private rotations = 0;
  private readonly listeners = new Set<(h: AuditSinkHealth) => void>();

  constructor(opts: JsonlAuditSinkOptions) {
    this.options = resolveJsonlOptions(opts);
    this.file = path.join(this.options.directory, AUDIT_FILE);
  }

  write(entry: AuditEntry): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    if (this.queue.length >= this.options.maxQueue) {
      this.dropped++;
      return;
    }
    let line: string;
    try {
      line = JSON.stringify(entry) + '\n';
    } catch {
      this.dropped++;
      return;
    }
    this.queue.push(line);
    if (!this.draining && !this.retryTimer && !this.batchTimer) {
      this.batchTimer = setTimeout(() => {
        this.batchTimer = undefined;
        if (!this.draining && !this.retryTimer) this.kick();
      }, this.options.batchDelayMs);
      this.batchTimer.unref?.();
    }
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
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
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
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    while (this.draining) await this.draining;
    if (this.queue.length > 0) {
      this.draining = this.drain();
      await this.draining;
    }
    this.dropped += this.queue.length;
    this.queue = [];
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
    this.listeners.clear();
  }

  private kick(): void {
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve();
    while (this.queue.length > 0) {
      const n = Math.min(this.queue.length, this.options.batchLines);
      const text = this.queue.slice(0, n).join('');
      const bytes = Buffer.byteLength(text);
      try {
        if (!this.fh) await this.open();
        if (this.size > 0 && this.size + bytes > this.options.maxFileBytes) await this.rotate();
        if (!this.fh) await this.open();
        await this.fh!.write(text);
        this.size += bytes;
        this.queue.splice(0, n);
        this.written += n;
        this.setHealth(true);
      } catch (e) {
        const fh = this.fh;
        this.fh = undefined;
        await fh?.close().catch(() => undefined);
        this.setHealth(false, e instanceof Error ? e.message : String(e));
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            if (this.queue.length > 0 && !this.draining) this.kick();
          }, this.options.retryMs);
          this.retryTimer.unref?.();
        }
        return;
      }
    }
  }

  private async open(): Promise<void> {
    await fsp.mkdir(this.options.directory, { recursive: true });
    const fh = await fsp.open(this.file, 'a', 0o640);
    try {
      this.size = (await fh.stat()).size;
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    this.fh = fh;
  }

  private async rotate(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
    const stamp = new Date().toISOString().replace(/[-:Z]/g, '').replace('.', '');
    const name = `audit-${stamp}-${String(++this.rotations).padStart(4, '0')}.jsonl`;
    await fsp.rename(this.file, path.join(this.options.directory, name));
    this.size = 0;
    await this.prune();
  }

  /** Deletes the oldest rotated files beyond filesKept. */
  private async prune(): Promise<void> {
    const rotated = (await fsp.readdir(this.options.directory)).filter(isRotatedAuditFile).sort();
    const extra = rotated.length - this.options.filesKept;
    for (let i = 0; i < extra; i++) await fsp.unlink(path.join(this.options.directory, rotated[i])).catch(() => undefined);
  }

  private setHealth(ok: boolean, error?: string): void {
    const changed = ok !== this.ok || (!ok && error !== this.error);
    this.ok = ok;
    this.error = ok ? undefined : error;
    if (!changed) return;
    const h = this.health();
    for (const l of this.listeners) {
      try {
        l(h);
      } catch {
        // a health listener's mistake must not stop the writer
      }
    }
  }
}

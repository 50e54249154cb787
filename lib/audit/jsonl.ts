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
import type { AuditRecord } from '../bootstrap/audit';
import { AuditLineEncoder } from './jsonl-line';
import { QueuedAuditSink } from './queued-sink';
import type { AuditEntry } from './sink';

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

export class JsonlAuditSink extends QueuedAuditSink<string> {
  readonly options: Required<JsonlAuditSinkOptions>;
  private readonly file: string;
  private fh: fsp.FileHandle | undefined;
  private size = 0;
  private rotations = 0;
  private readonly lines = new AuditLineEncoder();
  /** The bytes of the batch being written (reused; grows to the largest batch). */
  private buf = Buffer.allocUnsafe(64 * 1024);

  constructor(opts: JsonlAuditSinkOptions) {
    const o = resolveJsonlOptions(opts);
    super({ maxQueue: o.maxQueue, batchSize: o.batchLines, retryMs: o.retryMs, batchDelayMs: o.batchDelayMs });
    this.options = o;
    this.file = path.join(this.options.directory, AUDIT_FILE);
  }

  protected encode(entry: AuditEntry): string {
    return JSON.stringify(entry) + '\n';
  }

  /** The text of encode({ ...record, listenerId }), without that object (jsonl-line.ts). */
  protected override encodeFor(record: AuditRecord, listenerId: string): string {
    return this.lines.line(record, listenerId);
  }

  /**
   * Appends the batch to the current file, rotating first when it would pass maxFileBytes. The text goes
   * through one Buffer kept for the next batch: a string given to FileHandle.write is copied into a fresh
   * allocation of three bytes per character each time, twice the main thread's time of this copy.
   */
  protected async writeBatch(lines: string[]): Promise<void> {
    const text = lines.join('');
    const bytes = Buffer.byteLength(text);
    if (!this.fh) await this.open();
    if (this.size > 0 && this.size + bytes > this.options.maxFileBytes) await this.rotate();
    if (!this.fh) await this.open();
    if (this.buf.length < bytes) this.buf = Buffer.allocUnsafe(Math.max(bytes, 2 * this.buf.length));
    const buf = this.buf;
    buf.write(text, 0, bytes, 'utf8');
    // One write(2) for the batch, as before; a short write (seldom, on a regular file) writes on from where it stopped.
    let done = 0;
    while (done < bytes) {
      const n = (await this.fh!.write(buf, done, bytes - done)).bytesWritten;
      if (n <= 0) throw new Error(`audit log: no bytes written to ${this.file}`);
      done += n;
    }
    this.size += bytes;
  }

  /** A failed append may leave the handle broken (a removed directory): open the file again next time. */
  protected override async afterFailure(): Promise<void> {
    await this.release();
  }

  protected override async release(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
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
}

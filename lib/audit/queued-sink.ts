/**
 * What every audit sink shares: write() only queues (bounded), one background loop writes batches, a failed
 * batch stays queued and is retried after `retryMs` while health() says why, records beyond `maxQueue` are
 * dropped and counted, never waited for. A sink says how a record is queued (a JSON line, a table row) and
 * how a batch is written (an append, an INSERT); bootstraps never wait for either.
 */
import type { AuditRecord } from '../bootstrap/audit';
import type { AuditEntry, AuditSink, AuditSinkHealth } from './sink';

export interface QueueSettings {
  /** Records held while writes fail; beyond that new records are dropped. */
  maxQueue: number;
  /** Records per write at most. */
  batchSize: number;
  /** Wait before retrying a failed write, ms. */
  retryMs: number;
  /** Records gather this long before a write, ms (0: write at once). flush() and close() do not wait. */
  batchDelayMs: number;
}

export abstract class QueuedAuditSink<T> implements AuditSink {
  protected queue: T[] = [];
  /** Beside `queue`, index for index: who waits for that item to be written (writeDurable). */
  private waiters: (((ok: boolean) => void) | undefined)[] = [];
  private unconfirmed = 0;
  protected closed = false;
  private ok = true;
  private error: string | undefined;
  private written = 0;
  private dropped = 0;
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(h: AuditSinkHealth) => void>();

  constructor(private readonly settings: QueueSettings) {}

  /** The queued form of a record; throwing drops the record (counted). */
  protected abstract encode(entry: AuditEntry): T;
  /** The queued form of `{ ...record, listenerId }`; a sink that can make it without that object overrides this. */
  protected encodeFor(record: AuditRecord, listenerId: string): T {
    return this.encode({ ...record, listenerId });
  }
  /** Writes one batch, in order; throwing keeps the batch queued for the retry. */
  protected abstract writeBatch(batch: T[]): Promise<void>;
  /** After a failed batch (e.g. let go of a file handle that may be broken). */
  protected async afterFailure(): Promise<void> {}
  /** After close() has written what it could (release handles). */
  protected async release(): Promise<void> {}

  write(entry: AuditEntry): void {
    if (this.closed || this.queue.length >= this.settings.maxQueue) return this.drop(1);
    let item: T;
    try {
      item = this.encode(entry);
    } catch {
      return this.drop(1);
    }
    this.enqueue(item, undefined);
  }

  /** write({ ...record, listenerId }), without that object where the sink can (encodeFor). */
  writeRecord(record: AuditRecord, listenerId: string): void {
    if (this.closed || this.queue.length >= this.settings.maxQueue) return this.drop(1);
    let item: T;
    try {
      item = this.encodeFor(record, listenerId);
    } catch {
      return this.drop(1);
    }
    this.enqueue(item, undefined);
  }

  /**
   * Queues `item` like write(), and resolves true once the batch holding it is committed, false when that did
   * not happen within `timeoutMs` (or cannot: the sink is unhealthy, full or closed; then at once). Never
   * rejects, and the item stays queued after a false. Group commit: items queued while a batch is being
   * written go out together in the next one, so concurrent callers share a round trip. Falses are counted
   * (health().unconfirmed).
   */
  protected writeDurable(item: T, timeoutMs: number): Promise<boolean> {
    if (this.closed || !this.ok || this.queue.length >= this.settings.maxQueue) {
      this.unconfirmed++;
      if (this.closed || this.queue.length >= this.settings.maxQueue) this.drop(1);
      else this.enqueue(item, undefined);
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const settle = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) this.unconfirmed++;
        resolve(ok);
      };
      const timer = setTimeout(() => settle(false), timeoutMs);
      timer.unref?.();
      this.enqueue(item, settle);
    });
  }

  private enqueue(item: T, waiter: ((ok: boolean) => void) | undefined): void {
    this.queue.push(item);
    this.waiters.push(waiter);
    if (this.draining || this.retryTimer || this.batchTimer) return;
    if (this.settings.batchDelayMs <= 0) return this.kick();
    this.gather();
  }

  /** Writes what is queued batchDelayMs from now (records coming meanwhile go in the same write). */
  private gather(): void {
    this.batchTimer = setTimeout(() => {
      this.batchTimer = undefined;
      if (!this.draining && !this.retryTimer) this.kick();
    }, this.settings.batchDelayMs);
    this.batchTimer.unref?.();
  }

  health(): AuditSinkHealth {
    const h: AuditSinkHealth = { ok: this.ok, written: this.written, dropped: this.dropped, queued: this.queue.length };
    if (this.unconfirmed > 0) h.unconfirmed = this.unconfirmed;
    if (this.error) h.error = this.error;
    return h;
  }

  onHealth(listener: (h: AuditSinkHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when what is queued now has been written or has failed once. */
  async flush(): Promise<void> {
    this.clearBatchTimer();
    while (this.draining) await this.draining;
    if (this.queue.length > 0) {
      this.kick(true);
      await this.draining;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearBatchTimer();
    while (this.draining) await this.draining;
    if (this.queue.length > 0) {
      this.draining = this.drain(true);
      await this.draining;
    }
    const left = this.queue.length;
    this.queue = [];
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w?.(false);
    if (left > 0) this.drop(left);
    await this.release();
    this.listeners.clear();
  }

  private clearBatchTimer(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
  }

  private drop(n: number): void {
    const first = this.dropped === 0;
    this.dropped += n;
    if (first) this.tell();
  }

  private kick(all = false): void {
    this.draining = this.drain(all).finally(() => {
      this.draining = undefined;
    });
  }

  /**
   * Writes batches until the queue is empty. Kicked by the batch timer (`all` false), it goes back to gathering
   * once less than a full batch is left: records keep coming while a write is under way, and writing them at
   * once would make a write of a few lines after every write, in a storm about one per session ended.
   * flush() and close() write everything (`all`).
   */
  private async drain(all = false): Promise<void> {
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.settings.batchSize);
      try {
        await this.writeBatch(batch);
      } catch (e) {
        await this.afterFailure().catch(() => undefined);
        this.setHealth(false, e instanceof Error ? e.message : String(e));
        if (!this.closed) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            if (this.queue.length > 0 && !this.draining) this.kick();
          }, this.settings.retryMs);
          this.retryTimer.unref?.();
        }
        return;
      }
      this.queue.splice(0, batch.length);
      const waiters = this.waiters.splice(0, batch.length);
      this.written += batch.length;
      this.setHealth(true);
      for (const w of waiters) w?.(true);
      if (!all && !this.closed && this.settings.batchDelayMs > 0 && this.queue.length > 0 && this.queue.length < this.settings.batchSize) {
        if (!this.batchTimer) this.gather();
        return;
      }
    }
  }

  private setHealth(ok: boolean, error?: string): void {
    const changed = ok !== this.ok || (!ok && error !== this.error);
    this.ok = ok;
    this.error = ok ? undefined : error;
    if (changed) this.tell();
  }

  private tell(): void {
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

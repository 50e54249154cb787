/** Per-source handshake rate: at most N new handshakes per source address in each one-second window. */
export class SourceRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly perSecond: number) {}

  /** True when `source` may start another handshake now (does not count it). */
  allows(source: string, now: number): boolean {
    const w = this.windows.get(source);
    if (!w || now - w.start >= 1000) return this.perSecond > 0;
    return w.count < this.perSecond;
  }

  /** Counts a handshake started by `source`. */
  record(source: string, now: number): void {
    const w = this.windows.get(source);
    if (!w || now - w.start >= 1000) this.windows.set(source, { start: now, count: 1 });
    else w.count++;
  }

  /** Forgets windows that have ended. */
  prune(now: number): void {
    for (const [source, w] of this.windows) if (now - w.start >= 1000) this.windows.delete(source);
  }

  get size(): number {
    return this.windows.size;
  }
}

/**
 * Repeated warnings, summarised: the first of a kind is written at once, the ones after it within the
 * interval are only counted, and when the interval ends one line says how many there were with one
 * example ("1234 requests refused (binding) in the last 10 s, e.g. …"). A flood of refused requests then
 * costs one log line per kind per interval instead of one per datagram.
 */

export interface SummaryClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { unref?(): unknown } | unknown;
  clearTimeout(t: unknown): void;
}

const realClock: SummaryClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

interface Pending {
  count: number;
  example: string;
}

export class LogSummarizer {
  private readonly pending = new Map<string, Pending>();
  private readonly quietUntil = new Map<string, number>();
  private timer: unknown;

  /**
   * `write` gets each line to log. `describe(kind, count, seconds, example)` words the summary line;
   * the default is "<count> × <kind> in the last <s> s, e.g. <example>".
   */
  constructor(
    private readonly write: (line: string) => void,
    readonly intervalMs = 10_000,
    private readonly describe: (kind: string, count: number, seconds: number, example: string) => string = (k, n, s, e) =>
      `${n} more ${k} in the last ${s} s, e.g. ${e}`,
    private readonly clock: SummaryClock = realClock,
  ) {}

  /** Writes `line` now, or counts it when a line of the same `kind` was written within the interval. */
  warn(kind: string, line: string): void {
    const now = this.clock.now();
    const until = this.quietUntil.get(kind);
    if (until === undefined || now >= until) {
      this.quietUntil.set(kind, now + this.intervalMs);
      this.write(line);
      return;
    }
    const p = this.pending.get(kind);
    if (p) {
      p.count++;
      p.example = line;
    } else {
      this.pending.set(kind, { count: 1, example: line });
    }
    this.arm();
  }

  /** Writes the pending summaries now (e.g. on close) and stops the timer. */
  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const seconds = Math.round(this.intervalMs / 1000);
    for (const [kind, p] of this.pending) this.write(this.describe(kind, p.count, seconds, p.example));
    this.pending.clear();
  }

  /** flush(), and forget when the last lines were written. */
  close(): void {
    this.flush();
    this.quietUntil.clear();
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const t = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
      // The kinds summarised stay quiet for one more interval: a steady flood keeps to one line per interval.
      const now = this.clock.now();
      for (const k of this.quietUntil.keys()) this.quietUntil.set(k, now + this.intervalMs);
    }, this.intervalMs);
    (t as { unref?(): unknown }).unref?.();
    this.timer = t;
  }
}

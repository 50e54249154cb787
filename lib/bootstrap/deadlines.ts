/**
 * The decision and session deadlines of a server's sessions, on one timer. Every session of a server has the
 * same two offsets from its start (decisionTimeoutMs while it is pending, sessionTimeoutMs in all), so the
 * sessions in order of start are also in order of deadline: two insertion-ordered sets and one timer for the
 * earliest deadline replace a timer per session (a Timeout with its arguments is ~0.15 KiB of heap for every
 * session waiting on a device).
 */
import type { BootstrapTimings } from './parameters';

/** What the deadlines need of a session. */
export interface TimedSession {
  readonly startedAtMs: number;
  readonly state: string;
  /** The session's deadline passed (answers and ends it; does nothing when it has ended). */
  deadlinePassed(now: number): void;
}

export class SessionDeadlines<S extends TimedSession> {
  /** Live sessions, in order of start. */
  private readonly all = new Set<S>();
  /** Sessions that were pending when last looked at, in order of start (accepted ones leave lazily). */
  private readonly undecided = new Set<S>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  constructor(private readonly timings: Pick<BootstrapTimings, 'decisionTimeoutMs' | 'sessionTimeoutMs'>) {}

  add(s: S): void {
    this.all.add(s);
    if (s.state === 'pending') this.undecided.add(s);
    this.arm();
  }

  remove(s: S): void {
    this.all.delete(s);
    this.undecided.delete(s);
  }

  clear(): void {
    this.all.clear();
    this.undecided.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** The earliest deadline of any session (accepted sessions at the front of `undecided` leave on the way). */
  private next(): number {
    let at = Infinity;
    for (const s of this.all) {
      at = s.startedAtMs + this.timings.sessionTimeoutMs;
      break;
    }
    for (const s of this.undecided) {
      if (s.state !== 'pending') {
        this.undecided.delete(s);
        continue;
      }
      at = Math.min(at, s.startedAtMs + this.timings.decisionTimeoutMs);
      break;
    }
    return at;
  }

  private arm(): void {
    const at = this.next();
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(SessionDeadlines.fire, Math.max(0, at - Date.now()), this);
    this.timer.unref?.();
  }

  private static fire(d: SessionDeadlines<TimedSession>): void {
    d.timer = undefined;
    d.timerAt = Infinity;
    const now = Date.now();
    for (const s of d.undecided) {
      if (s.state === 'pending' && now < s.startedAtMs + d.timings.decisionTimeoutMs) break;
      d.undecided.delete(s);
      if (s.state === 'pending') s.deadlinePassed(now);
    }
    for (const s of d.all) {
      if (now < s.startedAtMs + d.timings.sessionTimeoutMs) break;
      d.all.delete(s);
      s.deadlinePassed(now);
    }
    d.arm();
  }
}

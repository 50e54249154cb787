/**
 * "Not before N ms" without reading the clock. A mark is a timer started now; Node runs timers in the
 * order they fall due, so a mark due before the timer under test (started after it, due later) has always
 * fired by the time that timer's effect can be seen: an order of two events, the same on a slow machine as
 * on a fast one, where subtracting two Date.now() readings compares clock readings. There is no "not after": a late
 * answer on a loaded machine is not a bug, and whose timer answered is checked by what it answered.
 */
export class TimerMark {
  private done = false;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly ms: number) {
    this.timer = setTimeout(() => (this.done = true), ms);
    this.timer.unref();
  }

  /** True once the mark's time has come. */
  get fired(): boolean {
    return this.done;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** Starts a mark due in `ms`; start it before the action whose timer it is compared with. */
export function markAfter(ms: number): TimerMark {
  return new TimerMark(ms);
}

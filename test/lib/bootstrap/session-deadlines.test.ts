/** One timer for the deadlines of a server's sessions (lib/bootstrap/deadlines.ts), with stand-in sessions. */
import { strict as assert } from 'node:assert';
import { SessionDeadlines, type TimedSession } from '../../../lib/bootstrap/deadlines';
import { trackTimers } from './helpers';

class FakeSession implements TimedSession {
  state = 'pending';
  readonly passed: number[] = [];
  constructor(
    readonly name: string,
    readonly startedAtMs: number,
    private readonly log: string[],
    private readonly remove: (s: FakeSession) => void,
  ) {}
  deadlinePassed(now: number): void {
    this.passed.push(now);
    this.log.push(`${this.name}:${this.state}`);
    // As BootstrapSession.end() does through the server: an ended session leaves the deadlines.
    this.state = 'ended';
    this.remove(this);
  }
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (cond()) resolve();
      else setTimeout(check, 5);
    };
    check();
  });
}

describe('SessionDeadlines', () => {
  it('ends an undecided session at the decision deadline and an accepted one at the session deadline, oldest first', async () => {
    const d = new SessionDeadlines<FakeSession>({ decisionTimeoutMs: 40, sessionTimeoutMs: 120 });
    const log: string[] = [];
    const make = (name: string): FakeSession => new FakeSession(name, Date.now(), log, (s) => d.remove(s));
    const a = make('a');
    const b = make('b');
    const c = make('c');
    for (const s of [a, b, c]) d.add(s);
    b.state = 'accepted'; // b was accepted: only its session deadline applies
    await until(() => log.length === 3);
    assert.deepEqual(log, ['a:pending', 'c:pending', 'b:accepted']);
    assert.ok(a.passed[0] >= a.startedAtMs + 40, 'not before the decision deadline');
    assert.ok(b.passed[0] >= b.startedAtMs + 120, 'the accepted one not before the session deadline');
    assert.equal(a.passed.length + b.passed.length + c.passed.length, 3, 'each session hears of its deadline once');
  });

  it('a removed session hears nothing, and clear() leaves no timer', async () => {
    const timers = trackTimers();
    const d = new SessionDeadlines<FakeSession>({ decisionTimeoutMs: 20, sessionTimeoutMs: 40 });
    const log: string[] = [];
    const gone = new FakeSession('gone', Date.now(), log, (s) => d.remove(s));
    const kept = new FakeSession('kept', Date.now(), log, (s) => d.remove(s));
    d.add(gone);
    d.add(kept);
    d.remove(gone);
    await until(() => log.length === 1);
    assert.deepEqual(log, ['kept:pending']);
    const late = new FakeSession('late', Date.now(), log, (s) => d.remove(s));
    d.add(late);
    assert.ok(timers.alive().some((st) => st.includes('SessionDeadlines')), 'a timer for the new session');
    d.clear();
    await new Promise((r) => setTimeout(r, 60));
    timers.stop();
    assert.deepEqual(log, ['kept:pending'], 'nothing after clear()');
    assert.equal(timers.alive().filter((st) => st.includes('SessionDeadlines')).length, 0);
  });
});

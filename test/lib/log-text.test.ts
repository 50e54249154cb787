/** Issue 12 items 11-13: untrusted text is escaped and cut before it reaches a log; repeats are summarised. */
import { strict as assert } from 'node:assert';
import { logQuoted, logText } from '../../lib/log-text';
import { LogSummarizer, type SummaryClock } from '../../lib/log-summary';

describe('logText', () => {
  it('escapes newlines, terminal escapes, C1 controls, bidi overrides and backslashes', () => {
    assert.equal(logText('dev\n[error] forged'), 'dev\\n[error] forged');
    assert.equal(logText('a\r\tb'), 'a\\r\\tb');
    assert.equal(logText('\u001b[31mred\u001b[0m'), '\\x1b[31mred\\x1b[0m');
    assert.equal(logText('x\u009by'), 'x\\x9by');
    assert.equal(logText('abc\u202edcba'), 'abc\\u202edcba');
    assert.equal(logText('a\\x1b'), 'a\\\\x1b', 'a literal backslash cannot pass for an escape');
    assert.equal(logText('\u2028'), '\\u2028');
    assert.equal(logText('\ud800x'), '\\ud800x', 'a lone surrogate');
    assert.equal(logText('urn:imei:356938035643809'), 'urn:imei:356938035643809');
    assert.equal(logText('Zähler-Ω-😀'), 'Zähler-Ω-😀');
  });

  it('cuts at 64 characters (code points) and marks the cut', () => {
    const long = 'x'.repeat(60_000);
    const out = logText(long);
    assert.equal(out, 'x'.repeat(64) + '…');
    assert.equal(logText('😀'.repeat(70)), '😀'.repeat(64) + '…', 'no surrogate pair split');
    assert.equal(logText('y'.repeat(64)), 'y'.repeat(64));
    assert.equal(logText('z'.repeat(10), 4), 'zzzz…');
  });

  it('leaves no line break or escape character in any output', () => {
    let s = '';
    for (let c = 0; c < 0x3000; c++) s += String.fromCharCode(c);
    const out = logText(s, 1e6);
    assert.ok(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(out));
  });

  it('quotes, escaping a quote inside', () => {
    assert.equal(logQuoted('a"b\n'), '"a\\"b\\n"');
  });
});

describe('LogSummarizer', () => {
  function fakeClock(): SummaryClock & { advance(ms: number): void } {
    let now = 0;
    let timers: { at: number; fn: () => void }[] = [];
    return {
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn };
        timers.push(t);
        return t;
      },
      clearTimeout: (t) => {
        timers = timers.filter((x) => x !== t);
      },
      advance(ms: number) {
        now += ms;
        const due = timers.filter((t) => t.at <= now);
        timers = timers.filter((t) => t.at > now);
        for (const t of due) t.fn();
      },
    };
  }

  it('writes the first warning of a kind, then one line per interval with the count and an example', () => {
    const lines: string[] = [];
    const clock = fakeClock();
    const s = new LogSummarizer((l) => lines.push(l), 10_000, undefined, clock);
    for (let i = 0; i < 1234; i++) s.warn('requests refused (binding)', `refused ep ${i}`);
    s.warn('other', 'other 1');
    assert.deepEqual(lines, ['refused ep 0', 'other 1']);
    clock.advance(10_000);
    assert.deepEqual(lines.slice(2), ['1233 more requests refused (binding) in the last 10 s, e.g. refused ep 1233']);
    for (let i = 0; i < 5; i++) s.warn('requests refused (binding)', `again ${i}`);
    assert.equal(lines.length, 3, 'a steady flood stays summarised');
    clock.advance(10_000);
    assert.equal(lines[3], '5 more requests refused (binding) in the last 10 s, e.g. again 4');
    clock.advance(30_000);
    s.warn('requests refused (binding)', 'after a quiet spell');
    assert.equal(lines[4], 'after a quiet spell', 'after a quiet interval the next one is written at once');
    s.close();
  });
});

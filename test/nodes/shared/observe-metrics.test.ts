/**
 * The package's metrics (nodes/shared/observe-metrics.ts): the session counter and the session duration
 * histogram are kept without prom-client's Histogram on the way, and must give the text prom-client would,
 * every session counted once and every duration in its bucket.
 */
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import type { AuditRecord } from '../../../nodes/shared/lib';
import { ObserveMetrics, isoSpanMs } from '../../../nodes/shared/observe-metrics';

const T0 = Date.parse('2026-12-07T12:00:00.000Z');

function rec(kind: string, outcome: string | undefined, ms: number | undefined): AuditRecord {
  return {
    kind,
    sessionId: 's',
    endpoint: 'ep',
    peer: { address: '127.0.0.1', port: 5683 },
    query: {},
    startedAt: new Date(T0).toISOString(),
    endedAt: ms === undefined ? undefined : new Date(T0 + ms).toISOString(),
    steps: [],
    outcome,
  } as unknown as AuditRecord;
}

/** Only the lines of the two session metrics (the others have no samples here, or come from elsewhere). */
function sessionLines(text: string): string[] {
  return text.split('\n').filter((l) => /lwm2m_bootstrap_session(s_total|_duration_seconds)/.test(l));
}

describe('nodes/shared/observe-metrics: sessions and their durations', () => {
  const cases: [string, string, string | undefined, number | undefined][] = [
    ['L1', 'bootstrap', 'SUCCESS', 40],
    ['L1', 'bootstrap', 'SUCCESS', 50],
    ['L1', 'bootstrap', 'SUCCESS', 51],
    ['L2', 'bootstrap', 'SUCCESS', 3000],
    ['L1', 'bootstrap', 'TIMEOUT', 400000],
    ['L1', 'pack', 'SUCCESS', 120],
    ['L1', 'bootstrap', 'REJECTED', 0],
    ['L1', 'bootstrap', undefined, 7],
    ['L2', 'bootstrap', 'SUCCESS', undefined],
  ];

  it('gives the text prom-client\'s Counter and Histogram give for the same sessions, none lost', async () => {
    const m = new ObserveMetrics(() => undefined, false);
    const ref = new Registry();
    const counter = new Counter({
      name: 'lwm2m_bootstrap_sessions_total',
      help: 'Ended bootstrap sessions and Bootstrap-Pack-Requests, by listener, kind and outcome.',
      labelNames: ['listener', 'kind', 'outcome'],
      registers: [ref],
    });
    const hist = new Histogram({
      name: 'lwm2m_bootstrap_session_duration_seconds',
      help: 'Time from the Bootstrap-Request (or Bootstrap-Pack-Request) to the end of its session.',
      labelNames: ['listener', 'kind', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [ref],
    });
    for (const [listener, kind, outcome, ms] of cases) {
      m.record(listener, rec(kind, outcome, ms));
      const labels = { listener, kind, outcome: outcome ?? 'INTERNAL_ERROR' };
      counter.inc(labels);
      if (ms !== undefined) hist.observe(labels, ms / 1000);
    }
    const ours = sessionLines(await m.text());
    const theirs = sessionLines(await ref.metrics());
    assert.ok(theirs.length > 20, `reference lines: ${theirs.length}`);
    assert.deepEqual(ours, theirs);
    // And by hand, so that a change both sides share cannot hide a lost observation.
    const text = await m.text();
    assert.match(text, /^lwm2m_bootstrap_session_duration_seconds_bucket\{le="0.05",listener="L1",kind="bootstrap",outcome="SUCCESS"\} 2$/m);
    assert.match(text, /^lwm2m_bootstrap_session_duration_seconds_bucket\{le="0.1",listener="L1",kind="bootstrap",outcome="SUCCESS"\} 3$/m);
    assert.match(text, /^lwm2m_bootstrap_session_duration_seconds_count\{listener="L1",kind="bootstrap",outcome="TIMEOUT"\} 1$/m);
    assert.match(text, /^lwm2m_bootstrap_session_duration_seconds_bucket\{le="300",listener="L1",kind="bootstrap",outcome="TIMEOUT"\} 0$/m);
    assert.match(text, /^lwm2m_bootstrap_sessions_total\{listener="L2",kind="bootstrap",outcome="SUCCESS"\} 2$/m);
    assert.match(text, /^lwm2m_bootstrap_session_duration_seconds_count\{listener="L2",kind="bootstrap",outcome="SUCCESS"\} 1$/m);
    assert.match(text, /^lwm2m_bootstrap_requests_refused_total\{listener="L1",reason="rejected"\} 1$/m);
  });

  it('gives the same JSON as prom-client (registry.getMetricsAsJSON)', async () => {
    const m = new ObserveMetrics(() => undefined, false);
    const ref = new Registry();
    const hist = new Histogram({
      name: 'lwm2m_bootstrap_session_duration_seconds',
      help: 'Time from the Bootstrap-Request (or Bootstrap-Pack-Request) to the end of its session.',
      labelNames: ['listener', 'kind', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [ref],
    });
    for (const [listener, kind, outcome, ms] of cases) {
      m.record(listener, rec(kind, outcome, ms));
      if (ms !== undefined) hist.observe({ listener, kind, outcome: outcome ?? 'INTERNAL_ERROR' }, ms / 1000);
    }
    const ours = (await m.registry.getMetricsAsJSON()).find((x) => x.name === 'lwm2m_bootstrap_session_duration_seconds');
    const theirs = (await ref.getMetricsAsJSON())[0];
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    assert.deepEqual(plain(ours), plain(theirs));
  });

  it('reads a session\'s duration from its ISO times as Date.parse does, also across midnight and for text that is no time', () => {
    const pairs: [string, string][] = [
      ['2026-12-07T22:51:41.982Z', '2026-12-07T22:51:42.037Z'],
      ['2026-12-07T22:51:41.982Z', '2026-12-07T22:51:41.000Z'],
      ['2026-12-07T23:59:59.999Z', '2026-12-08T00:00:00.001Z'],
      ['2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.000Z'],
      ['2026-02-31T00:00:00.000Z', '2026-02-31T00:00:01.000Z'],
      ['2026-13-01T00:00:00.000Z', '2026-13-01T00:00:01.000Z'],
      ['2026-12-07T24:00:00.000Z', '2026-12-07T24:00:00.000Z'],
      ['2026-12-07T22:60:41.982Z', '2026-12-07T22:60:42.037Z'],
      ['2026-12-07T22:51:41.98Z', '2026-12-07T22:51:42.037Z'],
      ['2026-12-07T22:51:41.982Z', '2026-12-07T22:51:41.982z'],
      ['2026-12-07t22:51:41.982Z', '2026-12-07t22:51:41.983Z'],
      ['+002026-12-07T22:51:41.982Z', '+002026-12-07T22:51:42.982Z'],
      ['2026-12-07T22:5a:41.982Z', '2026-12-07T22:5a:42.982Z'],
      ['2026-12-07T2:51:41.982Z ', '2026-12-07T2:51:41.982Z '],
      ['not a time at all, 24 ch', 'not a time at all, 24 ch'],
      ['', ''],
    ];
    for (const [a, b] of pairs) assert.ok(Object.is(isoSpanMs(a, b), Date.parse(b) - Date.parse(a)), `${a} -> ${b}: ${isoSpanMs(a, b)}`);
  });
});

import { strict as assert } from 'assert';
import { Pool } from 'pg';
import { FINISH_SENT, PostgresAuditSink, type AuditEntry, type AuditSinkHealth } from '../../../lib/audit';
import { SessionOutcome } from '../../../lib/bootstrap';
import { startPostgres, type TempPostgres } from '../../support/postgres';

function entry(i: number): AuditEntry {
  return {
    kind: 'bootstrap',
    sessionId: `s-${i}`,
    endpoint: `meter-${i}`,
    peer: { address: '127.0.0.1', port: 40000 + i, family: 'IPv4' },
    query: { ep: `meter-${i}` },
    startedAt: new Date().toISOString(),
    endedAt: new Date().toISOString(),
    steps: [],
    outcome: SessionOutcome.SUCCESS,
    listenerId: 'L1',
  } as AuditEntry;
}

describe('PostgresAuditSink (a real PostgreSQL)', function () {
  this.timeout(60_000);
  let pg: TempPostgres;
  let pool: Pool;

  before(async () => {
    pg = await startPostgres();
    pool = new Pool({ connectionString: pg.url, max: 2, connectionTimeoutMillis: 2000 });
    pool.on('error', () => undefined);
  });
  after(async () => {
    await pool?.end();
    pg?.stop();
  });

  it('writes one row per record with the record as JSONB, and a record sent twice stays one row', async () => {
    const sink = new PostgresAuditSink({ pool, instance: 'node-a' });
    for (let i = 0; i < 1200; i++) sink.write(entry(i));
    sink.write(entry(7));
    await sink.flush();
    const r = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT session_id)::int AS d FROM lwm2m_audit`);
    assert.deepEqual(r.rows[0], { n: 1200, d: 1200 });
    const one = await pool.query(`SELECT endpoint, outcome, instance, peer, record->>'listenerId' AS l FROM lwm2m_audit WHERE session_id = 's-7'`);
    assert.deepEqual(one.rows[0], { endpoint: 'meter-7', outcome: 'SUCCESS', instance: 'node-a', peer: '127.0.0.1:40007', l: 'L1' });
    assert.equal(sink.health().written, 1201);
    await sink.close();
  });

  it('during an outage queues up to maxQueue, drops beyond with a count, goes unhealthy, and writes the queue once back', async () => {
    await pool.query('TRUNCATE lwm2m_audit');
    const sink = new PostgresAuditSink({ pool, maxQueue: 50, retryMs: 100 });
    const seen: AuditSinkHealth[] = [];
    sink.onHealth((h) => seen.push(h));
    pg.pause();
    try {
      for (let i = 0; i < 80; i++) sink.write(entry(5000 + i)); // returns at once: nothing waits for the database
      await new Promise<void>((resolve) => {
        const iv = setInterval(() => {
          if (!sink.health().ok) {
            clearInterval(iv);
            resolve();
          }
        }, 20);
      });
      assert.equal(sink.health().dropped, 30);
      assert.equal(sink.health().queued, 50);
      assert.ok(seen.some((h) => !h.ok && h.error));
    } finally {
      pg.resume();
    }
    await new Promise<void>((resolve) => {
      const iv = setInterval(() => {
        if (sink.health().ok && sink.health().queued === 0) {
          clearInterval(iv);
          resolve();
        }
      }, 50);
    });
    const r = await pool.query(`SELECT count(*)::int AS n FROM lwm2m_audit`);
    assert.equal(r.rows[0].n, 50);
    await sink.close();
  });

  it('writeAhead commits a FINISH_SENT row before it resolves; the final record replaces it, nothing else does', async () => {
    await pool.query('TRUNCATE lwm2m_audit');
    const sink = new PostgresAuditSink({ pool, instance: 'node-a' });
    const e = entry(9001);
    const ahead = { ...e, outcome: undefined, endedAt: undefined };
    assert.equal(await sink.writeAhead(ahead, 5_000), true);
    const before = await pool.query(`SELECT outcome, ended_at FROM lwm2m_audit WHERE session_id = 's-9001'`);
    assert.deepEqual(before.rows, [{ outcome: FINISH_SENT, ended_at: null }], 'durable when writeAhead resolved');
    sink.write(e);
    await sink.flush();
    sink.write({ ...e, outcome: SessionOutcome.CANCELLED }); // a batch sent again after a lost commit answer
    void sink.writeAhead(ahead, 5_000); // a late write-ahead row (its bound passed) must not undo the verdict
    await sink.flush();
    const after = await pool.query(`SELECT outcome, count(*) OVER ()::int AS n FROM lwm2m_audit`);
    assert.deepEqual(after.rows, [{ outcome: 'SUCCESS', n: 1 }]);
    await sink.close();
  });

  it('concurrent writeAheads share INSERTs (group commit), and a write-ahead row with its final record in one batch stays one row', async () => {
    await pool.query('TRUNCATE lwm2m_audit');
    let inserts = 0;
    const counting = { query: (...a: unknown[]) => ((inserts += /^INSERT/.test(String(a[0])) ? 1 : 0), (pool.query as (...x: unknown[]) => unknown)(...a)) };
    const sink = new PostgresAuditSink({ pool: counting as unknown as Pool });
    const n = 200;
    const oks = await Promise.all(Array.from({ length: n }, (_, i) => sink.writeAhead({ ...entry(7000 + i), outcome: undefined }, 10_000)));
    assert.ok(oks.every((x) => x === true));
    assert.equal(sink.health().written, n);
    assert.ok(inserts <= 2, `${n} write-ahead rows took ${inserts} INSERTs`);
    // Both rows of one session queued together (the write-ahead's bound passed while a batch was out).
    void sink.writeAhead({ ...entry(8000), outcome: undefined }, 10_000);
    sink.write(entry(8000));
    await sink.flush();
    const r = await pool.query(`SELECT outcome, count(*)::int AS n FROM lwm2m_audit GROUP BY 1 ORDER BY 1`);
    assert.deepEqual(r.rows, [{ outcome: FINISH_SENT, n }, { outcome: 'SUCCESS', n: 1 }]);
    await sink.close();
  });

  it('during an outage writeAhead gives up within its bound, is counted, and its row still lands once the database is back', async () => {
    await pool.query('TRUNCATE lwm2m_audit');
    const sink = new PostgresAuditSink({ pool, retryMs: 100 });
    pg.pause();
    try {
      assert.equal(await sink.writeAhead({ ...entry(9100), outcome: undefined }, 200), false, 'gave up at its bound');
      await new Promise<void>((resolve) => {
        const iv = setInterval(() => {
          if (!sink.health().ok) {
            clearInterval(iv);
            resolve();
          }
        }, 20);
      });
      assert.equal(await sink.writeAhead({ ...entry(9101), outcome: undefined }, 60_000), false, 'unhealthy: no wait at all');
      assert.equal(sink.health().unconfirmed, 2);
    } finally {
      pg.resume();
    }
    await new Promise<void>((resolve) => {
      const iv = setInterval(() => {
        if (sink.health().ok && sink.health().queued === 0) {
          clearInterval(iv);
          resolve();
        }
      }, 50);
    });
    const r = await pool.query(`SELECT session_id, outcome FROM lwm2m_audit ORDER BY 1`);
    assert.deepEqual(r.rows, [{ session_id: 's-9100', outcome: FINISH_SENT }, { session_id: 's-9101', outcome: FINISH_SENT }]);
    await sink.close();
  });

  it('takes a write-ahead wait of 0 (off) or more, and refuses a negative one', () => {
    assert.equal(new PostgresAuditSink({ pool }).writeAheadMs, 500);
    assert.equal(new PostgresAuditSink({ pool, writeAheadMs: 0 }).writeAheadMs, 0);
    assert.throws(() => new PostgresAuditSink({ pool, writeAheadMs: -1 }), RangeError);
  });

  it('a session with a write-ahead row that ends without the answer to Finish stays FINISH_SENT, with its own outcome in the record', async () => {
    await pool.query('TRUNCATE lwm2m_audit');
    const sink = new PostgresAuditSink({ pool });
    const e = entry(9300);
    assert.equal(await sink.writeAhead({ ...e, outcome: undefined, endedAt: undefined }, 5_000), true);
    sink.write({ ...e, outcome: SessionOutcome.CANCELLED });
    sink.write({ ...entry(9301), outcome: SessionOutcome.CANCELLED }); // no write-ahead: an ordinary CANCELLED
    await sink.flush();
    const r = await pool.query(`SELECT session_id, outcome, record->>'outcome' AS own, ended_at IS NOT NULL AS ended FROM lwm2m_audit ORDER BY 1`);
    assert.deepEqual(r.rows, [
      { session_id: 's-9300', outcome: FINISH_SENT, own: 'CANCELLED', ended: true },
      { session_id: 's-9301', outcome: 'CANCELLED', own: 'CANCELLED', ended: true },
    ]);
    await sink.close();
  });
});

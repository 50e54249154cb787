import { strict as assert } from 'assert';
import { Pool } from 'pg';
import { PostgresAuditSink, type AuditEntry, type AuditSinkHealth } from '../../../lib/audit';
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
});

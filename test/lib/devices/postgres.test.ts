import { strict as assert } from 'assert';
import { Pool } from 'pg';
import { MemoryDeviceSource, PostgresDeviceSource, type DeviceChange } from '../../../lib/devices';
import { startPostgres, type TempPostgres } from '../../support/postgres';

function waitFor<T>(f: () => T | undefined, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(iv);
      reject(new Error(`timed out waiting for ${what}`));
    }, 10_000);
    const iv = setInterval(() => {
      const v = f();
      if (v !== undefined) {
        clearInterval(iv);
        clearTimeout(deadline);
        resolve(v);
      }
    }, 10);
  });
}

describe('PostgresDeviceSource (a real PostgreSQL)', function () {
  this.timeout(60_000);
  let pg: TempPostgres;
  let pool: Pool;
  let src: PostgresDeviceSource;

  before(async () => {
    pg = await startPostgres();
    pool = new Pool({ connectionString: pg.url, max: 4 });
  });
  after(async () => {
    await pool?.end();
    pg?.stop();
  });
  beforeEach(async () => {
    src = new PostgresDeviceSource({ pool, cacheSize: 3, missTtlMs: 60_000, reconnectMs: 100 });
    await src.start();
    await pool.query('TRUNCATE lwm2m_devices');
    await waitFor(() => (src.isListening ? true : undefined), 'LISTEN');
  });
  afterEach(() => src.close());

  it('finds a device by endpoint, PSK identity, IMEI and ICCID, with its key and template values', async () => {
    await pool.query(
      `INSERT INTO lwm2m_devices VALUES ('meter-1', 'id-1', '\\x00112233', '490154203237518', '8949000000000000001', 'gold', '{"site":"A","floor":3}')`,
    );
    for (const [kind, key] of [['endpoint', 'meter-1'], ['identity', 'id-1'], ['imei', '490154203237518'], ['iccid', '8949000000000000001']] as const) {
      const r = await src.lookup(kind, key);
      assert.equal(r?.endpoint, 'meter-1', kind);
    }
    const r = await src.lookup('endpoint', 'meter-1');
    assert.equal(r?.pskKey?.toString('hex'), '00112233');
    assert.equal(r?.profile, 'gold');
    assert.deepEqual(r?.values, { site: 'A', floor: '3', endpoint: 'meter-1', pskIdentity: 'id-1', pskKey: '00112233', imei: '490154203237518', iccid: '8949000000000000001', profile: 'gold' });
    assert.equal(await src.lookup('endpoint', 'nobody'), undefined);
  });

  it('the handshake path: an identity not in memory is unknown at once, prefetched, then answered from memory', async () => {
    let changed = false;
    src.onChange(() => (changed = true));
    await pool.query(`INSERT INTO lwm2m_devices (endpoint, psk_identity, psk_key) VALUES ('meter-2', 'id-2', '\\xaabb')`);
    // (a load that overlaps the notification of its own row is not cached: it cannot tell which came first)
    await waitFor(() => (changed ? true : undefined), 'the insert notification');
    assert.equal(src.cachedByIdentity('id-2'), undefined);
    src.prefetchIdentity('id-2');
    const rec = await waitFor(() => src.cachedByIdentity('id-2') ?? undefined, 'the prefetch');
    assert.equal(rec.pskKey?.toString('hex'), 'aabb');
    assert.equal(src.cachedByIdentity('nope'), undefined);
    src.prefetchIdentity('nope');
    await waitFor(() => (src.cachedByIdentity('nope') === null ? true : undefined), 'a known miss');
  });

  it('an update, an insert over a known miss, and a delete reach the cache through NOTIFY', async () => {
    await pool.query(`INSERT INTO lwm2m_devices (endpoint, psk_identity, psk_key, profile) VALUES ('meter-3', 'id-3', '\\x01', 'a')`);
    assert.equal((await src.lookup('identity', 'id-3'))?.profile, 'a');
    assert.equal(await src.lookup('endpoint', 'meter-4'), undefined);
    const changes: DeviceChange[] = [];
    src.onChange((c) => changes.push(c));
    await pool.query(`UPDATE lwm2m_devices SET profile = 'b', psk_identity = 'id-3b' WHERE endpoint = 'meter-3'`);
    await waitFor(() => (src.cachedByIdentity('id-3') === undefined ? true : undefined), 'the update notification');
    assert.equal((await src.lookup('identity', 'id-3b'))?.profile, 'b');
    assert.equal(await src.lookup('identity', 'id-3'), undefined);
    await pool.query(`INSERT INTO lwm2m_devices (endpoint) VALUES ('meter-4')`);
    await waitFor(() => (changes.length >= 2 ? true : undefined), 'the insert notification');
    assert.equal((await src.lookup('endpoint', 'meter-4'))?.endpoint, 'meter-4');
    await pool.query(`DELETE FROM lwm2m_devices WHERE endpoint = 'meter-4'`);
    await waitFor(() => (changes.length >= 3 ? true : undefined), 'the delete notification');
    assert.equal(await src.lookup('endpoint', 'meter-4'), undefined);
  });

  it('keeps at most cacheSize entries (least recently used goes first)', async () => {
    await pool.query(`INSERT INTO lwm2m_devices (endpoint) SELECT 'd-' || n FROM generate_series(1, 10) n`);
    for (let n = 1; n <= 10; n++) assert.equal((await src.lookup('endpoint', `d-${n}`))?.endpoint, `d-${n}`);
    assert.equal(src.stats().cached, 3);
    const loads = src.stats().loads;
    await src.lookup('endpoint', 'd-10');
    assert.equal(src.stats().loads, loads, 'a recent entry is answered from memory');
    await src.lookup('endpoint', 'd-1');
    assert.equal(src.stats().loads, loads + 1, 'an evicted entry is loaded again');
  });

  it('rejects a lookup while the database is down, and answers again after it is back', async () => {
    await pool.query(`INSERT INTO lwm2m_devices (endpoint) VALUES ('meter-5')`);
    pg.pause();
    try {
      await assert.rejects(src.lookup('endpoint', 'meter-5'));
      await waitFor(() => (src.isListening ? undefined : true), 'the LISTEN connection to notice');
    } finally {
      pg.resume();
    }
    await waitFor(() => (src.isListening ? true : undefined), 'LISTEN again');
    assert.equal((await src.lookup('endpoint', 'meter-5'))?.endpoint, 'meter-5');
  });
});

describe('MemoryDeviceSource', () => {
  it('indexes by every key and tells listeners what changed', async () => {
    const m = new MemoryDeviceSource([{ endpoint: 'a', identity: 'ia', imei: '1', values: {} }]);
    const seen: DeviceChange[] = [];
    m.onChange((c) => seen.push(c));
    assert.equal((await m.lookup('imei', '1'))?.endpoint, 'a');
    m.upsert({ endpoint: 'a', identity: 'ib', values: {} });
    assert.equal(m.cachedByIdentity('ia'), null);
    assert.equal(m.cachedByIdentity('ib')?.endpoint, 'a');
    assert.equal(await m.lookup('imei', '1'), undefined);
    assert.ok(m.delete('a'));
    assert.equal(seen.length, 2);
  });
});

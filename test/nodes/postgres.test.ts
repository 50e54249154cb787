/**
 * lwm2m-postgres in the runtime, against a real PostgreSQL: profile lookup reads the device's row (its
 * profile and template values) on demand, an unknown device goes to "not found", a real bootstrap through
 * the listener leaves one SUCCESS row with the record as JSONB, and the connection string (a credential,
 * with a password here) reaches no log.
 */
import assert from 'node:assert/strict';
import * as path from 'path';
import { Client } from 'pg';
import { client as clientLib } from '../../lib';
import { nextPort } from '../support/ports';
import { startPostgres, type TempPostgres } from '../support/postgres';
import { bootstrapFlow, patch } from './support/flows';
import { ALL_NODES, callsOf, helper, nextMessage, statusCalls, until } from './support/runtime';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const postgresNode = require(path.resolve(__dirname, '..', '..', 'nodes', 'postgres', 'postgres.js'));

const GOLD = {
  name: 'gold',
  autoId: true,
  servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec', lifetime: '${lifetime}' }],
  templates: { lifetime: 300 },
};

describe('server nodes: lwm2m-postgres (a real PostgreSQL)', function () {
  this.timeout(60000);
  let pg: TempPostgres;
  let url: string;

  before(async () => {
    pg = await startPostgres();
    url = pg.url.replace('postgres@', 'postgres:s3cret-pw@');
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    // The node creates the tables itself; a row must exist before the test asks for it, so create them here too.
    const { DEVICES_SCHEMA, AUDIT_SCHEMA } = await import('../../lib/devices');
    await c.query(DEVICES_SCHEMA);
    await c.query(AUDIT_SCHEMA);
    await c.query(`INSERT INTO lwm2m_devices (endpoint, profile, template_values) VALUES ('pg-1', 'gold', '{"lifetime": 777}')`);
    await c.end();
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
    pg?.stop();
  });
  afterEach(() => helper.unload());

  function flow(port: number): object[] {
    const f = bootstrapFlow({ port, profiles: [GOLD], defaultProfile: 'gold', listener: { postgres: 'n-pg' }, lookup: { deviceSource: 'n-pg', unknownDevice: 'notFound', useMsgProfile: false } });
    f.push({ id: 'n-pg', type: 'lwm2m-postgres', name: 'db', matchOn: 'endpoint', keyRegex: '', cacheSize: '1000', missTtl: '5', poolSize: '4', auditQueue: '100', instance: 'test-a' });
    return f;
  }

  it("profile lookup takes the device's profile and values from its row; an unknown device is not found", async () => {
    const f = flow(await nextPort());
    patch(f, 'n-lookup', { wires: [['h-found'], ['h-notFound']] });
    await helper.load([...ALL_NODES, postgresNode], f, { 'n-pg': { connectionString: url } });
    const found = nextMessage(helper.getNode('h-found'));
    const base = { sessionId: 's-1', listenerId: 'n-listener', kind: 'bootstrap', peer: { address: '127.0.0.1', port: 1 }, query: {}, steps: [] };
    helper.getNode('n-lookup').receive({ lwm2m: { ...base, endpoint: 'pg-1' } });
    const msg = await found;
    assert.equal(msg.lwm2m.profileName, 'gold');
    assert.equal(Number(msg.profile.servers[0].lifetime), 777);
    const notFound = nextMessage(helper.getNode('h-notFound'));
    helper.getNode('n-lookup').receive({ lwm2m: { ...base, sessionId: 's-2', endpoint: 'pg-unknown' } });
    const nf = await notFound;
    assert.equal(nf.lwm2m.notFound.reason, 'notInTable');
  });

  it('a bootstrap through the listener leaves one SUCCESS row with the record; the connection string is in no log', async () => {
    const port = await nextPort();
    await helper.load([...ALL_NODES, postgresNode], flow(port), { 'n-pg': { connectionString: url } });
    const dev = new clientLib.SimulatedClient({ endpoint: 'pg-1', trace: false, bootstrapServer: { uri: `coap://127.0.0.1:${port}` }, timing: { minHoldOffMs: 10, holdOffMs: 0, jitter: 0 } });
    const done = new Promise<void>((resolve) => dev.on('bootstrapped', () => resolve()));
    await dev.start();
    await done;
    await dev.stop(false);
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    try {
      let rows: Array<{ outcome: string; instance: string; steps: number }> = [];
      const poll = async () => {
        rows = (await c.query(`SELECT outcome, instance, jsonb_array_length(record->'steps') AS steps FROM lwm2m_audit WHERE endpoint = 'pg-1'`)).rows;
      };
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        await poll();
        if (rows.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(rows.length, 1);
      assert.equal(rows[0].outcome, 'SUCCESS');
      assert.equal(rows[0].instance, 'test-a');
      assert.ok(rows[0].steps >= 2);
    } finally {
      await c.end();
    }
    const pgNode = helper.getNode('n-pg');
    const said = JSON.stringify([callsOf(pgNode, 'log'), callsOf(pgNode, 'warn'), callsOf(pgNode, 'error'), callsOf(helper.getNode('n-listener'), 'error')]);
    assert.ok(!said.includes('s3cret-pw'), 'no log line holds the password');
  });

  it('a database too slow for the write-ahead does not hold Bootstrap-Finish: the device is bootstrapped, the listener counts it, the row lands later', async () => {
    const port = await nextPort();
    const f = flow(port);
    patch(f, 'n-pg', { writeAhead: '100' });
    await helper.load([...ALL_NODES, postgresNode], f, { 'n-pg': { connectionString: url } });
    // Another session holds the audit table: every INSERT into it waits until this transaction ends.
    const locker = new Client({ connectionString: pg.url });
    await locker.connect();
    await locker.query(`INSERT INTO lwm2m_devices (endpoint, profile, template_values) VALUES ('pg-slow', 'gold', '{"lifetime": 300}') ON CONFLICT DO NOTHING`);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE lwm2m_audit IN ACCESS EXCLUSIVE MODE');
    const dev = new clientLib.SimulatedClient({ endpoint: 'pg-slow', trace: false, bootstrapServer: { uri: `coap://127.0.0.1:${port}` }, timing: { minHoldOffMs: 10, holdOffMs: 0, jitter: 0 } });
    try {
      const done = new Promise<void>((resolve) => dev.on('bootstrapped', () => resolve()));
      await dev.start();
      await done;
      const listener = helper.getNode('n-listener');
      await until(() => statusCalls(listener).some((st) => String(st.text).includes('status.unconfirmed')), 5000, 'the unconfirmed count in the status');
    } finally {
      await dev.stop(false);
      await locker.query('COMMIT');
      await locker.end();
    }
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    try {
      let outcomes: string[] = [];
      for (let i = 0; i < 100 && !outcomes.includes('SUCCESS'); i++) {
        outcomes = (await c.query(`SELECT outcome FROM lwm2m_audit WHERE endpoint = 'pg-slow'`)).rows.map((r: { outcome: string }) => r.outcome);
        if (!outcomes.includes('SUCCESS')) await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(outcomes, ['SUCCESS'], 'one row, the final record, once the table is free');
    } finally {
      await c.end();
    }
  });
});

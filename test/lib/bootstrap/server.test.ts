import { strict as assert } from 'node:assert';
import * as dgram from 'dgram';
import {
  BootstrapDeleteRequest,
  BootstrapDiscoverRequest,
  BootstrapReadRequest,
  BootstrapWriteRequest,
  SessionNotFoundError,
  SessionOutcome,
  SessionStateError,
  ResponseCodeError,
  BootstrapServer,
  type BootstrapSession,
} from '../../../lib/bootstrap';
import { defaultModel, instanceFromJson } from '../../../lib/model';
import { ScriptedDevice } from '../../support/scripted-device';
import { markAfter } from '../../support/timer-mark';
import { startServer } from './helpers';

function nextSession(server: BootstrapServer): Promise<BootstrapSession> {
  return new Promise((resolve) => server.once('bootstrapRequest', resolve));
}

const SERVER_0 = instanceFromJson(1, 0, { 0: 1, 1: 86400, 6: false, 7: 'U' }, defaultModel);
// OMA-TS-LightweightM2M_Core, Data Formats: TLV, bare resource list for PUT /1/0
const SERVER_0_TLV = Buffer.from('C10001C40100015180C10600C10755', 'hex');
// OMA-TS-LightweightM2M_Core, Data Formats: TLV, wrapped in an Object Instance TLV (a Read of /1)
const SERVER_OBJ_TLV = Buffer.from('08000FC10001C40100015180C10600C10755', 'hex');

describe('BootstrapServer: Bootstrap-Request and the flow decision', () => {
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;

  beforeEach(async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
  });
  afterEach(async () => {
    await dev.close();
    await server.close();
  });

  it('accepts with 2.04 and gives the flow the endpoint, pct, peer and every query parameter', async () => {
    const got = nextSession(server);
    server.once('bootstrapRequest', (s) => void s.accept());
    const res = await dev.bootstrapRequest({ port }, { ep: 'dev-1', pct: 112, query: ['vendor=x', 'flag'] });
    const s = await got;
    assert.equal(res.code, '2.04');
    assert.equal(s.kind, 'bootstrap');
    assert.equal(s.endpoint, 'dev-1');
    assert.equal(s.preferredContentFormat, 112);
    assert.deepEqual(s.peer, { address: '127.0.0.1', port: dev.port, family: 'IPv4' });
    assert.deepEqual(s.query, { ep: 'dev-1', pct: '112', vendor: 'x', flag: '' });
    assert.equal(s.state, 'accepted');
    assert.equal(server.getSession(s.id), s);
    assert.match(s.id, /^[0-9a-f-]{36}$/);
    assert.equal(server.stats().sessionsInFlight, 1);
    assert.equal(server.stats().started, 1);
  });

  it('reads the legacy pct 1542 as TLV 11542', async () => {
    server.once('bootstrapRequest', (s) => void s.accept());
    const got = nextSession(server);
    await dev.bootstrapRequest({ port }, { ep: 'old', pct: 1542 });
    assert.equal((await got).preferredContentFormat, 11542);
  });

  it('rejects with the code, diagnostic and outcome the flow chose', async () => {
    let ended: [SessionOutcome, string | undefined] | undefined;
    server.once('bootstrapRequest', (s) => {
      s.once('ended', (o: SessionOutcome, d?: string) => (ended = [o, d]));
      void s.reject('4.00', 'Unauthorized', SessionOutcome.UNAUTHORIZED);
    });
    const res = await dev.bootstrapRequest({ port }, { ep: 'intruder' });
    assert.equal(res.code, '4.00');
    assert.equal(res.payload.toString(), 'Unauthorized');
    assert.deepEqual(ended, [SessionOutcome.UNAUTHORIZED, '4.00 Unauthorized']);
    const st = server.stats();
    assert.equal(st.rejected, 1);
    assert.equal(st.sessionsInFlight, 0);
    assert.equal(st.lastOutcome, SessionOutcome.UNAUTHORIZED);
  });

  it('answers 4.00 to a Bootstrap-Request without ep, and no listener sees it', async () => {
    let seen = 0;
    server.on('bootstrapRequest', () => seen++);
    const res = await dev.bootstrapRequest({ port }, {});
    assert.equal(res.code, '4.00');
    assert.ok(res.payload.length < 8, 'the diagnostic is cut to fit the request (no amplification)');
    assert.equal(seen, 0);
    assert.equal(server.stats().malformed, 1);
  });

  it('answers 4.00 to a pct that is not a hierarchical format (42, text, 40)', async () => {
    let seen = 0;
    server.on('bootstrapRequest', () => seen++);
    for (const pct of ['42', 'cbor', '40']) {
      const res = await dev.bootstrapRequest({ port }, { ep: 'dev-p', pct });
      assert.equal(res.code, '4.00', `pct=${pct}`);
      assert.match(res.payload.toString(), /^pct=/, 'the start of the diagnostic fits the request');
    }
    assert.equal(seen, 0);
  });

  it('answers 4.00 to a Non-confirmable Bootstrap-Request', async () => {
    let seen = 0;
    server.on('bootstrapRequest', () => seen++);
    const res = await dev.bootstrapRequest({ port }, { ep: 'dev-non', confirmable: false });
    assert.equal(res.code, '4.00');
    assert.ok(res.payload.length > 0, 'a cut diagnostic');
    assert.equal(seen, 0);
  });

  it('answers 4.04 to other paths and 4.05 to other methods on /bs', async () => {
    let seen = 0;
    server.on('bootstrapRequest', () => seen++);
    assert.equal((await dev.request({ port }, { method: 'POST', path: '/rd', query: ['ep=x'] })).code, '4.04');
    assert.equal((await dev.request({ port }, { method: 'GET', path: '/bs', query: ['ep=x'] })).code, '4.05');
    assert.equal((await dev.request({ port }, { method: 'PUT', path: '/bspack', query: ['ep=x'] })).code, '4.05');
    assert.equal((await dev.request({ port }, { method: 'POST', path: '/bs/extra', query: ['ep=x'] })).code, '4.04');
    assert.equal(seen, 0);
  });

  it('answers the decision timeout code at once when nobody listens for Bootstrap-Requests', async () => {
    const res = await dev.bootstrapRequest({ port }, { ep: 'lonely' });
    assert.equal(res.code, '5.03');
    assert.equal(server.stats().sessionsInFlight, 0);
  });

  it('refuses send() before accept() with a SessionStateError', async () => {
    const got = nextSession(server);
    const pending = dev.bootstrapRequest({ port }, { ep: 'early' });
    const s = await got;
    await assert.rejects(s.send(new BootstrapDeleteRequest('/0')), SessionStateError);
    await s.accept();
    await s.accept(); // idempotent
    assert.equal((await pending).code, '2.04');
  });

  it('meets bad input from a flow with typed errors, never a crash', async () => {
    const got = nextSession(server);
    const answered = dev.bootstrapRequest({ port }, { ep: 'typed' });
    const s = await got;
    await assert.rejects(s.reject('2.04'), (e: unknown) => e instanceof ResponseCodeError && e.input === '2.04');
    await assert.rejects(s.reject('teapot'), ResponseCodeError);
    await s.accept();
    await assert.rejects(s.send(null as never), SessionStateError);
    await assert.rejects(s.send({ type: 'BootstrapExecuteRequest' } as never), SessionStateError);
    await assert.rejects(s.reject('4.00'), SessionStateError);
    assert.throws(() => server.getSession(undefined as never), SessionNotFoundError);
    assert.throws(() => new BootstrapServer({ decisionTimeoutCode: '2.05' }), /not an error response code/);
    assert.equal((await answered).code, '2.04');
    assert.equal(s.state, 'accepted');
  });

  it('finds live sessions by id and throws SessionNotFoundError for unknown or ended ones', async () => {
    assert.throws(() => server.getSession('nope'), SessionNotFoundError);
    const got = nextSession(server);
    server.once('bootstrapRequest', (s) => void s.accept());
    await dev.bootstrapRequest({ port }, { ep: 'dev-f' });
    const s = await got;
    s.end(SessionOutcome.CANCELLED);
    assert.throws(() => server.getSession(s.id), (e: unknown) => e instanceof SessionNotFoundError && e.sessionId === s.id);
  });
});

describe('BootstrapSession: downlink requests against a scripted device', () => {
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;
  let s: BootstrapSession;

  beforeEach(async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
    const got = nextSession(server);
    server.once('bootstrapRequest', (x) => void x.accept());
    assert.equal((await dev.bootstrapRequest({ port }, { ep: 'dev-ops', pct: 11542 })).code, '2.04');
    s = await got;
  });
  afterEach(async () => {
    await dev.close();
    await server.close();
  });

  it('sends Delete, Write, Discover, Read and Finish in order, one at a time, with the exact bytes', async () => {
    dev.reply('DELETE', '/', { code: '2.02', delayMs: 80 }); // slow answer: the Write must wait for it
    dev.reply('GET', '/1', { code: '2.05', payload: SERVER_OBJ_TLV, contentFormat: 11542 });
    dev.discover = '</>;lwm2m=1.1,</0/1>,</1>,</3/0>';
    const all = Promise.all([
      s.send(new BootstrapDeleteRequest('/')),
      s.send(new BootstrapWriteRequest('/1/0', SERVER_0, 11542)),
      s.send(new BootstrapDiscoverRequest('/')),
      s.send(new BootstrapReadRequest('/1', 11542)),
    ]);
    assert.equal(s.queued, 3);
    const [del, write, disc, read] = await all;
    const fin = await s.finish();

    const r = dev.received;
    assert.deepEqual(r.map((x) => `${x.method} ${x.path}`), ['DELETE /', 'PUT /1/0', 'GET /', 'GET /1', 'POST /bs']);
    assert.ok(r[1].time - r[0].time >= 70, 'the Write left only after the Delete was answered');
    assert.equal(r[1].contentFormat, 11542);
    assert.deepEqual(r[1].payload, SERVER_0_TLV);
    assert.equal(r[2].accept, 40);
    assert.equal(r[3].accept, 11542);
    assert.equal(r[4].payload.length, 0);
    for (const x of r) assert.deepEqual(x.from, { address: '127.0.0.1', port }, 'from the port the device talked to');

    assert.deepEqual([del.code, del.success], ['2.02', true]);
    assert.deepEqual([write.code, write.success], ['2.04', true]);
    assert.equal(disc.code, '2.05');
    assert.equal(disc.discover?.bootstrapAccountInstanceId, 1);
    assert.equal(s.lwm2mVersion, '1.1');
    assert.equal(read.node?.kind, 'object');
    assert.equal(read.node?.kind === 'object' && read.node.instances.get(0)?.resources.get(1)?.kind === 'single'
      ? (read.node.instances.get(0)?.resources.get(1) as { value: unknown }).value
      : undefined, 86400);
    assert.deepEqual([fin.code, fin.success], ['2.04', true]);
    assert.equal(s.state, 'ended');
    assert.equal(s.outcome, SessionOutcome.SUCCESS);
    assert.equal(server.stats().succeeded, 1);

    const audit = s.audit();
    assert.deepEqual(audit.steps.map((x) => [x.op, x.method, x.path, x.code, x.success]), [
      ['delete', 'DELETE', '/', '2.02', true],
      ['write', 'PUT', '/1/0', '2.04', true],
      ['discover', 'GET', '/', '2.05', true],
      ['read', 'GET', '/1', '2.05', true],
      ['finish', 'POST', '/bs', '2.04', true],
    ]);
    assert.equal(audit.steps[1].contentFormat, 11542);
    assert.equal(audit.outcome, SessionOutcome.SUCCESS);
    assert.ok(audit.acceptedAt && audit.endedAt);
  });

  it('error codes from the device resolve with success:false and the session goes on', async () => {
    dev.reply('DELETE', '/0/5', { code: '4.00', payload: 'no such instance' });
    const del = await s.send(new BootstrapDeleteRequest('/0/5'));
    assert.deepEqual([del.code, del.success, del.diagnostic], ['4.00', false, 'no such instance']);
    assert.equal(s.state, 'accepted');
    const ok = await s.send(new BootstrapDeleteRequest('/1'));
    assert.equal(ok.success, true);
  });

  it('a 4.06 to Bootstrap-Finish ends the session FINISH_FAILED with the client diagnostic', async () => {
    dev.reply('POST', '/bs', { code: '4.06', payload: 'no server account' });
    const fin = await s.finish();
    assert.deepEqual([fin.code, fin.success, fin.diagnostic], ['4.06', false, 'no server account']);
    assert.equal(s.outcome, SessionOutcome.FINISH_FAILED);
    assert.equal(s.detail, '4.06 no server account');
    assert.equal(server.stats().failed, 1);
  });

  it('takes a separate response (empty ACK, then CON) from a slow device', async () => {
    dev.reply('PUT', '/1/0', { code: '2.04', delayMs: 300 });
    const delayNear = markAfter(250);
    const w = await s.send(new BootstrapWriteRequest('/1/0', SERVER_0, 11542));
    assert.equal(w.code, '2.04');
    assert.ok(delayNear.fired, 'the answer is the one the device sent after its 300 ms delay');
  });

  it('a write the codec cannot encode rejects with the codec error and the session goes on', async () => {
    const bad = new BootstrapWriteRequest('/1/0', SERVER_0, 4242);
    await assert.rejects(s.send(bad), (e: unknown) => e instanceof Error && 'code' in e);
    assert.equal(s.state, 'accepted');
    assert.equal(dev.received.filter((r) => r.method === 'PUT').length, 0);
    assert.equal(s.audit().steps[0].success, false);
  });
});

describe('BootstrapServer on IPv6', () => {
  it('serves a device over ::1, and IPv4 devices too when bound to :: (dual stack)', async () => {
    const { server, port } = await startServer({ address: '::' });
    const v6 = await ScriptedDevice.create({ type: 'udp6' });
    const v4 = await ScriptedDevice.create();
    try {
      const sessions: BootstrapSession[] = [];
      server.on('bootstrapRequest', (s) => {
        sessions.push(s);
        void s.accept().then(() => s.send(new BootstrapDeleteRequest('/0')));
      });
      assert.equal((await v6.bootstrapRequest({ address: '::1', port }, { ep: 'six' })).code, '2.04');
      assert.equal((await v4.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'four' })).code, '2.04');
      await v6.waitFor((r) => r.method === 'DELETE');
      await v4.waitFor((r) => r.method === 'DELETE');
      assert.deepEqual(sessions[0].peer, { address: '::1', port: v6.port, family: 'IPv6' });
      assert.equal(sessions[1].peer.address, '::ffff:127.0.0.1');
    } finally {
      await v6.close();
      await v4.close();
      await server.close();
    }
  });
});

describe('BootstrapServer limits and listener faults', () => {
  it('answers 5.03 beyond maxSessions and 5.00 when the listener throws, serving others meanwhile', async () => {
    const { server, port } = await startServer({ maxSessions: 1 });
    const a = await ScriptedDevice.create();
    const b = await ScriptedDevice.create();
    try {
      let first: BootstrapSession | undefined;
      server.once('bootstrapRequest', (s) => {
        first = s;
        void s.accept();
      });
      assert.equal((await a.bootstrapRequest({ port }, { ep: 'first' })).code, '2.04');
      // The first device answers a request: its session is no longer pending and cannot be shed.
      assert.equal((await first!.send(new BootstrapDeleteRequest('/0'))).code, '2.02');
      const full = await b.bootstrapRequest({ port }, { ep: 'second' });
      assert.equal(full.code, '5.03');
      assert.equal(server.stats().sessionsInFlight, 1);
      server.findSessionByEndpoint('first')?.end(SessionOutcome.CANCELLED);
      server.once('bootstrapRequest', () => {
        throw new Error('listener bug');
      });
      assert.equal((await b.bootstrapRequest({ port }, { ep: 'second' })).code, '5.00');
      assert.equal(server.stats().lastOutcome, SessionOutcome.INTERNAL_ERROR);
    } finally {
      await a.close();
      await b.close();
      await server.close();
    }
  });

  it('hints LwM2M 1.1 from pct and 1.2 from pct=11544', async () => {
    const { server, port } = await startServer();
    const d = await ScriptedDevice.create();
    try {
      const seen: (string | undefined)[] = [];
      server.on('bootstrapRequest', (s) => {
        seen.push(s.lwm2mVersion);
        void s.reject('4.00');
      });
      await d.bootstrapRequest({ port }, { ep: 'v10' });
      await d.bootstrapRequest({ port }, { ep: 'v11', pct: 110 });
      await d.bootstrapRequest({ port }, { ep: 'v12', pct: 11544 });
      assert.deepEqual(seen, [undefined, '1.1', '1.2']);
    } finally {
      await d.close();
      await server.close();
    }
  });
});

describe('BootstrapServer on a socket it is given', () => {
  it('binds an unbound dgram socket, serves on it and leaves it open on close()', async () => {
    const socket = dgram.createSocket('udp4');
    const server = new BootstrapServer({ socket, port: 0, address: '127.0.0.1' });
    const { port } = await server.listen();
    assert.equal(socket.address().port, port);
    const d = await ScriptedDevice.create();
    try {
      server.once('bootstrapRequest', (s) => void s.accept());
      assert.equal((await d.bootstrapRequest({ port }, { ep: 'given' })).code, '2.04');
    } finally {
      await d.close();
      await server.close();
    }
    assert.equal(socket.address().port, port, 'still bound: the caller owns it');
    assert.equal(socket.listenerCount('message'), 0, 'our listener is gone');
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  });
});

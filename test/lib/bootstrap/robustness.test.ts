import { strict as assert } from 'node:assert';
import * as dgram from 'dgram';
import {
  BootstrapDeleteRequest,
  BootstrapServer,
  RequestFailedError,
  RequestTimeoutError,
  SessionEndedError,
  SessionOutcome,
  type BootstrapSession,
} from '../../../lib/bootstrap';
import { ScriptedDevice } from '../../support/scripted-device';
import { markAfter } from '../../support/timer-mark';
import { bsRequest, RawPeer, sleep, startServer, trackTimers } from './helpers';

function nextSession(server: BootstrapServer): Promise<BootstrapSession> {
  return new Promise((resolve) => server.once('bootstrapRequest', resolve));
}

function ended(s: BootstrapSession): Promise<[SessionOutcome, string | undefined]> {
  if (s.state === 'ended') return Promise.resolve([s.outcome as SessionOutcome, s.detail]);
  return new Promise((resolve) => s.once('ended', (o: SessionOutcome, d?: string) => resolve([o, d])));
}

/** Datagrams that are not valid CoAP, each for a different reason. */
const MALFORMED: Buffer[] = [
  Buffer.alloc(0),
  Buffer.from([0x40]),
  Buffer.from([0x40, 0x02, 0x12]),
  Buffer.from('80021234', 'hex'), // version 2
  Buffer.from('4902123401020304050607080900', 'hex'), // token length 9
  Buffer.from('4F021234', 'hex'), // token length 15
  Buffer.from('44021234A1B2', 'hex'), // ends inside the token
  Buffer.from('40021234B562', 'hex'), // option longer than the datagram
  Buffer.from('40021234B26273FF', 'hex'), // payload marker, no payload
  Buffer.from('40021234F0', 'hex'), // option delta 15
  Buffer.from('4000123401', 'hex'), // empty message with bytes after the header
  Buffer.from('GET /bs HTTP/1.1\r\n\r\n'),
];

describe('BootstrapServer robustness', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await (cleanups.pop() as () => Promise<void>)();
  });
  async function server(opts: ConstructorParameters<typeof BootstrapServer>[0] = {}) {
    const r = await startServer(opts);
    cleanups.push(() => r.server.close());
    return r;
  }
  async function device() {
    const d = await ScriptedDevice.create();
    cleanups.push(() => d.close());
    return d;
  }
  async function raw() {
    const r = await RawPeer.create();
    cleanups.push(() => r.close());
    return r;
  }

  it('a flood of malformed datagrams is dropped silently while a good device bootstraps', async () => {
    const { server: srv, port } = await server();
    const flood = await raw();
    const dev = await device();
    srv.on('bootstrapRequest', async (s) => {
      await s.accept();
      await s.send(new BootstrapDeleteRequest('/0'));
      await s.send(new BootstrapDeleteRequest('/1'));
      await s.finish();
    });
    const rounds = 200;
    let sent = 0;
    const flooding = (async () => {
      for (let i = 0; i < rounds; i++) {
        for (const m of MALFORMED) {
          flood.sendRaw(m, port);
          sent++;
        }
        await sleep(1); // paced so the kernel's receive buffer never drops any
      }
    })();
    const res = await dev.bootstrapRequest({ port }, { ep: 'good' });
    const fin = await dev.waitFor((r) => r.method === 'POST' && r.path === '/bs');
    await flooding;
    await sleep(50);
    assert.equal(res.code, '2.04');
    assert.ok(fin);
    assert.deepEqual(dev.received.map((r) => `${r.method} ${r.path}`), ['DELETE /0', 'DELETE /1', 'POST /bs']);
    const st = srv.stats();
    assert.equal(st.succeeded, 1);
    assert.equal(st.malformed, sent, 'every malformed datagram counted');
    assert.equal(flood.inbox.length, 0, 'nothing answered to garbage');
  });

  it('repeats the same answer to a retransmitted Bootstrap-Request instead of starting a second session', async () => {
    const { server: srv, port } = await server();
    const peer = await raw();
    let sessions = 0;
    srv.on('bootstrapRequest', (s) => {
      sessions++;
      void s.accept();
    });
    const token = Buffer.from('a1b2c3d4', 'hex');
    peer.send(bsRequest('dup', 0x1234, token), port);
    await peer.next((p) => p.code === '2.04');
    peer.send(bsRequest('dup', 0x1234, token), port);
    await sleep(100);
    assert.equal(sessions, 1);
    const answers = peer.inbox.filter((m) => m.packet?.code === '2.04');
    assert.equal(answers.length, 2);
    assert.deepEqual(answers[0].raw, answers[1].raw);
    // encodings: ACK 2.04 with the same MID and token (RFC 7252 §5.2.1, piggybacked response)
    assert.deepEqual(answers[0].raw, Buffer.from('64441234a1b2c3d4', 'hex'));
  });

  it('answers a CoAP ping (empty CON) with Reset', async () => {
    const { port } = await server();
    const peer = await raw();
    peer.sendRaw(Buffer.from('40000777', 'hex'), port);
    const rst = await peer.next((p) => p.reset);
    assert.equal(rst.messageId, 0x0777);
  });

  it('a second Bootstrap-Request from the same endpoint and source cancels the first session', async () => {
    const { server: srv, port } = await server();
    const first = await device();
    const second = first; // the same address and port: the device started over
    first.reply('DELETE', '/0', { code: '2.02', drop: true }); // keeps the first session busy
    const s1p = nextSession(srv);
    srv.once('bootstrapRequest', (s) => void s.accept());
    await first.bootstrapRequest({ port }, { ep: 'same' });
    const s1 = await s1p;
    const settle = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const inflight = settle(s1.send(new BootstrapDeleteRequest('/0')));
    const queued = settle(s1.send(new BootstrapDeleteRequest('/1')));
    await first.waitFor((r) => r.method === 'DELETE');
    const s2p = nextSession(srv);
    srv.once('bootstrapRequest', (s) => void s.accept());
    assert.equal((await second.bootstrapRequest({ port }, { ep: 'same' })).code, '2.04');
    const s2 = await s2p;
    assert.deepEqual((await ended(s1))[0], SessionOutcome.CANCELLED);
    assert.ok((await inflight) instanceof SessionEndedError, 'the request in flight is abandoned');
    assert.ok((await queued) instanceof SessionEndedError, 'and the queued one');
    assert.notEqual(s1.id, s2.id);
    assert.equal(s2.state, 'accepted');
    assert.equal(srv.findSessionByEndpoint('same'), s2);
    assert.equal(srv.stats().sessionsInFlight, 1);
  });

  it('fire-and-forget calls on a session that ends never become unhandled rejections', async () => {
    const { server: srv, port } = await server();
    const dev = await device();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      dev.reply('DELETE', '*', { code: '2.02', drop: true });
      const sp = nextSession(srv);
      srv.once('bootstrapRequest', (s) => void s.accept());
      await dev.bootstrapRequest({ port }, { ep: 'careless' });
      const s = await sp;
      void s.send(new BootstrapDeleteRequest('/0'));
      void s.send(new BootstrapDeleteRequest('/1'));
      void s.finish();
      await dev.waitFor((r) => r.method === 'DELETE');
      s.end(SessionOutcome.CANCELLED);
      void s.send(new BootstrapDeleteRequest('/2'));
      void s.accept();
      await sleep(50);
      assert.deepEqual(unhandled, []);
    } finally {
      process.removeListener('unhandledRejection', onUnhandled);
    }
  });

  it('a device that vanishes: the request times out, send() rejects and the session ends TIMEOUT', async () => {
    const { server: srv, port } = await server({ requestTimeoutMs: 400, coap: { ackTimeout: 0.05 } });
    const dev = await device();
    const sp = nextSession(srv);
    srv.once('bootstrapRequest', (s) => void s.accept());
    await dev.bootstrapRequest({ port }, { ep: 'ghost' });
    const s = await sp;
    dev.vanish();
    const timeoutNear = markAfter(300);
    await assert.rejects(
      s.send(new BootstrapDeleteRequest('/0')),
      (e: unknown) => e instanceof RequestTimeoutError && e.timeoutMs === 400 && e.path === '/0',
    );
    assert.ok(timeoutNear.fired, 'rejected by the 400 ms request timer, not at once');
    assert.deepEqual((await ended(s))[0], SessionOutcome.TIMEOUT);
    const step = s.audit().steps[0];
    assert.deepEqual([step.op, step.success, step.code], ['delete', false, '']);
    assert.match(step.error ?? '', /no response/);
  });

  it('retransmits an unanswered request with RFC 7252 backoff until the device answers', async () => {
    const { server: srv, port } = await server({ requestTimeoutMs: 3000, coap: { ackTimeout: 0.05 } });
    const peer = await raw();
    const sp = nextSession(srv);
    srv.once('bootstrapRequest', (s) => void s.accept());
    peer.send(bsRequest('flaky', 1, Buffer.from('0102', 'hex')), port);
    await peer.next((p) => p.code === '2.04');
    const s = await sp;
    // RFC 7252 4.2: the first retransmission after ACK_TIMEOUT * [1, ACK_RANDOM_FACTOR] = 50-75 ms, each next
    // one after twice the wait: the 4th transmission is 350 ms or more after the first, never sooner.
    const backoffNear = markAfter(300);
    const result = s.send(new BootstrapDeleteRequest('/1'));
    const sent = () => peer.inbox.filter((m) => m.packet?.code === '0.04');
    await peer.next((p) => p.code === '0.04' && sent().length >= 4);
    assert.ok(backoffNear.fired, 'the retransmissions back off (doubling), not every ACK_TIMEOUT');
    const deletes = sent();
    assert.equal(deletes.length, 4);
    assert.ok(deletes.every((m) => m.raw.equals(deletes[0].raw)), 'same message each time');
    const req = deletes[0].packet as NonNullable<(typeof deletes)[0]['packet']>;
    peer.send({ code: '2.02', ack: true, messageId: req.messageId, token: req.token }, port);
    assert.equal((await result).code, '2.02');
  });

  it('a Reset to a request ends the session REQUEST_FAILED', async () => {
    const { server: srv, port } = await server();
    const peer = await raw();
    const sp = nextSession(srv);
    srv.once('bootstrapRequest', (s) => void s.accept());
    peer.send(bsRequest('rst', 7, Buffer.from('0707', 'hex')), port);
    await peer.next((p) => p.code === '2.04');
    const s = await sp;
    const result = s.send(new BootstrapDeleteRequest('/'));
    const req = await peer.next((p) => p.code === '0.04');
    peer.send({ code: '0.00', reset: true, messageId: req.messageId }, port);
    await assert.rejects(result, (e: unknown) => e instanceof RequestFailedError && e.reason === 'reset');
    assert.deepEqual((await ended(s))[0], SessionOutcome.REQUEST_FAILED);
  });

  it('ends a session that does not finish within sessionTimeoutMs', async () => {
    const { server: srv, port } = await server({ sessionTimeoutMs: 300 });
    const dev = await device();
    const sp = nextSession(srv);
    srv.once('bootstrapRequest', (s) => void s.accept());
    await dev.bootstrapRequest({ port }, { ep: 'slowpoke' });
    const s = await sp;
    const [o, d] = await ended(s);
    assert.equal(o, SessionOutcome.TIMEOUT);
    assert.match(d ?? '', /300 ms/);
    assert.equal(srv.stats().failed, 1);
  });

  it('answers the decision timeout code to a Bootstrap-Request nobody decides on', async () => {
    const { server: srv, port } = await server({ decisionTimeoutMs: 250, decisionTimeoutCode: '5.03' });
    const dev = await device();
    const sp = nextSession(srv);
    const timeoutNear = markAfter(200);
    const res = await dev.bootstrapRequest({ port }, { ep: 'undecided' });
    assert.equal(res.code, '5.03');
    assert.ok(timeoutNear.fired, 'answered by the 250 ms decision timer, not at once');
    const [o] = await ended(await sp);
    assert.equal(o, SessionOutcome.TIMEOUT);
  });

  it('a slow decision past the first retransmission is answered as a separate response', async () => {
    const { server: srv, port } = await server({ coap: { ackTimeout: 0.05 } });
    const peer = await raw();
    srv.once('bootstrapRequest', (s) => setTimeout(() => void s.accept(), 300));
    const token = Buffer.from('cafe', 'hex');
    const req = bsRequest('slow', 0x2222, token);
    peer.send(req, port);
    await sleep(100);
    peer.send(bsRequest('slow', 0x2222, token), port); // the client's retransmission
    const ack = await peer.next((p) => p.ack && p.code === '0.00');
    assert.equal(ack.messageId, 0x2222);
    const resp = await peer.next((p) => p.code === '2.04');
    assert.equal(resp.confirmable, true);
    assert.deepEqual(resp.token, token);
    assert.notEqual(resp.messageId, 0x2222);
    peer.send({ code: '0.00', ack: true, messageId: resp.messageId }, port);
    await sleep(300);
    const copies = peer.inbox.filter((m) => m.packet?.code === '2.04').length;
    assert.ok(copies <= 2, `separate response retransmitted ${copies} times after its ACK`);
  });

  it('close() ends sessions CANCELLED, releases the port and leaves no timers', async () => {
    const timers = trackTimers();
    const srv = new BootstrapServer({ port: 0, address: '127.0.0.1' });
    const { port } = await srv.listen();
    const dev = await ScriptedDevice.create();
    const sp = nextSession(srv);
    srv.once('bootstrapRequest', (s) => void s.accept());
    await dev.bootstrapRequest({ port }, { ep: 'closing' });
    const s = await sp;
    dev.reply('DELETE', '*', { code: '2.02', drop: true });
    const pending = s.send(new BootstrapDeleteRequest('/0')).then(() => undefined, (e: unknown) => e);
    await dev.waitFor((r) => r.method === 'DELETE');
    srv.on('bootstrapRequest', () => undefined); // nobody decides on the next one
    const pendingDecision = dev.bootstrapRequest({ port }, { ep: 'other' });
    await sleep(30);
    assert.ok(timers.alive().some((st) => st.includes('SessionDeadlines.arm')), 'the tracker sees our timers (the sessions\' deadlines)');
    assert.ok(timers.alive().some((st) => st.includes('ConTransmission')), 'and the request in flight');
    await srv.close();
    assert.equal((await pendingDecision).code, '5.03', 'an undecided Bootstrap-Request is answered on close');
    assert.deepEqual((await ended(s))[0], SessionOutcome.CANCELLED);
    assert.ok((await pending) instanceof SessionEndedError);
    assert.equal(srv.stats().sessionsInFlight, 0);
    await dev.close();
    const rebound = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      rebound.once('error', reject);
      rebound.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => rebound.close(() => resolve()));
    await sleep(5);
    timers.stop();
    assert.deepEqual(timers.alive(), [], 'no timers left behind (ours, nor the scripted device\'s)');
    await srv.close(); // idempotent
  });

  it('listen() on a port in use rejects with a clear error', async () => {
    const { port } = await server();
    const other = new BootstrapServer({ port, address: '127.0.0.1' });
    await assert.rejects(other.listen(), /cannot listen on 127\.0\.0\.1/);
    await other.close();
  });
});

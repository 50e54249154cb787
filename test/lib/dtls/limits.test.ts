import assert from 'node:assert/strict';
import type { DtlsRemoteInfo } from '../../../lib/dtls';
import { SourceRateLimiter } from '../../../lib/dtls/limits';
import { HalfOpenClient, KEY, clientHello, closeClient, connectClient, roundTrip, startServer, waitFor, type TestServer } from './support';

describe('SourceRateLimiter', function () {
  it('allows N handshakes per source in a window of 1000 ms from the first, and keeps sources apart', function () {
    const rate = new SourceRateLimiter(2);
    const t = 5_000;
    for (const at of [t, t + 10]) {
      assert.ok(rate.allows('10.0.0.1', at));
      rate.record('10.0.0.1', at);
    }
    assert.equal(rate.allows('10.0.0.1', t + 999), false, 'the third within the window');
    assert.ok(rate.allows('10.0.0.2', t + 999), 'another source has its own window');
    assert.ok(rate.allows('10.0.0.1', t + 1000), 'the window ends 1000 ms after it opened');
    rate.record('10.0.0.1', t + 1000);
    assert.ok(rate.allows('10.0.0.1', t + 1000), 'one of two used in the new window');
    rate.prune(t + 1999);
    assert.equal(rate.size, 1);
    rate.prune(t + 2000);
    assert.equal(rate.size, 0);
  });

  it('a rate of 0 allows nothing', function () {
    assert.equal(new SourceRateLimiter(0).allows('10.0.0.1', 0), false);
  });
});

describe('DTLS server limits', function () {
  let srv: TestServer;
  const raws: HalfOpenClient[] = [];
  afterEach(async () => {
    await Promise.all(raws.splice(0).map((r) => r.close()));
    await srv?.close();
  });

  async function halfOpen(): Promise<{ client: HalfOpenClient; answered: boolean }> {
    const client = await HalfOpenClient.create();
    raws.push(client);
    const answered = await client.start(srv.port, 5000);
    return { client, answered };
  }

  /** A ClientHello the server should drop: waits for the drop counter to move, then says what the client got. */
  async function dropped(counter: 'maxPeers' | 'rateLimited'): Promise<HalfOpenClient> {
    const client = await HalfOpenClient.create();
    raws.push(client);
    const before = srv.socket.stats().dropped[counter];
    client.udp.send(clientHello(Buffer.alloc(0), 0, 0), srv.port, '127.0.0.1');
    await waitFor(() => srv.socket.stats().dropped[counter] > before, 5000, `dropped for ${counter}`);
    return client;
  }

  it('keeps no state for a ClientHello without a valid cookie', async () => {
    srv = await startServer();
    const client = await HalfOpenClient.create();
    raws.push(client);
    client.udp.send(clientHello(Buffer.alloc(0), 0, 0), srv.port, '127.0.0.1');
    await waitFor(() => client.received.length === 1, 1000, 'HelloVerifyRequest');
    assert.equal(client.received[0][13], 3, 'handshake type 3 = HelloVerifyRequest');
    const s = srv.socket.stats();
    assert.equal(s.helloVerifyRequests, 1);
    assert.equal(s.peers, 0);
  });

  it('accepts a cookie within one secret rotation and refuses one two rotations old', async () => {
    srv = await startServer({ cookieSecretRotationMs: 200 });
    const fresh = await HalfOpenClient.create();
    raws.push(fresh);
    assert.ok(await fresh.start(srv.port, 300, 0));
    assert.equal(fresh.received[1][13], 2, 'ServerHello');
    const late = await HalfOpenClient.create();
    raws.push(late);
    await late.start(srv.port, 300, 450);
    assert.equal(late.received[1][13], 3, 'a stale cookie gets a new HelloVerifyRequest, not a ServerHello');
    assert.equal(srv.socket.stats().handshakesStarted, 1);
  });

  it('frees a peer that stops mid-handshake after the handshake timeout', async () => {
    srv = await startServer({ handshakeTimeoutMs: 300 });
    const { answered } = await halfOpen();
    assert.ok(answered, 'the server answered the cookie-verified ClientHello');
    assert.equal(srv.socket.stats().handshaking, 1);
    await waitFor(() => srv.socket.stats().peers === 0, 2000, 'half-open peer freed');
    assert.equal(srv.socket.stats().expired.handshakeTimeout, 1);
  });

  it('retransmits its flight on the DTLS timer while the peer is silent', async () => {
    srv = await startServer({ handshakeTimeoutMs: 5000 });
    const { client } = await halfOpen();
    const before = client.received.length;
    await waitFor(() => client.received.length > before, 2500, 'retransmitted flight');
    assert.deepEqual(client.received[client.received.length - 1].subarray(0, 3), client.received[1].subarray(0, 3));
  });

  it('drops and counts new handshakes past maxPeers when every peer is established', async () => {
    srv = await startServer({ maxPeers: 1, handshakesPerSourcePerSecond: 100 });
    srv.socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => srv.socket.send(msg, rinfo.port, rinfo.address));
    const client = await connectClient(srv.port, 'dev1', KEY);
    const second = await dropped('maxPeers');
    assert.equal(second.received.length, 0, 'the second peer gets no answer, not even a HelloVerifyRequest');
    const s = srv.socket.stats();
    assert.equal(s.peers, 1);
    assert.equal(s.dropped.maxPeers, 1);
    assert.equal((await roundTrip(client, Buffer.from('still here'))).toString(), 'still here');
    await closeClient(client);
  });

  it('past maxPeers evicts the most silent (here: oldest) half-open handshake of the busiest source, never an established session', async () => {
    srv = await startServer({ maxPeers: 4, handshakesPerSourcePerSecond: 100, maxHalfOpenPerSource: 100 });
    srv.socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => srv.socket.send(msg, rinfo.port, rinfo.address));
    const client = await connectClient(srv.port, 'dev1', KEY); // established, from 127.0.0.1
    const heavy: HalfOpenClient[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await HalfOpenClient.create('127.0.0.2');
      raws.push(c);
      assert.ok(await c.start(srv.port, 500));
      heavy.push(c);
    }
    const light = await HalfOpenClient.create('127.0.0.3');
    raws.push(light);
    assert.ok(await light.start(srv.port, 500));
    assert.equal(srv.socket.stats().peers, 4, 'full');
    // A real device arrives while the table is full of half-open handshakes: it gets in.
    const late = await connectClient(srv.port, 'dev1', KEY);
    assert.equal((await roundTrip(late, Buffer.from('late'))).toString(), 'late');
    const s = srv.socket.stats();
    assert.equal(s.evicted.full, 1);
    assert.equal(s.established, 2);
    const left = srv.socket.peers().filter((p) => p.state === 'handshaking').map((p) => `${p.address}:${p.port}`);
    assert.deepEqual(left.sort(), [`127.0.0.2:${heavy[1].udp.address().port}`, `127.0.0.3:${light.udp.address().port}`].sort(),
      'the oldest half-open handshake of the busiest source went');
    assert.equal((await roundTrip(client, Buffer.from('still here'))).toString(), 'still here');
    await closeClient(client);
    await closeClient(late);
  });

  it('caps half-open handshakes per source address: a further one evicts the most silent (here: oldest) of that source', async () => {
    srv = await startServer({ maxHalfOpenPerSource: 2, handshakesPerSourcePerSecond: 100 });
    const ports: number[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await HalfOpenClient.create('127.0.0.2');
      raws.push(c);
      assert.ok(await c.start(srv.port, 500));
      ports.push(c.udp.address().port);
    }
    const s = srv.socket.stats();
    assert.equal(s.handshaking, 2);
    assert.equal(s.evicted.perSource, 2);
    assert.deepEqual(srv.socket.peers().map((p) => p.port).sort(), ports.slice(2).sort());
  });

  it('frees a half-open handshake whose peer stays silent for halfOpenTimeoutMs', async () => {
    srv = await startServer({ halfOpenTimeoutMs: 300, handshakeTimeoutMs: 30_000 });
    const { answered } = await halfOpen();
    assert.ok(answered);
    await waitFor(() => srv.socket.stats().peers === 0, 3000, 'half-open peer freed');
    const s = srv.socket.stats();
    assert.equal(s.expired.halfOpenTimeout, 1);
    assert.equal(s.expired.handshakeTimeout, 0);
  });

  it('drops and counts handshakes from one source past the per-second rate; the next window allows new ones', async () => {
    // The server's clock stands still unless the test moves it: the window is the one the test says.
    let now = 1_000_000;
    srv = await startServer({ handshakesPerSourcePerSecond: 2, clock: () => now });
    srv.socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => srv.socket.send(msg, rinfo.port, rinfo.address));
    const client = await connectClient(srv.port, 'dev1', KEY); // handshake 1 from 127.0.0.1 opens the window
    now += 500;
    assert.ok((await halfOpen()).answered, 'handshake 2 from 127.0.0.1');
    now += 499;
    const third = await dropped('rateLimited'); // 999 ms into the window
    assert.equal(third.received.length, 0, 'no answer at all, not even a HelloVerifyRequest');
    assert.equal(srv.socket.stats().dropped.rateLimited, 1);
    assert.equal((await roundTrip(client, Buffer.from('established'))).toString(), 'established');
    now += 1; // 1000 ms after the window opened: a new window
    assert.ok((await halfOpen()).answered, 'a new second allows new handshakes');
    assert.equal(srv.socket.stats().dropped.rateLimited, 1);
    await closeClient(client);
  });

  it('closes an idle established session with close_notify', async () => {
    srv = await startServer({ idleTimeoutMs: 300 });
    const closed: string[] = [];
    srv.socket.on('peerClosed', (ev) => closed.push(ev.reason));
    const client = await connectClient(srv.port, 'dev1', KEY);
    let clientClosed = false;
    client.on('close', () => (clientClosed = true));
    await waitFor(() => srv.socket.stats().peers === 0, 2000, 'idle peer closed');
    assert.deepEqual(closed, ['idle timeout']);
    assert.equal(srv.socket.stats().expired.idleTimeout, 1);
    await waitFor(() => clientClosed, 1000, 'client saw close_notify');
  });

  it('drops datagrams from unknown sources that are not a ClientHello', async () => {
    srv = await startServer();
    const client = await HalfOpenClient.create();
    raws.push(client);
    client.udp.send(Buffer.from([0x40, 0x01, 0x00, 0x01]), srv.port, '127.0.0.1'); // plain CoAP
    await waitFor(() => srv.socket.stats().dropped.notClientHello === 1, 1000, 'drop counted');
    assert.equal(client.received.length, 0);
  });
});

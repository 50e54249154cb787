import assert from 'node:assert/strict';
import type * as dgram from 'dgram';
import { nextPort } from '../../support/ports';
import { DtlsSocket, MemoryPskStore, type DtlsRemoteInfo } from '../../../lib/dtls';
import type { PeerEvent } from '../../../lib/dtls/engine';
import { KEY, closeClient, connectClient, roundTrip, startServer, waitFor, type CipherName, type TestServer } from './support';

/** Echoes every datagram back to its sender through the DTLS socket, prefixed with the identity. */
function echo(socket: DtlsSocket, seen: DtlsRemoteInfo[]): void {
  socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => {
    seen.push(rinfo);
    const reply = Buffer.concat([Buffer.from(`${rinfo.identity?.id}:`), msg]);
    socket.send(reply, 0, reply.length, rinfo.port, rinfo.address);
  });
}

describe('DTLS server with PSK (node-dtls-client as the peer)', function () {
  let srv: TestServer;
  afterEach(async () => {
    await srv?.close();
  });

  for (const cipher of ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256'] as CipherName[]) {
    it(`completes a ${cipher} handshake and exchanges application data both ways`, async () => {
      srv = await startServer();
      const seen: DtlsRemoteInfo[] = [];
      const handshakes: string[] = [];
      srv.socket.on('handshake', (p) => handshakes.push(p.cipher ?? ''));
      echo(srv.socket, seen);
      const client = await connectClient(srv.port, 'dev1', KEY, cipher);
      const answer = await roundTrip(client, Buffer.from('ping'));
      assert.equal(answer.toString(), 'dev1:ping');
      assert.deepEqual(seen[0].identity, { type: 'psk', id: 'dev1', encoding: 'utf8' });
      assert.equal(seen[0].cipher, cipher);
      assert.equal(seen[0].size, 4);
      assert.equal(seen[0].address, '127.0.0.1');
      assert.deepEqual(handshakes, [cipher]);
      const s = srv.socket.stats();
      assert.equal(s.handshakesCompleted, 1);
      assert.equal(s.helloVerifyRequests, 1, 'one HelloVerifyRequest: the cookie exchange ran');
      assert.equal(s.established, 1);
      await closeClient(client);
      await waitFor(() => srv.socket.stats().peers === 0, 2000, 'peer freed after close_notify');
      assert.equal(srv.socket.stats().closedByPeer, 1);
    });
  }

  it('takes a close_notify sent at alert level fatal (as tinydtls does) for the peer closing, without a failure warning', async () => {
    const warnings: string[] = [];
    srv = await startServer({ logger: { warn: (m: string) => warnings.push(m) } });
    echo(srv.socket, []);
    const closed: PeerEvent[] = [];
    srv.socket.on('peerClosed', (e: PeerEvent) => closed.push(e));
    const client = await connectClient(srv.port, 'dev1', KEY, 'TLS_PSK_WITH_AES_128_CCM_8');
    assert.equal((await roundTrip(client, Buffer.from('ping'))).toString(), 'dev1:ping');
    // node-dtls-client's own close() sends close_notify at level warning; send the fatal-level one by hand.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Alert, AlertLevel, AlertDescription } = require('node-dtls-client/build/TLS/Alert');
    const raw = client as unknown as { sendAlert(a: unknown, cb: (e?: Error) => void): void };
    await new Promise<void>((resolve) => raw.sendAlert(new Alert(AlertLevel.fatal, AlertDescription.close_notify), () => resolve()));
    await waitFor(() => srv.socket.stats().peers === 0, 2000, 'peer freed after the fatal-level close_notify');
    assert.equal(srv.socket.stats().closedByPeer, 1);
    assert.equal(closed.length, 1);
    assert.deepEqual(warnings.filter((w) => /failed/.test(w)), [], 'no failure logged for a peer that closed');
    await closeClient(client).catch(() => undefined);
  });

  it('keeps several sessions apart and answers each with its own identity', async () => {
    srv = await startServer();
    srv.store.set('dev2', Buffer.from('another key of 24 bytes!'));
    echo(srv.socket, []);
    const [a, b] = await Promise.all([
      connectClient(srv.port, 'dev1', KEY),
      connectClient(srv.port, 'dev2', Buffer.from('another key of 24 bytes!'), 'TLS_PSK_WITH_AES_128_CBC_SHA256'),
    ]);
    const [ra, rb] = await Promise.all([roundTrip(a, Buffer.from('A')), roundTrip(b, Buffer.from('B'))]);
    assert.equal(ra.toString(), 'dev1:A');
    assert.equal(rb.toString(), 'dev2:B');
    assert.equal(srv.socket.peers().length, 2);
    await Promise.all([closeClient(a), closeClient(b)]);
  });

  it('fails the handshake with a wrong key, frees the peer after the handshake timeout and names the identity', async () => {
    // DTLS silently drops the client's Finished record that it cannot decrypt (RFC 6347 4.1.2.7), so a
    // wrong key shows as a handshake that never completes.
    srv = await startServer({ handshakeTimeoutMs: 1000 });
    await assert.rejects(
      connectClient(srv.port, 'dev1', Buffer.from('not the right key'), 'TLS_PSK_WITH_AES_128_CCM_8', 2000),
      /timed out/,
    );
    await waitFor(() => srv.socket.stats().peers === 0, 3000, 'peer freed');
    const s = srv.socket.stats();
    assert.equal(s.handshakesCompleted, 0);
    assert.equal(s.expired.handshakeTimeout, 1);
    assert.ok(srv.logs.some((l) => /timed out after PSK identity "dev1" \(wrong key\?\)/.test(l.msg)), JSON.stringify(srv.logs));
  });

  it('answers an unknown identity with an unknown_psk_identity alert', async () => {
    srv = await startServer();
    const failed: PeerEvent[] = [];
    srv.socket.on('handshakeFailed', (ev) => failed.push(ev));
    await assert.rejects(connectClient(srv.port, 'nobody', KEY), /unknown_psk_identity/);
    await waitFor(() => failed.length === 1, 2000, 'handshakeFailed event');
    assert.equal(failed[0].reason, 'unknown PSK identity');
    assert.match(failed[0].alertSent ?? '', /unknown PSK identity/i);
    assert.equal(srv.socket.stats().handshakesFailed, 1);
    assert.equal(srv.socket.stats().peers, 0);
    // One line for the failed handshake, naming the identity (issue 12: it used to take two).
    const lines = srv.logs.filter((l) => l.level !== 'debug');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].level, 'warn');
    assert.match(lines[0].msg, /handshake with 127\.0\.0\.1:\d+ \(PSK identity "nobody"\) failed/);
  });

  it('refuses an identity containing a zero byte instead of matching its prefix, and says so in the log', async () => {
    srv = await startServer();
    // 'dev1' is a known identity: OpenSSL's C-string view of 'dev1\0x' would match it.
    await assert.rejects(connectClient(srv.port, 'dev1\u0000x', KEY), /unknown_psk_identity/);
    await waitFor(() => srv.socket.stats().handshakesFailed === 1, 2000, 'failure counted');
    const line = srv.logs.find((l) => l.level === 'warn' && l.msg.includes('zero byte'));
    assert.ok(line, `a warning about the zero byte, got ${JSON.stringify(srv.logs)}`);
    assert.match(line.msg, /PSK identity of 6 bytes contains a zero byte/);
  });

  it('never logs a key', async () => {
    srv = await startServer();
    echo(srv.socket, []);
    const client = await connectClient(srv.port, 'dev1', KEY);
    await roundTrip(client, Buffer.from('x'));
    await closeClient(client);
    await assert.rejects(connectClient(srv.port, 'dev1', Buffer.from('wrong-key-material'), 'TLS_PSK_WITH_AES_128_CCM_8', 1500));
    const text = JSON.stringify(srv.logs) + JSON.stringify(srv.socket.stats());
    for (const secret of [KEY.toString('hex'), KEY.toString('base64'), KEY.toString('latin1'), 'wrong-key-material']) {
      assert.ok(!text.includes(secret), 'key material in logs or stats');
    }
  });

  it('gives a client that restarts from the same address and port a new session after the cookie exchange', async () => {
    srv = await startServer();
    echo(srv.socket, []);
    const localPort = await nextPort();
    const first = await connectClient(srv.port, 'dev1', KEY, 'TLS_PSK_WITH_AES_128_CCM_8', 3000, { listenPort: localPort });
    assert.equal((await roundTrip(first, Buffer.from('1'))).toString(), 'dev1:1');
    // The device reboots: its socket goes away without close_notify, and it comes back on the same port.
    await new Promise<void>((resolve) => (first as unknown as { udp: dgram.Socket }).udp.close(() => resolve()));
    srv.store.set('dev1-rebooted', KEY);
    const second = await connectClient(srv.port, 'dev1-rebooted', KEY, 'TLS_PSK_WITH_AES_128_CCM_8', 3000, { listenPort: localPort });
    assert.equal((await roundTrip(second, Buffer.from('2'))).toString(), 'dev1-rebooted:2');
    const s = srv.socket.stats();
    assert.equal(s.handshakesCompleted, 2);
    assert.equal(s.peers, 1);
    await closeClient(second);
  });

  it('works over IPv6 loopback', async () => {
    const socket = new DtlsSocket({ type: 'udp6', psk: new MemoryPskStore().set('dev6', KEY) });
    try {
      await new Promise<void>((resolve) => socket.bind(0, '::1', () => resolve()));
      const seen: DtlsRemoteInfo[] = [];
      echo(socket, seen);
      const client = await connectClient(socket.address().port, 'dev6', KEY, 'TLS_PSK_WITH_AES_128_CCM_8', 3000, { type: 'udp6', address: '::1' });
      assert.equal((await roundTrip(client, Buffer.from('v6'))).toString(), 'dev6:v6');
      assert.equal(seen[0].family, 'IPv6');
      assert.equal(seen[0].address, '::1');
      await closeClient(client);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  });

  it('survives a PSK store that closes the socket from inside the handshake', async () => {
    let lookups = 0;
    const psk = { get: () => (lookups++, srv.socket.close(), KEY) };
    srv = await startServer({ psk });
    await assert.rejects(connectClient(srv.port, 'dev1', KEY, 'TLS_PSK_WITH_AES_128_CCM_8', 1000));
    assert.equal(srv.socket.stats().peers, 0);
    assert.equal(srv.socket.stats().handshakesCompleted, 0);
    assert.equal(lookups, 1);
    assert.ok(!srv.logs.some((l) => l.level === 'error'), JSON.stringify(srv.logs));
  });

  it('refuses send() to an address without an established session', async () => {
    srv = await startServer();
    const err = await new Promise<Error | null>((resolve) => srv.socket.send(Buffer.from('x'), 5683, '127.0.0.1', resolve));
    assert.ok(err);
    assert.equal((err as { dtlsCode?: string }).dtlsCode, 'DTLS_NO_SESSION');
    assert.equal(srv.socket.stats().dropped.noSession, 1);
  });
});

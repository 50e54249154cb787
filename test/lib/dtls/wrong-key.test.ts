/**
 * A device with the right identity and the wrong key (issue 13): said at warn level when its client sends
 * the last flight again, not at info level when the handshake times out, and said once. The client is
 * libcoap's coap-client-openssl, which retransmits its flights as RFC 6347 describes (pending without it).
 */
import assert from 'node:assert/strict';
import { requireBinary, run, type Running } from './external';
import { startServer, waitFor, type TestServer } from './support';

describe('DTLS server: a wrong PSK key', function () {
  this.timeout(20000);
  let srv: TestServer;
  let proc: Running | undefined;
  afterEach(async () => {
    proc?.stop();
    proc = undefined;
    await srv?.close();
  });

  it('is a warning naming the identity as soon as the client retransmits its Finished, once, long before the handshake timeout', async function () {
    requireBinary(this, 'coap-client-openssl');
    srv = await startServer({ handshakeTimeoutMs: 600000 });
    srv.store.set('dev1', Buffer.from('secretPSK'));
    proc = run('coap-client-openssl', ['-B', '10', '-m', 'get', '-u', 'dev1', '-k', 'wrongPSK', `coaps://127.0.0.1:${srv.port}/bs`]);
    await waitFor(() => srv.logs.some((l) => /wrong key/.test(l.msg)), 15000, 'a wrong-key line');
    const lines = srv.logs.filter((l) => /wrong key/.test(l.msg));
    assert.equal(lines.length, 1, JSON.stringify(srv.logs));
    assert.equal(lines[0].level, 'warn');
    assert.match(lines[0].msg, /PSK identity "dev1"/);
    assert.ok(!lines[0].msg.includes('wrongPSK') && !lines[0].msg.includes('secretPSK'), 'no key in the line');
    assert.equal(srv.socket.stats().expired.handshakeTimeout, 0, 'said before any timeout');
    assert.equal(srv.socket.stats().handshakesCompleted, 0);
    // More retransmissions of the same handshake add no second line.
    const before = srv.socket.stats().datagramsIn;
    await waitFor(() => srv.socket.stats().datagramsIn > before, 10000, 'another retransmission');
    assert.equal(srv.logs.filter((l) => /wrong key/.test(l.msg)).length, 1);
  });
});

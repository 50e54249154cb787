import { strict as assert } from 'node:assert';
import { generate, parse, type ParsedPacket } from 'coap-packet';
import type { dtls } from 'node-dtls-client';
import { BootstrapDeleteRequest, BootstrapServer, SessionOutcome, type BootstrapSession } from '../../../lib/bootstrap';
import { KEY, closeClient, connectClient, startServer as startDtls, type TestServer } from '../dtls/support';

/** Collects what the DTLS client receives and answers the server's requests like a device would. */
function deviceOver(client: dtls.Socket): { got: ParsedPacket[]; next(pred: (p: ParsedPacket) => boolean): Promise<ParsedPacket> } {
  const got: ParsedPacket[] = [];
  const waiters: { pred: (p: ParsedPacket) => boolean; resolve: (p: ParsedPacket) => void }[] = [];
  client.on('message', (msg: Buffer) => {
    const p = parse(msg);
    got.push(p);
    if (p.code === '0.04' || p.code === '0.02') {
      client.send(generate({ code: p.code === '0.04' ? '2.02' : '2.04', ack: true, messageId: p.messageId, token: p.token }));
    }
    for (const w of [...waiters]) if (w.pred(p)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(p);
  });
  return {
    got,
    next: (pred) =>
      new Promise((resolve, reject) => {
        const seen = got.find(pred);
        if (seen) return resolve(seen);
        const t = setTimeout(() => reject(new Error('nothing matching over DTLS')), 3000);
        waiters.push({ pred, resolve: (p) => (clearTimeout(t), resolve(p)) });
      }),
  };
}

describe('BootstrapServer over the DTLS socket (node-dtls-client as the device)', () => {
  let dtlsServer: TestServer;
  let server: BootstrapServer;
  let client: dtls.Socket | undefined;

  afterEach(async () => {
    if (client) await closeClient(client);
    client = undefined;
    await server?.close();
    await dtlsServer?.close();
  });

  it('takes the endpoint from the PSK identity, bootstraps over DTLS, and leaves the socket it was given open', async () => {
    dtlsServer = await startDtls();
    server = new BootstrapServer({ socket: dtlsServer.socket });
    await server.listen();
    let session: BootstrapSession | undefined;
    server.on('bootstrapRequest', async (s) => {
      session = s;
      await s.accept();
      await s.send(new BootstrapDeleteRequest('/0'));
      await s.finish();
    });
    client = await connectClient(dtlsServer.port, 'dev1', KEY);
    const dev = deviceOver(client);
    // POST /bs with no ep: LwM2M 1.1 lets the server take the name from the (D)TLS identity.
    client.send(generate({ code: '0.02', confirmable: true, messageId: 77, token: Buffer.from('beef', 'hex'), options: [{ name: 'Uri-Path', value: Buffer.from('bs') }] }));
    const answer = await dev.next((p) => p.messageId === 77);
    assert.equal(answer.code, '2.04');
    await dev.next((p) => p.code === '0.02'); // Bootstrap-Finish
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(session);
    assert.equal(session.endpoint, 'dev1');
    assert.deepEqual(session.identity, { type: 'psk', id: 'dev1' });
    assert.equal(session.outcome, SessionOutcome.SUCCESS);
    assert.deepEqual(dev.got.filter((p) => p.code.startsWith('0.')).map((p) => p.code), ['0.04', '0.02']);
    await server.close();
    assert.equal(dtlsServer.socket.address().port, dtlsServer.port, 'the DTLS socket stays bound: its owner closes it');
  });

  it('a Bootstrap-Request naming another device\'s ep from a different identity does not cancel that device\'s session', async () => {
    dtlsServer = await startDtls();
    dtlsServer.store.set('dev2', KEY);
    server = new BootstrapServer({ socket: dtlsServer.socket });
    await server.listen();
    const sessions: BootstrapSession[] = [];
    server.on('bootstrapRequest', (s) => {
      sessions.push(s);
      if (s.identity?.id === 'dev1') void s.accept();
      else void s.reject('4.00', 'Unauthorized', SessionOutcome.UNAUTHORIZED);
    });
    client = await connectClient(dtlsServer.port, 'dev1', KEY);
    const real = deviceOver(client);
    const bs = (ep: string, mid: number) =>
      generate({ code: '0.02', confirmable: true, messageId: mid, token: Buffer.from([mid]), options: [
        { name: 'Uri-Path', value: Buffer.from('bs') },
        { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
      ] });
    client.send(bs('dev1', 1));
    assert.equal((await real.next((p) => p.messageId === 1)).code, '2.04');
    const intruder = await connectClient(dtlsServer.port, 'dev2', KEY);
    try {
      const other = deviceOver(intruder);
      intruder.send(bs('dev1', 2));
      assert.equal((await other.next((p) => p.messageId === 2)).code, '4.00');
    } finally {
      await closeClient(intruder);
    }
    assert.equal(sessions.length, 2);
    assert.equal(sessions[0].state, 'accepted', 'the real device\'s session goes on');
    assert.equal(sessions[1].outcome, SessionOutcome.UNAUTHORIZED);
    assert.equal(server.findSessionByEndpoint('dev1'), sessions[0]);
  });
});

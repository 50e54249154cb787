/**
 * The client-sim node over CoAPs: its PSK identity pattern and key credential reach the device, which
 * bootstraps against a Bootstrap-Server on lib/dtls's DTLS socket (OpenSSL inside Node; the device side is
 * node-dtls-client); the wrong-PSK fault set in the dialog fails the handshake. The key never shows.
 */
import assert from 'node:assert/strict';
import * as path from 'path';
import { BootstrapServer, runBootstrap, type BootstrapSession, type DatagramSocket } from '../../lib/bootstrap';
import { validatedProfile } from '../../lib/profile/validated';
import { createDtlsSocket, MemoryPskStore, type DtlsSocket } from '../../lib/dtls';
import { RegistrationServer } from '../../lib/rd';
import { assertNoKey } from '../support/no-secret';
import { errorCalls, helper, nextMessage, statusCalls } from './support/runtime';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const clientSimNode = require(path.resolve(__dirname, '..', '..', 'nodes', 'client-sim', 'client-sim.js'));
const KEY = '8899aabbccddeeff0011223344556677';

describe('client-sim node over CoAPs (PSK)', function () {
  this.timeout(20000);
  let sock: DtlsSocket;
  let bs: BootstrapServer;
  let rd: RegistrationServer;
  const sessions: BootstrapSession[] = [];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sock = createDtlsSocket({ psk: new MemoryPskStore().set('bs-id-sec-1', Buffer.from(KEY, 'hex')) });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    bs = new BootstrapServer({ socket: sock as unknown as DatagramSocket, requestTimeoutMs: 3000 });
    await bs.listen();
    rd = await new RegistrationServer().listen();
    bs.on('bootstrapRequest', (s: BootstrapSession) => {
      sessions.push(s);
      void runBootstrap(s, validatedProfile({ servers: [{ shortServerId: 1, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 60 }] }))
        .then(() => s.finish())
        .catch(() => undefined);
    });
  });
  afterEach(async () => {
    await helper.unload();
    sessions.splice(0);
    await bs.close();
    await rd.close();
    await new Promise<void>((r) => sock.close(() => r()));
  });

  function flow(extra: Record<string, unknown> = {}): object[] {
    return [
      { id: 'tab', type: 'tab', label: 'coaps' },
      {
        id: 'n-sim', z: 'tab', type: 'lwm2m-client-sim', mode: 'single', endpoint: 'sec-1',
        bsUri: `coaps://127.0.0.1:${sock.address().port}`, pskIdentity: 'bs-id-{ep}', version: '1.1', autoStart: true,
        holdOff: '0', requestTimeout: '2', maxAttempts: '1', persist: false, ...extra,
        wires: [['h-trace'], ['h-diagram']],
      },
      { id: 'h-trace', z: 'tab', type: 'helper' },
      { id: 'h-diagram', z: 'tab', type: 'helper' },
    ];
  }

  it('bootstraps with the identity from its pattern and the key from its credentials, and registers', async () => {
    const events: unknown[] = [];
    await helper.load(clientSimNode, flow(), { 'n-sim': { pskKey: KEY } });
    helper.getNode('h-trace').on('input', (m: unknown) => events.push(m));
    const d = await nextMessage(helper.getNode('h-diagram'), 10000);
    assert.equal(d.outcome, 'success');
    assert.equal(sessions.length, 1);
    assert.deepEqual(sessions[0].identity, { type: 'psk', id: 'bs-id-sec-1' });
    assert.ok(rd.byEndpoint('sec-1'));
    assertNoKey(JSON.stringify([events, d, statusCalls(helper.getNode('n-sim'))]), KEY, 'events, diagram and status');
  });

  it('refuses a coaps:// server without a key, naming what is missing', async () => {
    await helper.load(clientSimNode, flow(), {});
    const sim = helper.getNode('n-sim');
    const err = String(errorCalls(sim)[0]?.[0]);
    assert.equal(err, 'lwm2m-client-sim.errors.pskNeeded');
    assert.equal(statusCalls(sim).slice(-1)[0].fill, 'red');
    assert.equal(sessions.length, 0);
  });

  it('with the wrong-PSK fault the handshake fails and the bootstrap is reported failed', async () => {
    await helper.load(clientSimNode, flow({ wrongPsk: true }), { 'n-sim': { pskKey: KEY } });
    const d = await nextMessage(helper.getNode('h-diagram'), 10000);
    assert.equal(d.outcome, 'failure');
    assert.match(d.bootstrap.reason, /DTLS|handshake/i);
    assert.equal(sessions.length, 0, 'no Bootstrap-Request got through');
    const last = statusCalls(helper.getNode('n-sim')).slice(-1)[0];
    assert.equal(last.fill, 'red');
  });
});

/**
 * CoAPs: the simulated client (node-dtls-client, PSK) against the Bootstrap-Server and the registration
 * server running on lib/dtls's DTLS server socket (OpenSSL inside Node): an independent implementation on
 * each side of a real handshake.
 */
import assert from 'node:assert/strict';
import type * as dgram from 'dgram';
import { BootstrapServer, runBootstrap, type BootstrapSession, type DatagramSocket } from '../../../lib/bootstrap';
import { validatedProfile } from '../../../lib/profile/validated';
import { SimulatedClient } from '../../../lib/client/client';
import { createDtlsSocket, dtlsCapabilities, MemoryPskStore, type DtlsSocket } from '../../../lib/dtls';
import { RegistrationServer, type Registration } from '../../../lib/rd/server';
import { FAST, waitFor } from './support/fixtures';

const BS_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const DM_KEY = Buffer.from('f0e0d0c0b0a090807060504030201000', 'hex');

async function dtlsSocket(identity: string, key: Buffer): Promise<DtlsSocket> {
  const s = createDtlsSocket({ psk: new MemoryPskStore().set(identity, key) });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  return s;
}

describe('simulated client over CoAPs (PSK)', function () {
  it('the DTLS server addon is available here', () => {
    assert.ok(dtlsCapabilities().available, 'build it with npm run build:addon');
  });

  let bsSock: DtlsSocket;
  let rdSock: DtlsSocket;
  let bs: BootstrapServer;
  let rd: RegistrationServer;
  const clients: SimulatedClient[] = [];
  const sessions: BootstrapSession[] = [];

  beforeEach(async () => {
    bsSock = await dtlsSocket('dev-s-bs', BS_KEY);
    rdSock = await dtlsSocket('dev-s', DM_KEY);
    bs = new BootstrapServer({ socket: bsSock as unknown as DatagramSocket, requestTimeoutMs: 3000 });
    await bs.listen();
    rd = await new RegistrationServer({ socket: rdSock as unknown as dgram.Socket }).listen();
    bs.on('bootstrapRequest', (session: BootstrapSession) => {
      sessions.push(session);
      void runBootstrap(session, validatedProfile({
        servers: [
          {
            shortServerId: 9,
            uri: `coaps://127.0.0.1:${rdSock.address().port}`,
            securityMode: 'psk',
            pskIdentity: 'dev-s',
            pskKey: { hex: DM_KEY.toString('hex') },
            lifetime: 60,
          },
        ],
      }))
        .then(() => session.finish())
        .catch(() => undefined);
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    sessions.splice(0);
    await bs.close();
    await rd.close();
    await new Promise<void>((r) => bsSock.close(() => r()));
    await new Promise<void>((r) => rdSock.close(() => r()));
  });

  it('bootstraps over DTLS with its PSK and registers over DTLS with the provisioned PSK', async () => {
    const c = new SimulatedClient({
      endpoint: 'dev-s',
      bootstrapServer: { uri: `coaps://127.0.0.1:${bsSock.address().port}`, pskIdentity: 'dev-s-bs', pskKey: BS_KEY.toString('hex') },
      timing: { ...FAST, requestTimeoutMs: 4000 },
    });
    clients.push(c);
    const registered = waitFor<Registration>(rd, 'registered', () => true, 10000);
    await c.start();
    const reg = await registered;
    assert.equal(reg.endpoint, 'dev-s');
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].identity?.type, 'psk');
    const acc = c.store.serverAccounts()[0];
    const key = acc.security.resources.get(5);
    assert.ok(key && key.kind === 'single' && Buffer.isBuffer(key.value) && key.value.equals(DM_KEY));
  });

  it('fault: a wrong PSK fails the handshake and the bootstrap attempt', async () => {
    const c = new SimulatedClient({
      endpoint: 'dev-s',
      bootstrapServer: { uri: `coaps://127.0.0.1:${bsSock.address().port}`, pskIdentity: 'dev-s-bs', pskKey: BS_KEY.toString('hex') },
      timing: { ...FAST, requestTimeoutMs: 1500 },
      faults: { wrongPskKey: 'ffffffffffffffffffffffffffffffff' },
      maxBootstrapAttempts: 1,
    });
    clients.push(c);
    const failed = waitFor<{ reason: string }>(c, 'bootstrapFailed', () => true, 10000);
    await c.start();
    assert.match((await failed).reason, /DTLS|handshake/i);
    assert.equal(sessions.length, 0, 'no Bootstrap-Request got through');
  });
});

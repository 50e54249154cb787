/**
 * A listener on several addresses (issue 13: real devices must be able to register with the demo). A device
 * that reaches the Bootstrap-Server at 127.0.0.2 is sent from 127.0.0.1 by Linux, so only the socket the
 * request arrived on tells where it went; that address fills ${serverHost} in DM_SERVER_URI, and the device
 * registers with a DM server that listens on 127.0.0.2 only.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { SimulatedClient } from '../../lib/client/client';
import { RegistrationServer, type Registration } from '../../lib/rd/server';
import { FAST, waitFor } from '../lib/client/support/fixtures';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { ALL_NODES, callsOf, helper, nextMessage, statusCalls, until } from './support/runtime';

describe('server nodes: listener on several addresses', function () {
  this.timeout(20000);
  let rd: RegistrationServer | undefined;
  let client: SimulatedClient | undefined;
  const saved = process.env.DM_SERVER_URI;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await client?.stop();
    client = undefined;
    await rd?.close();
    rd = undefined;
    await helper.unload();
    if (saved === undefined) delete process.env.DM_SERVER_URI;
    else process.env.DM_SERVER_URI = saved;
  });

  const DM_PROFILE = {
    name: 'meters',
    autoId: true,
    servers: [{ shortServerId: 1, uri: '${DM_SERVER_URI}', securityMode: 'nosec', lifetime: 60 }],
    templates: { DM_SERVER_URI: 'coap://127.0.0.1:5783' },
  };

  it('gives a device that came in at 127.0.0.2 a DM server URI at 127.0.0.2, and it registers there', async () => {
    rd = await new RegistrationServer({ address: '127.0.0.2', port: 0 }).listen();
    process.env.DM_SERVER_URI = `coap://\${serverHost}:${rd.port}`;
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, address: '127.0.0.1, 127.0.0.2', profiles: [DM_PROFILE] }));
    const listener = helper.getNode('n-listener');
    await until(() => statusCalls(listener).some((s) => s.fill === 'green'), 5000, 'listening');

    const request = nextMessage(helper.getNode('h-requests'));
    const success = nextMessage(helper.getNode('h-success'));
    const registered = waitFor<Registration>(rd, 'registered');
    client = new SimulatedClient({ endpoint: 'lan-1', bootstrapServer: { uri: `coap://127.0.0.2:${port}` }, timing: FAST });
    await client.start();
    const req = await request;
    assert.equal(req.lwm2m.peer.address, '127.0.0.1', 'Linux sends from 127.0.0.1: the peer does not say where it went');
    assert.deepEqual(req.lwm2m.local, { address: '127.0.0.2', port });
    const done = await success;
    assert.equal(done.profile.servers[0].uri, `coap://127.0.0.2:${rd.port}`);
    const reg = await registered;
    assert.equal(reg.endpoint, 'lan-1');
    assert.deepEqual(callsOf(listener, 'error'), []);
  });

  it('says clearly that ${serverHost} has no value when the listener is bound to 0.0.0.0', async () => {
    process.env.DM_SERVER_URI = 'coap://${serverHost}:5783';
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, address: '0.0.0.0', profiles: [DM_PROFILE] }));
    const caught = nextMessage(helper.getNode('h-caught'));
    helper.getNode('n-lookup').receive({
      lwm2m: { sessionId: 's', listenerId: 'n-listener', endpoint: 'w-1', kind: 'bootstrap', peer: { address: '127.0.0.1', port: 1 }, local: { port }, query: {}, steps: [] },
    });
    const c = await caught;
    assert.match(String(c.error.message), /noRequestValue/);
  });

  it('reports an address it cannot bind among several, naming it, and binds none of them', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, address: '127.0.0.1, 192.0.2.77' }));
    const listener = helper.getNode('n-listener');
    await until(() => callsOf(listener, 'error').length > 0, 5000, 'an error');
    assert.equal(statusCalls(listener).pop()?.fill, 'red');
    // 127.0.0.1 was released again: it can be bound by someone else.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => sock.close(() => resolve()));
  });
});

/**
 * The listener's Cookie secret credential in the real Node-RED runtime: two coaps listeners (two instances'
 * sockets) with the same secret, a loopback relay that sends a device's first flight to one and the rest to the
 * other, and the device bootstraps at the second without a cookie exchange of its own. A secret too short is a
 * red status whose error names its length, never the secret.
 */
import assert from 'node:assert/strict';
import { FirstFlightRelay } from '../lib/dtls/support';
import { DtlsDevice } from '../support/dtls-device';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { callsOf, helper, statusCalls, until, type RuntimeNode } from './support/runtime';
import { TRANSLATED_NODES } from './support/translated';

const KEY = '6c776d326d2d636f6170732d74657374';
const ID = 'coaps-dev-1';
const SECRET = 'farm-wide cookie secret 7f3a9c';
const COAPS = { transport: 'coaps', maxPeers: '', handshakeTimeout: '', idleTimeout: '', bindingCheck: 'on', bindingCode: '4.03' };

describe('bootstrap-listener Cookie secret (CoAPs behind a load balancer)', function () {
  this.timeout(30000);
  let relay: FirstFlightRelay | undefined;
  let dev: DtlsDevice | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await dev?.close();
    relay?.close();
    dev = relay = undefined;
    await helper.unload();
  });

  async function twoListeners(secretA: string, secretB: string): Promise<{ a: RuntimeNode; b: RuntimeNode; portA: number; portB: number }> {
    const [portA, portB] = [await nextPort(), await nextPort()];
    const flow = [
      ...bootstrapFlow({ port: portB, listener: COAPS }),
      { id: 'n-listener-a', z: 'tab', type: 'lwm2m-bootstrap-listener', address: '127.0.0.1', port: String(portA), ...COAPS, wires: [[], []] },
    ];
    const creds = (cookieSecret: string) => ({ pskKeys: `${ID} = ${KEY}`, cookieSecret });
    await helper.load(TRANSLATED_NODES, flow, { 'n-listener': creds(secretB), 'n-listener-a': creds(secretA) });
    const a = helper.getNode('n-listener-a') as RuntimeNode;
    const b = helper.getNode('n-listener') as RuntimeNode;
    await until(() => [a, b].every((n) => statusCalls(n).some((s) => s.fill === 'green')), 5000, 'both listeners green');
    return { a, b, portA, portB };
  }

  const stats = (n: RuntimeNode) => (n as unknown as { dtlsStats(): { helloVerifyRequests: number; handshakesCompleted: number } }).dtlsStats();

  it("bootstraps at the second instance a device whose cookie the first instance made, when both have the same secret", async () => {
    const { a, b, portA, portB } = await twoListeners(SECRET, SECRET);
    relay = new FirstFlightRelay(portA, portB);
    dev = await DtlsDevice.connect(await relay.start(), ID, KEY);
    const res = await dev.bootstrapRequest(ID);
    assert.equal(res.code, '2.04');
    await dev.finished;
    assert.deepEqual(relay.answers.slice(0, 2), [{ server: 'A', type: 3 }, { server: 'B', type: 2 }]);
    assert.equal(stats(a).helloVerifyRequests, 1);
    assert.equal(stats(b).helloVerifyRequests, 0, 'the second instance took the cookie of the first');
    assert.equal(stats(b).handshakesCompleted, 1);
  });

  it('a secret shorter than 16 bytes is a red status and an error that names its length, not the secret', async () => {
    await helper.load(TRANSLATED_NODES, bootstrapFlow({ port: await nextPort(), listener: COAPS }), {
      'n-listener': { pskKeys: `${ID} = ${KEY}`, cookieSecret: 'tiny-secret' },
    });
    const l = helper.getNode('n-listener') as RuntimeNode;
    await until(() => statusCalls(l).some((s) => s.fill === 'red'), 3000, 'red status');
    const err = String(callsOf(l, 'error')[0]?.[0]);
    assert.match(err, /cookie secret must be 16 to 1024 bytes.*\b11\b/i);
    const shown = JSON.stringify([statusCalls(l), callsOf(l, 'error'), callsOf(l, 'warn'), callsOf(l, 'log'), helper.log().args]);
    assert.ok(!shown.includes('tiny-secret'), 'the secret is not shown');
    const flows = JSON.stringify((helper as unknown as { _redNodes: { getFlows(): unknown } })._redNodes.getFlows());
    assert.ok(flows.includes('n-listener') && !flows.includes('tiny-secret'), 'the secret is not in the flow');
  });
});

/**
 * DTLS figures in the metrics of a CoAPs listener in the Node-RED runtime: handshakes completed, failed by
 * reason (a wrong key), and ClientHellos dropped by the per-source rate limit, with node-dtls-client as the
 * peer. No key and no identity in the metrics.
 */
import { strict as assert } from 'node:assert';
import { dtls } from 'node-dtls-client';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { helper, statusCalls, until } from './support/runtime';
import { TRANSLATED_NODES } from './support/translated';

const KEY = '6c776d326d2d636f6170732d74657374';
const ID = 'coaps-metrics-1';

function connect(port: number, key: string, timeout = 3000): Promise<dtls.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dtls.createSocket({
      type: 'udp4',
      address: '127.0.0.1',
      port,
      timeout,
      psk: { [ID]: Buffer.from(key, 'hex') as unknown as string },
      ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'],
    });
    sock.once('connected', () => resolve(sock));
    sock.once('error', (err: Error) => reject(err));
  });
}

describe('observe: DTLS handshakes, failures and drops in the metrics of a CoAPs listener', function () {
  this.timeout(30000);
  const socks: dtls.Socket[] = [];
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    for (const s of socks.splice(0)) s.close();
    await helper.unload();
  });

  it('counts a completed handshake, a failed one by reason and a rate-limited ClientHello', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({
      port,
      listener: { transport: 'coaps', maxPeers: '', handshakeTimeout: '1', idleTimeout: '', bindingCheck: 'on', bindingCode: '4.03', handshakeRate: '2' },
    });
    await helper.load(TRANSLATED_NODES, flow, { 'n-listener': { pskKeys: `${ID} = ${KEY}` } });
    const l = helper.getNode('n-listener');
    await until(() => statusCalls(l).some((s) => s.fill === 'green'), 5000, 'listener green');

    // Two handshakes from 127.0.0.1 within a second pass; the third ClientHello is dropped by the rate limit.
    socks.push(await connect(port, KEY));
    socks.push(await connect(port, KEY));
    await assert.rejects(connect(port, KEY, 600));
    await until(() => l.dtlsStats().dropped.rateLimited >= 1, 3000, 'a rate-limited ClientHello');
    await new Promise((r) => setTimeout(r, 1100)); // a new second for the rate limit
    await assert.rejects(connect(port, 'ffeeddccbbaa99887766554433221100', 1500));
    // OpenSSL fails it at the Finished message, or the peer gives up and the handshake times out (1 s here).
    await until(() => l.dtlsStats().handshakesFailed + l.dtlsStats().expired.handshakeTimeout >= 1, 5000, 'the failed handshake');

    const text = (await helper.request().get('/lwm2m-bootstrap/metrics').expect(200)).text;
    assert.match(text, /^lwm2m_bootstrap_dtls_handshakes_total\{listener="n-listener"\} 2$/m);
    const failures = [...text.matchAll(/^lwm2m_bootstrap_dtls_handshake_failures_total\{listener="n-listener",reason="([a-z0-9_]+)"\} (\d+)$/gm)];
    assert.ok(failures.length >= 1, `a failure by reason:\n${text}`);
    assert.ok(failures.every((m) => m[1] !== '' && m[1].length <= 48));
    assert.match(text, /^lwm2m_bootstrap_datagrams_dropped_total\{listener="n-listener",limit="rateLimited"\} [1-9]\d*$/m);
    assert.match(text, /^lwm2m_bootstrap_listener_info\{listener="n-listener",name="",transport="coaps",port="\d+"\} 1$/m);
    assert.ok(!text.includes(KEY) && !text.includes(ID), 'no key and no identity in the metrics');
  });
});

/**
 * The bootstrap-listener node over CoAPs, end to end in the real Node-RED runtime: a device on
 * node-dtls-client (an independent DTLS implementation) bootstraps through listener -> profile-lookup ->
 * object-write -> bootstrap-finish, and the bytes it received are decoded here. Also: wrong key, unknown
 * identity, endpoint/identity binding, a peer that stops mid-handshake, the max-peers limit, keys from a
 * device table, and that no key shows in the flow export, status, messages or logs.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { nodeToJson } from '../../lib/model/tree';
import * as sharedDtls from '../../nodes/shared/dtls';
import { HalfOpenClient, clientHello } from '../lib/dtls/support';
import { DtlsDevice, type Cipher } from '../support/dtls-device';
import { assertNoKey as assertNoKeyIn } from '../support/no-secret';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { callsOf, helper, nextMessage, statusCalls, until, type RuntimeNode } from './support/runtime';
import { TRANSLATED_NODES } from './support/translated';

const NODES = TRANSLATED_NODES;

const KEY = '6c776d326d2d636f6170732d74657374'; // 16 bytes
const ID = 'coaps-dev-1';
function writes(dev: DtlsDevice, prefix: string): Record<string, unknown> {
  const r = dev.received.find((x) => x.method === 'PUT' && x.path.startsWith(prefix));
  assert.ok(r, `a write to ${prefix}…`);
  return nodeToJson(decode(r.contentFormat!, LwM2mPath.parse(r.path), r.payload)) as Record<string, unknown>;
}

function coapsFlow(port: number, listener: Record<string, unknown> = {}, extra: object[] = []): object[] {
  return [
    ...bootstrapFlow({
      port,
      listener: { transport: 'coaps', maxPeers: '', handshakeTimeout: '', idleTimeout: '', bindingCheck: 'on', bindingCode: '4.03', ...listener },
    }),
    ...extra,
  ];
}

/** Everything a user could see: statuses, messages on every helper, warn/log/error lines of every node. */
function visible(ids: string[]): string {
  const out: unknown[] = [];
  for (const id of ids) {
    const n = helper.getNode(id) as RuntimeNode | null;
    if (!n) continue;
    out.push(statusCalls(n), callsOf(n, 'warn'), callsOf(n, 'log'), callsOf(n, 'error'), callsOf(n, 'debug'), callsOf(n, 'send'));
  }
  out.push(helper.log().args); // the runtime's log (what reaches the console and log handlers)
  return JSON.stringify(out);
}
const NODE_IDS = ['n-listener', 'n-lookup', 'n-write', 'n-finish', 'h-requests', 'h-found', 'h-ok', 'h-success', 'h-failure'];

/** No spelling of the key (hex either case, base64, a serialised Buffer, the bytes) in `text`. */
function assertNoKey(text: string, key = KEY): void {
  assertNoKeyIn(text, key, 'what the nodes and the runtime show');
}

describe('bootstrap-listener over CoAPs (DTLS) in the Node-RED runtime', function () {
  this.timeout(30000);
  const devices: DtlsDevice[] = [];
  const halfOpen: HalfOpenClient[] = [];
  let tmp: string | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(halfOpen.splice(0).map((c) => c.close()));
    await helper.unload();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  async function load(port: number, listener: Record<string, unknown> = {}, creds: Record<string, unknown> = { pskKeys: `${ID} = ${KEY}` }, extra: object[] = []) {
    await helper.load(NODES, coapsFlow(port, listener, extra), { 'n-listener': creds });
    const l = helper.getNode('n-listener');
    await until(() => statusCalls(l).some((s) => s.fill === 'green'), 5000, 'listener green');
    return l;
  }
  async function device(port: number, id = ID, key = KEY, cipher?: Cipher, timeout?: number): Promise<DtlsDevice> {
    const d = await DtlsDevice.connect(port, id, key, cipher, timeout);
    devices.push(d);
    return d;
  }

  for (const cipher of ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256'] as Cipher[]) {
    it(`bootstraps a device over ${cipher} through the four nodes; the device receives the profile, the flow the identity`, async () => {
      const port = await nextPort();
      const l = await load(port);
      assert.match(String(statusCalls(l).slice(-1)[0].text), /^listening coaps :\d+ · 0 peers$/);
      const requests = nextMessage(helper.getNode('h-requests'));
      const success = nextMessage(helper.getNode('h-success'), 10000);
      const dev = await device(port, ID, KEY, cipher);
      const res = await dev.bootstrapRequest(ID);
      assert.equal(res.code, '2.04');
      const msg = await requests;
      assert.deepEqual(msg.lwm2m.identity, { type: 'psk', id: ID });
      assert.equal(msg.lwm2m.endpoint, ID);
      const done = await success;
      assert.equal(done.lwm2m.outcome, 'SUCCESS');
      await dev.finished;
      const seen = dev.received.map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(seen.slice(0, 3), ['GET /', 'DELETE /0', 'DELETE /1']);
      assert.equal(seen[seen.length - 1], 'POST /bs');
      const sec = writes(dev, '/0/');
      assert.equal(sec['0'], 'coap://127.0.0.1:5783');
      assert.equal(sec['1'], false);
      assert.equal(sec['2'], 3, 'NoSec account for the DM server');
      assert.equal(writes(dev, '/1/')['1'], 300);
      await until(() => /coaps :\d+ · 1 peers/.test(String(statusCalls(l).slice(-1)[0].text)), 3000, 'status counts the peer');
      assertNoKey(visible(NODE_IDS));
    });
  }

  it('a wrong key fails the handshake, nothing reaches the flow, and the listener keeps serving a good device', async () => {
    const port = await nextPort();
    await load(port, { handshakeTimeout: '1' });
    const seen: unknown[] = [];
    helper.getNode('h-requests').on('input', (m: unknown) => seen.push(m));
    await assert.rejects(device(port, ID, 'ffeeddccbbaa99887766554433221100', undefined, 1500));
    assert.equal(seen.length, 0);
    const dev = await device(port);
    assert.equal((await dev.bootstrapRequest(ID)).code, '2.04');
    await dev.finished;
    assert.equal(seen.length, 1);
  });

  it('an unknown identity gets no session; the listener logs the identity (no key) and serves a known device', async () => {
    const port = await nextPort();
    const l = await load(port);
    const seen: unknown[] = [];
    helper.getNode('h-requests').on('input', (m: unknown) => seen.push(m));
    await assert.rejects(device(port, 'stranger', KEY, undefined, 1500));
    assert.equal(seen.length, 0);
    // One line for the failed handshake, naming the identity (issue 12).
    assert.ok(callsOf(l, 'warn').some((a) => /\(PSK identity "stranger"\) failed: unknown PSK identity/.test(String(a[0]))), JSON.stringify(callsOf(l, 'warn')));
    const dev = await device(port);
    assert.equal((await dev.bootstrapRequest(ID)).code, '2.04');
  });

  it('refuses with 4.03 an ep that does not belong to the identity, logging endpoint and identity; accepts it with the check off', async () => {
    const port = await nextPort();
    const l = await load(port);
    const seen: unknown[] = [];
    helper.getNode('h-requests').on('input', (m: unknown) => seen.push(m));
    const dev = await device(port);
    const res = await dev.bootstrapRequest('someone-else');
    assert.equal(res.code, '4.03');
    assert.equal(seen.length, 0, 'the flow never sees a spoofed endpoint');
    const warned = callsOf(l, 'warn').map((a) => String(a[0]));
    assert.ok(warned.some((w) => w.includes('"someone-else"') && w.includes(`psk:"${ID}"`) && w.includes('4.03')), JSON.stringify(warned));
    assertNoKey(visible(NODE_IDS));
    await until(() => /unauthorized/.test(String(statusCalls(l).slice(-1)[0].text)), 3000, 'last outcome in status');
    assert.equal((await dev.packRequest('someone-else')).code, '4.03', 'a Bootstrap-Pack-Request is checked too');
    assert.equal(seen.length, 0);

    await dev.close();
    devices.splice(0);
    await helper.unload();
    const port2 = await nextPort();
    await load(port2, { bindingCheck: 'off' });
    const requests = nextMessage(helper.getNode('h-requests'));
    const dev2 = await device(port2);
    assert.equal((await dev2.bootstrapRequest('someone-else')).code, '2.04');
    const msg = await requests;
    assert.equal(msg.lwm2m.endpoint, 'someone-else');
    assert.deepEqual(msg.lwm2m.identity, { type: 'psk', id: ID });
  });

  it('takes keys and the identity -> endpoint binding from a device table, and a new row after the file changes', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'coaps-table-'));
    const file = path.join(tmp, 'psk.csv');
    fs.writeFileSync(file, `endpoint,pskIdentity,pskKey\nmeter-1,sim-0001,${KEY}\n`);
    const port = await nextPort();
    const table = { id: 'n-psk-table', type: 'lwm2m-device-table', file, format: 'csv', keyColumn: 'pskIdentity', profileColumn: 'profile', matchOn: 'identity', keyRegex: '' };
    const l = await load(port, { pskTable: 'n-psk-table' }, {}, [table]);
    await until(() => callsOf(helper.getNode('n-psk-table'), 'log').length > 0, 3000, 'table loaded');
    const requests = nextMessage(helper.getNode('h-requests'));
    const dev = await device(port, 'sim-0001', KEY);
    assert.equal((await dev.bootstrapRequest('meter-1')).code, '2.04', 'the table binds sim-0001 to meter-1');
    assert.deepEqual((await requests).lwm2m.identity, { type: 'psk', id: 'sim-0001' });
    await dev.finished;
    assert.equal((await dev.bootstrapRequest('meter-2')).code, '4.03', 'but not to meter-2');

    const key2 = '00112233445566778899aabbccddeeff';
    // Each rewrite waits for the table's reload (its log line), then tries one handshake: retrying in a
    // loop would run into the per-source handshake rate limit and fail for the wrong reason.
    const loads = () => callsOf(helper.getNode('n-psk-table'), 'log').length;
    const rewrite = async (text: string) => {
      const before = loads();
      await new Promise((r) => setTimeout(r, 20)); // a new mtime
      fs.writeFileSync(file, text);
      await until(() => loads() > before, 5000, 'table reloaded');
    };
    await rewrite(`endpoint,pskIdentity,pskKey\nmeter-1,sim-0001,${KEY}\nmeter-2,sim-0002,${key2}\n`);
    const dev2 = await device(port, 'sim-0002', key2);
    assert.equal((await dev2.bootstrapRequest('meter-2')).code, '2.04', 'the new row is usable without a redeploy');

    // A row removed from the file takes the key away from new handshakes.
    await rewrite(`endpoint,pskIdentity,pskKey\nmeter-2,sim-0002,${key2}\n`);
    await assert.rejects(device(port, 'sim-0001', KEY, undefined, 1500), 'sim-0001 can no longer handshake');
    assert.ok(callsOf(l, 'warn').some((a) => /PSK identity "sim-0001"\) failed: unknown PSK identity/.test(String(a[0]))), 'refused as unknown, not for another reason');
    assertNoKey(visible([...NODE_IDS, 'n-psk-table']));
    assertNoKey(visible([...NODE_IDS, 'n-psk-table']), key2);
  });

  /**
   * Loads the flow with the listener's DTLS socket reading `clock` instead of Date.now: the node and the
   * socket are the real ones; only the time the rate windows see is the test's.
   */
  async function loadWithClock(clock: () => number, port: number, listener: Record<string, unknown>) {
    const shared = sharedDtls as { createDtlsSocket: typeof sharedDtls.createDtlsSocket };
    const original = shared.createDtlsSocket;
    shared.createDtlsSocket = (options) => original({ ...options, clock });
    try {
      return await load(port, listener);
    } finally {
      shared.createDtlsSocket = original;
    }
  }

  it('limits handshakes per source address as configured: past the limit a ClientHello is dropped and counted, the default lets a NAT-sized burst through', async () => {
    const port = await nextPort();
    let now = 1_000_000;
    const l = await loadWithClock(() => now, port, { handshakeRate: '2' });
    // Handshakes from one address (127.0.0.1) within one second of the listener's clock: two pass, the third is dropped.
    await device(port);
    now += 999;
    await device(port);
    const third = await HalfOpenClient.create();
    halfOpen.push(third);
    third.udp.send(clientHello(Buffer.alloc(0), 0, 0), port, '127.0.0.1');
    await until(() => l.dtlsStats().dropped.rateLimited === 1, 5000, 'dropped for the per-source rate');
    assert.equal(third.received.length, 0, 'no answer, not even a HelloVerifyRequest');
    now += 1; // the next second
    await device(port);
    assert.equal(l.dtlsStats().dropped.rateLimited, 1);
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await helper.unload();
    // The default (100 per second) takes 20 devices behind one address at once.
    const port2 = await nextPort();
    const l2 = await load(port2);
    const many = await Promise.all(Array.from({ length: 20 }, () => device(port2)));
    assert.equal(many.length, 20);
    assert.equal(l2.dtlsStats().dropped.rateLimited, 0);
  });

  it('frees a peer that stops mid-handshake at the handshake timeout; a full peer table evicts a half-open handshake for a good device', async () => {
    const port = await nextPort();
    const l = await load(port, { maxPeers: '1', handshakeTimeout: '1' });
    const stuck = await HalfOpenClient.create();
    halfOpen.push(stuck);
    assert.ok(await stuck.start(port), 'the server answered the half-open client');
    await until(() => l.dtlsStats().expired.handshakeTimeout === 1, 3000, 'the stuck peer freed');
    assert.ok(callsOf(l, 'warn').some((a) => /handshake with .* timed out/.test(String(a[0]))), 'logged');
    // The one peer slot taken again by a half-open handshake: a good device evicts it instead of being dropped.
    const again = await HalfOpenClient.create();
    halfOpen.push(again);
    assert.ok(await again.start(port));
    const dev = await device(port);
    assert.equal((await dev.bootstrapRequest(ID)).code, '2.04');
    await dev.finished;
    assert.equal(l.dtlsStats().evicted.full, 1, 'the half-open handshake was evicted');
    assert.equal(l.dtlsStats().dropped.maxPeers, 0);
    assert.ok(callsOf(l, 'error').length === 0, JSON.stringify(callsOf(l, 'error')));
  });

  it('keeps keys out of the deployed flow (what an export gives), and refuses bad key text without echoing it', async () => {
    const port = await nextPort();
    await load(port);
    // The runtime's flow configuration is what the editor and an export are built from.
    const flows = JSON.stringify((helper as unknown as { _redNodes: { getFlows(): unknown } })._redNodes.getFlows());
    assert.ok(flows.includes('n-listener'));
    assertNoKey(flows);
    await helper.unload();

    await helper.load(NODES, coapsFlow(await nextPort()), { 'n-listener': { pskKeys: `${ID} = ${KEY}zz` } });
    const l = helper.getNode('n-listener');
    await until(() => statusCalls(l).some((s) => s.fill === 'red'), 3000, 'red status');
    const err = String(callsOf(l, 'error')[0]?.[0]);
    assert.match(err, /line 1.*coaps-dev-1.*hex/);
    assertNoKey(visible(['n-listener']));
  });

  it('an unusable server certificate or key is a red status and an error that does not show the key', async () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nTUlJQ1NFQ1JFVEtFWU1BVEVSSUFMbm90LWEtcmVhbC1rZXk=\n-----END PRIVATE KEY-----\n';
    await helper.load(NODES, coapsFlow(await nextPort(), { cert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n' }), {
      'n-listener': { serverKey: secret },
    });
    const l = helper.getNode('n-listener');
    await until(() => statusCalls(l).some((s) => s.fill === 'red'), 3000, 'red status');
    assert.equal(statusCalls(l).slice(-1)[0].text, 'CoAPs cannot start');
    assert.match(String(callsOf(l, 'error')[0]?.[0]), /^CoAPs cannot start: /);
    assert.ok(!visible(['n-listener']).toLowerCase().includes('tulj'), 'no part of the key is shown');
  });

  it('tells the edit dialog what CoAPs can do here: PSK and X.509, and raw public keys or why not', async () => {
    await load(await nextPort());
    const res = await helper.request().get('/lwm2m-bootstrap-listener/dtls-capabilities').expect(200);
    const c = res.body as { available: boolean; psk: { available: boolean }; x509: { available: boolean }; rpk: { available: boolean; reason: string } };
    assert.equal(c.available, true);
    assert.equal(c.psk.available, true);
    assert.equal(c.x509.available, true);
    const [maj, min] = (process.versions.openssl ?? '0.0').split('.').map(Number);
    const rpk = maj > 3 || (maj === 3 && min >= 2);
    assert.equal(c.rpk.available, rpk);
    if (!rpk) assert.match(c.rpk.reason, /raw public keys \(RFC 7250\) need OpenSSL 3\.2 or newer/);
  });

  it('without keys or certificate shows a red status that asks for a key', async () => {
    await helper.load(NODES, coapsFlow(await nextPort()), {});
    const l = helper.getNode('n-listener');
    await until(() => statusCalls(l).some((s) => s.fill === 'red'), 3000, 'red status');
    assert.match(String(callsOf(l, 'error')[0]?.[0]), /enter a key/);
  });
});

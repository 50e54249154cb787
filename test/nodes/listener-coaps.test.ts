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
import { generate, parse, type ParsedPacket } from 'coap-packet';
import { dtls } from 'node-dtls-client';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { nodeToJson } from '../../lib/model/tree';
import { HalfOpenClient } from '../lib/dtls/support';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { callsOf, helper, nextMessage, statusCalls, until, type RuntimeNode } from './support/runtime';
import { TRANSLATED_NODES } from './support/translated';

const NODES = TRANSLATED_NODES;

const KEY = '6c776d326d2d636f6170732d74657374'; // 16 bytes
const ID = 'coaps-dev-1';
const DISCOVER = '</>;lwm2m=1.1,</0/0>,</1>,</3/0>';
type Cipher = 'TLS_PSK_WITH_AES_128_CCM_8' | 'TLS_PSK_WITH_AES_128_CBC_SHA256';

interface Received {
  method: string;
  path: string;
  contentFormat?: number;
  payload: Buffer;
}

const METHODS: Record<string, string> = { '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE' };

/** A scripted LwM2M device on one node-dtls-client session: sends the Bootstrap-Request, answers the server. */
class DtlsDevice {
  readonly received: Received[] = [];
  private mid = Math.floor(Math.random() * 60000);
  private readonly waiting = new Map<string, (p: ParsedPacket) => void>();
  finished!: Promise<void>;
  private finish!: () => void;

  private constructor(private readonly sock: dtls.Socket) {
    this.finished = new Promise((r) => (this.finish = r));
    sock.on('message', (buf: Buffer) => this.onMessage(buf));
  }

  static connect(port: number, identity: string, key: string, cipher: Cipher = 'TLS_PSK_WITH_AES_128_CCM_8', timeout = 3000): Promise<DtlsDevice> {
    return new Promise((resolve, reject) => {
      const sock = dtls.createSocket({
        type: 'udp4', address: '127.0.0.1', port, timeout,
        psk: { [identity]: Buffer.from(key, 'hex') as unknown as string },
        ciphers: [cipher],
      });
      sock.once('connected', () => resolve(new DtlsDevice(sock)));
      sock.once('error', (err: Error) => reject(err));
    });
  }

  private send(p: Parameters<typeof generate>[0]): void {
    this.sock.send(generate(p));
  }

  private onMessage(buf: Buffer): void {
    let p: ParsedPacket;
    try {
      p = parse(buf);
    } catch {
      return;
    }
    const [cls] = p.code.split('.');
    if (cls === '0' && p.code !== '0.00') return this.onRequest(p);
    if (p.code === '0.00') return; // empty ACK: the response follows separately
    if (p.confirmable) this.send({ code: '0.00', ack: true, messageId: p.messageId, token: Buffer.alloc(0) });
    this.waiting.get(p.token.toString('hex'))?.(p);
  }

  private onRequest(p: ParsedPacket): void {
    const method = METHODS[p.code] ?? p.code;
    const segs = p.options.filter((o) => o.name === 'Uri-Path').map((o) => o.value.toString());
    const cfOpt = p.options.find((o) => o.name === 'Content-Format');
    const r: Received = { method, path: '/' + segs.join('/'), payload: Buffer.from(p.payload) };
    if (cfOpt) r.contentFormat = cfOpt.value.length === 0 ? 0 : cfOpt.value.readUIntBE(0, cfOpt.value.length);
    this.received.push(r);
    const reply = (code: string, payload?: Buffer, cf?: number) =>
      this.send({
        code, ack: true, messageId: p.messageId, token: p.token, payload,
        options: cf === undefined ? [] : [{ name: 'Content-Format', value: Buffer.from([cf]) }],
      });
    if (method === 'GET') reply('2.05', Buffer.from(DISCOVER), 40);
    else if (method === 'DELETE') reply('2.02');
    else if (method === 'PUT') reply('2.04');
    else if (method === 'POST' && r.path === '/bs') {
      reply('2.04');
      this.finish();
    } else reply('4.04');
  }

  /** POST /bs?ep=… ; resolves with the response code. */
  bootstrapRequest(ep: string, ms = 8000): Promise<{ code: string; payload: string }> {
    return this.request('0.02', 'bs', ep, ms);
  }

  /** GET /bspack?ep=… (LwM2M 1.2); resolves with the response code. */
  packRequest(ep: string, ms = 8000): Promise<{ code: string; payload: string }> {
    return this.request('0.01', 'bspack', ep, ms);
  }

  private request(code: string, target: string, ep: string, ms: number): Promise<{ code: string; payload: string }> {
    const token = Buffer.from([Math.random() * 256, Math.random() * 256, 7, 9].map((x) => x & 0xff));
    this.mid = (this.mid + 1) & 0xffff;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${target}?ep=${ep} within ${ms} ms`)), ms);
      this.waiting.set(token.toString('hex'), (p) => {
        clearTimeout(t);
        resolve({ code: p.code, payload: p.payload.toString() });
      });
      this.send({
        code, confirmable: true, messageId: this.mid, token,
        options: [
          { name: 'Uri-Path', value: Buffer.from(target) },
          { name: 'Uri-Query', value: Buffer.from(`ep=${ep}`) },
        ],
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.sock.close(() => resolve());
      } catch {
        resolve();
      }
      setTimeout(resolve, 200);
    });
  }
}

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
  return JSON.stringify(out, (_k, v) => (Buffer.isBuffer(v) ? v.toString('hex') : v)).toLowerCase();
}
const NODE_IDS = ['n-listener', 'n-lookup', 'n-write', 'n-finish', 'h-requests', 'h-found', 'h-ok', 'h-success', 'h-failure'];

function assertNoKey(text: string, key = KEY): void {
  const b = Buffer.from(key, 'hex');
  for (const form of [key, b.toString('base64'), b.toString('latin1'), b.toString('utf8')]) {
    assert.ok(!text.includes(form.toLowerCase()), `key material (${form.length} chars) is visible`);
  }
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

  it('limits handshakes per source address as configured: past the limit a ClientHello is dropped and counted, the default lets a NAT-sized burst through', async () => {
    const port = await nextPort();
    const l = await load(port, { handshakeRate: '2' });
    // Handshakes from one address (127.0.0.1) within the same second: two pass, the third is dropped.
    await device(port);
    await device(port);
    await assert.rejects(device(port, ID, KEY, undefined, 600));
    assert.ok(l.dtlsStats().dropped.rateLimited >= 1, 'dropped for the per-source rate');
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
    assertNoKey(flows.toLowerCase());
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
    assert.ok(!visible(['n-listener']).includes('tulj'), 'no part of the key is shown');
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

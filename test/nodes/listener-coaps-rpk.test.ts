/**
 * bootstrap-listener with raw public keys (RFC 7250) switched on. Mistakes in the key list are reported the same
 * everywhere. Where this Node's OpenSSL is 3.2 or newer (Node 22 in CI's compatibility run), libcoap's
 * coap-client-gnutls (an independent RFC 7250 client) sends POST /bs with a raw public key: the flow sees the key's
 * fingerprint as the identity, the endpoint binding uses the key list and a device table column, an untrusted key
 * never reaches the flow. Where OpenSSL is older, the listener does not start and says why.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dtlsCapabilities } from '../../lib/dtls';
import { requireBinary, run, type Running } from '../lib/dtls/external';
import { itWhere, titleWhere } from '../support/pending';
import { nextPort } from '../support/ports';
import { bootstrapFlow } from './support/flows';
import { callsOf, helper, nextMessage, statusCalls, until } from './support/runtime';
import { TRANSLATED_NODES } from './support/translated';

interface Key {
  file: string;
  pemLine: string;
  b64: string;
  point: string;
  fp: string;
  privatePem: string;
}

function ecKey(dir: string, name: string): Key {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const privatePem = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
  const file = path.join(dir, `${name}.key`);
  fs.writeFileSync(file, privatePem);
  return {
    file,
    pemLine: publicKey.export({ format: 'pem', type: 'spki' }).toString().replace(/\n/g, ''),
    b64: spki.toString('base64'),
    point: spki.subarray(spki.length - 65).toString('hex'),
    fp: createHash('sha256').update(spki).digest('hex'),
    privatePem,
  };
}

const RPK = dtlsCapabilities().rpk;

describe('bootstrap-listener with raw public keys', function () {
  this.timeout(30000);
  let dir: string;
  let keys: Record<'server' | 'device' | 'tabled' | 'rogue', Key>;
  const procs: Running[] = [];

  before(async () => {
    await helper.startServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'listener-rpk-'));
    keys = { server: ecKey(dir, 'server'), device: ecKey(dir, 'device'), tabled: ecKey(dir, 'tabled'), rogue: ecKey(dir, 'rogue') };
  });
  after(async () => {
    await helper.stopServer();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) p.stop();
    await helper.unload();
  });

  async function load(props: Record<string, unknown>, creds: Record<string, unknown>, extra: object[] = []): Promise<{ port: number; l: any }> {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, listenerOnly: true, listener: { transport: 'coaps', bindingCheck: 'on', bindingCode: '4.03', rpk: 'on', ...props } });
    await helper.load(TRANSLATED_NODES, [...flow, ...extra], { 'n-listener': creds });
    return { port, l: helper.getNode('n-listener') };
  }

  async function redWith(l: any, re: RegExp): Promise<string> {
    await until(() => statusCalls(l).some((s) => s.fill === 'red'), 5000, 'red status');
    assert.equal(statusCalls(l).slice(-1)[0].text, 'CoAPs cannot start');
    const err = String(callsOf(l, 'error')[0]?.[0]);
    assert.match(err, re);
    return err;
  }

  it('a key list line that is not a public key stops the listener and names the line, not the text', async () => {
    const { l } = await load({ rpkKeys: `dev-a = ${keys.device.b64}\ndev-b = not-a-key-zz` }, { serverKey: keys.server.privatePem });
    const err = await redWith(l, /trusted device keys cannot be used: line 2 \(endpoint "dev-b"\): not a public key/);
    assert.ok(!err.includes('not-a-key-zz'));
  });

  it('raw public keys without the server private key ask for it', async () => {
    const { l } = await load({ rpkKeys: `dev-a = ${keys.device.b64}` }, {});
    await redWith(l, /Raw public keys need the server's own key pair/);
  });

  itWhere(!RPK.available)(`where OpenSSL is older than 3.2 (here ${process.versions.openssl}) the listener does not start and says why`, async () => {
    const { l } = await load({ rpkKeys: `dev-a = ${keys.device.b64}` }, { serverKey: keys.server.privatePem });
    const err = await redWith(l, /Raw public keys are switched on but cannot run here: .*need OpenSSL 3\.2 or newer/);
    assert.ok(err.includes(process.version), err);
  });

  describe(titleWhere(RPK.available, 'handshakes with coap-client-gnutls', RPK.reason), function () {
    const rpkIt = itWhere(RPK.available);

    function post(port: number, key: Key, ep: string): Running {
      const p = run('coap-client-gnutls', ['-B', '5', '-v', '6', '-m', 'post', '-M', key.file, `coaps://127.0.0.1:${port}/bs?ep=${ep}`]);
      procs.push(p);
      return p;
    }

    rpkIt('coap-client-gnutls with a trusted raw public key: 2.04, and the flow sees the key fingerprint as identity', async function () {
      requireBinary(this, 'coap-client-gnutls');
      const { port, l } = await load({ rpkKeys: `# devices\nrpk-dev-1 = ${keys.device.pemLine}` }, { serverKey: keys.server.privatePem });
      await until(() => statusCalls(l).some((s) => s.fill === 'green'), 5000, 'listener green');
      const next = nextMessage(helper.getNode('h-requests'), 8000);
      const proc = post(port, keys.device, 'rpk-dev-1');
      const msg = await next;
      assert.deepEqual(msg.lwm2m.identity, { type: 'rpk', id: keys.device.fp });
      assert.equal(msg.lwm2m.endpoint, 'rpk-dev-1');
      await l.getSession(msg.lwm2m.sessionId).accept();
      await proc.waitFor(/ c:2\.04 /, 5000);
    });

    rpkIt('an endpoint not bound to the key gets 4.03, an untrusted key fails the handshake; neither reaches the flow', async function () {
      requireBinary(this, 'coap-client-gnutls');
      const { port, l } = await load({ rpkKeys: `rpk-dev-1 = ${keys.device.point}` }, { serverKey: keys.server.privatePem });
      await until(() => statusCalls(l).some((s) => s.fill === 'green'), 5000, 'listener green');
      const seen: unknown[] = [];
      helper.getNode('h-requests').on('input', (m: unknown) => seen.push(m));
      await post(port, keys.device, 'someone-else').waitFor(/ c:4\.03 /, 5000);
      const rogue = post(port, keys.rogue, 'rpk-dev-1');
      await until(() => (l.dtlsStats() as { handshakesFailed: number }).handshakesFailed === 1, 8000, `rogue refused (${rogue.output()})`);
      assert.equal(seen.length, 0);
      assert.doesNotMatch(rogue.output(), / c:2\.04 /);
    });

    rpkIt('keys and their endpoints from a device table column', async function () {
      requireBinary(this, 'coap-client-gnutls');
      const file = path.join(dir, 'devices.csv');
      fs.writeFileSync(file, `endpoint,rpkPublicKey,profile\nmeter-7,${keys.tabled.b64},p\n`);
      const table = { id: 'n-table', type: 'lwm2m-device-table', file, format: 'csv', keyColumn: 'endpoint', profileColumn: 'profile', matchOn: 'endpoint', keyRegex: '' };
      const { port, l } = await load({ rpkKeys: '', pskTable: 'n-table' }, { serverKey: keys.server.privatePem }, [table]);
      await until(() => statusCalls(l).some((s) => s.fill === 'green'), 5000, 'listener green');
      await until(() => callsOf(helper.getNode('n-table'), 'log').length > 0, 3000, 'table loaded');
      const next = nextMessage(helper.getNode('h-requests'), 8000);
      const proc = post(port, keys.tabled, 'meter-7');
      const msg = await next;
      assert.deepEqual(msg.lwm2m.identity, { type: 'rpk', id: keys.tabled.fp });
      await l.getSession(msg.lwm2m.sessionId).accept();
      await proc.waitFor(/ c:2\.04 /, 5000);
    });
  });
});

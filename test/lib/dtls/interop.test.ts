/**
 * Interop with independent DTLS implementations: `openssl s_client` and libcoap's coap-client built on
 * OpenSSL and on GnuTLS (Debian libcoap3-bin). Each test skips itself only when its binary is missing.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as coap from 'coap';
import type { DtlsRemoteInfo } from '../../../lib/dtls';
import type { PeerEvent } from '../../../lib/dtls/engine';
import { hasBinary, makeCerts, requireBinary, run, type CertSet, type Running } from './external';
import { startServer, waitFor, type TestServer } from './support';

const PSK_ID = 'dev1';
const PSK_TEXT = 'secretPSK'; // coap-client 4.3.1 takes the key as text
const PSK = Buffer.from(PSK_TEXT);

describe('DTLS interop with openssl s_client and libcoap coap-client', function () {
  let certs: CertSet | undefined;
  let srv: TestServer | undefined;
  let server: coap.Server | undefined;
  let proc: Running | undefined;

  before(() => {
    if (hasBinary('openssl')) certs = makeCerts();
  });
  after(() => {
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    proc?.stop();
    proc = undefined;
    server?.close();
    server = undefined;
    await srv?.close();
    srv = undefined;
  });

  async function start(withCerts: boolean): Promise<TestServer> {
    const opts = withCerts && certs
      ? { cert: fs.readFileSync(certs.serverCert), key: fs.readFileSync(certs.serverKey), ca: fs.readFileSync(certs.ca) }
      : {};
    srv = await startServer(opts);
    srv.store.set(PSK_ID, PSK);
    return srv;
  }

  /** A node-coap Server on the DTLS socket that answers with the caller's identity. */
  async function startCoap(withCerts: boolean): Promise<TestServer> {
    const s = await start(withCerts);
    server = coap.createServer((req, res) => {
      const id = (req.rsinfo as unknown as DtlsRemoteInfo).identity;
      res.end(`hello ${id?.type}:${id?.id} ${req.url}`);
    });
    await new Promise<void>((resolve) => server!.listen(s.socket as unknown as dgram.Socket, () => resolve()));
    return s;
  }

  async function sClientExchange(s: TestServer, args: string[]): Promise<DtlsRemoteInfo> {
    const got: DtlsRemoteInfo[] = [];
    s.socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => {
      got.push(rinfo);
      s.socket.send(Buffer.from(`pong:${msg.toString().trim()}\n`), rinfo.port, rinfo.address);
    });
    proc = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${s.port}`, '-quiet', ...args]);
    await waitFor(() => s.socket.stats().handshakesCompleted === 1, 5000, `handshake (${proc.output()})`);
    proc.proc.stdin?.write('ping\n');
    await proc.waitFor(/pong:ping/);
    return got[0];
  }

  it('openssl s_client: PSK with PSK-AES128-CCM8, data both ways', async function () {
    requireBinary(this, 'openssl');
    const s = await start(false);
    const rinfo = await sClientExchange(s, ['-psk_identity', PSK_ID, '-psk', PSK.toString('hex'), '-cipher', 'PSK-AES128-CCM8']);
    assert.deepEqual(rinfo.identity, { type: 'psk', id: PSK_ID, encoding: 'utf8' });
    assert.equal(rinfo.cipher, 'TLS_PSK_WITH_AES_128_CCM_8');
  });

  for (const cipher of ['ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-SHA256']) {
    it(`openssl s_client: client certificate with ${cipher}; the CN is the identity`, async function () {
      requireBinary(this, 'openssl');
      const s = await start(true);
      const rinfo = await sClientExchange(s, ['-cert', certs!.clientCert, '-key', certs!.clientKey, '-CAfile', certs!.ca, '-verify_return_error', '-cipher', cipher]);
      assert.deepEqual(rinfo.identity, { type: 'x509', id: 'urn:dev:cert1', subject: 'CN=urn:dev:cert1,O=Acme', san: ['urn:dev:cert1'] });
    });
  }

  it('openssl s_client: a client certificate from another CA is refused', async function () {
    requireBinary(this, 'openssl');
    const s = await start(true);
    const failed: PeerEvent[] = [];
    s.socket.on('handshakeFailed', (ev) => failed.push(ev));
    proc = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${s.port}`, '-quiet', '-cert', certs!.rogueCert, '-key', certs!.rogueKey, '-cipher', 'ECDHE-ECDSA-AES128-CCM8']);
    await waitFor(() => failed.length === 1, 5000, 'handshake failure');
    assert.match(failed[0].reason, /certificate verify failed/);
    assert.equal(s.socket.stats().handshakesCompleted, 0);
  });

  it('openssl s_client: no client certificate is refused when a CA is configured', async function () {
    requireBinary(this, 'openssl');
    const s = await start(true);
    const failed: PeerEvent[] = [];
    s.socket.on('handshakeFailed', (ev) => failed.push(ev));
    proc = run('openssl', ['s_client', '-dtls1_2', '-connect', `127.0.0.1:${s.port}`, '-quiet', '-cipher', 'ECDHE-ECDSA-AES128-CCM8']);
    await waitFor(() => failed.length === 1, 5000, 'handshake failure');
    assert.match(failed[0].reason, /peer did not return a certificate/);
  });

  it('openssl s_client: without a CA configured, a certificate suite runs with no client identity', async function () {
    requireBinary(this, 'openssl');
    srv = await startServer({ psk: undefined, cert: fs.readFileSync(certs!.serverCert), key: fs.readFileSync(certs!.serverKey) });
    const rinfo = await sClientExchange(srv, ['-CAfile', certs!.ca, '-verify_return_error', '-cipher', 'ECDHE-ECDSA-AES128-CCM8']);
    assert.equal(rinfo.identity, undefined);
    assert.equal(rinfo.cipher, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8');
  });

  for (const bin of ['coap-client-openssl', 'coap-client-gnutls']) {
    it(`${bin}: CoAP GET over DTLS with PSK`, async function () {
      requireBinary(this, bin);
      const s = await startCoap(false);
      proc = run(bin, ['-B', '4', '-m', 'get', '-u', PSK_ID, '-k', PSK_TEXT, `coaps://127.0.0.1:${s.port}/bs`]);
      await proc.waitFor(/hello psk:dev1 \/bs/);
      assert.equal(s.socket.stats().handshakesCompleted, 1);
    });

    it(`${bin}: CoAP GET over DTLS with a client certificate`, async function () {
      requireBinary(this, bin);
      if (!certs) requireBinary(this, 'openssl');
      const s = await startCoap(true);
      proc = run(bin, ['-B', '4', '-m', 'get', '-c', certs!.clientCert, '-j', certs!.clientKey, '-C', certs!.ca, `coaps://127.0.0.1:${s.port}/bs`]);
      await proc.waitFor(/hello x509:urn:dev:cert1 \/bs/);
    });
  }
});

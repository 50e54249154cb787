/**
 * The CoAPs listener node against independent DTLS and CoAP implementations: libcoap's coap-client built
 * on OpenSSL and on GnuTLS (Debian libcoap3-bin) sends POST coaps://…/bs?ep=… with a PSK and with a client
 * certificate, gets 2.04 once the flow accepts, and the flow sees the DTLS identity. coap-client cannot
 * serve the bootstrap writes, so the 2.04 and the message are what is checked. Like test/lib/dtls, a test
 * says so and skips itself only when its binary is missing (CI installs them).
 * Also: with the DTLS addon disabled (LWM2M_DTLS_DISABLE=1, in its own Node-RED process) a coaps listener
 * is red and logs why while a plain CoAP listener beside it serves.
 */
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { hasBinary, makeCerts, requireBinary, run, type CertSet, type Running } from '../lib/dtls/external';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow } from './support/flows';
import { ALL_NODES, helper, nextMessage, statusCalls, until } from './support/runtime';

const PSK_ID = 'cc-dev-1';
const PSK_TEXT = 'coapClientPSK'; // coap-client takes the key as text
const PSK_HEX = Buffer.from(PSK_TEXT).toString('hex');

describe('bootstrap-listener over CoAPs with libcoap coap-client', function () {
  this.timeout(30000);
  let certs: CertSet | undefined;
  let proc: Running | undefined;

  before(async () => {
    await helper.startServer();
    if (hasBinary('openssl')) certs = makeCerts();
  });
  after(async () => {
    await helper.stopServer();
    if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    proc?.stop();
    proc = undefined;
    await helper.unload();
  });

  async function listener(listenerProps: Record<string, unknown>, creds: Record<string, unknown>): Promise<number> {
    const port = await nextPort();
    const flow = bootstrapFlow({
      port,
      listenerOnly: true,
      listener: { transport: 'coaps', bindingCheck: 'on', bindingCode: '4.03', ...listenerProps },
    });
    await helper.load(ALL_NODES, flow, { 'n-listener': creds });
    const l = helper.getNode('n-listener');
    await until(() => statusCalls(l).some((s) => s.fill === 'green'), 5000, 'listener green');
    return port;
  }

  /** Accepts the next Bootstrap-Request the flow sees (as object-write would) and returns its message. */
  async function acceptNext(): Promise<Record<string, any>> {
    const msg = await nextMessage(helper.getNode('h-requests'), 8000);
    await helper.getNode('n-listener').getSession(msg.lwm2m.sessionId).accept();
    return msg;
  }

  for (const bin of ['coap-client-openssl', 'coap-client-gnutls']) {
    it(`${bin}: POST /bs over DTLS with a PSK gets 2.04 and the flow sees the PSK identity`, async function () {
      requireBinary(this, bin);
      const port = await listener({}, { pskKeys: `${PSK_ID} = ${PSK_HEX}` });
      const accepted = acceptNext();
      proc = run(bin, ['-B', '5', '-v', '6', '-m', 'post', '-u', PSK_ID, '-k', PSK_TEXT, `coaps://127.0.0.1:${port}/bs?ep=${PSK_ID}`]);
      const msg = await accepted;
      assert.deepEqual(msg.lwm2m.identity, { type: 'psk', id: PSK_ID });
      assert.equal(msg.lwm2m.endpoint, PSK_ID);
      await proc.waitFor(/ c:2\.04 /, 5000);
    });

    it(`${bin}: an ep that is not the PSK identity gets 4.03 and never reaches the flow`, async function () {
      requireBinary(this, bin);
      const port = await listener({}, { pskKeys: `${PSK_ID} = ${PSK_HEX}` });
      const seen: unknown[] = [];
      helper.getNode('h-requests').on('input', (m: unknown) => seen.push(m));
      proc = run(bin, ['-B', '5', '-v', '6', '-m', 'post', '-u', PSK_ID, '-k', PSK_TEXT, `coaps://127.0.0.1:${port}/bs?ep=other-device`]);
      await proc.waitFor(/ c:4\.03 /, 5000);
      assert.equal(seen.length, 0);
    });

    it(`${bin}: POST /bs over DTLS with a client certificate gets 2.04 and the flow sees the certificate identity`, async function () {
      requireBinary(this, bin);
      if (!certs) requireBinary(this, 'openssl');
      const port = await listener(
        { cert: fs.readFileSync(certs!.serverCert, 'utf8'), ca: fs.readFileSync(certs!.ca, 'utf8') },
        { serverKey: fs.readFileSync(certs!.serverKey, 'utf8') },
      );
      const accepted = acceptNext();
      proc = run(bin, ['-B', '5', '-v', '6', '-m', 'post', '-c', certs!.clientCert, '-j', certs!.clientKey, '-C', certs!.ca,
        `coaps://127.0.0.1:${port}/bs?ep=urn:dev:cert1`]);
      const msg = await accepted;
      assert.deepEqual(msg.lwm2m.identity, { type: 'x509', id: 'urn:dev:cert1' });
      await proc.waitFor(/ c:2\.04 /, 5000);
    });
  }
});

describe('bootstrap-listener when the DTLS addon cannot load', function () {
  this.timeout(60000);

  it('a coaps listener is red and logs why; a plain CoAP listener beside it bootstraps', async () => {
    const coapPort = await nextPort();
    const coapsPort = await nextPort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coaps-disabled-'));
    const flowFile = path.join(dir, 'flow.json');
    const flow = bootstrapFlow({ port: coapPort }).filter((n) => !String((n as { type: string }).type).startsWith('helper') && (n as { type: string }).type !== 'catch');
    for (const n of flow as { wires?: string[][] }[]) if (n.wires) n.wires = n.wires.map((w) => w.filter((id) => !id.startsWith('h-')));
    flow.push({
      id: 'n-coaps', z: 'tab', type: 'lwm2m-bootstrap-listener', transport: 'coaps', address: '127.0.0.1', port: String(coapsPort), wires: [[]],
    });
    fs.writeFileSync(flowFile, JSON.stringify(flow));
    const runner = path.join(__dirname, 'support', 'run-example.js');
    const child = spawn(process.execPath, [runner, flowFile], {
      env: { ...process.env, LWM2M_DTLS_DISABLE: '1', HTTP_PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const reports: Record<string, any>[] = [];
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        reports.push(JSON.parse(line));
      } catch {
        // not a report
      }
    });
    const dev = await ScriptedDevice.create();
    try {
      await until(() => reports.some((r) => r.status?.id === 'n-coaps' && r.status.status.fill === 'red'), 30000, 'coaps listener red');
      await until(() => reports.some((r) => r.status?.id === 'n-listener' && r.status.status.fill === 'green'), 10000, 'coap listener green');
      const red = reports.find((r) => r.status?.id === 'n-coaps' && r.status.status.fill === 'red')!;
      assert.equal(red.status.status.text, 'CoAPs unavailable');
      const logged = reports.filter((r) => r.log?.id === 'n-coaps').map((r) => r.log.msg as string);
      assert.ok(logged.some((m) => m.includes('CoAPs is unavailable') && m.includes('disabled by LWM2M_DTLS_DISABLE=1')), JSON.stringify(logged));
      const res = await dev.bootstrapRequest({ address: '127.0.0.1', port: coapPort }, { ep: 'plain-1' });
      assert.equal(res.code, '2.04');
    } finally {
      await dev.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

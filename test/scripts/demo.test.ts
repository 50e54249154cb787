/**
 * The `npm start` demo as a user runs it (scripts/start.js, a real Node-RED child): loopback unless asked,
 * loud when asked, a login on an editor beyond loopback, and a device that reaches the demo at another
 * address of this machine (127.0.0.2) is given a DM server URI at that address and registers there.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { SimulatedClient } from '../../lib/client/client';
import { FAST } from '../lib/client/support/fixtures';
import { nextPort } from '../support/ports';

/* eslint-disable @typescript-eslint/no-require-imports */
const root = path.resolve(__dirname, '..', '..', '..');
const demoEnv = require(path.join(root, 'scripts', 'demo-env.js')) as {
  demoNetwork(env: Record<string, string | undefined>, interfaces: Record<string, unknown[]>): {
    bsAddresses: string[];
    beyondLoopback: boolean;
    dmServerUri: string;
    editorHost: string;
    editorBeyondLoopback: boolean;
  };
};

const IFACES = {
  lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }, { address: '::1', family: 'IPv6', internal: true, scopeid: 0 }],
  eth0: [
    { address: '192.0.2.2', family: 'IPv4', internal: false },
    { address: 'fd00::2', family: 'IPv6', internal: false, scopeid: 0 },
    { address: 'fe80::1', family: 'IPv6', internal: false, scopeid: 4 },
  ],
};

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function getJson(port: number, p: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, headers: { Accept: 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

describe('the npm start demo', function () {
  this.timeout(60000);

  it('listens on loopback unless asked, and expands 0.0.0.0 / :: into the addresses of this machine', () => {
    const def = demoEnv.demoNetwork({}, IFACES);
    assert.deepEqual(def.bsAddresses, ['127.0.0.1']);
    assert.equal(def.beyondLoopback, false);
    assert.equal(def.editorHost, '127.0.0.1');
    assert.equal(def.editorBeyondLoopback, false);
    assert.equal(def.dmServerUri, 'coap://${serverHost}:5783');
    assert.deepEqual(demoEnv.demoNetwork({ BS_ADDRESS: '0.0.0.0' }, IFACES).bsAddresses, ['127.0.0.1', '192.0.2.2']);
    const all = demoEnv.demoNetwork({ BS_ADDRESS: '::', DM_PORT: '6000' }, IFACES);
    assert.deepEqual(all.bsAddresses, ['127.0.0.1', '::1', '192.0.2.2', 'fd00::2'], 'link-local IPv6 left out');
    assert.equal(all.beyondLoopback, true);
    assert.equal(all.dmServerUri, 'coap://${serverHost}:6000');
    assert.equal(demoEnv.demoNetwork({ DM_SERVER_URI: 'coap://dm.example:5683' }, IFACES).dmServerUri, 'coap://dm.example:5683');
    assert.equal(demoEnv.demoNetwork({ EDITOR_ADDRESS: '0.0.0.0' }, IFACES).editorBeyondLoopback, true);
  });

  describe('running (scripts/start.js with Node-RED)', () => {
    let child: ChildProcess | undefined;
    let out = '';
    let dir: string;
    let client: SimulatedClient | undefined;

    afterEach(async () => {
      await client?.stop();
      client = undefined;
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      child = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function waitOut(re: RegExp, ms = 30000): Promise<RegExpMatchArray> {
      const end = Date.now() + ms;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (child?.exitCode !== null) throw new Error(`the demo exited: ${out}`);
        if (Date.now() > end) throw new Error(`no ${re} in the demo's output: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('a device that reaches it at 127.0.0.2 registers with the demo DM server at 127.0.0.2; the editor asks for a login', async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-demo-'));
      const [uiPort, bsPort, dmPort] = [await freeTcpPort(), await nextPort(), await nextPort()];
      child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
        env: {
          ...process.env,
          PORT: String(uiPort),
          BS_PORT: String(bsPort),
          DM_PORT: String(dmPort),
          BS_ADDRESS: '127.0.0.1,127.0.0.2',
          EDITOR_ADDRESS: '0.0.0.0',
          DEMO_ADMIN_PASSWORD: 'demo-test-password',
          DM_SERVER_URI: '',
          DEMO_USER_DIR: dir,
          DEMO_FRESH: '1',
          NODE_RED_CREDENTIAL_SECRET: 'demo-test',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (c) => (out += String(c)));
      child.stderr!.on('data', (c) => (out += String(c)));
      await waitOut(/Started flows/);
      assert.match(out, /! The Node-RED editor listens on 0\.0\.0\.0 \(EDITOR_ADDRESS\), with a login:/);
      assert.ok(!out.includes('demo-test-password'), 'a chosen password is not printed');
      const login = (await getJson(uiPort, '/auth/login')) as { type?: string };
      assert.equal(login.type, 'credentials', 'the editor asks for a login');

      const registered = new Promise<{ uri: string }>((resolve) => {
        client = new SimulatedClient({ endpoint: 'demo-lan-1', bootstrapServer: { uri: `coap://127.0.0.2:${bsPort}` }, timing: FAST });
        client.on('registered', resolve);
      });
      await client!.start();
      const reg = await registered;
      assert.equal(reg.uri, `coap://127.0.0.2:${dmPort}`);
      await waitOut(/demo DM server: demo-lan-1 registered at 127\.0\.0\.2/);

      // A fleet does not print a line per device (the fleet rehearsal printed 1,000).
      const more = Array.from({ length: 6 }, (_, i) => new SimulatedClient({ endpoint: `demo-more-${i}`, bootstrapServer: { uri: `coap://127.0.0.1:${bsPort}` }, timing: FAST }));
      try {
        await Promise.all(more.map((c) => new Promise((resolve) => { c.once('registered', resolve); void c.start(); })));
      } finally {
        await Promise.all(more.map((c) => c.stop()));
      }
      const perDevice = out.split('\n').filter((l) => /demo DM server: \S+ registered at/.test(l));
      assert.equal(perDevice.length, 3, perDevice.join('\n'));
      assert.match(out, /further registrations are counted every 5 s/);
    });
  });
});

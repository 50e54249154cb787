/**
 * Every example under examples/ loads and deploys in a real Node-RED runtime (its own process, the package
 * linked in as an operator installs it) without errors, and bootstraps a scripted device over UDP.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import * as readline from 'readline';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { nodeToJson } from '../../lib/model/tree';
import { RegistrationServer } from '../../lib/rd';
import { DtlsDevice } from '../support/dtls-device';
import { assertNoKey } from '../support/no-secret';
import { nextPort } from '../support/ports';
import { ScriptedDevice, type ReceivedRequest } from '../support/scripted-device';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
const RUNNER = path.join(__dirname, 'support', 'run-example.js');

interface Report {
  ready?: boolean;
  httpPort?: number;
  status?: { id: string; status: { fill?: string; shape?: string; text?: string } };
  debug?: { id?: string; name?: string; msg: string; property?: string };
  log?: { level: number; msg: string; type?: string; id?: string };
}

class ExampleRun {
  readonly reports: Report[] = [];
  private waiters: { pred: (r: Report) => boolean; resolve: (r: Report) => void }[] = [];
  constructor(readonly proc: ChildProcess) {
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      let r: Report;
      try {
        r = JSON.parse(line) as Report;
      } catch {
        return;
      }
      this.reports.push(r);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(r)) return true;
        w.resolve(r);
        return false;
      });
    });
  }
  waitFor(pred: (r: Report) => boolean, ms = 10000, what = 'report'): Promise<Report> {
    const seen = this.reports.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (r: Report) => (clearTimeout(t), resolve(r)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${what} within ${ms} ms; reports: ${JSON.stringify(this.reports.slice(-8))}`));
      }, ms);
      this.waiters.push(w);
    });
  }
  debugNamed(name: string, ms = 10000): Promise<Report> {
    return this.waitFor((r) => r.debug?.name === name, ms, `debug "${name}"`);
  }
  problems(): Report['log'][] {
    // Errors, and warnings a node raised (the runtime's own start-up notes carry no node id).
    return this.reports.filter((r) => r.log && (r.log.level <= 20 || (r.log.level <= 30 && r.log.id))).map((r) => r.log);
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

async function tcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** True when every UDP port can be bound on loopback now. */
async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const sock = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (!ok) {
      try {
        sock.close();
      } catch {
        // never bound
      }
      return false;
    }
    await new Promise<void>((r) => sock.close(() => r()));
  }
  return true;
}

function written(dev: ScriptedDevice, prefix: string): Record<string, unknown> {
  const r = dev.received.find((x: ReceivedRequest) => x.method === 'PUT' && x.path.startsWith(prefix));
  assert.ok(r, `a write to ${prefix}…`);
  return nodeToJson(decode(r.contentFormat!, LwM2mPath.parse(r.path), r.payload)) as Record<string, unknown>;
}

describe('examples', function () {
  this.timeout(60000);
  let run: ExampleRun | undefined;
  const devices: ScriptedDevice[] = [];
  let bsPort = 0;
  let httpPort = 0;

  async function start(file: string, env: Record<string, string> | ((httpPort: number) => Record<string, string>) = {}): Promise<ExampleRun> {
    bsPort = await nextPort();
    httpPort = await tcpPort();
    if (typeof env === 'function') env = env(httpPort);
    const proc = spawn(process.execPath, [RUNNER, path.join(EXAMPLES, file)], {
      env: { ...process.env, BS_PORT: String(bsPort), BS_COAPS_PORT: String(bsPort), BS_ADDRESS: '127.0.0.1', HTTP_PORT: String(httpPort), ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    run = new ExampleRun(proc);
    await run.waitFor((r) => r.ready === true, 30000, 'flows started');
    const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as { id: string; type: string }[];
    const listener = flow.find((n) => n.type === 'lwm2m-bootstrap-listener')!;
    await run.waitFor((r) => r.status?.id === listener.id && r.status.status.fill === 'green', 10000, 'listener listening');
    return run;
  }
  async function device(): Promise<ScriptedDevice> {
    const d = await ScriptedDevice.create();
    devices.push(d);
    return d;
  }
  const bs = () => ({ address: '127.0.0.1', port: bsPort });

  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    if (run) {
      const problems = run.problems();
      await run.stop();
      run = undefined;
      assert.deepEqual(problems, [], 'no warnings or errors from the runtime');
    }
  });

  it('ships the five documented examples, each importable JSON with the data they need', () => {
    const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();
    for (const f of ['01-default-profile.json', '02-device-table.json', '03-http-authorization.json', '04-one-time-psk.json', '05-portal-imei.json']) {
      assert.ok(files.includes(f), f);
    }
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as { id: string; type: string }[];
      assert.ok(Array.isArray(flow) && flow.length > 0, f);
      assert.equal(new Set(flow.map((n) => n.id)).size, flow.length, `${f}: unique ids`);
      assert.ok(!/"pskKey"\s*:\s*\{\s*\\?"hex\\?"\s*:\s*\\?"[0-9a-fA-F]{8,}/.test(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')), `${f}: no literal key`);
    }
    assert.ok(fs.existsSync(path.join(EXAMPLES, 'data', 'devices.csv')));
    assert.ok(fs.existsSync(path.join(EXAMPLES, 'data', 'imei-config.csv')));
  });

  /** Each example's listener port as shipped: its flow's own BS_PORT / BS_COAPS_PORT, else the environment's or the default. */
  function shippedPorts(): { file: string; id: string; port: number; transport: string }[] {
    const out: { file: string; id: string; port: number; transport: string }[] = [];
    for (const f of fs.readdirSync(EXAMPLES).filter((x) => x.endsWith('.json')).sort()) {
      const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as Record<string, any>[];
      for (const l of flow.filter((n) => n.type === 'lwm2m-bootstrap-listener' && !n.d)) {
        const tab = flow.find((n) => n.type === 'tab' && n.id === l.z);
        const m = /^\$\{(\w+)\}$/.exec(String(l.port));
        const own = m ? (tab?.env as { name: string; value: string }[] | undefined)?.find((e) => e.name === m[1])?.value : String(l.port);
        out.push({ file: f, id: l.id, transport: l.transport, port: Number(own ?? (l.transport === 'coaps' ? 5684 : 5683)) });
      }
    }
    return out;
  }

  it('every example listens on its own port (01, the demo, on 5683), none on the demo DM server\'s 5783', () => {
    const ports = shippedPorts();
    assert.equal(ports.length, 9, JSON.stringify(ports));
    assert.equal(new Set(ports.map((p) => p.port)).size, ports.length, `distinct: ${JSON.stringify(ports)}`);
    assert.equal(ports.find((p) => p.file === '01-default-profile.json')!.port, 5683);
    assert.ok(!ports.some((p) => p.port === 5783));
    for (const p of ports) {
      const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, p.file), 'utf8')) as Record<string, any>[];
      if (p.file !== '01-default-profile.json') {
        const comments = flow.filter((n) => n.type === 'comment').map((n) => `${n.name} ${n.info}`).join(' ');
        assert.ok(comments.includes(String(p.port)), `${p.file}: a comment names its port ${p.port}`);
      }
      // The verdict is visible: the audit output, object-write's error output and Finish's failure and timeout are wired.
      const listener = flow.find((n) => n.id === p.id)!;
      const audit = flow.find((n) => n.id === listener.wires?.[1]?.[0]);
      assert.ok(audit && audit.type === 'debug' && audit.name === 'audit', `${p.file}: listener audit output -> debug "audit"`);
      for (const w of flow.filter((n) => n.type === 'lwm2m-object-write')) assert.ok(w.wires?.[1]?.length > 0, `${p.file}: object-write error output wired`);
      for (const f of flow.filter((n) => n.type === 'lwm2m-bootstrap-finish' && n.mode !== 'reject')) {
        assert.ok(f.wires?.[1]?.length > 0 && f.wires?.[2]?.length > 0, `${p.file}: finish failure and timeout outputs wired`);
      }
    }
  });

  it('an example that mints one-time keys hands them out over CoAPs only, or listens on loopback only by default', () => {
    const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
    let minting = 0;
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8')) as Record<string, any>[];
      if (!flow.some((n) => n.type === 'lwm2m-profile-lookup' && n.oneTimePsk === true)) continue;
      minting++;
      for (const l of flow.filter((n) => n.type === 'lwm2m-bootstrap-listener' && n.transport !== 'coaps')) {
        const tab = flow.find((n) => n.type === 'tab' && n.id === l.z) as { env?: { name: string; value: string }[] } | undefined;
        const address = String(l.address).replace('${BS_ADDRESS}', tab?.env?.find((e) => e.name === 'BS_ADDRESS')?.value ?? '');
        assert.equal(address, '127.0.0.1', `${f}: a plain CoAP listener that mints keys listens on loopback only`);
      }
    }
    assert.ok(minting >= 2, 'examples 04 and key rotation mint one-time keys');
  });

  it('all nine examples imported together into one Node-RED: every listener listens, each on its own port', async function () {
    this.timeout(90000);
    // The shipped ports, moved together by a shift when some are taken on this machine (other tests, a demo).
    const base = shippedPorts();
    let shift = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      if (await allFree(base.map((p) => p.port + shift))) break;
      shift = 20000 + Math.floor(Math.random() * 20000);
    }
    const rd = await new RegistrationServer().listen();
    const httpPort = await tcpPort();
    const files = fs.readdirSync(EXAMPLES).filter((x) => x.endsWith('.json')).sort().map((f) => path.join(EXAMPLES, f));
    const proc = spawn(process.execPath, [RUNNER, ...files], {
      env: { ...process.env, PORT_SHIFT: String(shift), BS_PORT: String(5683 + shift), BS_ADDRESS: '127.0.0.1', HTTP_PORT: String(httpPort),
        DM_SERVER_URI: `coap://127.0.0.1:${rd.port}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    run = new ExampleRun(proc);
    try {
      await run.waitFor((r) => r.ready === true, 30000, 'flows started');
      for (const p of base) {
        const key = p.transport === 'coaps' ? 'listening coaps' : 'listening';
        await run.waitFor(
          (r) => r.status?.id === p.id && r.status.status.fill === 'green' && String(r.status.status.text).startsWith(`${key} :${p.port + shift}`),
          15000,
          `${p.file}: listener green on ${p.port + shift}`,
        );
      }
      const red = run.reports.filter((r) => r.status && r.status.status.fill === 'red').map((r) => JSON.stringify(r.status));
      assert.deepEqual(red, [], 'no node turned red');
      // The simulated devices that start on deploy bootstrap against their own example's listener.
      for (const [what, id] of [['trainer walk-through', 'cccdc60e9ccd777b'], ['06 over CoAPs', 'c0a5e0600000a008']]) {
        const d = await run.waitFor((r) => r.debug?.id === id, 30000, `${what}: its device bootstrapped`);
        assert.equal((JSON.parse(d.debug!.msg) as { outcome: string }).outcome, 'SUCCESS', what);
      }
      // And the demo still bootstraps a device beside the eight others.
      const dev = await device();
      assert.equal((await dev.bootstrapRequest({ address: '127.0.0.1', port: 5683 + shift }, { ep: 'beside-the-others' })).code, '2.04');
      await run.waitFor((r) => r.debug?.name === 'bootstrapped (audit)' && r.debug.msg.includes('beside-the-others'), 10000, 'the demo bootstrapped');
    } finally {
      await rd.close();
    }
  });

  it('01 (the demo): every device gets the default profile, with DM_SERVER_URI and DM_LIFETIME from the environment', async () => {
    const r = await start('01-default-profile.json', { DM_SERVER_URI: 'coap://192.0.2.10:5783', DM_LIFETIME: '600' });
    const dev = await device();
    const done = r.debugNamed('bootstrapped (audit)');
    assert.equal((await dev.bootstrapRequest(bs(), { ep: 'demo-1' })).code, '2.04');
    const audit = JSON.parse((await done).debug!.msg) as { outcome: string; endpoint: string };
    assert.equal(audit.outcome, 'SUCCESS');
    assert.equal(audit.endpoint, 'demo-1');
    assert.equal(written(dev, '/0/')['0'], 'coap://192.0.2.10:5783');
    assert.equal(written(dev, '/1/')['1'], 600);
  });

  it('01 without the environment variables uses the defaults', async () => {
    const saved = { uri: process.env.DM_SERVER_URI, lt: process.env.DM_LIFETIME };
    delete process.env.DM_SERVER_URI;
    delete process.env.DM_LIFETIME;
    try {
      const r = await start('01-default-profile.json');
      const dev = await device();
      const done = r.debugNamed('bootstrapped (audit)');
      await dev.bootstrapRequest(bs(), { ep: 'demo-2', pct: 112 });
      await done;
      assert.equal(written(dev, '/0/')['0'], 'coap://127.0.0.1:5783');
      assert.equal(written(dev, '/1/')['1'], 300);
    } finally {
      if (saved.uri !== undefined) process.env.DM_SERVER_URI = saved.uri;
      if (saved.lt !== undefined) process.env.DM_LIFETIME = saved.lt;
    }
  });

  it('02: per-device profile and APN from the CSV device table; unknown devices get 4.03', async () => {
    const r = await start('02-device-table.json');
    const dev = await device();
    const done = r.debugNamed('bootstrapped (audit)');
    await dev.bootstrapRequest(bs(), { ep: 'meter-003' });
    await done;
    assert.equal(written(dev, '/11/')['1'], 'iot.backup.example');
    assert.equal(written(dev, '/1/')['1'], 7200);
    const stranger = await device();
    assert.equal((await stranger.bootstrapRequest(bs(), { ep: 'nobody' })).code, '4.03');
  });

  it('03: asks the authorization service over HTTP; 200 bootstraps, 403 is refused', async () => {
    const r = await start('03-http-authorization.json', (http) => ({ AUTH_URL: `http://127.0.0.1:${http}/lwm2m-authorize` }));
    const dev = await device();
    const done = r.debugNamed('bootstrapped (audit)');
    assert.equal((await dev.bootstrapRequest(bs(), { ep: 'meter-9' })).code, '2.04');
    assert.equal(JSON.parse((await done).debug!.msg).outcome, 'SUCCESS');
    const intruder = await device();
    const refused = r.debugNamed('rejected');
    const res = await intruder.bootstrapRequest(bs(), { ep: 'intruder' });
    assert.equal(res.code, '4.03');
    assert.equal(res.payload.toString(), 'not authorized');
    await refused;
    assert.equal(intruder.received.length, 0);
  });

  it('04: over CoAPs only: the DM server gets the one-time PSK first, then the device; plain CoAP gets nothing; the key never reaches the debug sidebar', async () => {
    // A stand-in DM server credentials API that keeps what it receives and, at that moment, what the device
    // had been sent so far: the order is read off the two logs, not off a clock.
    const dmReceived: { method?: string; url?: string; body: string; deviceWritesBefore: string[] }[] = [];
    let dev: DtlsDevice | undefined;
    const dm = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const deviceWritesBefore = (dev?.received ?? []).filter((x) => x.method === 'PUT').map((x) => x.path);
        dmReceived.push({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString('utf8'), deviceWritesBefore });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"stored":true}');
      });
    });
    await new Promise<void>((resolve) => dm.listen(0, '127.0.0.1', () => resolve()));
    const dmUrl = `http://127.0.0.1:${(dm.address() as net.AddressInfo).port}/dm-credentials`;
    try {
      const r = await start('04-one-time-psk.json', () => ({ DM_CREDENTIALS_URL: dmUrl }));
      const flow = JSON.parse(fs.readFileSync(path.join(EXAMPLES, '04-one-time-psk.json'), 'utf8')) as Record<string, unknown>[];
      assert.equal(flow.find((n) => n.type === 'lwm2m-bootstrap-listener')!.transport, 'coaps');
      const tab = flow.find((n) => n.type === 'tab') as { env: { name: string; value: string }[] };
      assert.deepEqual(tab.env.find((e) => e.name === 'BS_ADDRESS')?.value, '127.0.0.1', 'the demo key is public: loopback only by default');
      const csv = fs.readFileSync(path.join(EXAMPLES, 'data', 'otp-bootstrap-keys.csv'), 'utf8');
      const bootstrapKey = /otp-dev,otp-dev,([0-9a-f]+)/.exec(csv)![1];
      assertNoKey(JSON.stringify(flow), bootstrapKey, 'the flow JSON');

      // Plain CoAP on the same port: not even an answer, so no key for an unauthenticated device.
      const plain = await device();
      await assert.rejects(plain.bootstrapRequest(bs(), { ep: 'otp-dev', timeoutMs: 1500 }), /no response/);
      assert.equal(dmReceived.length, 0, 'no key minted for the plain CoAP request');

      dev = await DtlsDevice.connect(bsPort, 'otp-dev', bootstrapKey);
      try {
        const done = r.debugNamed('bootstrapped: PSK identity (key hidden)');
        assert.equal((await dev.bootstrapRequest('otp-dev')).code, '2.04');
        const shown = (await done).debug!.msg;
        const sec = dev.received.find((x) => x.method === 'PUT' && x.path.startsWith('/0/'))!;
        const inst = decode(sec.contentFormat!, LwM2mPath.parse(sec.path), sec.payload);
        assert.ok(inst.kind === 'instance');
        const value = (id: number) => {
          const res = inst.kind === 'instance' ? inst.resources.get(id) : undefined;
          return res && res.kind === 'single' ? (res.value as Buffer) : Buffer.alloc(0);
        };
        const identity = value(3).toString('utf8');
        const key = value(5).toString('hex');
        assert.match(identity, /^otp-dev-[0-9a-f]{16}$/);
        assert.equal(key.length, 32);
        assert.equal(shown, identity, 'the debug node shows the identity');
        // The DM server got this identity and key, once, before the device was sent its Security instance.
        assert.equal(dmReceived.length, 1, 'one call to the DM server API');
        const [call] = dmReceived;
        assert.equal(call.method, 'POST');
        assert.equal(call.url, '/dm-credentials');
        const stored = JSON.parse(call.body) as { endpoint: string; pskIdentity: string; pskKey: string };
        assert.deepEqual({ ...stored, pskKey: stored.pskKey.toLowerCase() }, { endpoint: 'otp-dev', pskIdentity: identity, pskKey: key });
        assert.ok(!call.deviceWritesBefore.some((p) => p.startsWith('/0')), `the DM server had the key before the device: writes before it: ${call.deviceWritesBefore.join(', ') || 'none'}`);
        const audit = JSON.parse((await r.debugNamed('audit')).debug!.msg) as { outcome: string; identity: { type: string; id: string } };
        assert.equal(audit.outcome, 'SUCCESS');
        assert.deepEqual(audit.identity, { type: 'psk', id: 'otp-dev' });
        const sidebar = JSON.stringify(r.reports.filter((x) => x.debug || x.status || x.log));
        assertNoKey(sidebar, key, 'debug messages, status and log lines');
        assertNoKey(sidebar, bootstrapKey, 'debug messages, status and log lines (bootstrap key)');
        const w = nodeToJson(decode(sec.contentFormat!, LwM2mPath.parse(sec.path), sec.payload)) as Record<string, unknown>;
        assert.equal(w['0'], 'coaps://127.0.0.1:5784');
      } finally {
        await dev.close();
      }
      // The DTLS identity names its own endpoint only.
      const other = await DtlsDevice.connect(bsPort, 'otp-dev', bootstrapKey);
      try {
        assert.equal((await other.bootstrapRequest('someone-else')).code, '4.03');
      } finally {
        await other.close();
      }
      // That refusal is logged as a warning, as it should be: expected here, so not a problem of the run.
      const refusal = await r.waitFor((x) => !!x.log && x.log.msg.includes('"someone-else" does not belong'), 5000, 'the refusal warning');
      r.reports.splice(r.reports.indexOf(refusal), 1);
    } finally {
      await new Promise<void>((resolve) => dm.close(() => resolve()));
    }
  });

  it('05: the IMEI picks the target profile and its configuration; an unknown IMEI gets 4.04', async () => {
    const r = await start('05-portal-imei.json');
    const dev = await device();
    const done = r.debugNamed('bootstrapped (audit)');
    await dev.bootstrapRequest(bs(), { ep: 'urn:imei:490154203237518' });
    await done;
    assert.equal(written(dev, '/1/')['1'], 300);
    assert.equal(written(dev, '/11/')['1'], 'ltem.example');
    assert.equal(written(dev, '/11/')['0'], 'lte-m');
    const unknown = await device();
    assert.equal((await unknown.bootstrapRequest(bs(), { ep: 'urn:imei:111111111111111' })).code, '4.04');
  });
});

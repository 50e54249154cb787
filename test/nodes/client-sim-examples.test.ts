/**
 * The client-sim examples run in a real Node-RED process (the package linked in as an operator installs it)
 * with their simulated devices bootstrapping against the example's own server nodes over UDP, and
 * registering with a RegistrationServer (over CoAPs with the rotated key in the key-rotation example).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'child_process';
import type * as dgram from 'dgram';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { createDtlsSocket, MemoryPskStore, type DtlsSocket } from '../../lib/dtls';
import { controlApiPort, RegistrationServer, startRdControlApi } from '../../lib/rd';
import { main as factoryCli } from '../../cli/lwm2m-bootstrap';
import { nextPort } from '../support/ports';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
const RUNNER = path.join(__dirname, 'support', 'run-example.js');

interface Report {
  ready?: boolean;
  httpPort?: number;
  status?: { id: string; status: { fill?: string; shape?: string; text?: string } };
  debug?: { name?: string; msg: string; id?: string };
  log?: { level: number; msg: string; type?: string; id?: string };
}

type FlowNode = { id: string; type: string; name?: string; [k: string]: unknown };

class Run {
  readonly reports: Report[] = [];
  private waiters: { pred: (r: Report) => boolean; resolve: (r: Report) => void }[] = [];
  constructor(
    readonly proc: ChildProcess,
    readonly httpPort: number,
    readonly flow: FlowNode[],
  ) {
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      let r: Report;
      try {
        r = JSON.parse(line) as Report;
      } catch {
        return;
      }
      this.reports.push(r);
      this.waiters = this.waiters.filter((w) => (w.pred(r) ? (w.resolve(r), false) : true));
    });
  }
  waitFor(pred: (r: Report) => boolean, ms: number, what: string, fromIndex = 0): Promise<Report> {
    const seen = this.reports.slice(fromIndex).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (r: Report) => (clearTimeout(t), resolve(r)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${what} within ${ms} ms; last reports: ${JSON.stringify(this.reports.slice(-6))}`));
      }, ms);
      this.waiters.push(w);
    });
  }
  debug(name: string, ms: number, fromIndex = 0): Promise<Report> {
    return this.waitFor((r) => r.debug?.name === name, ms, `debug "${name}"`, fromIndex);
  }
  node(pred: (n: FlowNode) => boolean): FlowNode {
    const n = this.flow.find(pred);
    assert.ok(n, 'node in the example');
    return n;
  }
  /** Presses an inject node's button through the admin API, as the editor does. */
  async press(name: string): Promise<void> {
    const n = this.node((x) => x.type === 'inject' && x.name === name);
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: this.httpPort, method: 'POST', path: `/red/inject/${n.id}` }, (res) => {
        res.resume();
        if (res.statusCode === 200) resolve();
        else reject(new Error(`inject ${name}: HTTP ${res.statusCode}`));
      });
      req.on('error', reject);
      req.end();
    });
  }
  problems(): Report['log'][] {
    return this.reports.filter((r) => r.log && (r.log.level <= 20 || (r.log.level <= 30 && r.log.id))).map((r) => r.log);
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
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

describe('client-sim examples', function () {
  this.timeout(90000);
  let run: Run | undefined;
  let rd: RegistrationServer | undefined;
  const cleanup: (() => Promise<void> | void)[] = [];

  async function start(file: string, env: Record<string, string>, edit?: (flow: FlowNode[]) => void): Promise<Run> {
    const httpPort = await tcpPort();
    let flowFile = path.join(EXAMPLES, file);
    const flow = JSON.parse(fs.readFileSync(flowFile, 'utf8')) as FlowNode[];
    if (edit) {
      edit(flow);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-sim-example-'));
      cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      flowFile = path.join(dir, file);
      fs.writeFileSync(flowFile, JSON.stringify(flow));
    }
    const proc = spawn(process.execPath, [RUNNER, flowFile], {
      env: { ...process.env, BS_ADDRESS: '127.0.0.1', HTTP_PORT: String(httpPort), ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    run = new Run(proc, httpPort, flow);
    await run.waitFor((r) => r.ready === true, 30000, 'flows started');
    return run;
  }

  afterEach(async () => {
    if (run) {
      const problems = run.problems();
      await run.stop();
      run = undefined;
      assert.deepEqual(problems, [], 'no warnings or errors from the runtime');
    }
    await rd?.close();
    rd = undefined;
    for (const c of cleanup.splice(0)) await c();
  });

  it('ships the three client-sim examples as importable JSON without keys', () => {
    for (const f of ['trainer-walkthrough.json', 'fleet-rehearsal.json', 'key-rotation-rebootstrap.json']) {
      const text = fs.readFileSync(path.join(EXAMPLES, f), 'utf8');
      const flow = JSON.parse(text) as FlowNode[];
      assert.equal(new Set(flow.map((n) => n.id)).size, flow.length, `${f}: unique ids`);
      const ids = new Set(flow.map((n) => n.id));
      for (const n of flow) for (const out of (n.wires as string[][] | undefined) ?? []) for (const w of out) assert.ok(ids.has(w), `${f}: ${n.id} wired to ${w}`);
      const sims = flow.filter((n) => n.type === 'lwm2m-client-sim');
      assert.equal(sims.length, 1, f);
      assert.ok(!('pskKey' in sims[0]) && !('credentials' in sims[0]), `${f}: no key in the flow`);
      assert.equal(sims[0].bsUri, 'coap://127.0.0.1:${BS_PORT}');
    }
  });

  it('trainer walk-through: the device bootstraps on deploy, every step reaches a debug node, re-bootstrap on the button', async () => {
    rd = await new RegistrationServer().listen();
    const r = await start('trainer-walkthrough.json', { BS_PORT: String(await nextPort()), DM_SERVER_URI: `coap://127.0.0.1:${rd.port}` });
    const diagram = await r.debug('sequence diagram (Mermaid)', 20000);
    assert.match(diagram.debug!.msg, /^sequenceDiagram\n {2}participant C as trainee-1/);
    assert.match(diagram.debug!.msg, /C->>S1: POST \/rd\?ep=trainee-1/);
    const outcome = JSON.parse((await r.debug('bootstrap outcome', 5000)).debug!.msg) as { outcome: string; bootstrapId: number };
    assert.deepEqual([outcome.outcome, outcome.bootstrapId], ['success', 1]);
    assert.match((await r.debug('1 Bootstrap-Request (bs listener)', 1000)).debug!.msg, /trainee-1/);
    assert.equal(JSON.parse((await r.debug('2 profile chosen (profile lookup)', 1000)).debug!.msg).name, 'default');
    assert.ok(JSON.parse((await r.debug('3 writes (object write): steps', 1000)).debug!.msg).length >= 3);
    assert.equal(JSON.parse((await r.debug('4 Bootstrap-Finish (bootstrap finish): audit', 1000)).debug!.msg).outcome, 'SUCCESS');
    const traced = r.reports.filter((x) => x.debug?.name === 'device trace (every CoAP message)').map((x) => JSON.parse(x.debug!.msg));
    assert.ok(traced.some((e) => e.endpoint === 'trainee-1' && e.direction === 'out' && e.method === 'POST' && e.path === '/bs'), 'the trace shows the Bootstrap-Request');
    assert.ok(traced.some((e) => e.state === 'registered'), 'and the states');
    assert.ok(rd.byEndpoint('trainee-1'), 'registered with the DM server');
    const sim = r.node((n) => n.type === 'lwm2m-client-sim');
    await r.waitFor((x) => x.status?.id === sim.id && x.status.status.fill === 'green', 5000, 'green status');

    const mark = r.reports.length;
    await r.press('re-bootstrap');
    const again = JSON.parse((await r.debug('bootstrap outcome', 20000, mark)).debug!.msg) as { outcome: string; bootstrapId: number };
    assert.deepEqual([again.outcome, again.bootstrapId], ['success', 2]);
  });

  it('the npm start demo (01): its button bootstraps a simulated device through the flow, which registers with the DM server', async () => {
    rd = await new RegistrationServer().listen();
    const r = await start('01-default-profile.json', { BS_PORT: String(await nextPort()), DM_SERVER_URI: `coap://127.0.0.1:${rd.port}` });
    assert.equal(rd.byEndpoint('demo-device'), undefined, 'nothing starts on deploy');
    await r.press('bootstrap a simulated device');
    const audit = JSON.parse((await r.debug('bootstrapped (audit)', 20000)).debug!.msg) as { endpoint: string; outcome: string };
    assert.deepEqual([audit.endpoint, audit.outcome], ['demo-device', 'SUCCESS']);
    await r.debug('sequence diagram', 20000);
    await r.waitFor(() => rd!.byEndpoint('demo-device') !== undefined, 10000, 'registered with the DM server');
  });

  it('factory provisioning example: its button exports every device of its table, writing the generated keys back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-example-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const table = path.join(dir, 'factory-devices.csv');
    fs.copyFileSync(path.join(EXAMPLES, 'data', 'factory-devices.csv'), table);
    const r = await start('factory-provisioning.json', {}, (flow) => {
      flow.find((n) => n.type === 'lwm2m-device-table')!.file = table;
      flow.find((n) => n.type === 'lwm2m-factory-config')!.outDir = path.join(dir, 'out');
    });
    await r.press('export all devices');
    const got = JSON.parse((await r.debug('files written (no keys)', 10000)).debug!.msg) as { devices: number; files: string[]; generated: string[] };
    assert.equal(got.devices, 3);
    assert.equal(got.files.length, 27);
    assert.deepEqual(got.generated, ['meter-f02', 'meter-f03']);
    assert.match(fs.readFileSync(table, 'utf8'), /\nmeter-f03,meters,meter-f03,[0-9a-f]{32},\n/);
    assert.equal(fs.statSync(path.join(dir, 'out', 'meter-f01.senml.cbor')).mode & 0o777, 0o600);
    // The node warns once that the files hold keys; that is its only warning.
    const warnings = r.problems();
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]?.msg), /0600/);
    r.reports.splice(0, r.reports.length, ...r.reports.filter((x) => !(x.log && /0600/.test(x.log.msg))));
  });

  for (const mode of ['bootstrap', 'dm'] as const) {
    it(`the demo (01) with its device flashed from a factory file (${mode === 'dm' ? 'factory-to-DM: registers without bootstrapping' : 'factory-to-bootstrap: bootstraps through the flow'})`, async () => {
      rd = await new RegistrationServer().listen();
      const bsPort = await nextPort();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-demo-'));
      cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      fs.writeFileSync(path.join(dir, 'devices.csv'), 'endpoint,profile\ndemo-device,demo\n');
      fs.writeFileSync(path.join(dir, 'profiles.json'), JSON.stringify([{ name: 'demo', servers: [{ shortServerId: 1, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 300 }] }]));
      let out = '';
      const code = await factoryCli(
        ['factory', '--devices', 'devices.csv', '--bootstrap-uri', `coap://127.0.0.1:${bsPort}`, '--mode', mode, '--profiles', 'profiles.json', '--format', 'senml-cbor', '--out', 'out'],
        { out: (x) => (out += x), err: (x) => (out += x), cwd: dir },
      );
      assert.equal(code, 0, out);
      const file = path.join(dir, 'out', 'demo-device.senml.cbor');
      const r = await start('01-default-profile.json', { BS_PORT: String(bsPort), DM_SERVER_URI: `coap://127.0.0.1:${rd.port}` }, (flow) => {
        const sim = flow.find((n) => n.type === 'lwm2m-client-sim')!;
        sim.factoryFile = file;
        sim.bsUri = 'coap://192.0.2.1:1'; // unused: the factory file names the Bootstrap-Server
      });
      await r.press('bootstrap a simulated device');
      await r.waitFor(() => rd!.byEndpoint('demo-device') !== undefined, 20000, 'registered with the DM server');
      const audits = r.reports.filter((x) => x.debug?.name === 'bootstrapped (audit)');
      if (mode === 'dm') {
        assert.equal(audits.length, 0, 'no bootstrap at all');
      } else {
        const audit = JSON.parse((await r.debug('bootstrapped (audit)', 20000)).debug!.msg) as { endpoint: string; outcome: string };
        assert.deepEqual([audit.endpoint, audit.outcome], ['demo-device', 'SUCCESS']);
      }
    });
  }

  it('fleet rehearsal (20 devices here; scripts/fleet-1000.js runs the full 1,000): summaries, one diagram, all registered despite 5 % loss', async () => {
    rd = await new RegistrationServer().listen();
    const r = await start('fleet-rehearsal.json', { BS_PORT: String(await nextPort()), DM_SERVER_URI: `coap://127.0.0.1:${rd.port}` }, (flow) => {
      const sim = flow.find((n) => n.type === 'lwm2m-client-sim')!;
      assert.equal(sim.count, '1000');
      assert.equal(sim.dropRate, '5');
      assert.equal(sim.autoStart, false, 'the fleet waits for its start button');
      sim.count = '20';
      sim.summaryInterval = '0.5';
    });
    await r.press('start all');
    const settled = await r.waitFor(
      (x) => x.debug?.name === 'fleet summary' && JSON.parse(x.debug.msg).registered === 20,
      60000,
      'a summary with 20 registered',
    );
    const s = JSON.parse(settled.debug!.msg) as { total: number; failed: number; bootstrapped: number };
    assert.deepEqual([s.total, s.failed, s.bootstrapped], [20, 0, 20]);
    assert.equal(rd.registrations.size, 20);
    const diagrams = r.reports.filter((x) => x.debug?.name === 'first sequence diagram');
    assert.equal(diagrams.length, 1);
    assert.ok(!r.reports.some((x) => ['Finish refused', 'no answer to Finish', 'write failed', 'rejected'].includes(x.debug?.name ?? '')), 'no failure');
  });

  it('key rotation: the device registers over CoAPs with a one-time key, and with a new identity and key after the rotate button and after its DM server sends it back to bootstrap (/1/x/9)', async () => {
    const store = new MemoryPskStore();
    const sock: DtlsSocket = createDtlsSocket({ psk: store });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    rd = await new RegistrationServer({ socket: sock as unknown as dgram.Socket }).listen();
    cleanup.push(() => new Promise<void>((r) => sock.close(() => r())));
    // The DM server's credentials API: learns each new identity and revokes the endpoint's previous one.
    const issued: { identity: string; key: string }[] = [];
    const api = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const c = JSON.parse(body) as { endpoint: string; pskIdentity: string; pskKey: string };
        const previous = issued[issued.length - 1];
        if (previous) store.delete(previous.identity);
        store.set(c.pskIdentity, Buffer.from(c.pskKey, 'hex'));
        issued.push({ identity: c.pskIdentity, key: c.pskKey });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ stored: c.pskIdentity }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => api.close(() => r())));
    const apiPort = (api.address() as net.AddressInfo).port;
    // The DM server's HTTP control interface, which the example's trigger button calls.
    const control = await startRdControlApi(rd);
    cleanup.push(() => new Promise<void>((r) => control.close(() => r())));
    const r = await start('key-rotation-rebootstrap.json', {
      DM_API_URL: `http://127.0.0.1:${controlApiPort(control)}`,
      BS_PORT: String(await nextPort()),
      DM_CREDENTIALS_URL: `http://127.0.0.1:${apiPort}/credentials`,
      DM_COAPS_URI: `coaps://127.0.0.1:${sock.address().port}`,
    });
    await r.press('start the device');
    const first = JSON.parse((await r.debug('device registered (with the new key)', 30000)).debug!.msg) as { uri: string };
    assert.equal(first.uri, `coaps://127.0.0.1:${sock.address().port}`);
    assert.equal(issued.length, 1);
    assert.equal((await r.debug('new DM identity (key hidden)', 1000)).debug!.msg, issued[0].identity);
    assert.ok(rd.byEndpoint('rotating-device'));

    const mark = r.reports.length;
    await r.press('rotate keys (re-bootstrap)');
    await r.debug('device registered (with the new key)', 30000, mark);
    assert.equal(issued.length, 2);
    assert.notEqual(issued[1].identity, issued[0].identity);
    assert.notEqual(issued[1].key, issued[0].key);
    assert.equal(store.get(issued[0].identity), undefined, 'the old identity is revoked, so only the new key can register');
    assert.ok(rd.byEndpoint('rotating-device'));

    // The DM server executes /1/x/9 (Bootstrap-Request Trigger) on the registered device from the inject button.
    const mark2 = r.reports.length;
    await r.press('send back to bootstrap (DM executes /1/x/9)');
    const answered = JSON.parse((await r.debug('trigger answered', 10000, mark2)).debug!.msg) as { code: string; path: string };
    assert.equal(answered.code, '2.04');
    assert.match(answered.path, /^\/1\/\d+\/9$/);
    await r.debug('device registered (with the new key)', 30000, mark2);
    assert.equal(issued.length, 3, 'a third bootstrap issued a third key');
    assert.notEqual(issued[2].identity, issued[1].identity);
    assert.equal(store.get(issued[1].identity), undefined);
    assert.ok(rd.byEndpoint('rotating-device'));
    const shown = JSON.stringify(r.reports.filter((x) => x.debug || x.status || x.log)).toLowerCase();
    for (const k of issued) assert.ok(!shown.includes(k.key.toLowerCase()), 'no key in the debug sidebar, status or log');
  });
});

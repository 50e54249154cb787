/**
 * The client-sim node in the real Node-RED runtime: simulated devices bootstrap over real UDP on loopback
 * against this package's own server nodes (listener, profile lookup, object write, bootstrap finish) in the
 * same flow, then register with a lib/rd RegistrationServer.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RegistrationServer } from '../../lib/rd';
import { assertNoKey } from '../support/no-secret';
import { markAfter } from '../support/timer-mark';
import { nextPort } from '../support/ports';
import { bootstrapFlow, NOSEC_PROFILE } from './support/flows';
import { ALL_NODES, errorCalls, helper, nextMessage, statusCalls, until, type RuntimeNode } from './support/runtime';

const SIM_DIR = path.resolve(__dirname, '..', '..', 'nodes', 'client-sim');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const clientSimModule = require(path.join(SIM_DIR, 'client-sim.js')) as (red: { _: Translate }) => void;
type Translate = (key: string, vars?: Record<string, unknown>) => string;

/**
 * node-red-node-test-helper's RED._ returns the key; give the client-sim node its real English catalog
 * (as Node-RED loads it from locales/en-US beside the node, with Node-RED's __name__ interpolation), so
 * the tests read the texts an operator sees.
 */
const CATALOG = JSON.parse(fs.readFileSync(path.join(SIM_DIR, 'locales', 'en-US', 'client-sim.json'), 'utf8')) as Record<string, unknown>;
function translate(key: string, vars?: Record<string, unknown>): string | undefined {
  let cur: unknown = CATALOG;
  for (const part of key.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  if (typeof cur !== 'string') return undefined;
  return cur.replace(/__(\w+)__/g, (_m, k: string) => String(vars?.[k] ?? ''));
}
function clientSimNode(red: { _: Translate }): void {
  const original = red._;
  red._ = (key, vars) => (key.startsWith('lwm2m-client-sim.') ? translate(key, vars) ?? key : original(key, vars));
  clientSimModule(red);
}
const NODES = [...ALL_NODES, clientSimNode];
const KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

interface Collected {
  events: Record<string, any>[];
  diagrams: Record<string, any>[];
}

function collect(): Collected {
  const c: Collected = { events: [], diagrams: [] };
  helper.getNode('h-trace').on('input', (m: Record<string, any>) => c.events.push(m));
  helper.getNode('h-diagram').on('input', (m: Record<string, any>) => c.diagrams.push(m));
  return c;
}

function simFlow(
  port: number,
  rdPort: number,
  sim: Record<string, unknown>,
  profile: Record<string, unknown> = {},
  lookup: Record<string, unknown> = {},
): object[] {
  const flow = bootstrapFlow({
    port,
    lookup,
    profiles: [{ ...NOSEC_PROFILE, servers: [{ ...NOSEC_PROFILE.servers[0], uri: `coap://127.0.0.1:${rdPort}`, lifetime: 60 }], ...profile }],
  });
  flow.push(
    {
      id: 'n-sim',
      z: 'tab',
      type: 'lwm2m-client-sim',
      mode: 'single',
      endpoint: 'sim-1',
      bsUri: `coap://127.0.0.1:${port}`,
      pskIdentity: '{ep}',
      version: '1.1',
      formats: '',
      autoStart: true,
      holdOff: '0',
      requestTimeout: '3',
      maxAttempts: '0',
      persist: false,
      summaryInterval: '0.2',
      ...sim,
      wires: [['h-trace'], ['h-diagram']],
    },
    { id: 'h-trace', z: 'tab', type: 'helper' },
    { id: 'h-diagram', z: 'tab', type: 'helper' },
  );
  return flow;
}

function nextWhere(node: RuntimeNode, pred: (m: Record<string, any>) => boolean, ms = 10000, what = 'message'): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} at ${node.id} within ${ms} ms`)), ms);
    const on = (m: Record<string, any>) => {
      if (!pred(m)) return;
      clearTimeout(timer);
      node.removeListener('input', on);
      resolve(m);
    };
    node.on('input', on);
  });
}

describe('client-sim node', function () {
  this.timeout(30000);
  let rd: RegistrationServer;
  const dirs: string[] = [];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    rd = await new RegistrationServer().listen();
  });
  afterEach(async () => {
    await helper.unload();
    await rd.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('bootstraps one device through the server nodes, registers, and reports trace, diagram and status', async () => {
    const port = await nextPort();
    const regs: string[] = [];
    rd.on('registered', (r: { endpoint: string }) => regs.push(r.endpoint));
    await helper.load(NODES, simFlow(port, rd.port, {}), { 'n-sim': { pskKey: KEY } });
    const got = collect();
    const diagram = await nextMessage(helper.getNode('h-diagram'), 10000);
    await until(() => regs.includes('sim-1'), 5000, 'registration at the RD');

    assert.equal(diagram.outcome, 'success');
    assert.equal(diagram.topic, 'sim-1');
    assert.equal(diagram.bootstrap.endpoint, 'sim-1');
    assert.equal(diagram.bootstrap.mode, 'request');
    assert.match(diagram.payload, /^sequenceDiagram/);
    assert.match(diagram.payload, /C->>BS: POST \/bs\?ep=sim-1&pct=/);
    assert.match(diagram.payload, /BS->>C: PUT \/1\//);
    assert.match(diagram.payload, /BS->>C: POST \/bs/);
    assert.match(diagram.payload, /C->>S1: POST \/rd\?ep=sim-1/);

    // The server side saw the same bootstrap end well.
    const serverDone = helper.getNode('h-success');
    assert.ok(serverDone, 'finish node present');

    const traces = got.events.filter((m) => m.event === 'trace').map((m) => m.payload);
    assert.ok(traces.some((e) => e.direction === 'out' && e.kind === 'request' && e.method === 'POST' && e.path === '/bs'));
    assert.ok(traces.some((e) => e.direction === 'in' && e.kind === 'request' && e.method === 'PUT' && e.path.startsWith('/0/')));
    assert.ok(traces.some((e) => e.direction === 'out' && e.kind === 'response' && e.method === 'POST' && e.path === '/bs' && e.code === '2.04'));
    // Collapsed in the debug sidebar, a trace shows its first key: a line with direction, method and code.
    assert.ok(traces.every((e) => Object.keys(e)[0] === 'summary'));
    assert.ok(traces.some((e) => e.summary === `sim-1 → bs  POST /bs?${e.query}`), traces.map((e) => e.summary).join('\n'));
    assert.ok(traces.some((e) => /^sim-1 ← bs {2}PUT \/1\//.test(e.summary)));
    assert.ok(traces.some((e) => /^sim-1 → bs {2}2\.04 \(POST \/bs/.test(e.summary)), 'a response shows its code');
    const secWrite = traces.find((e) => e.direction === 'in' && e.method === 'PUT' && e.path.startsWith('/0/'));
    assert.equal(Object.values(secWrite.payload as object).filter((v) => v === 'coap://127.0.0.1:' + rd.port).length, 1);
    const states = got.events.filter((m) => m.event === 'state').map((m) => m.payload.state);
    assert.deepEqual(states.slice(-3), ['bootstrapping', 'registering', 'registered']);

    const status = statusCalls(helper.getNode('n-sim'));
    assert.ok(status.some((s) => s.fill === 'yellow' && s.text === 'bootstrapping'));
    const last = status[status.length - 1];
    assert.ok(status.filter((x) => x.fill === 'green').every((x) => x.text === `registered: coap://127.0.0.1:${rd.port}`), 'never a green status without its server');
    assert.equal(last.fill, 'green');
    assert.equal(last.text, `registered: coap://127.0.0.1:${rd.port}`);

    assertNoKey(JSON.stringify([got.events, got.diagrams, status]), KEY, 'the outputs and status');
    assert.deepEqual(errorCalls(helper.getNode('n-sim')), []);
  });

  it('a NoSec-only device (noSecOnly) refuses the Security keys and still bootstraps: the flow retries without them', async () => {
    const port = await nextPort();
    const regs: string[] = [];
    rd.on('registered', (r: { endpoint: string }) => regs.push(r.endpoint));
    await helper.load(NODES, simFlow(port, rd.port, { endpoint: 'nosec-only', noSecOnly: true }), {});
    const got = collect();
    const diagram = await nextMessage(helper.getNode('h-diagram'), 10000);
    await until(() => regs.includes('nosec-only'), 5000, 'registration at the RD');
    assert.equal(diagram.outcome, 'success');
    const traces = got.events.filter((m) => m.event === 'trace').map((m) => m.payload);
    const secAnswers = traces.filter((e) => e.direction === 'out' && e.kind === 'response' && e.method === 'PUT' && /^\/0\/\d+$/.test(e.path));
    assert.deepEqual(secAnswers.map((e) => e.code), ['4.00', '2.04'], 'refused with the keys, taken without them');
    const secWrites = traces.filter((e) => e.direction === 'in' && e.kind === 'request' && e.method === 'PUT' && /^\/0\/\d+$/.test(e.path));
    assert.deepEqual(secWrites.map((e) => Object.keys(e.payload as object).filter((k) => /\/[345]$/.test(k)).length), [3, 0]);
    assert.deepEqual(errorCalls(helper.getNode('n-sim')), []);
  });

  for (const [version, formats, expect] of [
    ['1.0', '', { query: 'ep=v10', cf: 11542, mode: 'request' }],
    ['1.1', '110', { query: 'ep=v11&pct=110', cf: 110, mode: 'request' }],
    ['1.2', '', { query: 'ep=v12', cf: undefined, mode: 'pack' }],
  ] as [string, string, { query: string; cf?: number; mode: string }][]) {
    it(`LwM2M ${version}${formats ? ` accepting ${formats}` : ''}: bootstraps by ${expect.mode === 'pack' ? 'Bootstrap-Pack' : 'POST /bs'} and registers with lwm2m=${version}`, async () => {
      const port = await nextPort();
      const ep = `v${version.replace('.', '')}`;
      const regs: { endpoint: string; lwm2mVersion: string }[] = [];
      rd.on('registered', (r: { endpoint: string; lwm2mVersion: string }) => regs.push(r));
      await helper.load(NODES, simFlow(port, rd.port, { endpoint: ep, version, formats }), {});
      const got = collect();
      const d = await nextMessage(helper.getNode('h-diagram'), 10000);
      assert.equal(d.outcome, 'success');
      assert.equal(d.bootstrap.mode, expect.mode);
      await until(() => regs.some((r) => r.endpoint === ep), 5000, 'registration');
      assert.equal(regs.find((r) => r.endpoint === ep)?.lwm2mVersion, version);
      const traces = got.events.filter((m) => m.event === 'trace').map((m) => m.payload);
      if (expect.mode === 'pack') {
        assert.ok(traces.some((e) => e.direction === 'out' && e.method === 'GET' && e.path === '/bspack'));
        assert.ok(!traces.some((e) => e.direction === 'out' && e.method === 'POST' && e.path === '/bs'), 'no POST /bs after a pack');
      } else {
        assert.ok(traces.some((e) => e.direction === 'out' && e.method === 'POST' && e.path === '/bs' && e.query === expect.query), JSON.stringify(traces[0]));
        const writes = traces.filter((e) => e.direction === 'in' && e.method === 'PUT');
        assert.ok(writes.length >= 2 && writes.every((e) => e.contentFormat === expect.cf), JSON.stringify(writes.map((e) => e.contentFormat)));
      }
    });
  }

  it('masks the one-time PSK the server writes to the device in trace events and diagrams', async () => {
    const port = await nextPort();
    const extra = {
      servers: [
        { shortServerId: 1, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 60 },
        { shortServerId: 2, uri: 'coaps://127.0.0.1:9', securityMode: 'psk', pskIdentity: '${pskIdentity}', pskKey: { hex: '${pskKey}' }, lifetime: 60 },
      ],
    };
    await helper.load(NODES, simFlow(port, rd.port, {}, extra, { oneTimePsk: true }), { 'n-sim': { pskKey: KEY } });
    const got = collect();
    const found = nextMessage(helper.getNode('h-found'), 10000);
    const dmKey = String((await found).lwm2m.credentials.pskKey).toLowerCase();
    assert.match(dmKey, /^[0-9a-f]{32}$/);
    await until(() => got.events.some((m) => m.event === 'bootstrapped'), 10000, 'bootstrapped');
    const writes = got.events.filter((m) => m.event === 'trace' && m.payload.method === 'PUT' && m.payload.path.startsWith('/0/') && m.payload.kind === 'request');
    const values = writes.flatMap((m) => Object.entries(m.payload.payload as Record<string, unknown>));
    const keys = values.filter(([k]) => /^\/0\/\d+\/5$/.test(k));
    assert.ok(keys.length >= 1, 'the key resource was written: ' + JSON.stringify(values));
    assert.ok(keys.every(([, v]) => /^\*\*\* \(\d+ bytes\)$/.test(String(v))), JSON.stringify(keys));
    assert.ok(keys.some(([, v]) => v === '*** (16 bytes)'), 'the PSK account\'s key shows as its length only');
    const everything = JSON.stringify([got.events, got.diagrams, statusCalls(helper.getNode('n-sim'))]);
    assertNoKey(everything, dmKey, 'the outputs and status (the written key)');
    assertNoKey(everything, KEY, 'the outputs and status (the bootstrap key)');
  });

  it('stops (De-register), starts, reboots and re-bootstraps on command', async () => {
    const port = await nextPort();
    const log: string[] = [];
    rd.on('registered', (r: { endpoint: string }) => log.push(`reg ${r.endpoint}`));
    rd.on('deregistered', (r: { endpoint: string }) => log.push(`dereg ${r.endpoint}`));
    await helper.load(NODES, simFlow(port, rd.port, {}), { 'n-sim': { pskKey: KEY } });
    const sim = helper.getNode('n-sim');
    const diagrams = helper.getNode('h-diagram');
    await nextMessage(diagrams, 10000);
    await until(() => log.includes('reg sim-1'), 5000, 'registered');
    const bootstraps = () => helper.getNode('n-sim').controller.clients[0].bootstrapCount as number;
    assert.equal(bootstraps(), 1);

    sim.receive({ payload: 'stop' });
    await until(() => log.includes('dereg sim-1'), 5000, 'De-register');
    await until(() => statusCalls(sim).slice(-1)[0]?.text === 'stopped', 2000, 'stopped status');

    // Start again: the configuration is kept (in memory), so it registers without bootstrapping.
    sim.receive({ command: 'start' });
    await until(() => log.filter((l) => l === 'reg sim-1').length === 2, 5000, 'second registration');
    assert.equal(bootstraps(), 1);

    // Reboot: power cycle without De-register, registers again from the stored configuration.
    const before = log.length;
    sim.receive({ payload: { command: 'reboot' } });
    await until(() => log.slice(before).includes('reg sim-1'), 5000, 'registration after reboot');
    assert.ok(!log.slice(before).includes('dereg sim-1'), 'no De-register on reboot');
    assert.equal(bootstraps(), 1);

    // Re-bootstrap: leaves the server, bootstraps again, a second diagram.
    const second = nextMessage(diagrams, 10000);
    sim.receive({ payload: 'rebootstrap' });
    const d = await second;
    assert.equal(d.outcome, 'success');
    assert.equal(d.bootstrap.bootstrapId, 2);
    assert.equal(bootstraps(), 2);

    // Status answers on output 1.
    const reply = nextWhere(helper.getNode('h-trace'), (m) => m.event === 'status', 3000, 'status reply');
    sim.receive({ payload: 'status' });
    const s = await reply;
    assert.equal(s.payload.endpoint, 'sim-1');
    assert.equal(s.payload.bootstraps, 2);
  });

  it('reports a failed bootstrap when the device rejects Bootstrap-Finish', async () => {
    const port = await nextPort();
    await helper.load(NODES, simFlow(port, rd.port, { rejectFinish: true, maxAttempts: '1', requestTimeout: '1' }), { 'n-sim': { pskKey: KEY } });
    const serverSide = nextMessage(helper.getNode('h-failure'), 10000);
    const d = await nextMessage(helper.getNode('h-diagram'), 10000);
    assert.equal(d.outcome, 'failure');
    assert.match(d.bootstrap.reason, /Bootstrap-Finish refused \(4\.06/);
    assert.match(d.payload, /C-->>BS: 4\.06 Not Acceptable/);
    assert.match(d.payload, /Note over C: bootstrap failed/);
    const fromServer = await serverSide;
    assert.equal(fromServer.lwm2m.endpoint, 'sim-1');
    const sim = helper.getNode('n-sim');
    await until(() => statusCalls(sim).slice(-1)[0]?.fill === 'red', 3000, 'red status');
    assert.match(String(statusCalls(sim).slice(-1)[0].text), /^failed: Bootstrap-Finish refused/);
    assert.equal(rd.registrations.size, 0);
  });

  it('sets and clears faults by message, and refuses unknown commands and faults with a clear error', async () => {
    const port = await nextPort();
    await helper.load(NODES, [...simFlow(port, rd.port, { autoStart: false })], { 'n-sim': { pskKey: KEY } });
    const sim = helper.getNode('n-sim');
    await until(() => statusCalls(sim).some((s) => s.text === 'idle'), 3000, 'idle status');
    const trace = helper.getNode('h-trace');
    const reply = nextWhere(trace, (m) => m.event === 'faults', 3000, 'faults reply');
    sim.receive({ payload: 'fault', faults: { dropRate: 0.3, wrongPsk: true } });
    const r = await reply;
    assert.deepEqual(r.payload, { faults: { dropRate: 0.3, wrongPsk: true }, devices: 1 });
    const client = sim.controller.clients[0];
    assert.equal(client.faults.opts.dropRate, 0.3);
    assert.match(client.faults.opts.wrongPskKey, /^[0-9a-f]{32}$/);
    sim.receive({ payload: 'clear-faults' });
    await until(() => Object.keys(client.faults.opts).length === 0, 2000, 'faults cleared');

    const caught = helper.getNode('h-caught');
    const bad = nextMessage(caught, 3000);
    sim.receive({ payload: 'explode' });
    assert.match((await bad).error.message, /Unknown command "explode"/);
    const bad2 = nextMessage(caught, 3000);
    sim.receive({ payload: 'fault', faults: { dropRate: 2 } });
    assert.match((await bad2).error.message, /Invalid faults: dropRate must be a number from 0 to 1/);
    const bad3 = nextMessage(caught, 3000);
    sim.receive({ payload: 'fault', faults: { melt: true } });
    assert.match((await bad3).error.message, /unknown fault "melt"/);
    assert.equal(client.state, 'idle', 'not started by any of this');
  });

  it('takes the bootstrap server port from ${BS_PORT} inside the URI', async () => {
    const port = await nextPort();
    const saved = process.env.BS_PORT;
    process.env.BS_PORT = String(port);
    try {
      await helper.load(NODES, simFlow(port, rd.port, { bsUri: 'coap://127.0.0.1:${BS_PORT}' }), { 'n-sim': { pskKey: KEY } });
      const d = await nextMessage(helper.getNode('h-diagram'), 10000);
      assert.equal(d.outcome, 'success');
    } finally {
      if (saved === undefined) delete process.env.BS_PORT;
      else process.env.BS_PORT = saved;
    }
  });

  it('keeps the configuration in the store directory and registers from it after a redeploy', async () => {
    const port = await nextPort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-sim-'));
    dirs.push(dir);
    const flow = () => simFlow(port, rd.port, { persist: true, storeDir: dir });
    await helper.load(NODES, flow(), { 'n-sim': { pskKey: KEY } });
    await nextMessage(helper.getNode('h-diagram'), 10000);
    await until(() => !!rd.byEndpoint('sim-1'), 5000, 'registered');
    const file = path.join(dir, 'sim-1.json');
    assert.ok(fs.existsSync(file), 'store saved');
    assert.ok(!fs.readFileSync(file, 'utf8').toLowerCase().includes(KEY), 'the store file holds the key in base64, not as hex text');
    const devicePort = helper.getNode('n-sim').controller.clients[0].port as number;
    assert.ok(devicePort > 0);
    await helper.unload();
    assert.equal(rd.byEndpoint('sim-1'), undefined, 'closing the flow de-registers');
    // ...and releases the device's socket: its port can be bound again.
    const again = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(devicePort, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => again.close(() => r()));

    const requests: unknown[] = [];
    await helper.load(NODES, flow(), { 'n-sim': { pskKey: KEY } });
    helper.getNode('h-requests').on('input', (m: unknown) => requests.push(m));
    await until(() => !!rd.byEndpoint('sim-1'), 5000, 'registered again');
    assert.equal(requests.length, 0, 'no Bootstrap-Request after the redeploy');
    assert.equal(helper.getNode('n-sim').controller.clients[0].bootstrapCount, 0);
  });

  it('runs a fleet of 30 devices with periodic summaries instead of per-message events', async () => {
    const port = await nextPort();
    await helper.load(
      NODES,
      simFlow(port, rd.port, { mode: 'fleet', endpoint: 'meter-{n:3}', count: '30', concurrency: '10', startJitter: '0.6', pskIdentity: 'id-{ep}' }),
      { 'n-sim': { pskKey: '00112233445566778899aabbccdd{n:4}' } },
    );
    const got = collect();
    const settled = await nextWhere(helper.getNode('h-trace'), (m) => m.event === 'settled', 25000, 'settled summary');
    assert.equal(settled.payload.total, 30);
    assert.equal(settled.payload.registered, 30);
    assert.equal(settled.payload.bootstrapped, 30);
    assert.equal(settled.payload.failed, 0);
    // What an operator looks for, at the top where the collapsed debug message shows it.
    assert.deepEqual(Object.keys(settled.payload).slice(0, 3), ['summary', 'registered', 'failed']);
    assert.equal(settled.payload.summary, '30/30 registered, 0 failed, 0 in progress');
    assert.equal(rd.registrations.size, 30);
    assert.ok(rd.byEndpoint('meter-001') && rd.byEndpoint('meter-030'));
    assert.ok(got.events.every((m) => m.event === 'summary' || m.event === 'settled'), 'no trace flood');
    assert.ok(got.events.filter((m) => m.event === 'summary').length >= 1);
    assert.equal(got.diagrams.length, 1, 'one diagram (the first bootstrap) for the whole fleet');
    const sim = helper.getNode('n-sim');
    const last = statusCalls(sim).slice(-1)[0];
    assert.equal(last.fill, 'green');
    assert.equal(last.text, '30/30 registered · 0 in progress · 0 failed');
    const everything = JSON.stringify([got.events, got.diagrams, statusCalls(sim)]);
    assert.ok(!everything.includes('00112233445566778899aabbccdd'), 'no key (or key pattern) in outputs');
  });

  it('runs a fleet from a device table file, and stops one device by name', async () => {
    const port = await nextPort();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'client-sim-table-'));
    dirs.push(dir);
    const keys = ['00', '01', '02', '03'].map((k) => `aabbccddeeff00112233445566778899aabbcc${k}`);
    const file = path.join(dir, 'devices.csv');
    fs.writeFileSync(file, 'endpoint,pskIdentity,pskKey\n' + keys.map((k, i) => `urn:dev:t${i},id-t${i},${k}`).join('\n') + '\n');
    await helper.load(NODES, simFlow(port, rd.port, { mode: 'fleet', endpoint: 'ignored', deviceFile: file, concurrency: '2' }), {});
    const trace = helper.getNode('h-trace');
    const settled = await nextWhere(trace, (m) => m.event === 'settled', 15000, 'settled');
    assert.equal(settled.payload.registered, 4);
    for (let i = 0; i < 4; i++) assert.ok(rd.byEndpoint(`urn:dev:t${i}`), `urn:dev:t${i} registered`);
    const sim = helper.getNode('n-sim');
    const c = sim.controller.clients.find((x: { endpointName: string }) => x.endpointName === 'urn:dev:t2');
    assert.equal(c.options.bootstrapServer.pskIdentity, 'id-t2');

    sim.receive({ payload: 'stop', endpoint: 'urn:dev:t2' });
    await until(() => !rd.byEndpoint('urn:dev:t2'), 5000, 'urn:dev:t2 de-registered');
    assert.equal(rd.registrations.size, 3, 'the others stay registered');
    const caught = nextMessage(helper.getNode('h-caught'), 3000);
    sim.receive({ payload: 'reboot', endpoint: 'urn:dev:nobody' });
    assert.match((await caught).error.message, /No such device: urn:dev:nobody/);
    const everything = JSON.stringify(statusCalls(sim)) + JSON.stringify(settled);
    for (const k of keys) assert.ok(!everything.includes(k));
  });

  it('a device that vanishes mid-bootstrap fails on both sides: object write reports the timeout, the device its missing Finish', async () => {
    const port = await nextPort();
    await helper.load(NODES, simFlow(port, rd.port, { vanishAfter: '2', requestTimeout: '1', maxAttempts: '1' }), {});
    const serverErr = nextMessage(helper.getNode('h-err'), 10000);
    const d = await nextMessage(helper.getNode('h-diagram'), 10000);
    assert.equal(d.outcome, 'failure');
    assert.match(d.bootstrap.reason, /^no Bootstrap-Finish within 1000 ms$/);
    const err = await serverErr;
    assert.equal(err.lwm2m.endpoint, 'sim-1');
    const steps = err.lwm2m.steps as { success: boolean; error?: string }[];
    assert.ok(steps.length >= 3 && steps.filter((s) => s.success).length === 2, JSON.stringify(steps));
    assert.match(String(steps[steps.length - 1].error), /no response|timed? ?out/i);
  });

  it('answers slowly when told to: every server request waits the response delay', async () => {
    const port = await nextPort();
    // The answers come one after the other, each 150 ms late: three or more cannot be done before 400 ms.
    const delaysNear = markAfter(3 * 150 - 50);
    await helper.load(NODES, simFlow(port, rd.port, { responseDelay: '150' }), {});
    const ok = await nextMessage(helper.getNode('h-ok'), 10000);
    const steps = ok.lwm2m.steps as { ms: number }[];
    assert.ok(steps.length >= 3);
    assert.ok(delaysNear.fired, `the answers waited for their delays: ${JSON.stringify(steps)}`);
  });

  it('refuses invalid settings with a translated error and a red status', async () => {
    const port = await nextPort();
    await helper.load(NODES, simFlow(port, rd.port, { mode: 'fleet', endpoint: 'no-pattern' }), {});
    const sim = helper.getNode('n-sim');
    assert.match(String(errorCalls(sim)[0]?.[0]), /must contain \{n\}/);
    assert.equal(statusCalls(sim).slice(-1)[0].fill, 'red');
  });
});

/**
 * In the real Node-RED runtime: the factory-config node exports a device table's factory files (0600, keys
 * written back, none on the message or in the status), and the listener starts a server-initiated bootstrap
 * of a simulated LwM2M 1.0 device from an input message, run to its end by the ordinary lookup, write and
 * finish nodes.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RegistrationServer } from '../../lib/rd';
import { nextPort } from '../support/ports';
import { bootstrapFlow, NOSEC_PROFILE } from './support/flows';
import { ALL_NODES, errorCalls, helper, nextMessage, statusCalls, until, type RuntimeNode } from './support/runtime';

const dist = path.resolve(__dirname, '..', '..', 'nodes');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const factoryNode = require(path.join(dist, 'factory-config', 'factory-config.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const clientSimNode = require(path.join(dist, 'client-sim', 'client-sim.js'));
const NODES = [...ALL_NODES, factoryNode, clientSimNode];

describe('factory-config node and server-initiated bootstrap in a flow', function () {
  this.timeout(30000);
  let dir: string;
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-node-'));
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exports the table on a message: files 0600, generated keys in the table, only names on the message, status with counts', async () => {
    const table = path.join(dir, 'devices.csv');
    fs.writeFileSync(table, 'endpoint,profile,pskIdentity,pskKey\nnode-1,,,\nnode-2,,,\n');
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'n-table', type: 'lwm2m-device-table', file: table, format: 'auto', keyColumn: 'endpoint', profileColumn: 'profile', matchOn: 'endpoint', keyRegex: '' },
      {
        id: 'n-factory', z: 'tab', type: 'lwm2m-factory-config', deviceTable: 'n-table', bootstrapUri: 'coaps://bs.example.net:5684', mode: 'bootstrap',
        profiles: '', defaultProfile: '', formats: 'senml-cbor,nrf91', outDir: path.join(dir, 'out'), keyBytes: '32', holdOff: '0', secTag: '',
        identityColumn: 'pskIdentity', pskColumn: 'pskKey', writeBack: true, wires: [['h-out']],
      },
      { id: 'h-out', z: 'tab', type: 'helper' },
    ];
    await helper.load(NODES, flow);
    const n = helper.getNode('n-factory') as RuntimeNode & { receive(m: unknown): void };
    const out = nextMessage(helper.getNode('h-out'));
    n.receive({ payload: 'all' });
    const msg = await out;
    assert.equal(msg.payload.devices, 2);
    assert.deepEqual([...msg.payload.files].sort(), ['node-1.nrf91.sh', 'node-1.senml.cbor', 'node-2.nrf91.sh', 'node-2.senml.cbor']);
    assert.deepEqual(msg.payload.generated, ['node-1', 'node-2']);
    for (const f of msg.payload.files) assert.equal(fs.statSync(path.join(dir, 'out', f)).mode & 0o777, 0o600);
    const rows = fs.readFileSync(table, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const r of rows) assert.match(r[3], /^[0-9a-f]{64}$/, '32-byte keys as set in the node');
    const shown = JSON.stringify([msg, statusCalls(n)]);
    for (const r of rows) assert.ok(!shown.includes(r[3]), 'no key on the message or in the status');
    // (the test helper's RED._ gives catalog keys, not texts)
    assert.deepEqual(statusCalls(n).map((s) => [s.fill, s.text]), [['yellow', 'lwm2m-factory-config.status.working'], ['green', 'lwm2m-factory-config.status.done']]);
    assert.match(fs.readFileSync(path.join(dir, 'out', 'node-1.nrf91.sh'), 'utf8'), new RegExp(`AT%CMNG=0,1111,3,"${rows[0][3]}"`));
  });

  it('factory-to-DM without a profiles node fails the message with a clear error', async () => {
    const table = path.join(dir, 'devices.csv');
    fs.writeFileSync(table, 'endpoint\nx-1\n');
    await helper.load(NODES, [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'n-table', type: 'lwm2m-device-table', file: table, format: 'auto', keyColumn: 'endpoint', profileColumn: 'profile', matchOn: 'endpoint', keyRegex: '' },
      { id: 'n-factory', z: 'tab', type: 'lwm2m-factory-config', deviceTable: 'n-table', bootstrapUri: 'coap://127.0.0.1', mode: 'dm', profiles: '', formats: 'json', outDir: path.join(dir, 'o'), writeBack: true, wires: [[]] },
    ]);
    const n = helper.getNode('n-factory') as RuntimeNode & { receive(m: unknown): void };
    n.receive({ payload: 'go' });
    await until(() => errorCalls(n).length > 0, 5000, 'an error');
    assert.match(String(errorCalls(n)[0][0]), /errors\.noProfiles/);
    assert.ok(!fs.existsSync(path.join(dir, 'o')));
  });

  it('a message to the listener starts a server-initiated bootstrap of a 1.0 device; lookup, write and finish run it and the device registers', async () => {
    const rd = await new RegistrationServer().listen();
    try {
      const port = await nextPort();
      const flow = bootstrapFlow({ port, profiles: [{ ...NOSEC_PROFILE, servers: [{ ...NOSEC_PROFILE.servers[0], uri: `coap://127.0.0.1:${rd.port}`, lifetime: 60 }] }] });
      flow.push(
        {
          id: 'n-sim', z: 'tab', type: 'lwm2m-client-sim', mode: 'single', endpoint: 'legacy-sim', bsUri: `coap://127.0.0.1:${port}`, pskIdentity: '',
          version: '1.0', formats: '', autoStart: true, holdOff: '600', requestTimeout: '3', maxAttempts: '0', persist: false, summaryInterval: '1',
          wires: [['h-trace'], []],
        },
        { id: 'h-trace', z: 'tab', type: 'helper' },
      );
      await helper.load(NODES, flow);
      const sim = helper.getNode('n-sim') as RuntimeNode & { controller: { clients: { port: number; state: string }[] } };
      await until(() => sim.controller.clients[0]?.state === 'holdoff', 10000, 'the device waiting out its hold-off');
      const registered = new Promise<string>((resolve) => rd.once('registered', (r: { endpoint: string }) => resolve(r.endpoint)));
      const requests = helper.getNode('h-requests');
      const opened = nextMessage(requests);
      const done = nextMessage(helper.getNode('h-success'), 15000);
      (helper.getNode('n-listener') as RuntimeNode & { receive(m: unknown): void }).receive({
        payload: { endpoint: 'legacy-sim', address: '127.0.0.1', port: sim.controller.clients[0].port },
      });
      const first = await opened;
      assert.equal(first.lwm2m.kind, 'server-initiated');
      assert.equal(first.lwm2m.endpoint, 'legacy-sim');
      const fin = await done;
      assert.equal(fin.lwm2m.kind, 'server-initiated');
      assert.ok(fin.lwm2m.steps.some((s: { op: string; code: string }) => s.op === 'finish' && s.code === '2.04'), JSON.stringify(fin.lwm2m.steps));
      assert.equal(await registered, 'legacy-sim');
      // A bad target is refused with a clear error and the listener keeps going.
      const listener = helper.getNode('n-listener') as RuntimeNode & { receive(m: unknown): void };
      listener.receive({ payload: { endpoint: 'x', address: 'nowhere', port: 5683 } });
      await until(() => errorCalls(listener).length > 0, 5000, 'an error');
      assert.match(String(errorCalls(listener)[0][0]), /serverInitiated\.badAddress|IP address/);
    } finally {
      await rd.close();
    }
  });
});

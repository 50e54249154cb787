/**
 * profile lookup in the runtime: named profiles, the device table with hot reload, msg.profile from
 * upstream, one-time PSK credentials (and that no key leaks into status, logs or audit), and invalid
 * profiles reported with JSON pointers.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decode } from '../../lib/codec';
import { LwM2mPath } from '../../lib/model/path';
import { assertNoKey } from '../support/no-secret';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, NOSEC_PROFILE, patch, rejectNode } from './support/flows';
import { ALL_NODES, callsOf, errorCalls, helper, nextMessage, statusCalls, until } from './support/runtime';

function request(endpoint: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { lwm2m: { sessionId: 's-' + endpoint, listenerId: 'n-listener', endpoint, kind: 'bootstrap', peer: { address: '127.0.0.1', port: 1 }, query: {}, steps: [] }, ...extra };
}

const METERS = {
  name: 'meters',
  autoId: true,
  servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5783', securityMode: 'nosec', lifetime: '${lifetime}' }],
  objects: { '11': [{ instanceId: 0, resources: { '0': 'default', '1': '${apn}', '4': 0 } }] },
  templates: { apn: 'internet.m2m', lifetime: 300 },
};
const GATEWAYS = { ...NOSEC_PROFILE, name: 'gateways' };

describe('server nodes: profile lookup', function () {
  this.timeout(20000);
  let dir: string;
  let dev: ScriptedDevice | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-lookup-'));
  });
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A flow whose lookup feeds only helper sinks (no device needed). */
  async function lookupOnly(opts: Parameters<typeof bootstrapFlow>[0]): Promise<void> {
    const flow = bootstrapFlow(opts);
    patch(flow, 'n-lookup', { wires: [['h-found'], ['h-notFound']] });
    await helper.load(ALL_NODES, flow);
  }

  it('fills the default profile with its template defaults and ${endpoint}', async () => {
    await lookupOnly({ port: await nextPort(), profiles: [{ ...METERS, servers: [{ ...METERS.servers[0], uri: 'coap://${endpoint}.dm.example:5683' }] }] });
    const found = nextMessage(helper.getNode('h-found'));
    helper.getNode('n-lookup').receive(request('m-1'));
    const msg = await found;
    assert.equal(msg.lwm2m.profileName, 'meters');
    assert.equal(msg.profile.servers[0].uri, 'coap://m-1.dm.example:5683');
    assert.equal(msg.profile.servers[0].lifetime, 300);
    assert.equal(msg.profile.objects['11'][0].resources['1'], 'internet.m2m');
    const st = statusCalls(helper.getNode('n-lookup'));
    assert.deepEqual(st[st.length - 1], { fill: 'green', shape: 'dot', text: 'lwm2m-profile-lookup.status.found' });
  });

  it('picks profile and values from the device table, and sees the table change', async () => {
    const file = path.join(dir, 'devices.csv');
    fs.writeFileSync(file, 'endpoint,profile,apn,lifetime\nm-7,meters,iot.seven,600\ngw-1,gateways,,\n');
    await lookupOnly({ port: await nextPort(), profiles: [METERS, GATEWAYS], table: { file }, lookup: { unknownDevice: 'notFound' } });
    const lookup = helper.getNode('n-lookup');
    const table = helper.getNode('n-table');
    await until(() => table.table?.count === 2, 5000, 'table loaded');

    let found = nextMessage(helper.getNode('h-found'));
    lookup.receive(request('m-7'));
    let msg = await found;
    assert.equal(msg.lwm2m.profileName, 'meters');
    assert.equal(msg.profile.objects['11'][0].resources['1'], 'iot.seven');
    assert.equal(msg.profile.servers[0].lifetime, 600, 'a CSV number fills a number field');

    found = nextMessage(helper.getNode('h-found'));
    lookup.receive(request('gw-1'));
    assert.equal((await found).lwm2m.profileName, 'gateways');

    const notFound = nextMessage(helper.getNode('h-notFound'));
    lookup.receive(request('m-8'));
    msg = await notFound;
    assert.equal(msg.lwm2m.notFound.reason, 'notInTable');
    assert.equal(msg.lwm2m.notFound.key, 'm-8');

    // The operator adds m-8: the next Bootstrap-Request finds it, no redeploy.
    await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(file, 'endpoint,profile,apn,lifetime\nm-7,meters,iot.seven,600\nm-8,meters,iot.eight,900\n');
    await until(() => table.table?.count === 2 && table.table?.lastError === undefined, 5000, 'reload');
    await new Promise((r) => setTimeout(r, 1100)); // past the table's stat interval
    found = nextMessage(helper.getNode('h-found'));
    lookup.receive(request('m-8'));
    msg = await found;
    assert.equal(msg.profile.objects['11'][0].resources['1'], 'iot.eight');
    assert.equal(msg.profile.servers[0].lifetime, 900);
  });

  it('fills a placeholder from the environment, where the device table row has no such column', async () => {
    const file = path.join(dir, 'devices.csv');
    fs.writeFileSync(file, 'endpoint,profile,apn\nm-9,envs,iot.nine\n');
    const ENVS = { ...METERS, name: 'envs', objects: { '11': [{ instanceId: 0, resources: { '0': '${lookupTestName}', '1': '${apn}', '4': 0 } }] } };
    const saved = { apn: process.env.apn, name: process.env.lookupTestName };
    process.env.apn = 'apn.from.env';
    process.env.lookupTestName = 'name from env';
    try {
      await lookupOnly({ port: await nextPort(), profiles: [ENVS], table: { file }, lookup: { unknownDevice: 'notFound' } });
      const table = helper.getNode('n-table');
      await until(() => table.table?.count === 1, 5000, 'table loaded');
      const found = nextMessage(helper.getNode('h-found'));
      helper.getNode('n-lookup').receive(request('m-9'));
      const msg = await found;
      assert.equal(msg.profile.objects['11'][0].resources['0'], 'name from env');
      assert.equal(msg.profile.objects['11'][0].resources['1'], 'iot.nine', "the row's value wins over the environment's");
    } finally {
      if (saved.apn === undefined) delete process.env.apn;
      else process.env.apn = saved.apn;
      if (saved.name === undefined) delete process.env.lookupTestName;
      else process.env.lookupTestName = saved.name;
    }
  });

  it('validates msg.profile from upstream and reports problems with their JSON pointers', async () => {
    await lookupOnly({ port: await nextPort() });
    const caught = nextMessage(helper.getNode('h-caught'));
    helper.getNode('n-lookup').receive(
      request('m-1', { profile: { name: 'bad', servers: [{ shortServerId: 70000, uri: 'coaps://dm:5684', securityMode: 'psk', pskIdentity: 'x' }] } }),
    );
    const c = await caught;
    assert.match(c.error.message, /\/servers\/0\/shortServerId/);
    assert.match(c.error.message, /\/servers\/0/);
    assert.match(c.error.message, /pskKey/);
    const st = statusCalls(helper.getNode('n-lookup'));
    assert.equal(st[st.length - 1].fill, 'red');
  });

  it('reports a placeholder left without a value, naming where it is', async () => {
    const p = { ...NOSEC_PROFILE, servers: [{ ...NOSEC_PROFILE.servers[0], uri: 'coap://${dmHost}:5683' }] };
    await lookupOnly({ port: await nextPort(), profiles: [p] });
    const caught = nextMessage(helper.getNode('h-caught'));
    helper.getNode('n-lookup').receive(request('m-1'));
    const c = await caught;
    assert.match(c.error.message, /\/servers\/0\/uri/);
    assert.match(c.error.message, /dmHost/);
  });

  it('a profile that breaks the schema turns profiles and lookup red at deploy and answers the device at once', async () => {
    // Valid JSON, a typo the schema catches, inside a server that also holds placeholders (issue 13).
    const typo = { ...NOSEC_PROFILE, servers: [{ shortServerId: 1, uri: '${DM_SERVER_URI}', securityMode: 'nosec', lifetime: 300, bindng: 'U' }] };
    const port = await nextPort();
    const flow = bootstrapFlow({ port, profiles: [typo], listener: { decisionTimeout: '60' } });
    patch(flow, 'n-lookup', { wires: [['n-write', 'h-found'], ['n-reject']] });
    flow.push(...rejectNode('n-reject', '4.04', 'invalid profile'));
    await helper.load(ALL_NODES, flow);
    const profiles = helper.getNode('n-profiles');
    const lookup = helper.getNode('n-lookup');
    const logged = errorCalls(profiles).map((a) => String(a[0]));
    assert.deepEqual(logged, ['lwm2m-bootstrap-profiles.errors.issue'], 'an error per problem in the log');
    assert.match(String(profiles.configError), /errors\.invalid/);
    assert.deepEqual(errorCalls(lookup).map((a) => String(a[0])), ['lwm2m-profile-lookup.errors.badProfiles']);
    const st = statusCalls(lookup);
    assert.equal(st.length, 1, 'red before any device asks');
    assert.equal(st[0].fill, 'red');
    assert.equal(st[0].text, profiles.configError);

    // The device is answered by the not-found path, not after the listener's decision timeout.
    const rejected = nextMessage(helper.getNode('h-rejected'));
    dev = await ScriptedDevice.create();
    const res = await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'typo-1' });
    assert.equal(res.code, '4.04');
    const msg = await rejected;
    assert.equal(msg.lwm2m.notFound.reason, 'invalidProfile');
    assert.equal(msg.lwm2m.notFound.pointer, '/servers/0/bindng');
  });

  it('warns in the log when a device-table row has a missing column (line number, no cell content)', async () => {
    const file = path.join(dir, 'devices.csv');
    fs.writeFileSync(file, 'endpoint,profile,apn\nm-7,meters,iot.seven\nm-8,meters\n');
    await lookupOnly({ port: await nextPort(), profiles: [METERS], table: { file } });
    const table = helper.getNode('n-table');
    await until(() => callsOf(table, 'warn').length > 0, 5000, 'a warning');
    assert.deepEqual(callsOf(table, 'warn').map((a) => String(a[0])), ['lwm2m-device-table.log.rowWarnings']);
    assert.deepEqual(table.table.lastWarnings.map((w: { line: number }) => w.line), [3]);
  });

  it('checks profiles for the editor through the admin endpoint', async () => {
    await lookupOnly({ port: await nextPort() });
    const bad = JSON.stringify([{ name: 'a', servers: [{ shortServerId: 1, uri: 'coaps://dm:5684', securityMode: 'psk', pskIdentity: 'id' }] }, { name: 'a' }]);
    const res = await helper.request().post('/lwm2m-bootstrap/profiles/validate').send({ profiles: bad }).expect(200);
    const body = res.body as { ok: boolean; issues: { pointer: string; message: string }[] };
    assert.equal(body.ok, false);
    assert.ok(body.issues.some((i) => i.pointer.startsWith('/0/servers/0')), JSON.stringify(body.issues));
    assert.ok(body.issues.some((i) => i.pointer === '/1/name' && /twice/.test(i.message)));
    const good = await helper.request().post('/lwm2m-bootstrap/profiles/validate').send({ profiles: JSON.stringify([NOSEC_PROFILE]) }).expect(200);
    assert.deepEqual(good.body, { ok: true, names: ['meters'], issues: [], literalSecrets: [] });
    // A key typed into a profile would land in the flow file: flagged by pointer, the key itself never echoed.
    const key = '00112233445566778899aabbccddeeff';
    const literal = JSON.stringify([
      { name: 'lit', servers: [{ shortServerId: 1, uri: 'coaps://dm:5684', securityMode: 'psk', pskIdentity: 'id', pskKey: { hex: key } }] },
      { name: 'ph', servers: [{ shortServerId: 1, uri: 'coaps://dm:5684', securityMode: 'psk', pskIdentity: 'id', pskKey: { hex: '${DM_PSK_KEY}' } }] },
    ]);
    const lit = await helper.request().post('/lwm2m-bootstrap/profiles/validate').send({ profiles: literal }).expect(200);
    assert.deepEqual((lit.body as { literalSecrets: string[] }).literalSecrets, ['/0/servers/0/pskKey']);
    assert.ok(!lit.text.includes(key));
    const schema = await helper.request().get('/lwm2m-bootstrap/profile.schema.json').expect(200);
    assert.match(schema.text, /"\$id"/);
  });

  it('fills keys from the profiles\' secret values (credentials), never from the flow', async () => {
    const key = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const psk = {
      name: 'meters',
      servers: [{ shortServerId: 1, uri: 'coaps://dm:5684', securityMode: 'psk', pskIdentity: '${endpoint}', pskKey: { hex: '${DM_PSK_KEY}' } }],
    };
    const flow = bootstrapFlow({ port: await nextPort(), profiles: [psk] });
    patch(flow, 'n-lookup', { wires: [['h-found'], ['h-notFound']] });
    await helper.load(ALL_NODES, flow, { 'n-profiles': { secrets: JSON.stringify({ DM_PSK_KEY: key }) } });
    const found = nextMessage(helper.getNode('h-found'));
    helper.getNode('n-lookup').receive(request('m-5'));
    const msg = await found;
    assert.deepEqual(msg.profile.servers[0].pskKey, { hex: key });
    assert.equal(msg.profile.servers[0].pskIdentity, 'm-5');
    assertNoKey(JSON.stringify(helper.log().args), key, 'the log');
    assert.deepEqual(callsOf(helper.getNode('n-profiles'), 'warn'), [], 'no literal key warning for a placeholder');
  });

  it('reports secret values that are not JSON without echoing them', async () => {
    const flow = bootstrapFlow({ port: await nextPort() });
    await helper.load(ALL_NODES, flow, { 'n-profiles': { secrets: 'DM_PSK_KEY=topsecret' } });
    const errs = errorCalls(helper.getNode('n-profiles'));
    assert.deepEqual(errs.map((a) => a[0]), ['lwm2m-bootstrap-profiles.errors.badSecrets']);
    assert.ok(!JSON.stringify(helper.log().args).includes('topsecret'));
  });

  it('generates a one-time PSK per bootstrap, writes it to the device and never shows the key', async () => {
    const port = await nextPort();
    const psk = {
      name: 'meters',
      autoId: true,
      servers: [{ shortServerId: 1, uri: 'coaps://127.0.0.1:5784', securityMode: 'psk', pskIdentity: '${pskIdentity}', pskKey: { hex: '${pskKey}' } }],
    };
    await helper.load(ALL_NODES, bootstrapFlow({ port, profiles: [psk], lookup: { oneTimePsk: true, identityPrefix: '${endpoint}-', keyBytes: '32' } }));
    const success = nextMessage(helper.getNode('h-success'));
    dev = await ScriptedDevice.create();
    await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'otp-1', pct: 11542 });
    const msg = await success;
    const cred = msg.lwm2m.credentials;
    assert.equal(cred.secret, true);
    assert.match(cred.pskIdentity, /^otp-1-[0-9a-f]{16}$/);
    assert.match(cred.pskKey, /^[0-9a-f]{64}$/);

    // The device got exactly these credentials in its Security instance.
    const sec = dev.received.find((r) => r.method === 'PUT' && r.path.startsWith('/0/'))!;
    const inst = decode(sec.contentFormat!, LwM2mPath.parse(sec.path), sec.payload);
    assert.equal(inst.kind, 'instance');
    if (inst.kind !== 'instance') return;
    const res = (id: number) => {
      const r = inst.resources.get(id);
      return r && r.kind === 'single' ? r.value : undefined;
    };
    assert.equal(Buffer.from(res(3) as Buffer).toString('utf8'), cred.pskIdentity);
    assert.equal(Buffer.from(res(5) as Buffer).toString('hex'), cred.pskKey);

    // A second bootstrap gets other credentials.
    const again = nextMessage(helper.getNode('h-success'));
    await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'otp-1', pct: 11542 });
    assert.notEqual((await again).lwm2m.credentials.pskKey, cred.pskKey);

    // No key in any status, log line, audit record or summary, in any spelling (hex, base64, bytes, ...).
    const key = cred.pskKey as string;
    for (const id of ['n-listener', 'n-lookup', 'n-write', 'n-finish']) {
      const node = helper.getNode(id);
      assertNoKey(JSON.stringify(statusCalls(node)), key, `${id} status`);
      assertNoKey(JSON.stringify(errorCalls(node)), key, `${id} errors`);
      assertNoKey(JSON.stringify(callsOf(node, 'warn')), key, `${id} warnings`);
      assertNoKey(JSON.stringify(callsOf(node, 'log')), key, `${id} log`);
    }
    assertNoKey(JSON.stringify(helper.log().args), key, 'log');
    assertNoKey(JSON.stringify(msg.lwm2m.audit), key, 'audit');
    assertNoKey(JSON.stringify(msg.lwm2m.steps), key, 'steps');
    assertNoKey(JSON.stringify(msg.payload), key, 'payload');
  });
});

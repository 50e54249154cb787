/**
 * Factory provisioning export: the command line on a 3-device CSV writes every format (0600), generates the
 * missing keys and writes them back to the table; the SenML CBOR decodes (with the package's decoder and,
 * independently, with cbor-x) to the Bootstrap-Server Security instance; a simulated client flashed with it
 * bootstraps over CoAPs against a server that knows only the table's keys, and one flashed with a
 * factory-to-DM file registers without bootstrapping.
 */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decode as cborDecode } from 'cbor-x';
import { main } from '../../../cli/lwm2m-bootstrap';
import { BootstrapServer, runBootstrap, type BootstrapSession, type DatagramSocket } from '../../../lib/bootstrap';
import { validatedProfile } from '../../../lib/profile/validated';
import { SimulatedClient } from '../../../lib/client/client';
import { loadFactoryFile } from '../../../lib/client/factory-file';
import { decode } from '../../../lib/codec';
import { createDtlsSocket, MemoryPskStore, type DtlsSocket } from '../../../lib/dtls';
import { buildFactoryConfig, FACTORY_FORMATS, FactoryError, parseFactoryFormats } from '../../../lib/factory';
import { LwM2mPath } from '../../../lib/model/path';
import { defaultModel } from '../../../lib/model/registry';
import type { ObjectInstanceNode, RootNode } from '../../../lib/model/types';
import { RegistrationServer, type Registration } from '../../../lib/rd/server';
import { nextPort } from '../../support/ports';
import { FAST, waitFor } from '../client/support/fixtures';

const CSV = 'endpoint,profile,pskIdentity,pskKey,imei\n' +
  'fx-001,,,,356938035643809\n' +
  'fx-002,,fx-002-id,000102030405060708090a0b0c0d0e0f,\n' +
  '"fx-003",,,,\n';

function value(inst: ObjectInstanceNode | undefined, rid: number): unknown {
  const r = inst?.resources.get(rid);
  return r && r.kind === 'single' ? r.value : undefined;
}

function csvRows(file: string): Record<string, string>[] {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v.replace(/^"|"$/g, '')])));
}

async function run(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), cwd });
  return { code, out, err };
}

describe('factory provisioning export', function () {
  let dir: string;
  const cleanup: (() => Promise<void> | void)[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-'));
    fs.writeFileSync(path.join(dir, 'devices.csv'), CSV);
  });
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the command line writes every format for each of 3 devices, 0600, and writes generated keys back to the table', async () => {
    const r = await run(['factory', '--devices', 'devices.csv', '--bootstrap-uri', 'coaps://bs.example.net:5684', '--out', 'out'], dir);
    assert.equal(r.code, 0, r.err);
    const names = fs.readdirSync(path.join(dir, 'out')).sort();
    const expected = ['fx-001', 'fx-002', 'fx-003'].flatMap((ep) => FACTORY_FORMATS.map((f) => `${ep}.${f.extension}`)).sort();
    assert.deepEqual(names, expected);
    for (const n of names) assert.equal(fs.statSync(path.join(dir, 'out', n)).mode & 0o777, 0o600, n);
    assert.match(r.err, /mode 0600/);
    const rows = csvRows(path.join(dir, 'devices.csv'));
    assert.equal(rows.length, 3);
    assert.equal(rows[0].pskIdentity, 'fx-001', 'no identity: the endpoint name');
    assert.match(rows[0].pskKey, /^[0-9a-f]{32}$/, 'a generated 16-byte key');
    assert.equal(rows[0].imei, '356938035643809', 'other columns kept');
    assert.deepEqual([rows[1].pskIdentity, rows[1].pskKey], ['fx-002-id', '000102030405060708090a0b0c0d0e0f'], 'given keys untouched');
    assert.notEqual(rows[2].pskKey, rows[0].pskKey);
    for (const k of [rows[0].pskKey, rows[2].pskKey]) assert.ok(!r.out.includes(k) && !r.err.includes(k), 'no key on the terminal');

    // SenML CBOR, with the package's decoder
    const cbor = fs.readFileSync(path.join(dir, 'out', 'fx-001.senml.cbor'));
    const root = decode(112, LwM2mPath.root(), cbor, defaultModel) as RootNode;
    const bs = root.objects.get(0)?.instances.get(0);
    assert.equal(value(bs, 0), 'coaps://bs.example.net:5684');
    assert.equal(value(bs, 1), true);
    assert.equal(value(bs, 2), 0, 'Security Mode PSK');
    assert.deepEqual(value(bs, 3), Buffer.from('fx-001'));
    assert.deepEqual(value(bs, 5), Buffer.from(rows[0].pskKey, 'hex'));
    // ... and independently with cbor-x: SenML labels bn = -2, n = 0, v = 2, vs = 3, vb = 4, vd = 8 (RFC 8428)
    const recs = cborDecode(cbor) as Map<number, unknown>[] | Record<string, unknown>[];
    let base = '';
    const byName = new Map<string, unknown>();
    for (const rec of recs) {
      const get = (k: number) => (rec instanceof Map ? rec.get(k) : (rec as Record<string, unknown>)[String(k)]);
      if (get(-2) !== undefined) base = String(get(-2));
      byName.set(base + String(get(0) ?? ''), get(2) ?? get(3) ?? get(4) ?? get(8));
    }
    assert.equal(byName.get('/0/0/0'), 'coaps://bs.example.net:5684');
    assert.equal(byName.get('/0/0/1'), true);
    assert.equal(byName.get('/0/0/2'), 0);
    assert.equal(Buffer.from(byName.get('/0/0/3') as Uint8Array).toString(), 'fx-001');
    assert.equal(Buffer.from(byName.get('/0/0/5') as Uint8Array).toString('hex'), rows[0].pskKey);

    // the other formats carry the same account
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'fx-002.factory.json'), 'utf8'));
    assert.deepEqual([json.bootstrapServer.pskIdentity, json.bootstrapServer.pskKey], ['fx-002-id', '000102030405060708090a0b0c0d0e0f']);
    const senmlJson = decode(110, LwM2mPath.root(), fs.readFileSync(path.join(dir, 'out', 'fx-002.senml.json')), defaultModel) as RootNode;
    assert.deepEqual(value(senmlJson.objects.get(0)?.instances.get(0), 3), Buffer.from('fx-002-id'));
    const lwm2mCbor = decode(11544, LwM2mPath.root(), fs.readFileSync(path.join(dir, 'out', 'fx-002.lwm2m.cbor')), defaultModel) as RootNode;
    assert.deepEqual(value(lwm2mCbor.objects.get(0)?.instances.get(0), 5), Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
    const sh = fs.readFileSync(path.join(dir, 'out', 'fx-002.nrf91.sh'), 'utf8');
    assert.match(sh, /AT%CMNG=0,1111,4,"fx-002-id"/);
    assert.match(sh, /AT%CMNG=0,1111,3,"000102030405060708090a0b0c0d0e0f"/);
    assert.match(fs.readFileSync(path.join(dir, 'out', 'fx-002.wakaama.args'), 'utf8'), /-n fx-002 -h bs\.example\.net -p 5684 -4 -b -i fx-002-id -s 000102030405060708090a0b0c0d0e0f/);
    assert.match(fs.readFileSync(path.join(dir, 'out', 'fx-002.anjay.args'), 'utf8'), /--identity 6678 ?/);
    assert.match(fs.readFileSync(path.join(dir, 'out', 'fx-002.leshan.args'), 'utf8'), /-u coaps:\/\/bs\.example\.net:5684 -b -i fx-002-id -p 000102/);
    assert.match(fs.readFileSync(path.join(dir, 'out', 'fx-002.zephyr.conf'), 'utf8'), /CONFIG_NET_SAMPLE_LWM2M_PSK="000102030405060708090a0b0c0d0e0f"/);

    // a second run keeps the keys it wrote (the Bootstrap-Server and the devices agree)
    const again = await run(['factory', '--devices', 'devices.csv', '--bootstrap-uri', 'coaps://bs.example.net:5684', '--format', 'json', '--out', 'out2'], dir);
    assert.equal(again.code, 0);
    assert.deepEqual(csvRows(path.join(dir, 'devices.csv')), rows);
  });

  it('bad usage and bad rows get clear errors; the good rows are still exported', async () => {
    assert.equal((await run(['factory', '--devices', 'devices.csv'], dir)).code, 2);
    const bad = await run(['factory', '--devices', 'devices.csv', '--bootstrap-uri', 'http://x', '--out', 'o'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /coap:\/\/ or coaps:\/\//);
    assert.throws(() => parseFactoryFormats('senml-cbor,pdf'), /unknown format "pdf"/);
    fs.writeFileSync(path.join(dir, 'devices.csv'), 'endpoint,pskKey\nok-1,\nbad-1,zz\n');
    const rows = await run(['factory', '--devices', 'devices.csv', '--bootstrap-uri', 'coaps://127.0.0.1', '--format', 'senml-cbor', '--out', 'o'], dir);
    assert.equal(rows.code, 1);
    assert.match(rows.err, /"bad-1": the PSK in the device table is not hex/);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'o')), ['ok-1.senml.cbor']);
    assert.throws(() => buildFactoryConfig({ endpoint: 'x' }, { bootstrapUri: 'coap://h', mode: 'dm' }), FactoryError);
  });

  it('a client flashed with the SenML CBOR file bootstraps over CoAPs with the written-back key, then registers', async () => {
    const rd = await new RegistrationServer().listen();
    cleanup.push(() => rd.close());
    const psk = new MemoryPskStore();
    const sock: DtlsSocket = createDtlsSocket({ psk });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    const bs = new BootstrapServer({ socket: sock as unknown as DatagramSocket, requestTimeoutMs: 3000 });
    await bs.listen();
    cleanup.push(async () => {
      await bs.close();
      await new Promise<void>((r) => sock.close(() => r()));
    });
    const r = await run(['factory', '--devices', 'devices.csv', '--bootstrap-uri', `coaps://127.0.0.1:${sock.address().port}`, '--format', 'senml-cbor', '--out', 'out'], dir);
    assert.equal(r.code, 0, r.err);
    // The Bootstrap-Server knows only what the table now holds.
    for (const row of csvRows(path.join(dir, 'devices.csv'))) psk.set(row.pskIdentity, Buffer.from(row.pskKey, 'hex'));
    const seen: string[] = [];
    bs.on('bootstrapRequest', (s: BootstrapSession) => {
      seen.push(`${s.endpoint}/${s.identity?.id}`);
      void runBootstrap(s, validatedProfile({ servers: [{ shortServerId: 3, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 60 }] }))
        .then(() => s.finish())
        .catch(() => undefined);
    });
    const factory = await loadFactoryFile(path.join(dir, 'out', 'fx-003.senml.cbor'), defaultModel);
    const c = new SimulatedClient({ endpoint: 'fx-003', factory, timing: FAST });
    cleanup.push(() => c.stop());
    const registered = waitFor<Registration>(rd, 'registered', () => true, 15000);
    await c.start();
    assert.equal((await registered).endpoint, 'fx-003');
    assert.deepEqual(seen, ['fx-003/fx-003']);
  });

  it('factory-to-DM: the file holds the profile\'s server account (filled from the row as profile lookup fills it) and the Bootstrap-Server account; the device registers without bootstrapping', async () => {
    const rd = await new RegistrationServer().listen();
    cleanup.push(() => rd.close());
    const bsPort = await nextPort();
    const bsSock = dgram.createSocket('udp4');
    await new Promise<void>((r) => bsSock.bind(bsPort, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => bsSock.close(() => r())));
    let bsDatagrams = 0;
    bsSock.on('message', () => bsDatagrams++);
    // A CSV cell is text: "240" fills "lifetime": "${lifetime}" as a number, as profile lookup does it.
    fs.writeFileSync(path.join(dir, 'devices.csv'), 'endpoint,profile,lifetime\nfx-001,meters,240\nfx-002,meters,600\n');
    fs.writeFileSync(path.join(dir, 'profiles.json'), JSON.stringify([
      { name: 'meters', servers: [{ shortServerId: 5, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: '${lifetime}' }], templates: { lifetime: 120 } },
    ]));
    const r = await run(['factory', '--devices', 'devices.csv', '--bootstrap-uri', `coap://127.0.0.1:${bsPort}`, '--mode', 'dm', '--profiles', 'profiles.json', '--profile', 'meters', '--format', 'senml-json,json,wakaama', '--out', 'dm'], dir);
    assert.equal(r.code, 0, r.err);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'dm', 'fx-001.factory.json'), 'utf8'));
    assert.equal(summary.mode, 'factory-to-DM');
    assert.equal(summary.start.uri, `coap://127.0.0.1:${rd.port}`);
    assert.equal(summary.start.shortServerId, 5);
    assert.equal(summary.bootstrapServer.uri, `coap://127.0.0.1:${bsPort}`);
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'dm', 'fx-001.wakaama.args'), 'utf8'), / -b/);
    const factory = await loadFactoryFile(path.join(dir, 'dm', 'fx-001.senml.json'), defaultModel);
    assert.deepEqual(factory.bootstrapAccountIds(), [0]);
    const c = new SimulatedClient({ endpoint: 'fx-001', factory, timing: FAST });
    cleanup.push(() => c.stop());
    const bootstraps: unknown[] = [];
    c.on('bootstrapped', (e) => bootstraps.push(e));
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    const reg = await registered;
    assert.equal(reg.endpoint, 'fx-001');
    assert.equal(reg.lifetime, 240);
    const other = JSON.parse(fs.readFileSync(path.join(dir, 'dm', 'fx-002.factory.json'), 'utf8'));
    assert.equal(Object.values(other.instances['1'] as Record<string, Record<string, unknown>>)[0]['1'], 600, 'Server /1/x/1 lifetime from its row');
    assert.deepEqual(bootstraps, []);
    assert.equal(bsDatagrams, 0, 'the Bootstrap-Server never heard from it');
  });
});

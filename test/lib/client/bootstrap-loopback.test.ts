/** The simulated client against a hand-made Bootstrap-Server and the registration server, over real UDP. */
import assert from 'node:assert/strict';
import * as dgram from 'dgram';
import { SimulatedClient } from '../../../lib/client/client';
import type { TraceEvent } from '../../../lib/client/trace';
import { RegistrationServer, type Registration } from '../../../lib/rd/server';
import { assertNoKey } from '../../support/no-secret';
import { markAfter } from '../../support/timer-mark';
import { MiniBootstrapServer, type MiniSession, type Step } from './support/mini-bs';
import { accountStore, encodeAt, FAST, provisionScript, waitFor } from './support/fixtures';

const TLV = 11542;
const SENML_JSON = 110;
const SENML_CBOR = 112;

describe('simulated client: bootstrap over loopback', () => {
  let rd: RegistrationServer;
  let bs: MiniBootstrapServer;
  const clients: SimulatedClient[] = [];

  function client(opts: Partial<ConstructorParameters<typeof SimulatedClient>[0]> & { endpoint: string }): SimulatedClient {
    const c = new SimulatedClient({
      bootstrapServer: { uri: `coap://127.0.0.1:${bs.port}` },
      timing: FAST,
      ...opts,
    });
    clients.push(c);
    return c;
  }
  const account = () => ({ secId: 1, srvId: 0, ssid: 7, uri: `coap://127.0.0.1:${rd.port}`, lifetime: 30 });

  beforeEach(async () => {
    rd = await new RegistrationServer().listen();
    bs = await new MiniBootstrapServer(() => []).listen();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await bs.close();
    await rd.close();
  });

  it('a 1.0 device takes TLV writes, keeps its BS account through DELETE /, and registers with lwm2m=1.0', async () => {
    bs.script = () => provisionScript(TLV, account());
    const c = client({ endpoint: 'dev-10', version: '1.0' });
    const session = bs.nextSession();
    const registered = waitFor<Registration>(rd, 'registered');
    const clientRegistered = waitFor(c, 'registered');
    await c.start();
    const s = await session;
    assert.deepEqual(s.results.map((r) => r.code), ['2.02', '2.04', '2.04', '2.04']);
    await clientRegistered;
    assert.deepEqual(bs.requests[0].query, ['ep=dev-10'], 'a 1.0 device sends no pct');
    const reg = await registered;
    assert.equal(reg.endpoint, 'dev-10');
    assert.equal(reg.lwm2mVersion, '1.0');
    assert.equal(reg.lifetime, 30);
    assert.ok(reg.instances.includes('/1/0') && reg.instances.includes('/3/0'));
    assert.ok(!reg.links.includes('</0'), 'Security is never shown to a server');
    assert.equal(c.store.bootstrapAccountIds().length, 1, 'BS account survived DELETE /');
    assert.equal(c.store.value(0, 1, 0), `coap://127.0.0.1:${rd.port}`);
    assert.equal(c.store.value(1, 0, 0), 7);
    assert.ok(c.store.instance(3, 0), '/3/0 always present');
    assert.equal(c.state, 'registered');
  });

  it('a 1.1 device that accepts SenML JSON only sends pct=110 and answers 4.15 to TLV', async () => {
    const a = account();
    bs.script = () => [
      { method: 'PUT', path: '/0/1', contentFormat: TLV, payload: encodeAt(TLV, '/0/1', accountStore(a)) },
      ...provisionScript(SENML_JSON, a),
    ];
    const c = client({ endpoint: 'dev-11', version: '1.1', formats: [SENML_JSON] });
    const session = bs.nextSession();
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    const s = await session;
    assert.deepEqual(s.results.map((r) => r.code), ['4.15', '2.02', '2.04', '2.04', '2.04']);
    assert.deepEqual(bs.requests[0].query, ['ep=dev-11', 'pct=110']);
    const reg = await registered;
    assert.equal(reg.lwm2mVersion, '1.1');
    assert.match(reg.links, /^<\/>;rt="oma.lwm2m";ct=110,/);
  });

  it('a 1.2 device asks for a Bootstrap-Pack first, applies it and registers without POST /bs', async () => {
    const a = account();
    const pack = { ...accountStore(a) };
    bs.pack = { code: '2.05', contentFormat: SENML_CBOR, payload: encodeAt(SENML_CBOR, '/', pack) };
    const c = client({ endpoint: 'dev-12', version: '1.2' });
    const registered = waitFor<Registration>(rd, 'registered');
    const bootstrapped = waitFor<{ mode: string }>(c, 'bootstrapped');
    await c.start();
    assert.equal((await bootstrapped).mode, 'pack');
    await registered;
    assert.deepEqual(bs.requests.map((r) => `${r.method} ${r.path.join('/')}`), ['GET bspack']);
    assert.equal(bs.requests[0].accept, SENML_CBOR);
    assert.equal(c.store.value(1, 0, 1), 30);
    assert.equal(c.store.bootstrapAccountIds().length, 1);
  });

  it('a 1.2 device falls back to POST /bs when the pack is refused', async () => {
    bs.pack = { code: '4.04' };
    bs.script = () => provisionScript(SENML_CBOR, account());
    const c = client({ endpoint: 'dev-12b', version: '1.2' });
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    await registered;
    assert.deepEqual(bs.requests.map((r) => `${r.method} ${r.path.join('/')}`), ['GET bspack', 'POST bs']);
    assert.ok(bs.requests[1].query.includes('pct=112'));
  });

  it('a 1.2 device falls back to POST /bs when the pack is inconsistent (no server account)', async () => {
    bs.pack = { code: '2.05', contentFormat: SENML_CBOR, payload: encodeAt(SENML_CBOR, '/', { '1': { '0': { '0': 3, '1': 60, '6': false, '7': 'U' } } }) };
    bs.script = () => provisionScript(SENML_CBOR, account());
    const c = client({ endpoint: 'dev-12c', version: '1.2' });
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    await registered;
    assert.deepEqual(bs.requests.map((r) => `${r.method} ${r.path.join('/')}`), ['GET bspack', 'POST bs']);
    assert.equal(c.store.instances(1).length, 1);
    assert.equal(c.store.value(1, 0, 0), 7, 'the inconsistent pack was not committed');
  });

  it('sends the diagram of a refused Finish at once, and keeps it when a re-bootstrap comes before the Finish timer', async () => {
    const a = account();
    const s0 = accountStore(a);
    bs.script = () => [
      { method: 'DELETE', path: '/' },
      { method: 'PUT', path: '/0/1', contentFormat: SENML_JSON, payload: encodeAt(SENML_JSON, '/0/1', s0) },
      { method: 'POST', path: '/bs' },
    ];
    const c = client({ endpoint: 'dev-406-diagram', version: '1.1', timing: { ...FAST, bootstrapTimeoutMs: 600000 } });
    const diagrams: { bootstrapId: number; success: boolean; mermaid: string }[] = [];
    c.on('diagram', (d: { bootstrapId: number; success: boolean; mermaid: string }) => diagrams.push(d));
    const failed: unknown[] = [];
    c.on('bootstrapFailed', (e: unknown) => failed.push(e));
    const first = waitFor<{ bootstrapId: number; success: boolean; mermaid: string }>(c, 'diagram');
    await c.start();
    const d = await first;
    assert.equal(d.success, false);
    assert.equal(d.bootstrapId, 1);
    assert.match(d.mermaid, /4\.06/);
    assert.match(d.mermaid, /Bootstrap-Finish refused/);
    assert.equal(failed.length, 0, 'sent while the Finish timer still runs');
    assert.equal(c.state, 'bootstrapping');
    // The operator re-bootstraps before the Finish timer: the first diagram is not sent again or lost,
    // and the second attempt has its own.
    const second = waitFor<{ bootstrapId: number }>(c, 'diagram', (x) => x.bootstrapId === 2);
    await c.rebootstrap('trainer pressed re-bootstrap');
    await bs.nextSession();
    await second;
    assert.deepEqual(diagrams.map((x) => x.bootstrapId), [1, 2]);
  });

  it('Finish on an inconsistent configuration is answered 4.06 with a diagnostic and nothing is committed', async () => {
    const a = account();
    const s0 = accountStore(a);
    bs.script = () => [
      { method: 'DELETE', path: '/' },
      { method: 'PUT', path: '/0/1', contentFormat: SENML_JSON, payload: encodeAt(SENML_JSON, '/0/1', s0) },
      { method: 'POST', path: '/bs' },
    ];
    const c = client({ endpoint: 'dev-406', version: '1.1', maxBootstrapAttempts: 1 });
    const session = bs.nextSession();
    const failed = waitFor<{ reason: string }>(c, 'bootstrapFailed');
    await c.start();
    const s = await session;
    const finish = s.results[2];
    assert.equal(finish.code, '4.06');
    const diag = finish.payload.toString('utf8');
    assert.match(diag, /C4 \/0\/1\/10: Short Server ID 7 has no Server instance/);
    assert.match((await failed).reason, /^Bootstrap-Finish refused \(4\.06 C4 \/0\/1\/10: Short Server ID 7 has no Server instance\), no further command within \d+ ms$/);
    assert.equal(c.store.instance(0, 1), undefined, 'staged write was discarded');
    assert.equal(c.state, 'failed');
  });

  it('Bootstrap-Discover answers link-format with the version header, ssid and uri', async () => {
    const a = account();
    bs.script = () => [
      ...provisionScript(SENML_JSON, a).slice(0, 3),
      { method: 'GET', path: '/', accept: 40 },
      { method: 'GET', path: '/0/1', accept: 40 },
      { method: 'GET', path: '/9', accept: 40 },
      { method: 'POST', path: '/bs' },
    ];
    const c = client({ endpoint: 'dev-disc' });
    const session = bs.nextSession();
    await c.start();
    const s = await session;
    const disc = s.results[3];
    assert.equal(disc.code, '2.05');
    assert.equal(disc.contentFormat, 40);
    const text = disc.payload.toString();
    assert.match(text, /^<\/>;lwm2m=1\.1,/);
    assert.match(text, new RegExp(`</0/0>;uri="coap://127.0.0.1:${bs.port}"`));
    assert.match(text, new RegExp(`</0/1>;ssid=7;uri="coap://127.0.0.1:${rd.port}"`));
    assert.match(text, /<\/1\/0>;ssid=7/);
    assert.match(text, /<\/3\/0>/);
    assert.equal(s.results[4].code, '4.00', 'Discover on an instance is refused');
    assert.equal(s.results[5].code, '4.04', 'unsupported object');
  });

  it('a 1.0 device answers Discover with lwm2m="1.0" and refuses Bootstrap-Read', async () => {
    bs.script = () => [
      { method: 'GET', path: '/', accept: 40 },
      { method: 'GET', path: '/1', accept: TLV },
      ...provisionScript(TLV, account()),
    ];
    const c = client({ endpoint: 'dev-10d', version: '1.0' });
    const session = bs.nextSession();
    await c.start();
    const s = await session;
    assert.match(s.results[0].payload.toString(), /^lwm2m="1\.0",/);
    assert.equal(s.results[1].code, '4.05');
  });

  it('Bootstrap-Read works on /1 and /2 only, in an accepted format', async () => {
    bs.script = () => [
      ...provisionScript(SENML_JSON, account()).slice(0, 3),
      { method: 'GET', path: '/1', accept: SENML_JSON },
      { method: 'GET', path: '/3', accept: SENML_JSON },
      { method: 'GET', path: '/1/0', accept: 11544 },
      { method: 'POST', path: '/bs' },
    ];
    const c = client({ endpoint: 'dev-read', formats: [SENML_JSON, TLV] });
    const session = bs.nextSession();
    await c.start();
    const s = await session;
    assert.equal(s.results[3].code, '2.05');
    const records = JSON.parse(s.results[3].payload.toString()) as { n?: string; bn?: string; v?: number }[];
    assert.ok(JSON.stringify(records).includes('"v":7'), 'reads the staged SSID');
    assert.equal(s.results[4].code, '4.05');
    assert.equal(s.results[5].code, '4.06');
    assert.equal(s.results[6].code, '2.04');
  });

  it('a second Bootstrap-Server account is refused with 4.00', async () => {
    const second = { '0': { '5': { '0': 'coap://127.0.0.1:1', '1': true, '2': 3, '3': { opaque: '' }, '4': { opaque: '' }, '5': { opaque: '' } } } };
    bs.script = () => [
      { method: 'PUT', path: '/0/5', contentFormat: SENML_JSON, payload: encodeAt(SENML_JSON, '/0/5', second) },
      ...provisionScript(SENML_JSON, account()),
    ];
    const c = client({ endpoint: 'dev-2bs' });
    const session = bs.nextSession();
    await c.start();
    const s = await session;
    assert.equal(s.results[0].code, '4.00');
    assert.match(s.results[0].payload.toString(), /second Bootstrap-Server account/);
    assert.equal(s.results.at(-1)?.code, '2.04');
  });

  it('requests from another address:port than the Bootstrap-Server are refused', async () => {
    let port = 0;
    bs.script = () => [];
    const c = client({ endpoint: 'dev-peer', timing: { ...FAST, bootstrapTimeoutMs: 5000 } });
    const session = bs.nextSession();
    await c.start();
    await session;
    port = c.port;
    const stranger = await new MiniBootstrapServer(() => []).listen();
    try {
      const r = await stranger.send('127.0.0.1', port, { method: 'DELETE', path: '/' });
      assert.equal(r.code, '4.01');
    } finally {
      await stranger.close();
    }
  });

  it('the trace masks secret keys and the diagram shows the exchange', async () => {
    const key = '00112233445566778899aabbccddeeff';
    const a = { ...account(), uri: `coaps://127.0.0.1:${rd.port}`, mode: 0, identity: 'dev-psk', keyHex: key };
    bs.script = () => provisionScript(SENML_JSON, a);
    const c = client({ endpoint: 'dev-trace', timing: { ...FAST, requestTimeoutMs: 300, registrationRetries: 1 }, maxBootstrapAttempts: 1 });
    const events: TraceEvent[] = [];
    c.on('trace', (e: TraceEvent) => events.push(e));
    const diagram = waitFor<{ mermaid: string; success: boolean }>(c, 'diagram');
    await c.start();
    const d = await diagram;
    const write = events.find((e) => e.method === 'PUT' && e.path === '/0/1' && e.kind === 'request');
    assert.ok(write, 'the write is traced');
    const payload = write.payload as Record<string, unknown>;
    assert.equal(payload['/0/1/5'], '*** (16 bytes)');
    assert.equal(payload['/0/1/3'], 'hex:' + Buffer.from('dev-psk').toString('hex'));
    assertNoKey(JSON.stringify(events), key, 'the trace');
    assert.ok(d.success);
    assert.match(d.mermaid, /^sequenceDiagram\n/);
    assert.match(d.mermaid, /C->>BS: POST \/bs\?ep=dev-trace&pct=112/);
    assert.match(d.mermaid, /BS->>C: PUT \/0\/1 \[cf 110\]/);
    assert.match(d.mermaid, /C-->>BS: 2\.04 Changed/);
    assertNoKey(d.mermaid, key, 'the diagram');
  });

  it('a dropped Bootstrap-Request is retransmitted by CoAP and the bootstrap completes', async () => {
    bs.script = () => provisionScript(SENML_JSON, account());
    // The first datagram through the fault layer (the outgoing POST /bs) is dropped, nothing after it.
    let c: SimulatedClient | undefined = undefined;
    const random = () => (c && c.faults.dropped === 0 ? 0 : 0.99);
    c = client({ endpoint: 'dev-drop', random, faults: { dropRate: 0.5 }, timing: { ...FAST, requestTimeoutMs: 8000 } });
    const registered = waitFor(c, 'registered', () => true, 15000);
    const ackTimeoutNear = markAfter(1500);
    await c.start();
    await registered;
    assert.equal(c.faults.dropped, 1);
    assert.ok(ackTimeoutNear.fired, 'waited for the CoAP retransmission (ACK_TIMEOUT 2-3 s)');
    assert.equal(bs.requests.filter((r) => r.path.join('/') === 'bs').length, 1, 'the BS saw one POST /bs');
  }).timeout(20000);
});

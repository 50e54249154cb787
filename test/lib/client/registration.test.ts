/** Start-up order, persistence across restarts, registration lifecycle and re-bootstrap triggers. */
import assert from 'node:assert/strict';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SimulatedClient } from '../../../lib/client/client';
import type { ClientOptions } from '../../../lib/client/options';
import { RegistrationServer, type Registration } from '../../../lib/rd/server';
import { nextPort } from '../../support/ports';
import { markAfter } from '../../support/timer-mark';
import { MiniBootstrapServer } from './support/mini-bs';
import { accountStore, FAST, provisionScript, waitFor } from './support/fixtures';

const SENML_JSON = 110;

describe('simulated client: registration and re-bootstrap', () => {
  let rd: RegistrationServer;
  let bs: MiniBootstrapServer;
  const clients: SimulatedClient[] = [];
  const account = (uri = `coap://127.0.0.1:${rd.port}`) => ({ secId: 1, srvId: 0, ssid: 3, uri, lifetime: 20 });
  const bsRequests = () => bs.requests.filter((r) => r.path.join('/') === 'bs').length;

  function client(opts: Partial<ClientOptions> & { endpoint: string }): SimulatedClient {
    const c = new SimulatedClient({ bootstrapServer: { uri: `coap://127.0.0.1:${bs.port}` }, timing: FAST, ...opts });
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    rd = await new RegistrationServer().listen();
    bs = await new MiniBootstrapServer(() => provisionScript(SENML_JSON, account())).listen();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await bs.close();
    await rd.close();
  });

  it('after a restart a valid stored configuration registers directly, without bootstrap', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lwm2m-client-'));
    const storeFile = path.join(dir, 'dev-p.json');
    const first = client({ endpoint: 'dev-p', storeFile });
    const reg1 = waitFor(first, 'registered');
    await first.start();
    await reg1;
    assert.equal(bsRequests(), 1);
    await first.stop();
    const second = client({ endpoint: 'dev-p', storeFile });
    const reg2 = waitFor<Registration>(rd, 'registered');
    await second.start();
    assert.equal((await reg2).endpoint, 'dev-p');
    assert.equal(bsRequests(), 1, 'no second bootstrap');
    assert.equal(second.store.value(1, 0, 0), 3);
  });

  it('a damaged store file means bootstrap again', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lwm2m-client-'));
    const storeFile = path.join(dir, 'dev-d.json');
    await fsp.writeFile(storeFile, '{"format":"lwm2m-client-store","version":1,"endpoint":"dev-d","sha256":"00","store":{"objects":{}}}');
    const c = client({ endpoint: 'dev-d', storeFile });
    const warning = waitFor<{ message: string }>(c, 'warning');
    const reg = waitFor(c, 'registered');
    await c.start();
    assert.match((await warning).message, /checksum mismatch/);
    await reg;
    assert.equal(bsRequests(), 1);
  });

  it('factory bootstrap: a pre-provisioned device registers without contacting the Bootstrap-Server', async () => {
    const factory = { ...accountStore(account()) };
    factory['0']['0'] = { '0': `coap://127.0.0.1:${bs.port}`, '1': true, '2': 3, '3': { opaque: '' }, '4': { opaque: '' }, '5': { opaque: '' } };
    const c = client({ endpoint: 'dev-f', factory, bootstrapServer: undefined });
    const reg = waitFor<Registration>(rd, 'registered');
    await c.start();
    await reg;
    assert.equal(bs.requests.length, 0);
  });

  it('sends Updates at the lifetime interval and De-registers on stop', async () => {
    const c = client({ endpoint: 'dev-u', timing: { ...FAST, updateIntervalMs: 80 } });
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    const reg = await registered;
    await waitFor<Registration>(rd, 'updated', (r) => r.updates >= 2, 3000);
    assert.equal(rd.registrations.get(reg.id)?.endpoint, 'dev-u');
    const gone = waitFor<Registration>(rd, 'deregistered');
    await c.stop();
    assert.equal((await gone).id, reg.id);
    assert.equal(rd.registrations.size, 0);
  });

  it('registers again when the server no longer knows the registration (Update answered 4.04)', async () => {
    const c = client({ endpoint: 'dev-r', timing: { ...FAST, updateIntervalMs: 80 } });
    const first = waitFor<Registration>(rd, 'registered');
    await c.start();
    const reg = await first;
    rd.registrations.delete(reg.id);
    const again = await waitFor<Registration>(rd, 'registered', () => true, 3000);
    assert.notEqual(again.id, reg.id);
    assert.equal(again.endpoint, 'dev-r');
  });

  it('executing /1/x/9 (Bootstrap-Request Trigger) from the server makes the device bootstrap again', async () => {
    const c = client({ endpoint: 'dev-t' });
    const reg = waitFor<Registration>(rd, 'registered');
    await c.start();
    await reg;
    assert.equal(bsRequests(), 1);
    const second = bs.nextSession();
    const reregistered = waitFor<Registration>(rd, 'registered');
    assert.equal(await rd.bootstrapTrigger('dev-t'), '2.04');
    await second;
    assert.equal(bsRequests(), 2);
    await reregistered;
  });

  it('a 1.0 device refuses /1/x/9 with 4.05 and unknown resources are not executable', async () => {
    const c = client({ endpoint: 'dev-t10', version: '1.0' });
    bs.script = () => provisionScript(11542, account());
    const reg = waitFor<Registration>(rd, 'registered');
    await c.start();
    await reg;
    assert.equal(await rd.execute('dev-t10', '/1/0/9'), '4.05');
    assert.equal(await rd.execute('dev-t10', '/3/0/1'), '4.05');
    assert.equal(bsRequests(), 1);
  });

  it('re-bootstraps after repeated registration failures', async () => {
    const dead = await nextPort();
    let n = 0;
    // First bootstrap points at a server that does not answer; the second at the real one.
    bs.script = () => provisionScript(SENML_JSON, account(n++ === 0 ? `coap://127.0.0.1:${dead}` : `coap://127.0.0.1:${rd.port}`));
    const c = client({ endpoint: 'dev-x', timing: { ...FAST, requestTimeoutMs: 200, registrationRetries: 2 } });
    const failed = waitFor<{ reason: string }>(c, 'registrationFailed', () => true, 5000);
    const reg = waitFor<Registration>(rd, 'registered', () => true, 8000);
    await c.start();
    assert.match((await failed).reason, /no response within 200 ms/);
    await reg;
    assert.equal(bsRequests(), 2);
  });

  it('re-bootstraps on command: De-register first, then a new session', async () => {
    const c = client({ endpoint: 'dev-c' });
    const reg = waitFor(c, 'registered');
    await c.start();
    await reg;
    const gone = waitFor<Registration>(rd, 'deregistered');
    const second = bs.nextSession();
    await c.rebootstrap('operator command');
    await gone;
    await second;
    assert.equal(bsRequests(), 2);
  });

  it('fault: Finish rejected with 4.06, then a retry with back-off', async () => {
    const c = client({ endpoint: 'dev-rf', faults: { rejectFinish: true }, maxBootstrapAttempts: 2 });
    const s = await new Promise<import('./support/mini-bs').MiniSession>((resolve) => {
      bs.once('session', resolve);
      void c.start();
    });
    assert.equal(s.results.at(-1)?.code, '4.06');
    assert.match(s.results.at(-1)?.payload.toString() ?? '', /fault injection/);
    await waitFor(c, 'state', (e: { state: string }) => e.state === 'failed', 8000);
    assert.equal(bsRequests(), 2, 'tried twice, then gave up');
    assert.equal(c.store.instance(0, 1), undefined);
  });

  it('fault: a device that vanishes mid-bootstrap stops answering, and the bootstrap fails on its side', async () => {
    const c = client({ endpoint: 'dev-v', faults: { vanishAfter: 2 }, maxBootstrapAttempts: 1 });
    const session = bs.nextSession();
    const failed = waitFor<{ reason: string }>(c, 'bootstrapFailed', () => true, 8000);
    await c.start();
    const s = await session;
    assert.deepEqual(s.results.map((r) => r.code), ['2.02', '2.04', 'timeout']);
    assert.match((await failed).reason, /no Bootstrap-Finish/);
  });

  it('fault: a slow device answers after its delay (separate response after an empty ACK)', async () => {
    const c = client({ endpoint: 'dev-s', faults: { responseDelayMs: 150 } });
    const session = bs.nextSession();
    const delaysNear = markAfter(4 * 150 - 50); // four answers, one after the other, each 150 ms late
    await c.start();
    const s = await session;
    assert.deepEqual(s.results.map((r) => r.code), ['2.02', '2.04', '2.04', '2.04']);
    assert.ok(delaysNear.fired, 'each answer waited for its delay');
  });
});

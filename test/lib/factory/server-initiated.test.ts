/**
 * Server-initiated bootstrap (LwM2M 1.0): BootstrapServer.openSession opens a session towards a device that
 * did not ask, the simulated client takes it while it has no working LwM2M Server account, and it refuses
 * once registered. Real UDP on loopback, the real registration server.
 */
import assert from 'node:assert/strict';
import { BootstrapServer, runBootstrap, SessionOutcome, type AuditRecord } from '../../../lib/bootstrap';
import { validatedProfile } from '../../../lib/profile/validated';
import { ServerStateError } from '../../../lib/bootstrap/errors';
import { SimulatedClient } from '../../../lib/client/client';
import { RegistrationServer, type Registration } from '../../../lib/rd/server';
import { FAST, waitFor } from '../client/support/fixtures';

describe('server-initiated bootstrap', () => {
  let rd: RegistrationServer;
  let bs: BootstrapServer;
  let bsPort: number;
  const clients: SimulatedClient[] = [];
  const profile = () => ({ servers: [{ shortServerId: 7, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec' as const, lifetime: 60 }] });

  beforeEach(async () => {
    rd = await new RegistrationServer().listen();
    bs = new BootstrapServer({ port: 0, address: '127.0.0.1', requestTimeoutMs: 2000 });
    bsPort = (await bs.listen()).port;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await bs.close();
    await rd.close();
  });

  function device(endpoint: string, holdOffMs: number): SimulatedClient {
    const c = new SimulatedClient({ endpoint, version: '1.0', bootstrapServer: { uri: `coap://127.0.0.1:${bsPort}` }, timing: { ...FAST, holdOffMs } });
    clients.push(c);
    return c;
  }

  it('a 1.0 device waiting out its hold-off takes the pushed configuration, Finish commits it, it registers; one audit record of kind server-initiated', async () => {
    const c = device('legacy-1', 60_000);
    const audits: AuditRecord[] = [];
    bs.on('audit', (r) => audits.push(r));
    const requests: string[] = [];
    bs.on('bootstrapRequest', (s) => requests.push(s.endpoint));
    await c.start();
    await waitFor(c, 'state', (e: { state: string }) => e.state === 'holdoff');
    const session = bs.openSession({ address: '127.0.0.1', port: c.port }, 'legacy-1', { lwm2mVersion: '1.0' });
    assert.equal(session.kind, 'server-initiated');
    assert.equal(session.state, 'accepted');
    const bootstrapped = waitFor<{ mode: string }>(c, 'bootstrapped');
    const registered = waitFor<Registration>(rd, 'registered');
    const run = await runBootstrap(session, validatedProfile(profile()));
    assert.ok(run.ok, JSON.stringify(run.steps.map((s) => s.response.code)));
    const fin = await session.finish();
    assert.equal(fin.code, '2.04');
    assert.equal((await bootstrapped).mode, 'server-initiated');
    assert.equal((await registered).endpoint, 'legacy-1');
    assert.deepEqual(requests, [], 'the device never sent a Bootstrap-Request');
    assert.equal(audits.length, 1);
    assert.equal(audits[0].kind, 'server-initiated');
    assert.equal(audits[0].outcome, SessionOutcome.SUCCESS);
    assert.equal(audits[0].peer.port, c.port);
    assert.ok(audits[0].steps.some((s) => s.op === 'finish' && s.code === '2.04'));
  });

  it('a registered device refuses a server-initiated write; the session ends REQUEST_FAILED with its answer', async () => {
    const c = device('legacy-2', 0);
    bs.on('bootstrapRequest', (s) => void runBootstrap(s, validatedProfile(profile())).then(() => s.finish()).catch(() => undefined));
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    await registered;
    await waitFor(c, 'state', (e: { state: string }) => e.state === 'registered', 3000).catch(() => undefined);
    assert.equal(c.state, 'registered');
    const ended = new Promise<AuditRecord>((resolve) => bs.on('audit', (r) => r.kind === 'server-initiated' && resolve(r)));
    const session = bs.openSession({ address: '127.0.0.1', port: c.port }, 'legacy-2');
    const run = await runBootstrap(session, validatedProfile(profile()), { stopOnError: true });
    assert.equal(run.ok, false);
    session.end(SessionOutcome.REQUEST_FAILED);
    const rec = await ended;
    assert.equal(rec.outcome, SessionOutcome.REQUEST_FAILED);
    assert.match(rec.detail ?? '', /^4\.00 .*registered/);
    assert.equal(c.state, 'registered', 'the device keeps its account');
  });

  it('refuses an unusable target with a clear error and keeps serving', async () => {
    assert.throws(() => bs.openSession({ address: 'not-an-ip', port: 5683 }, 'x'), ServerStateError);
    assert.throws(() => bs.openSession({ address: '127.0.0.1', port: 0 }, 'x'), /UDP port/);
    assert.throws(() => bs.openSession({ address: '127.0.0.1', port: 5683 }, ''), /endpoint name/);
    assert.equal(bs.stats().sessionsInFlight, 0);
    const closed = new BootstrapServer({ port: 0, address: '127.0.0.1' });
    assert.throws(() => closed.openSession({ address: '127.0.0.1', port: 5683 }, 'x'), /not listening/);
  });
});

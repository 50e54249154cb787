/**
 * The simulated client against the real Bootstrap-Server of lib/bootstrap (runBootstrap with a profile,
 * Bootstrap-Pack from buildBootstrapPack), and the registration server, over loopback UDP.
 */
import assert from 'node:assert/strict';
import { BootstrapServer, runBootstrap, type BootstrapSession, type BootstrapPackRequest } from '../../../lib/bootstrap';
import { SimulatedClient } from '../../../lib/client/client';
import type { ClientOptions } from '../../../lib/client/options';
import { buildBootstrapPack } from '../../../lib/profile/plan';
import type { BootstrapProfile } from '../../../lib/profile/types';
import { validatedProfile } from '../../../lib/profile/validated';
import { RegistrationServer, type Registration } from '../../../lib/rd/server';
import { FAST, waitFor } from './support/fixtures';

describe('simulated client with the real Bootstrap-Server', () => {
  let rd: RegistrationServer;
  let bs: BootstrapServer;
  let bsPort: number;
  const clients: SimulatedClient[] = [];
  const profile = (): BootstrapProfile => ({
    servers: [{ shortServerId: 101, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 45 }],
  });
  function client(opts: Partial<ClientOptions> & { endpoint: string }): SimulatedClient {
    const c = new SimulatedClient({ bootstrapServer: { uri: `coap://127.0.0.1:${bsPort}`, instanceId: 3 }, timing: FAST, ...opts });
    clients.push(c);
    return c;
  }
  /** Serves every Bootstrap-Request with the profile; resolves the outcomes as they end. */
  function serve(p: () => BootstrapProfile): { finishes: { endpoint: string; code: string; ok: boolean; formats: number[]; retried: number[] }[] } {
    const out: { endpoint: string; code: string; ok: boolean; formats: number[]; retried: number[] }[] = [];
    bs.on('bootstrapRequest', (session: BootstrapSession) => {
      void (async () => {
        const run = await runBootstrap(session, validatedProfile(p()));
        const formats = run.steps.flatMap((s) => ('contentFormat' in s.request ? [s.request.contentFormat] : []));
        const fin = await session.finish();
        const retried = run.steps.flatMap((s) => s.retriedFormats ?? []);
        out.push({ endpoint: session.endpoint, code: fin.code, ok: run.ok, formats, retried });
      })().catch(() => undefined);
    });
    return { finishes: out };
  }

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

  for (const [version, formats, expectCf] of [
    ['1.0', undefined, 11542],
    ['1.1', [110], 110],
    ['1.1', undefined, 112],
  ] as const) {
    it(`LwM2M ${version}${formats ? ` accepting ${formats.join(',')}` : ''}: discovered, provisioned in ${expectCf}, registered`, async () => {
      const s = serve(profile);
      const c = client({ endpoint: `real-${version}-${expectCf}`, version, formats: formats ? [...formats] : undefined });
      const registered = waitFor<Registration>(rd, 'registered');
      await c.start();
      const reg = await registered;
      assert.equal(reg.endpoint, `real-${version}-${expectCf}`);
      assert.equal(reg.lifetime, 45);
      assert.equal(s.finishes[0].code, '2.04');
      assert.ok(s.finishes[0].ok);
      assert.ok(s.finishes[0].formats.every((f) => f === expectCf), `writes in ${expectCf}: ${s.finishes[0].formats.join(',')}`);
      assert.deepEqual(c.store.bootstrapAccountIds(), [3], 'auto-ID found the BS account at /0/3 and left it alone');
      const acc = c.store.serverAccounts();
      assert.equal(acc.length, 1);
      assert.equal(acc[0].ssid, 101);
      assert.ok(acc[0].server);
    });
  }

  it('a 1.1 device that only takes SenML JSON answers 4.15 to a TLV profile, and the server falls back to SenML JSON', async () => {
    const s = serve(() => ({ ...profile(), contentFormat: 'tlv' }));
    const c = client({ endpoint: 'real-415', version: '1.1', formats: [110] });
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    await registered;
    assert.equal(s.finishes[0].code, '2.04');
    assert.ok(s.finishes[0].formats.every((f) => f === 110), 'every write ended up in SenML JSON');
    assert.ok(s.finishes[0].retried.includes(11542), 'TLV was tried first and refused');
  });

  it('LwM2M 1.2: the Bootstrap-Pack built from the profile is applied without POST /bs', async () => {
    let posts = 0;
    bs.on('bootstrapRequest', () => posts++);
    bs.on('packRequest', (req: BootstrapPackRequest) => void req.respond(buildBootstrapPack(validatedProfile(profile()))));
    const c = client({ endpoint: 'real-12', version: '1.2' });
    const bootstrapped = waitFor<{ mode: string }>(c, 'bootstrapped');
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    assert.equal((await bootstrapped).mode, 'pack');
    await registered;
    assert.equal(posts, 0);
    assert.equal(c.store.serverAccounts()[0].ssid, 101);
  });

  it('Finish is answered 4.06 when the profile asks for a binding the device does not support', async () => {
    const s = serve(() => ({ servers: [{ ...profile().servers![0], binding: 'T' }] }));
    const c = client({ endpoint: 'real-406', maxBootstrapAttempts: 1 });
    const failed = waitFor<{ reason: string }>(c, 'bootstrapFailed');
    await c.start();
    await failed;
    assert.equal(s.finishes[0]?.code, '4.06');
    assert.equal(c.store.serverAccounts().length, 0, 'nothing committed');
    assert.equal(c.state, 'failed');
  });
});

/**
 * NoSec-only firmware (ClientOptions.noSecOnly) against the real Bootstrap-Server of lib/bootstrap: the
 * device refuses a NoSec Security write that carries resources 3, 4, 5; runBootstrap's retry without them
 * gets it bootstrapped with a default profile.
 */
import assert from 'node:assert/strict';
import {
  BootstrapServer,
  runBootstrap,
  SessionOutcome,
  type AuditRecord,
  type BootstrapSession,
  type RunBootstrapResult,
} from '../../../lib/bootstrap';
import { SimulatedClient } from '../../../lib/client/client';
import type { ClientOptions } from '../../../lib/client/options';
import { contentFormatFor, planBootstrap } from '../../../lib/profile';
import type { BootstrapProfile } from '../../../lib/profile/types';
import { validatedProfile } from '../../../lib/profile/validated';
import { RegistrationServer, type Registration } from '../../../lib/rd/server';
import { FAST, waitFor } from './support/fixtures';

describe('simulated client: NoSec-only firmware (noSecOnly) with the real Bootstrap-Server', () => {
  let rd: RegistrationServer;
  let bs: BootstrapServer;
  let bsPort: number;
  let audits: AuditRecord[];
  const clients: SimulatedClient[] = [];
  const profile = (): BootstrapProfile => ({
    servers: [{ shortServerId: 101, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 45 }],
  });
  function client(opts: Partial<ClientOptions> & { endpoint: string }): SimulatedClient {
    const c = new SimulatedClient({
      bootstrapServer: { uri: `coap://127.0.0.1:${bsPort}` },
      timing: FAST,
      maxBootstrapAttempts: 1,
      ...opts,
    });
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    rd = await new RegistrationServer().listen();
    bs = new BootstrapServer({ port: 0, address: '127.0.0.1', requestTimeoutMs: 2000 });
    bsPort = (await bs.listen()).port;
    audits = [];
    bs.on('audit', (r) => audits.push(r));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop();
    await bs.close();
    await rd.close();
  });

  it('a default profile bootstraps it thanks to the retry without the key resources, and it registers', async () => {
    const runs: RunBootstrapResult[] = [];
    bs.on('bootstrapRequest', (s: BootstrapSession) => {
      void runBootstrap(s, validatedProfile(profile()), { stopOnError: true })
        .then((r) => {
          runs.push(r);
          return s.finish();
        })
        .catch(() => undefined);
    });
    const c = client({ endpoint: 'nosec-only-1', noSecOnly: true });
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    assert.equal((await registered).endpoint, 'nosec-only-1');
    const sec = runs[0].steps.find((x) => x.request.type === 'BootstrapWriteRequest' && x.request.path.objectId === 0);
    assert.equal(sec?.retriedWithoutKeys, true);
    assert.equal(sec?.response.code, '2.04');
    const rec = audits.find((r) => r.endpoint === 'nosec-only-1');
    assert.equal(rec?.outcome, SessionOutcome.SUCCESS);
    const refused = rec?.steps.find((x) => x.op === 'write' && x.code === '4.00');
    assert.match(refused?.diagnostic ?? '', /NoSec-only firmware: Security \/0\/\d+ in NoSec mode must not carry resources 3, 4, 5/);
    const account = c.store.instances(0).find((i) => i.resources.get(1)?.kind === 'single' && (i.resources.get(1) as { value: unknown }).value === false);
    assert.ok(account, 'the server account is stored');
    assert.deepEqual([3, 4, 5].filter((r) => account.resources.has(r)), [], 'without key resources');
  });

  it('without the retry the same bootstrap fails: the Security write is refused 4.00 and Finish answers 4.06', async () => {
    bs.on('bootstrapRequest', (s: BootstrapSession) => {
      void (async () => {
        await s.accept();
        // The planned requests sent as they are, without runBootstrap's fallbacks (as a server without the retry).
        for (const req of planBootstrap(validatedProfile(profile()), { contentFormat: contentFormatFor(profile(), s.preferredContentFormat) })) {
          await s.send(req);
        }
        await s.finish();
      })().catch(() => undefined);
    });
    const c = client({ endpoint: 'nosec-only-2', noSecOnly: true });
    const failed = waitFor<{ reason: string }>(c, 'bootstrapFailed');
    const audited = waitFor<AuditRecord>(bs, 'audit', (r) => r.endpoint === 'nosec-only-2');
    await c.start();
    await failed;
    const rec = await audited;
    assert.equal(rec.outcome, SessionOutcome.FINISH_FAILED);
    assert.match(rec.detail ?? '', /^4\.06 /);
    assert.ok(rec.steps.some((x) => x.op === 'write' && x.path.startsWith('/0/') && x.code === '4.00'));
  });

  it('a device that is not NoSec-only takes the key resources on the first try (no retry)', async () => {
    const runs: RunBootstrapResult[] = [];
    bs.on('bootstrapRequest', (s: BootstrapSession) => {
      void runBootstrap(s, validatedProfile(profile()), { stopOnError: true })
        .then((r) => {
          runs.push(r);
          return s.finish();
        })
        .catch(() => undefined);
    });
    const c = client({ endpoint: 'with-keys-1' });
    const registered = waitFor<Registration>(rd, 'registered');
    await c.start();
    await registered;
    assert.ok(runs[0].steps.every((x) => x.retriedWithoutKeys === undefined));
    const account = c.store.instances(0).find((i) => i.resources.has(10));
    assert.deepEqual([3, 4, 5].filter((r) => account?.resources.has(r)), [3, 4, 5]);
  });
});

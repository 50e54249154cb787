import assert from 'node:assert/strict';
import { BootstrapServer, runBootstrap, type BootstrapSession } from '../../../lib/bootstrap';
import { validatedProfile } from '../../../lib/profile/validated';
import { expandPattern, Fleet, type FleetSummary } from '../../../lib/client/fleet';
import { RegistrationServer } from '../../../lib/rd/server';
import { FAST, waitFor } from './support/fixtures';

describe('Fleet', () => {
  it('expands endpoint and credential patterns', () => {
    assert.equal(expandPattern('meter-{n}', 7), 'meter-7');
    assert.equal(expandPattern('meter-{n:4}', 7), 'meter-0007');
    assert.equal(expandPattern('id-{ep}', 7, 'meter-7'), 'id-meter-7');
    assert.throws(() => new Fleet({ count: 2, endpointPattern: 'meter', client: {} }), /must contain \{n\}/);
    assert.throws(
      () => new Fleet({ count: 2, endpointPattern: 'm-{n}', pskKeyPattern: 'zz{n}', client: { bootstrapServer: { uri: 'coap://127.0.0.1:1' } } }),
      /not hex/,
    );
    assert.throws(() => new Fleet({ count: 6000, endpointPattern: 'm-{n}', client: {} }), /1\.\.5000/);
  });

  it('bootstraps and registers N devices against the real Bootstrap-Server, never more than `concurrency` starting at once', async function () {
    this.timeout(30000);
    const rd = await new RegistrationServer().listen();
    const bs = new BootstrapServer({ port: 0, address: '127.0.0.1', requestTimeoutMs: 3000 });
    const port = (await bs.listen()).port;
    bs.on('bootstrapRequest', (session: BootstrapSession) => {
      void runBootstrap(session, validatedProfile({ servers: [{ shortServerId: 1, uri: `coap://127.0.0.1:${rd.port}`, securityMode: 'nosec', lifetime: 60 }] }))
        .then(() => session.finish())
        .catch(() => undefined);
    });
    const fleet = new Fleet({
      count: 40,
      endpointPattern: 'meter-{n:4}',
      pskIdentityPattern: 'id-{ep}',
      concurrency: 5,
      summaryIntervalMs: 100,
      client: { version: '1.1', bootstrapServer: { uri: `coap://127.0.0.1:${port}` }, timing: FAST },
    });
    let maxBusy = 0;
    for (const c of fleet.clients) {
      c.on('state', () => {
        const busy = fleet.clients.filter((x) => x.state === 'holdoff' || x.state === 'bootstrapping').length;
        maxBusy = Math.max(maxBusy, busy);
      });
    }
    const summaries: FleetSummary[] = [];
    fleet.on('summary', (s: FleetSummary) => summaries.push(s));
    try {
      const settled = waitFor<FleetSummary>(fleet, 'settled', () => true, 25000);
      const diagram = waitFor<{ mermaid: string }>(fleet, 'diagram', () => true, 25000);
      fleet.start();
      const s = await settled;
      assert.equal(s.registered, 40);
      assert.equal(s.bootstrapped, 40);
      assert.equal(s.failed, 0);
      assert.equal(rd.registrations.size, 40);
      assert.ok(rd.byEndpoint('meter-0001') && rd.byEndpoint('meter-0040'));
      assert.ok(maxBusy <= 5, `at most 5 bootstrapping at once, saw ${maxBusy}`);
      // The fleet may settle within the first summary interval on a fast machine; the timer runs until stop().
      if (summaries.length === 0) await waitFor<FleetSummary>(fleet, 'summary', () => true, 2000);
      assert.ok(summaries.length >= 1, 'periodic summaries');
      assert.ok(s.bootstrapMs && s.bootstrapMs.p50 > 0);
      assert.match((await diagram).mermaid, /^sequenceDiagram/);
      const one = fleet.client('meter-0003');
      assert.deepEqual(one?.store.value(0, 0, 3), Buffer.from('id-meter-0003'));
    } finally {
      await fleet.stop();
      await bs.close();
      await rd.close();
    }
    assert.equal(rd.registrations.size, 0, 'all de-registered on stop');
  });
});

import { strict as assert } from 'node:assert';
import {
  BootstrapPackRequest,
  runBootstrap,
  SessionOutcome,
  type AuditRecord,
  type BootstrapServer,
  type BootstrapServerOptions,
  type BootstrapSession,
} from '../../../lib/bootstrap';
import { defaultModel, rootFromJson } from '../../../lib/model';
import type { BootstrapProfile } from '../../../lib/profile/types';
import { validatedProfile } from '../../../lib/profile/validated';
import { ScriptedDevice } from '../../support/scripted-device';
import { RawPeer, bsRequest, startServer } from './helpers';

const PROFILE: BootstrapProfile = {
  servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5683', securityMode: 'nosec' }],
};

const PACK = rootFromJson(
  {
    0: { 1: { 0: 'coap://127.0.0.1:5683', 1: false, 2: 3, 3: '', 4: '', 5: '', 10: 1 } },
    1: { 0: { 0: 1, 1: 60, 6: false, 7: 'U' } },
  },
  defaultModel,
);

/** Every way a session or a pack request can end gives exactly one 'audit' record, with the right outcome. */
describe("BootstrapServer 'audit': one record per session and per pack request, whatever the path", () => {
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;
  let audits: AuditRecord[];
  let waiters: { pred: (r: AuditRecord) => boolean; resolve: (r: AuditRecord) => void }[];

  async function start(opts: BootstrapServerOptions = {}): Promise<void> {
    ({ server, port } = await startServer({
      requestTimeoutMs: 300,
      decisionTimeoutMs: 200,
      packResponseTimeoutMs: 200,
      coap: { ackTimeout: 0.05 },
      ...opts,
    }));
    server.on('audit', (rec) => {
      audits.push(rec);
      for (const w of [...waiters]) {
        if (w.pred(rec)) {
          waiters = waiters.filter((x) => x !== w);
          w.resolve(rec);
        }
      }
    });
  }

  /** The audit record of `ep` (waits for it). */
  function auditOf(ep: string): Promise<AuditRecord> {
    const seen = audits.find((r) => r.endpoint === ep);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ pred: (r) => r.endpoint === ep, resolve }));
  }

  /** After the server closed (nothing more can end), `ep` has exactly one record with `outcome`. */
  async function exactlyOne(ep: string, outcome: SessionOutcome, kind: 'bootstrap' | 'pack' = 'bootstrap'): Promise<AuditRecord> {
    await server.close();
    const mine = audits.filter((r) => r.endpoint === ep);
    assert.equal(mine.length, 1, `records for ${ep}: ${JSON.stringify(mine.map((r) => r.outcome))}`);
    const rec = mine[0];
    assert.equal(rec.outcome, outcome);
    assert.equal(rec.kind, kind);
    assert.ok(rec.endedAt, 'endedAt');
    assert.ok(Date.parse(rec.endedAt) >= Date.parse(rec.startedAt));
    return rec;
  }

  function nextSession(): Promise<BootstrapSession> {
    return new Promise((resolve) => server.once('bootstrapRequest', resolve));
  }

  beforeEach(async () => {
    audits = [];
    waiters = [];
    dev = await ScriptedDevice.create();
  });
  afterEach(async () => {
    await dev.close();
    await server?.close();
  });

  it('success: SUCCESS, with every step', async () => {
    await start();
    server.once('bootstrapRequest', (s) => {
      void runBootstrap(s, validatedProfile(PROFILE)).then(() => s.finish());
    });
    await dev.bootstrapRequest({ port }, { ep: 'ok-1' });
    await auditOf('ok-1');
    const rec = await exactlyOne('ok-1', SessionOutcome.SUCCESS);
    assert.deepEqual(rec.steps.map((s) => s.op), ['discover', 'delete', 'delete', 'write', 'write', 'finish']);
  });

  it('device error ended REQUEST_FAILED by the caller: the device\'s code in detail', async () => {
    await start();
    dev.reply('PUT', '/1/0', { code: '4.00', payload: 'bad lifetime' });
    server.once('bootstrapRequest', (s) => {
      void runBootstrap(s, validatedProfile(PROFILE), { stopOnError: true }).then((r) => {
        if (r.stopped) s.end(SessionOutcome.REQUEST_FAILED);
      });
    });
    await dev.bootstrapRequest({ port }, { ep: 'err-1' });
    await auditOf('err-1');
    const rec = await exactlyOne('err-1', SessionOutcome.REQUEST_FAILED);
    assert.equal(rec.detail, '4.00 PUT /1/0: bad lifetime');
    assert.deepEqual([rec.steps.at(-1)?.code, rec.steps.at(-1)?.diagnostic], ['4.00', 'bad lifetime']);
  });

  it('Discover refused, then success', async () => {
    await start();
    dev.reply('GET', '/', { code: '4.05' });
    server.once('bootstrapRequest', (s) => {
      void runBootstrap(s, validatedProfile(PROFILE), { stopOnError: true }).then(() => s.finish());
    });
    await dev.bootstrapRequest({ port }, { ep: 'nodisc-1' });
    await auditOf('nodisc-1');
    const rec = await exactlyOne('nodisc-1', SessionOutcome.SUCCESS);
    assert.equal(rec.steps[0].code, '4.05');
  });

  it('decision timeout: TIMEOUT, and the device got the configured code', async () => {
    await start();
    server.on('bootstrapRequest', () => undefined); // listens, never decides
    const res = await dev.bootstrapRequest({ port }, { ep: 'undecided-1' });
    assert.equal(res.code, '5.03');
    await auditOf('undecided-1');
    const rec = await exactlyOne('undecided-1', SessionOutcome.TIMEOUT);
    assert.match(rec.detail ?? '', /not accepted or rejected/);
    assert.equal(rec.acceptedAt, undefined);
  });

  it('endpoint/identity binding refused (reject UNAUTHORIZED)', async () => {
    await start();
    server.once('bootstrapRequest', (s) => void s.reject('4.03', 'endpoint not bound to this identity', SessionOutcome.UNAUTHORIZED));
    const res = await dev.bootstrapRequest({ port }, { ep: 'unbound-1' });
    assert.equal(res.code, '4.03');
    const rec = await exactlyOne('unbound-1', SessionOutcome.UNAUTHORIZED);
    assert.equal(rec.detail, '4.03 endpoint not bound to this identity');
  });

  it('no configuration (reject NO_BOOTSTRAP_CONFIG)', async () => {
    await start();
    server.once('bootstrapRequest', (s) => void s.reject('4.00', 'no profile', SessionOutcome.NO_BOOTSTRAP_CONFIG));
    assert.equal((await dev.bootstrapRequest({ port }, { ep: 'noconf-1' })).code, '4.00');
    await exactlyOne('noconf-1', SessionOutcome.NO_BOOTSTRAP_CONFIG);
  });

  it('a request the device never answers: TIMEOUT', async () => {
    await start();
    dev.reply('GET', '/', { code: '2.05', drop: true });
    server.once('bootstrapRequest', (s) => void runBootstrap(s, validatedProfile(PROFILE)).catch(() => undefined));
    await dev.bootstrapRequest({ port }, { ep: 'silent-1' });
    await auditOf('silent-1');
    const rec = await exactlyOne('silent-1', SessionOutcome.TIMEOUT);
    assert.equal(rec.steps[0].code, '');
  });

  it('a device error nobody acts on: the session timeout ends it TIMEOUT, the error step kept', async () => {
    await start({ sessionTimeoutMs: 400 });
    dev.reply('DELETE', '/0', { code: '4.04', payload: 'gone' });
    server.once('bootstrapRequest', (s) => void runBootstrap(s, validatedProfile(PROFILE), { stopOnError: true }));
    await dev.bootstrapRequest({ port }, { ep: 'stale-1' });
    await auditOf('stale-1');
    const rec = await exactlyOne('stale-1', SessionOutcome.TIMEOUT);
    assert.deepEqual([rec.steps.at(-1)?.code, rec.steps.at(-1)?.diagnostic], ['4.04', 'gone']);
  });

  it('a Reset to a request: REQUEST_FAILED', async () => {
    await start();
    const peer = await RawPeer.create();
    try {
      server.once('bootstrapRequest', (s) => void runBootstrap(s, validatedProfile(PROFILE)).catch(() => undefined));
      peer.send(bsRequest('reset-1', 0x1234, Buffer.from([1, 2])), port);
      const req = await peer.next((p) => p.code === '0.01');
      peer.send({ code: '0.00', reset: true, messageId: req.messageId }, port);
      await auditOf('reset-1');
      await exactlyOne('reset-1', SessionOutcome.REQUEST_FAILED);
    } finally {
      await peer.close();
    }
  });

  it('replaced by a new Bootstrap-Request of the same device: the old session CANCELLED, the new one its own record', async () => {
    await start();
    const first = nextSession();
    void dev.bootstrapRequest({ port }, { ep: 'twice-1' }).catch(() => undefined);
    const s1 = await first;
    const second = nextSession();
    void dev.bootstrapRequest({ port }, { ep: 'twice-1' }).catch(() => undefined);
    const s2 = await second;
    await s2.reject('4.00', 'enough', SessionOutcome.REJECTED);
    await server.close();
    const mine = audits.filter((r) => r.endpoint === 'twice-1');
    assert.deepEqual(mine.map((r) => [r.sessionId, r.outcome]), [
      [s1.id, SessionOutcome.CANCELLED],
      [s2.id, SessionOutcome.REJECTED],
    ]);
  });

  it('server close: an open session CANCELLED', async () => {
    await start({ decisionTimeoutMs: 10_000 });
    const got = nextSession();
    void dev.bootstrapRequest({ port }, { ep: 'closed-1' }).catch(() => undefined);
    await got;
    const rec = await exactlyOne('closed-1', SessionOutcome.CANCELLED);
    assert.equal(rec.detail, 'bootstrap server closed');
  });

  it('pack answered: SUCCESS, one pack step with the Accept format', async () => {
    await start();
    server.once('packRequest', (p) => void p.respond(PACK));
    assert.equal((await dev.packRequest({ port }, { ep: 'pack-1', accept: 110 })).code, '2.05');
    const rec = await exactlyOne('pack-1', SessionOutcome.SUCCESS, 'pack');
    assert.equal(rec.steps.length, 1);
    assert.deepEqual(
      [rec.steps[0].op, rec.steps[0].method, rec.steps[0].path, rec.steps[0].contentFormat, rec.steps[0].code, rec.steps[0].success],
      ['pack', 'GET', '/bspack', 110, '2.05', true],
    );
    assert.equal(rec.lwm2mVersion, '1.2');
  });

  it('pack refused by the flow: its outcome and code', async () => {
    await start();
    server.once('packRequest', (p) => void p.reject('4.04', 'no profile', SessionOutcome.NO_BOOTSTRAP_CONFIG));
    assert.equal((await dev.packRequest({ port }, { ep: 'pack-noconf' })).code, '4.04');
    const rec = await exactlyOne('pack-noconf', SessionOutcome.NO_BOOTSTRAP_CONFIG, 'pack');
    assert.deepEqual([rec.steps[0].code, rec.steps[0].diagnostic, rec.detail], ['4.04', 'no profile', '4.04 no profile']);
  });

  it('pack refused without an outcome: REJECTED', async () => {
    await start();
    server.once('packRequest', (p) => void p.reject('4.01'));
    assert.equal((await dev.packRequest({ port }, { ep: 'pack-rej' })).code, '4.01');
    await exactlyOne('pack-rej', SessionOutcome.REJECTED, 'pack');
  });

  it('pack nobody answers: TIMEOUT with the server\'s default code', async () => {
    await start({ packDefaultCode: '4.04' });
    let seen: BootstrapPackRequest | undefined;
    server.once('packRequest', (p) => (seen = p));
    assert.equal((await dev.packRequest({ port }, { ep: 'pack-late' })).code, '4.04');
    const rec = await exactlyOne('pack-late', SessionOutcome.TIMEOUT, 'pack');
    assert.equal(rec.steps[0].code, '4.04');
    assert.equal(rec.sessionId, seen?.id);
    await assert.rejects(seen!.respond(PACK), /already answered/);
  });

  it('pack open when the server closes: CANCELLED', async () => {
    await start({ packResponseTimeoutMs: 10_000 });
    const got = new Promise<void>((resolve) => server.once('packRequest', () => resolve()));
    void dev.packRequest({ port }, { ep: 'pack-closed' }).catch(() => undefined);
    await got;
    await exactlyOne('pack-closed', SessionOutcome.CANCELLED, 'pack');
  });

  it('nobody listens for requests: the session and the pack REJECTED', async () => {
    await start();
    assert.equal((await dev.bootstrapRequest({ port }, { ep: 'nobody-1' })).code, '5.03');
    assert.equal((await dev.packRequest({ port }, { ep: 'nobody-2' })).code, '4.04');
    await exactlyOne('nobody-1', SessionOutcome.REJECTED);
    const rec = audits.find((r) => r.endpoint === 'nobody-2');
    assert.equal(audits.filter((r) => r.endpoint === 'nobody-2').length, 1);
    assert.deepEqual([rec?.kind, rec?.outcome, rec?.detail], ['pack', SessionOutcome.REJECTED, '4.04 no pack handler']);
  });
});

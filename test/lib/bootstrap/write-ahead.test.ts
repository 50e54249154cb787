import { strict as assert } from 'node:assert';
import { BootstrapServer, BootstrapSession, SessionOutcome, type AuditRecord } from '../../../lib/bootstrap';
import { ScriptedDevice } from '../../support/scripted-device';
import { startServer } from './helpers';

function nextSession(server: BootstrapServer): Promise<BootstrapSession> {
  return new Promise((resolve) => server.once('bootstrapRequest', (s) => void s.accept().then(() => resolve(s))));
}

describe('BootstrapServer before-finish hook (write-ahead of the verdict)', function () {
  this.timeout(10_000);
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;

  beforeEach(async () => {
    ({ server, port } = await startServer());
    dev = await ScriptedDevice.create();
  });
  afterEach(async () => {
    await dev.close();
    await server.close();
  });

  async function session(ep: string): Promise<BootstrapSession> {
    const got = nextSession(server);
    assert.equal((await dev.bootstrapRequest({ port }, { ep })).code, '2.04');
    return got;
  }

  it('holds Bootstrap-Finish until the hook has the record, then the final audit follows', async () => {
    const order: string[] = [];
    let release!: () => void;
    const seen: AuditRecord[] = [];
    server.setBeforeFinish((rec) => {
      seen.push(rec);
      order.push('hook');
      return new Promise<boolean>((r) => (release = () => r(true)));
    }, 5_000);
    const audits: AuditRecord[] = [];
    server.on('audit', (r) => audits.push(r));
    const s = await session('wal-1');
    const fin = s.finish();
    await new Promise((r) => setImmediate(r));
    assert.equal(seen.length, 1);
    assert.equal(seen[0].sessionId, s.id);
    assert.equal(seen[0].outcome, undefined, 'the hook sees the record before any outcome');
    assert.equal(dev.received.length, 0, 'no Finish left while the hook has not answered');
    order.push('release');
    release();
    const r = await fin;
    assert.equal(r.code, '2.04');
    assert.deepEqual(dev.received.map((x) => `${x.method} ${x.path}`), ['POST /bs']);
    assert.deepEqual(order, ['hook', 'release']);
    assert.equal(audits.length, 1);
    assert.equal(audits[0].outcome, SessionOutcome.SUCCESS);
  });

  it('a hook that never answers holds Finish only for its bound, and one that throws not at all', async () => {
    server.setBeforeFinish(() => new Promise<boolean>(() => undefined), 150);
    const s1 = await session('wal-slow');
    assert.equal((await s1.finish()).code, '2.04');
    assert.equal(s1.outcome, SessionOutcome.SUCCESS);
    server.setBeforeFinish(() => {
      throw new Error('store broken');
    }, 60_000);
    const s2 = await session('wal-throws');
    assert.equal((await s2.finish()).code, '2.04');
    assert.equal(s2.outcome, SessionOutcome.SUCCESS);
  });

  it('a session ended while the hook waits sends no Finish and ends once', async () => {
    let release!: () => void;
    server.setBeforeFinish(() => new Promise<boolean>((r) => (release = () => r(true))), 5_000);
    const audits: AuditRecord[] = [];
    server.on('audit', (r) => audits.push(r));
    const s = await session('wal-cancel');
    const fin = s.finish();
    s.end(SessionOutcome.CANCELLED, 'test');
    release();
    await assert.rejects(fin);
    assert.equal(dev.received.length, 0);
    assert.deepEqual(audits.map((a) => a.outcome), [SessionOutcome.CANCELLED]);
  });

  it('refuses a negative bound', () => {
    assert.throws(() => server.setBeforeFinish(async () => true, -1), /timeout/);
  });
});

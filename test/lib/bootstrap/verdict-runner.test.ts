import { strict as assert } from 'node:assert';
import {
  runBootstrap,
  SessionOutcome,
  type AuditRecord,
  type BootstrapServer,
  type BootstrapSession,
  type RunBootstrapOptions,
  type RunBootstrapResult,
} from '../../../lib/bootstrap';
import { decode } from '../../../lib/codec';
import { defaultModel, LwM2mPath, type ObjectInstanceNode } from '../../../lib/model';
import type { BootstrapProfile } from '../../../lib/profile/types';
import { validatedProfile } from '../../../lib/profile/validated';
import { ScriptedDevice, type ReceivedRequest } from '../../support/scripted-device';
import { startServer } from './helpers';

const PROFILE: BootstrapProfile = {
  servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5683', securityMode: 'nosec' }],
};

const TWO_SERVERS: BootstrapProfile = {
  servers: [
    { shortServerId: 1, uri: 'coap://127.0.0.1:5683', securityMode: 'nosec' },
    { shortServerId: 2, uri: 'coap://127.0.0.1:5693', securityMode: 'nosec' },
  ],
};

/** The resource ids a Security instance write carries (the device decodes what it got). */
function securityResources(r: ReceivedRequest): number[] {
  const path = LwM2mPath.parse(r.path);
  const node = decode(r.contentFormat as number, path, r.payload, defaultModel) as ObjectInstanceNode;
  return [...node.resources.keys()].sort((a, b) => a - b);
}

/** Answers like NoSec-only firmware: a Security write with resource 3, 4 or 5 gets `code` and a diagnostic. */
function refuseKeys(code: string) {
  return (r: ReceivedRequest) =>
    securityResources(r).some((id) => id === 3 || id === 4 || id === 5)
      ? { code, payload: 'no key storage: NoSec-only build' }
      : undefined;
}

describe('runBootstrap: devices that answer errors get a verdict, not a hang', () => {
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;
  let audits: AuditRecord[];

  beforeEach(async () => {
    ({ server, port } = await startServer({ requestTimeoutMs: 2000, coap: { ackTimeout: 0.05 } }));
    audits = [];
    server.on('audit', (rec) => audits.push(rec));
    dev = await ScriptedDevice.create();
  });
  afterEach(async () => {
    await dev.close();
    await server.close();
  });

  function run(profile: BootstrapProfile, opts: RunBootstrapOptions = {}) {
    return new Promise<{ s: BootstrapSession; result?: RunBootstrapResult; error?: unknown }>((resolve) => {
      server.once('bootstrapRequest', (s) => {
        runBootstrap(s, validatedProfile(profile), opts).then(
          (result) => resolve({ s, result }),
          (error: unknown) => resolve({ s, error }),
        );
      });
    });
  }

  for (const code of ['4.05', '4.04', '4.00', '5.00']) {
    it(`a Bootstrap-Discover refused ${code} falls back to the plan without Discover, even with stopOnError`, async () => {
      dev.reply('GET', '/', { code, payload: 'discover not built in' });
      const done = run(PROFILE, { stopOnError: true });
      await dev.bootstrapRequest({ port }, { ep: `nodisc-${code}` });
      const { s, result, error } = await done;
      assert.equal(error, undefined);
      assert.deepEqual(result?.discoveryRefused, { code, diagnostic: 'discover not built in' });
      assert.equal(result?.stopped, false);
      assert.equal(result?.ok, true, 'the refused Discover does not fail the run');
      assert.equal(result?.discovered, undefined);
      // The layout of a device that was not asked: the Bootstrap-Server account at /0/0, the server account next.
      assert.deepEqual(dev.received.map((r) => `${r.method} ${r.path}`), ['GET /', 'DELETE /0', 'DELETE /1', 'PUT /0/1', 'PUT /1/0']);
      assert.equal((await s.finish()).code, '2.04');
      const step = s.audit().steps[0];
      assert.deepEqual([step.op, step.code, step.success, step.diagnostic], ['discover', code, false, 'discover not built in']);
      assert.equal(audits.length, 1);
      assert.equal(audits[0].outcome, SessionOutcome.SUCCESS);
    });
  }

  it('retries a NoSec Security write refused 4.00 once without the empty key resources 3, 4, 5, and leaves them out later', async () => {
    dev.reply('PUT', '/0/1', refuseKeys('4.00'));
    dev.reply('PUT', '/0/2', refuseKeys('4.00'));
    const done = run(TWO_SERVERS, { stopOnError: true });
    await dev.bootstrapRequest({ port }, { ep: 'nosec-only', pct: 11542 });
    const { s, result, error } = await done;
    assert.equal(error, undefined);
    assert.equal(result?.ok, true);
    const puts = dev.received.filter((r) => r.method === 'PUT' && r.path.startsWith('/0/'));
    assert.deepEqual(puts.map((r) => `${r.path} ${securityResources(r).join(',')}`), [
      '/0/1 0,1,2,3,4,5,10',
      '/0/1 0,1,2,10',
      '/0/2 0,1,2,10', // remembered: the second account goes without them at once
    ]);
    const sec = result?.steps.filter((x) => x.request.type === 'BootstrapWriteRequest' && x.request.path.objectId === 0) ?? [];
    assert.equal(sec[0].retriedWithoutKeys, true);
    assert.equal(sec[0].response.code, '2.04');
    assert.equal(sec[1].retriedWithoutKeys, undefined);
    assert.equal(s.omitNoSecKeys, true);
    const steps = s.audit().steps.filter((x) => x.path === '/0/1');
    assert.deepEqual(steps.map((x) => [x.code, x.retriedWithoutKeys ?? false]), [['4.00', false], ['2.04', true]]);
    assert.equal(steps[0].diagnostic, 'no key storage: NoSec-only build');
    assert.equal((await s.finish()).code, '2.04');
  });

  for (const code of ['4.04', '4.05']) {
    it(`retries a NoSec Security write refused ${code} without the key resources too`, async () => {
      dev.reply('PUT', '/0/1', refuseKeys(code));
      const done = run(PROFILE, { stopOnError: true });
      await dev.bootstrapRequest({ port }, { ep: `nosec-${code}` });
      const { result } = await done;
      assert.equal(result?.ok, true);
      assert.equal(result?.steps.find((x) => x.request.type === 'BootstrapWriteRequest')?.retriedWithoutKeys, true);
    });
  }

  it('sends the key resources on the first try to a device that takes them, and does not retry a 4.15 that way', async () => {
    dev.reply('PUT', '/0/1', (r) => (r.contentFormat === 112 ? { code: '4.15' } : undefined));
    const done = run(PROFILE);
    await dev.bootstrapRequest({ port }, { ep: 'needs-keys', pct: 112 });
    const { s, result } = await done;
    assert.equal(result?.ok, true);
    const puts = dev.received.filter((r) => r.method === 'PUT' && r.path === '/0/1');
    assert.deepEqual(puts.map((r) => `${r.contentFormat} ${securityResources(r).join(',')}`), [
      '112 0,1,2,3,4,5,10',
      '110 0,1,2,3,4,5,10',
    ]);
    assert.equal(s.omitNoSecKeys, false);
  });

  it('does not strip keys from a Security write that is not NoSec', async () => {
    const psk: BootstrapProfile = {
      servers: [{ shortServerId: 1, uri: 'coaps://127.0.0.1:5684', securityMode: 'psk', pskIdentity: 'dev', pskKey: '00112233' }],
    };
    dev.reply('PUT', '/0/1', { code: '4.00', payload: 'bad key' });
    const done = run(psk, { stopOnError: true });
    await dev.bootstrapRequest({ port }, { ep: 'psk-refused' });
    const { result } = await done;
    assert.equal(result?.stopped, true);
    assert.equal(dev.received.filter((r) => r.path === '/0/1').length, 1);
  });

  it('records a write answered 4.00 with its code and escaped diagnostic; stopOnError returns at once and end() names it', async () => {
    dev.reply('PUT', '/1/0', { code: '4.00', payload: 'lifetime out of range\n[error] forged \u001b[31mline' });
    const done = run(PROFILE, { stopOnError: true });
    await dev.bootstrapRequest({ port }, { ep: 'write-400' });
    const { s, result } = await done;
    assert.equal(result?.stopped, true);
    assert.equal(result?.ok, false);
    assert.equal(s.state, 'accepted', 'the caller decides how the session ends');
    const last = s.audit().steps.at(-1);
    assert.equal(last?.code, '4.00');
    assert.equal(last?.diagnostic, 'lifetime out of range\\n[error] forged \\x1b[31mline');
    s.end(SessionOutcome.REQUEST_FAILED);
    assert.equal(audits.length, 1);
    assert.equal(audits[0].outcome, SessionOutcome.REQUEST_FAILED);
    assert.match(audits[0].detail ?? '', /^4\.00 PUT \/1\/0: lifetime out of range\\n/);
    assert.ok(audits[0].endedAt);
  });

  it('cuts a long diagnostic short', async () => {
    dev.reply('DELETE', '/0', { code: '5.00', payload: 'x'.repeat(1000) });
    const done = run(PROFILE, { stopOnError: true });
    await dev.bootstrapRequest({ port }, { ep: 'long-diag' });
    const { s, result } = await done;
    assert.equal(result?.stopped, true);
    const step = s.audit().steps.find((x) => x.op === 'delete');
    assert.equal(step?.code, '5.00');
    assert.equal(step?.diagnostic, `${'x'.repeat(256)}...`);
    s.end(SessionOutcome.REQUEST_FAILED, 'device error 5.00 at DELETE /0');
    assert.equal(audits[0].detail, 'device error 5.00 at DELETE /0');
  });

  it('a delete answered 4.04 is recorded with the code and stops the run with stopOnError', async () => {
    dev.reply('DELETE', '/1', { code: '4.04', payload: 'no object 1' });
    const done = run(PROFILE, { stopOnError: true });
    await dev.bootstrapRequest({ port }, { ep: 'delete-404' });
    const { s, result } = await done;
    assert.equal(result?.stopped, true);
    assert.deepEqual(dev.received.map((r) => `${r.method} ${r.path}`), ['GET /', 'DELETE /0', 'DELETE /1']);
    const step = s.audit().steps.at(-1);
    assert.deepEqual([step?.op, step?.code, step?.diagnostic], ['delete', '4.04', 'no object 1']);
  });

  it('a device that answers 4.15 to every format ends the run and records the formats tried', async () => {
    dev.reply('PUT', '*', { code: '4.15' });
    const done = run(PROFILE);
    await dev.bootstrapRequest({ port }, { ep: 'no-format', pct: 11542 });
    const { s, result, error } = await done;
    assert.equal(error, undefined);
    assert.equal(result?.ok, false);
    const writes = result?.steps.filter((x) => x.request.type === 'BootstrapWriteRequest') ?? [];
    assert.equal(writes.length, 2);
    for (const w of writes) {
      assert.equal(w.response.code, '4.15');
      assert.deepEqual(w.retriedFormats, [11542, 112]);
      assert.equal(w.request.type === 'BootstrapWriteRequest' && w.request.contentFormat, 110);
    }
    assert.deepEqual(dev.received.filter((r) => r.method === 'PUT').map((r) => `${r.path} ${r.contentFormat}`), [
      '/0/1 11542', '/0/1 112', '/0/1 110', '/1/0 11542', '/1/0 112', '/1/0 110',
    ]);
    assert.equal(s.audit().steps.filter((x) => x.code === '4.15').length, 6);
  });

  it('a Bootstrap-Read refused is recorded and the run goes on to its end', async () => {
    dev.reply('GET', '/1', { code: '4.01', payload: 'not readable' });
    const done = run({ ...PROFILE, read: ['/1'] });
    await dev.bootstrapRequest({ port }, { ep: 'read-refused', pct: 11542 });
    const { s, result } = await done;
    assert.equal(result?.stopped, false);
    assert.equal(result?.ok, false);
    const read = s.audit().steps.find((x) => x.op === 'read');
    assert.deepEqual([read?.code, read?.success, read?.diagnostic], ['4.01', false, 'not readable']);
    assert.equal((await s.finish()).code, '2.04');
  });

  it('a write answered 4.05 to a Server instance is not retried and stops the run with stopOnError', async () => {
    dev.reply('PUT', '/1/0', { code: '4.05' });
    const done = run(PROFILE, { stopOnError: true });
    await dev.bootstrapRequest({ port }, { ep: 'write-405' });
    const { result } = await done;
    assert.equal(result?.stopped, true);
    assert.equal(result?.steps.at(-1)?.response.code, '4.05');
    assert.equal(result?.steps.at(-1)?.retriedWithoutKeys, undefined);
    assert.equal(dev.received.filter((r) => r.path === '/1/0').length, 1);
  });
});

import { strict as assert } from 'node:assert';
import {
  BootstrapDeleteRequest,
  RequestTimeoutError,
  runBootstrap,
  SessionEndedError,
  SessionOutcome,
  type BootstrapServer,
  type BootstrapSession,
  type RunBootstrapOptions,
  type RunBootstrapResult,
} from '../../../lib/bootstrap';
import type { BootstrapProfile } from '../../../lib/profile/types';
import { validatedProfile } from '../../../lib/profile/validated';
import { ScriptedDevice } from '../../support/scripted-device';
import { startServer } from './helpers';

const PROFILE: BootstrapProfile = {
  servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:5683', securityMode: 'nosec' }],
};

describe('runBootstrap: the library-only bootstrap against a scripted device', () => {
  let server: BootstrapServer;
  let port: number;
  let dev: ScriptedDevice;

  beforeEach(async () => {
    ({ server, port } = await startServer({ requestTimeoutMs: 500, coap: { ackTimeout: 0.05 } }));
    dev = await ScriptedDevice.create();
  });
  afterEach(async () => {
    await dev.close();
    await server.close();
  });

  /** Runs the profile on the next session; resolves with the session and the run's result or error. */
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

  it('discovers, deletes and writes in the client\'s pct format; Finish then succeeds', async () => {
    dev.discover = '</>;lwm2m=1.1,</0/3>,</1>,</3/0>'; // the Bootstrap-Server account lives in /0/3
    const done = run(PROFILE);
    assert.equal((await dev.bootstrapRequest({ port }, { ep: 'run-1', pct: 112 })).code, '2.04');
    const { s, result, error } = await done;
    assert.equal(error, undefined);
    assert.ok(result?.ok);
    assert.equal(result.contentFormat, 112);
    assert.equal(result.discovered?.bootstrapAccountInstanceId, 3);
    assert.deepEqual(dev.received.map((r) => `${r.method} ${r.path}`), ['GET /', 'DELETE /0', 'DELETE /1', 'PUT /0/0', 'PUT /1/0']);
    assert.deepEqual(dev.received.filter((r) => r.method === 'PUT').map((r) => r.contentFormat), [112, 112]);
    assert.ok(!dev.received.some((r) => r.path === '/0/3'), 'never touches the Bootstrap-Server account');
    const fin = await s.finish();
    assert.equal(fin.code, '2.04');
    assert.equal(s.outcome, SessionOutcome.SUCCESS);
    assert.equal(s.audit().steps.length, 6);
  });

  it('retries a write answered 4.15 in SenML CBOR and keeps that format for the next writes', async () => {
    dev.reply('PUT', '*', (r) => (r.contentFormat === 11542 ? { code: '4.15' } : undefined));
    const done = run(PROFILE);
    await dev.bootstrapRequest({ port }, { ep: 'run-415', pct: 11542 });
    const { result, error } = await done;
    assert.equal(error, undefined);
    assert.deepEqual(dev.received.filter((r) => r.method === 'PUT').map((r) => `${r.path} ${r.contentFormat}`), [
      '/0/1 11542',
      '/0/1 112',
      '/1/0 112',
    ]);
    const writes = result?.steps.filter((x) => x.request.type === 'BootstrapWriteRequest') ?? [];
    assert.deepEqual(writes[0].retriedFormats, [11542]);
    assert.equal(writes[0].response.code, '2.04');
    assert.equal(result?.contentFormat, 112);
    assert.equal(result?.ok, true);
  });

  it('records every request once: the refused 4.15 attempt superseded by its retry, which lists the refused format', async () => {
    dev.reply('PUT', '/0/1', (r) => (r.contentFormat === 11542 ? { code: '4.15' } : undefined));
    const done = run(PROFILE);
    await dev.bootstrapRequest({ port }, { ep: 'run-record', pct: 11542 });
    const { s, error } = await done;
    assert.equal(error, undefined);
    const steps = s.audit().steps.map((x) => [x.op, x.path, x.code, x.contentFormat, x.superseded ?? false, x.retriedFormats]);
    assert.deepEqual(steps, [
      ['discover', '/', '2.05', 40, false, undefined],
      ['delete', '/0', '2.02', undefined, false, undefined],
      ['delete', '/1', '2.02', undefined, false, undefined],
      ['write', '/0/1', '4.15', 11542, true, undefined],
      ['write', '/0/1', '2.04', 112, false, [11542]],
      ['write', '/1/0', '2.04', 112, false, undefined],
    ]);
  });

  it('stops at the first error with stopOnError, goes on without it', async () => {
    dev.reply('DELETE', '/0', { code: '4.05' });
    const stopped = run(PROFILE, { stopOnError: true });
    await dev.bootstrapRequest({ port }, { ep: 'run-stop' });
    const a = await stopped;
    assert.equal(a.result?.stopped, true);
    assert.equal(a.result?.ok, false);
    assert.deepEqual(dev.received.map((r) => `${r.method} ${r.path}`), ['GET /', 'DELETE /0']);
    assert.equal(a.s.state, 'accepted', 'the caller decides what to do with the session');

    const goesOn = run(PROFILE);
    await dev.bootstrapRequest({ port }, { ep: 'run-stop' });
    const b = await goesOn;
    assert.equal(a.s.outcome, SessionOutcome.CANCELLED, 'the new request replaced the first session');
    assert.equal(b.result?.stopped, false);
    assert.equal(b.result?.ok, false);
    assert.deepEqual(b.result?.steps.map((x) => x.response.code), ['2.05', '4.05', '2.02', '2.04', '2.04']);
  });

  it('rejects when the device vanishes, and the session ends TIMEOUT', async () => {
    dev.reply('DELETE', '*', { code: '2.02', drop: true }, Infinity);
    const done = run(PROFILE);
    await dev.bootstrapRequest({ port }, { ep: 'run-gone' });
    const { s, error } = await done;
    assert.ok(error instanceof RequestTimeoutError);
    assert.equal(s.outcome, SessionOutcome.TIMEOUT);
  });

  it('rejects with SessionEndedError when the flow ends the session while a request is out; one audit record', async () => {
    dev.reply('DELETE', '*', { code: '2.02', drop: true }, Infinity);
    const audits: string[] = [];
    server.on('audit', (rec) => audits.push(`${rec.endpoint} ${rec.outcome} ${rec.steps.map((x) => `${x.method} ${x.path}`).join(',')}`));
    const done = run(PROFILE);
    await dev.bootstrapRequest({ port }, { ep: 'run-ended' });
    await dev.waitFor((r) => r.method === 'DELETE');
    const s = server.findSessionByEndpoint('run-ended');
    assert.ok(s);
    s.end(SessionOutcome.CANCELLED, 'operator stop');
    const { error } = await done;
    assert.ok(error instanceof SessionEndedError, String(error));
    assert.equal(s.outcome, SessionOutcome.CANCELLED);
    // The DELETE out at the end has no answer to record: the record lists what the device answered.
    assert.deepEqual(audits, ['run-ended CANCELLED GET /']);
  });

  it('rejects with the ProfileError of a plain profile that is not valid; the session goes on', async () => {
    const done = new Promise<{ s: BootstrapSession; error?: unknown; next?: string }>((resolve) => {
      server.once('bootstrapRequest', (s) => {
        void (async () => {
          await s.accept();
          // From JavaScript, a plain object: planBootstrap checks it (after the Discover) and refuses it.
          const bad = { servers: [{ shortServerId: 1, uri: 42, securityMode: 'nosec' }] };
          const error = await runBootstrap(s, bad as never, { stopOnError: true }).then(() => undefined, (e: unknown) => e);
          const next = await s.send(new BootstrapDeleteRequest('/1')).then((r) => r.code, (e: unknown) => String(e));
          resolve({ s, error, next });
        })();
      });
    });
    await dev.bootstrapRequest({ port }, { ep: 'run-bad' });
    const { s, error, next } = await done;
    assert.ok(error instanceof Error && error.name === 'ProfileError', String(error));
    assert.equal(next, '2.02', 'the session still sends');
    assert.equal(s.state, 'accepted');
  });

  it('sends TLV to a client that names no pct, and no Discover without autoId', async () => {
    const done = run({ ...PROFILE, autoId: false });
    await dev.bootstrapRequest({ port }, { ep: 'run-tlv' });
    const { result } = await done;
    assert.equal(result?.contentFormat, 11542);
    assert.deepEqual(dev.received.map((r) => `${r.method} ${r.path} ${r.contentFormat ?? ''}`.trim()), [
      'DELETE /0',
      'DELETE /1',
      'PUT /0/1 11542',
      'PUT /1/0 11542',
    ]);
  });
});

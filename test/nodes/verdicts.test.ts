/**
 * Every session gets a verdict at the node level: a device error ends it at once with REQUEST_FAILED on
 * object-write's error output, a refused Discover falls back, a pack through object-write -> bootstrap-finish
 * gives one success message, and the listener's audit output carries exactly one record per session and per
 * pack request, whatever way it ended.
 */
import assert from 'node:assert/strict';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow, patch, rejectNode, type FlowOptions } from './support/flows';
import { errorCalls, helper, nextMessage, until, type RuntimeNode } from './support/runtime';
import { TRANSLATED_NODES as ALL_NODES } from './support/translated';

const SERVER = (port: number) => ({ address: '127.0.0.1', port });

type Msg = Record<string, any>;

/** Every message a helper node receives, from now on. */
function collect(id: string): Msg[] {
  const got: Msg[] = [];
  (helper.getNode(id) as RuntimeNode).on('input', (m: Msg) => got.push(m));
  return got;
}

/** Lets messages that would follow the first arrive (to see that none does); not a timing assertion. */
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

describe('server nodes: a verdict for every session', function () {
  this.timeout(30000);
  const devices: ScriptedDevice[] = [];
  async function device(): Promise<ScriptedDevice> {
    const d = await ScriptedDevice.create();
    devices.push(d);
    return d;
  }

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await helper.unload();
  });

  const refusals: { method: 'PUT' | 'DELETE'; code: string; diagnostic?: string }[] = [
    { method: 'PUT', code: '4.00', diagnostic: 'bad value for /1/0/1' },
    { method: 'PUT', code: '4.04' },
    { method: 'PUT', code: '5.00', diagnostic: 'out of memory' },
    { method: 'DELETE', code: '4.04' },
  ];
  for (const r of refusals) {
    it(`a ${r.method === 'PUT' ? 'Write' : 'Delete'} answered ${r.code} ends the session at once: REQUEST_FAILED on the error output, one audit record with the device's code`, async () => {
      const port = await nextPort();
      // A session timeout far beyond the test's wait: only the verdict at once can pass.
      await helper.load(ALL_NODES, bootstrapFlow({ port, listener: { sessionTimeout: '600', requestTimeout: '600' } }));
      const audits = collect('h-audit');
      const finished = collect('h-success');
      const err = nextMessage(helper.getNode('h-err'));
      const dev = await device();
      dev.reply(r.method, '*', { code: r.code, payload: r.diagnostic });
      assert.equal((await dev.bootstrapRequest(SERVER(port), { ep: `refused-${r.method}-${r.code}` })).code, '2.04');
      const msg = await err;
      assert.equal(msg.lwm2m.outcome, 'REQUEST_FAILED');
      assert.equal(msg.lwm2m.audit.outcome, 'REQUEST_FAILED');
      assert.equal(msg.error.step.code, r.code);
      assert.match(msg.lwm2m.audit.detail, new RegExp(r.code.replace('.', '\\.')));
      if (r.diagnostic) assert.ok(msg.lwm2m.audit.detail.includes(r.diagnostic), msg.lwm2m.audit.detail);
      await until(() => audits.length >= 1, 5000, 'the audit message');
      await settle();
      assert.equal(audits.length, 1, 'exactly one audit message');
      const a = audits[0];
      assert.equal(a.lwm2m.outcome, 'REQUEST_FAILED');
      assert.equal(a.topic, `refused-${r.method}-${r.code}`);
      assert.match(String(a.payload), new RegExp(`^refused-${r.method}-${r.code.replace('.', '\\.')}: REQUEST_FAILED \\(`));
      const refused = (a.lwm2m.audit.steps as { code: string; diagnostic?: string; method: string }[]).filter((s) => s.code === r.code);
      assert.ok(refused.length >= 1 && refused.every((s) => s.method === r.method), JSON.stringify(a.lwm2m.audit.steps));
      if (r.diagnostic) assert.equal(refused[0].diagnostic, r.diagnostic);
      assert.ok(!dev.received.some((x) => x.method === 'POST' && x.path === '/bs'), 'no Finish after a refusal (default)');
      assert.equal(finished.length, 0);
    });
  }

  it('"send the rest" goes on after a refusal, then ends REQUEST_FAILED; "Finish anyway" lets the device decide', async () => {
    let port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, write: { onError: 'continue' } }));
    let audits = collect('h-audit');
    const err = nextMessage(helper.getNode('h-err'));
    let dev = await device();
    dev.reply('DELETE', '/0', { code: '4.00' });
    await dev.bootstrapRequest(SERVER(port), { ep: 'go-on' });
    const msg = await err;
    assert.equal(msg.lwm2m.outcome, 'REQUEST_FAILED');
    assert.ok(msg.lwm2m.steps.some((s: { op: string; path: string }) => s.op === 'write'), 'the writes went out too');
    await until(() => audits.length === 1, 5000, 'the audit message');
    assert.equal(audits[0].lwm2m.outcome, 'REQUEST_FAILED');
    await helper.unload();

    port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, write: { onError: 'finish' } }));
    audits = collect('h-audit');
    const failure = nextMessage(helper.getNode('h-failure'));
    dev = await device();
    dev.reply('PUT', '*', { code: '4.00' });
    dev.reply('POST', '/bs', { code: '4.06', payload: 'no server account' });
    await dev.bootstrapRequest(SERVER(port), { ep: 'finish-anyway' });
    const f = await failure;
    assert.equal(f.lwm2m.outcome, 'FINISH_FAILED');
    assert.equal(f.error.step.code, '4.00', 'msg.error still names the refused write');
    await until(() => audits.length === 1, 5000, 'the audit message');
    await settle();
    assert.equal(audits.length, 1);
    assert.equal(audits[0].lwm2m.outcome, 'FINISH_FAILED');
    assert.ok(dev.received.some((x) => x.method === 'POST' && x.path === '/bs'), 'Finish was sent');
  });

  it('flows saved with onError "stop" get the verdict at once too', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, write: { onError: 'stop' }, listener: { sessionTimeout: '600' } }));
    const err = nextMessage(helper.getNode('h-err'));
    const dev = await device();
    dev.reply('PUT', '*', { code: '4.00' });
    await dev.bootstrapRequest(SERVER(port), { ep: 'old-flow' });
    assert.equal((await err).lwm2m.outcome, 'REQUEST_FAILED');
  });

  it('a device that refuses Bootstrap-Discover (4.05) with autoId is bootstrapped all the same', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const audits = collect('h-audit');
    const success = nextMessage(helper.getNode('h-success'));
    const dev = await device();
    dev.reply('GET', '/', { code: '4.05' });
    await dev.bootstrapRequest(SERVER(port), { ep: 'no-discover' });
    const msg = await success;
    assert.equal(msg.lwm2m.outcome, 'SUCCESS');
    assert.equal(msg.lwm2m.discoveryRefused.code, '4.05');
    assert.ok(dev.received.some((x) => x.method === 'PUT' && x.path.startsWith('/1/')), 'the server account was written');
    await until(() => audits.length === 1, 5000, 'the audit message');
    assert.equal(audits[0].lwm2m.outcome, 'SUCCESS');
  });

  it('a pack bootstrap through object write and bootstrap finish gives one success message and one audit record', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const audits = collect('h-audit');
    const successes = collect('h-success');
    const caught = collect('h-caught');
    const dev = await device();
    const res = await dev.packRequest(SERVER(port), { ep: 'packer', accept: 112 });
    assert.equal(res.code, '2.05');
    await until(() => successes.length === 1 && audits.length === 1, 5000, 'one success message and one audit record');
    await settle();
    assert.equal(successes.length, 1);
    assert.equal(successes[0].lwm2m.kind, 'pack');
    assert.equal(successes[0].lwm2m.outcome, 'SUCCESS');
    assert.equal(successes[0].lwm2m.steps.filter((s: { op: string }) => s.op === 'pack').length, 1, 'answered once');
    assert.equal(audits.length, 1);
    assert.equal(audits[0].lwm2m.audit.kind, 'pack');
    assert.equal(audits[0].lwm2m.outcome, 'SUCCESS');
    assert.deepEqual(caught, [], 'no PackRequestNotFoundError');
    assert.deepEqual(errorCalls(helper.getNode('n-finish')), []);
  });

  it('a profile that fails validation at object write ends the session at once (5.00, INTERNAL_ERROR), and a Catch node sees why', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, listenerOnly: true, listener: { decisionTimeout: '600' } });
    await helper.load(ALL_NODES, flow);
    const audits = collect('h-audit');
    const requested = nextMessage(helper.getNode('h-requests'));
    const caught = nextMessage(helper.getNode('h-caught'));
    const dev = await device();
    const answer = dev.bootstrapRequest(SERVER(port), { ep: 'bad-profile' });
    const msg = await requested;
    helper.getNode('n-write').receive({ ...msg, profile: { name: 'x', servers: [{ shortServerId: 70000, uri: 'coap://dm', securityMode: 'nosec' }] } });
    assert.equal((await answer).code, '5.00');
    assert.equal((await caught).error.source.id, 'n-write');
    await until(() => audits.length === 1, 5000, 'the audit message');
    assert.equal(audits[0].lwm2m.outcome, 'INTERNAL_ERROR');
  });

  it('a flow from before the verdicts that wires object write\'s error output into bootstrap finish gets the verdict there, without an error', async () => {
    const port = await nextPort();
    const flow = bootstrapFlow({ port, write: { onError: 'stop' } });
    patch(flow, 'n-write', { wires: [['n-finish', 'h-ok'], ['n-finish', 'h-err']] });
    await helper.load(ALL_NODES, flow);
    const audits = collect('h-audit');
    const caught = collect('h-caught');
    const failure = nextMessage(helper.getNode('h-failure'));
    const dev = await device();
    dev.reply('PUT', '*', { code: '4.00' });
    await dev.bootstrapRequest(SERVER(port), { ep: 'old-wiring' });
    const msg = await failure;
    assert.equal(msg.lwm2m.outcome, 'REQUEST_FAILED');
    await until(() => audits.length === 1, 5000, 'the audit message');
    await settle();
    assert.equal(audits.length, 1);
    assert.deepEqual(caught, [], 'no SessionNotFoundError');
    assert.ok(!dev.received.some((x) => x.method === 'POST' && x.path === '/bs'), 'no Finish');
  });

  it('walks every path: exactly one audit message per session, with the right outcome', async () => {
    interface Path {
      name: string;
      flow: (port: number) => object[];
      run: (dev: ScriptedDevice, port: number) => Promise<unknown>;
      outcome: string;
      kind?: string;
    }
    const base = (port: number, o: Partial<FlowOptions> = {}) => bootstrapFlow({ port, ...o });
    const paths: Path[] = [
      { name: 'success', flow: (p) => base(p), run: (d, p) => d.bootstrapRequest(SERVER(p), { ep: 'p-success' }), outcome: 'SUCCESS' },
      {
        name: 'device error',
        flow: (p) => base(p),
        run: (d, p) => (d.reply('PUT', '*', { code: '4.00' }), d.bootstrapRequest(SERVER(p), { ep: 'p-error' })),
        outcome: 'REQUEST_FAILED',
      },
      {
        name: 'decision timeout',
        flow: (p) => base(p, { listenerOnly: true, listener: { decisionTimeout: '1' } }),
        run: (d, p) => d.bootstrapRequest(SERVER(p), { ep: 'p-undecided', timeoutMs: 8000 }),
        outcome: 'TIMEOUT',
      },
      {
        name: 'no profile',
        flow: (p) => {
          const f = base(p, { lookup: { profileName: 'no-such-profile' }, defaultProfile: '' });
          patch(f, 'n-lookup', { wires: [['n-write'], ['n-reject']] });
          f.push(...rejectNode('n-reject', '4.04', 'no configuration'));
          return f;
        },
        run: (d, p) => d.bootstrapRequest(SERVER(p), { ep: 'p-unknown' }),
        outcome: 'NO_BOOTSTRAP_CONFIG',
      },
      {
        name: 'flow reject',
        flow: (p) => {
          const f = base(p, { listenerOnly: true });
          patch(f, 'n-listener', { wires: [['n-reject'], ['h-audit']] });
          f.push(...rejectNode('n-reject', '4.03', 'not today'));
          return f;
        },
        run: (d, p) => d.bootstrapRequest(SERVER(p), { ep: 'p-rejected' }),
        outcome: 'REJECTED',
      },
      {
        name: 'Finish refused 4.06',
        flow: (p) => base(p),
        run: (d, p) => (d.reply('POST', '/bs', { code: '4.06', payload: 'C2' }), d.bootstrapRequest(SERVER(p), { ep: 'p-inconsistent' })),
        outcome: 'FINISH_FAILED',
      },
      {
        name: 'Finish timeout',
        flow: (p) => base(p, { finish: { timeout: '1' } }),
        run: (d, p) => (d.reply('POST', '/bs', { code: '2.04', drop: true }), d.bootstrapRequest(SERVER(p), { ep: 'p-mute' })),
        outcome: 'TIMEOUT',
      },
      { name: 'pack', flow: (p) => base(p), run: (d, p) => d.packRequest(SERVER(p), { ep: 'p-pack' }), outcome: 'SUCCESS', kind: 'pack' },
      {
        name: 'pack, no profile',
        flow: (p) => {
          const f = base(p, { lookup: { profileName: 'no-such-profile' }, defaultProfile: '' });
          patch(f, 'n-lookup', { wires: [['n-write'], ['n-reject']] });
          f.push(...rejectNode('n-reject', '4.04', 'no configuration'));
          return f;
        },
        run: (d, p) => d.packRequest(SERVER(p), { ep: 'p-pack-unknown' }),
        outcome: 'NO_BOOTSTRAP_CONFIG',
        kind: 'pack',
      },
      {
        name: 'pack nobody answers',
        flow: (p) => base(p, { listenerOnly: true, listener: { packTimeout: '1' } }),
        run: (d, p) => d.packRequest(SERVER(p), { ep: 'p-pack-silent', timeoutMs: 8000 }),
        outcome: 'TIMEOUT',
        kind: 'pack',
      },
    ];
    const seen: string[] = [];
    for (const path of paths) {
      const port = await nextPort();
      await helper.load(ALL_NODES, path.flow(port));
      const audits = collect('h-audit');
      const dev = await device();
      await path.run(dev, port);
      await until(() => audits.length >= 1, 10000, `the audit message of "${path.name}"`);
      await settle();
      assert.equal(audits.length, 1, `${path.name}: exactly one audit message`);
      assert.equal(audits[0].lwm2m.outcome, path.outcome, path.name);
      assert.equal(audits[0].lwm2m.audit.outcome, path.outcome, path.name);
      assert.equal(audits[0].lwm2m.audit.kind, path.kind ?? 'bootstrap', path.name);
      seen.push(`${path.name}: ${audits[0].lwm2m.outcome}`);
      await helper.unload();
    }
    assert.equal(seen.length, paths.length);
  });
});

/**
 * The listener and the observe hub in the Node-RED runtime (node-red-node-test-helper): live sessions in
 * the sidebar's data, a full disk under the audit log (audit.jsonl pointing at /dev/full) that turns the
 * listener red while the bootstrap goes on, and no audit log at all without a user directory.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nextPort } from '../support/ports';
import { ScriptedDevice } from '../support/scripted-device';
import { bootstrapFlow } from './support/flows';
import { ALL_NODES, helper, nextMessage, statusCalls, until } from './support/runtime';
import { TRANSLATED_NODES } from './support/translated';

describe('observe: the listener registers with the sidebar, the metrics and the audit log', function () {
  this.timeout(20000);
  let dev: ScriptedDevice | undefined;
  let dir: string | undefined;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await dev?.close();
    dev = undefined;
    await helper.unload();
    helper.settings({ lwm2mBootstrap: undefined });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('shows a session waiting for the flow as live (endpoint, source, state), then as ended with its outcome', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port, listenerOnly: true, listener: { decisionTimeout: '1', decisionCode: '5.03' } }));
    const requests = helper.getNode('h-requests');
    const got = nextMessage(requests);
    dev = await ScriptedDevice.create();
    const answer = dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'meter-live' });
    const msg = await got;
    const live = (await helper.request().get('/lwm2m-bootstrap/sessions').expect(200)).body as {
      listeners: { info: { id: string; port: number }; liveCount: number; live: { sessionId: string; endpoint: string; state: string; peer: { port: number }; startedAt: string; step?: string }[] }[];
    };
    const l = live.listeners.find((x) => x.info.id === 'n-listener')!;
    assert.equal(l.info.port, port);
    assert.equal(l.liveCount, 1);
    assert.equal(l.live[0].sessionId, msg.lwm2m.sessionId);
    assert.equal(l.live[0].endpoint, 'meter-live');
    assert.equal(l.live[0].state, 'pending');
    assert.equal(l.live[0].peer.port, dev.port);
    // Its start as its record has it, and no step yet.
    const detail = (await helper.request().get(`/lwm2m-bootstrap/sessions/${msg.lwm2m.sessionId}`).expect(200)).body as { live: boolean; record: { startedAt: string } };
    assert.equal(detail.live, true);
    assert.equal(l.live[0].startedAt, detail.record.startedAt);
    assert.match(l.live[0].startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(l.live[0].step, undefined);

    assert.equal((await answer).code, '5.03');
    let ended: { endpoint: string; outcome: string }[] = [];
    for (let i = 0; i < 50 && ended.length === 0; i++) {
      ended = ((await helper.request().get('/lwm2m-bootstrap/sessions?since=0').expect(200)).body as { ended: typeof ended }).ended;
      if (!ended.length) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(ended.map((e) => `${e.endpoint} ${e.outcome}`), ['meter-live TIMEOUT']);
  });

  it('turns the listener red when the audit log cannot write (a full disk), and the bootstrap still succeeds', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-audit-full-'));
    fs.symlinkSync('/dev/full', path.join(dir, 'audit.jsonl'));
    helper.settings({ lwm2mBootstrap: { audit: { directory: dir } } });
    const port = await nextPort();
    await helper.load(TRANSLATED_NODES, bootstrapFlow({ port }));
    const listener = helper.getNode('n-listener');
    const done = nextMessage(helper.getNode('h-success'));
    dev = await ScriptedDevice.create();
    assert.equal((await dev.bootstrapRequest({ address: '127.0.0.1', port }, { ep: 'meter-full' })).code, '2.04');
    const msg = await done;
    assert.equal(msg.lwm2m.outcome, 'SUCCESS');
    await until(() => statusCalls(listener).some((s) => s.fill === 'red' && /audit log failing/.test(String(s.text))), 5000, 'a red status');
    const last = statusCalls(listener).at(-1)!;
    assert.equal(last.fill, 'red');
    const body = (await helper.request().get('/lwm2m-bootstrap/sessions').expect(200)).body as { audit: { ok: boolean; queued: number; error: string } };
    assert.equal(body.audit.ok, false);
    assert.equal(body.audit.queued, 1, 'the record waits for space, it is not lost');
    assert.match(body.audit.error, /ENOSPC|no space/i);
  });

  it('seeds the sidebar with the newest 1,000 records of the audit log, and finds older ones through the history search', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-audit-hist-'));
    const lines: string[] = [];
    for (let i = 0; i < 1200; i++) {
      const t = new Date(1_800_000_000_000 + i * 1000).toISOString();
      lines.push(JSON.stringify({
        kind: 'bootstrap', sessionId: `old-${i}`, endpoint: `old-meter-${String(i).padStart(4, '0')}`, listenerId: 'gone',
        peer: { address: '127.0.0.1', port: 1000 + i, family: 'IPv4' }, query: {}, startedAt: t, endedAt: t, steps: [],
        outcome: i % 100 === 0 ? 'TIMEOUT' : 'SUCCESS',
      }));
    }
    fs.writeFileSync(path.join(dir, 'audit.jsonl'), lines.join('\n') + '\n');
    helper.settings({ lwm2mBootstrap: { audit: { directory: dir } } });
    await helper.load(ALL_NODES, bootstrapFlow({ port: await nextPort() }));
    const body = (await helper.request().get('/lwm2m-bootstrap/sessions?since=0').expect(200)).body as {
      ended: { sessionId: string }[];
      counts: Record<string, number>;
      seq: number;
    };
    assert.equal(body.seq, 1000);
    assert.equal(body.ended.length, 500, 'one answer carries at most 500 rows');
    assert.equal(body.ended[0].sessionId, 'old-1199', 'newest first');
    assert.deepEqual(body.counts, { SUCCESS: 990, TIMEOUT: 10 });
    const older = (await helper.request().get('/lwm2m-bootstrap/history?endpoint=old-meter-0007').expect(200)).body as { entries: { sessionId: string }[] };
    assert.deepEqual(older.entries.map((e) => e.sessionId), ['old-7']);
    const timeouts = (await helper.request().get('/lwm2m-bootstrap/history?outcome=TIMEOUT&limit=3').expect(200)).body as { entries: { sessionId: string }[] };
    assert.deepEqual(timeouts.entries.map((e) => e.sessionId), ['old-1100', 'old-1000', 'old-900']);
    const detail = (await helper.request().get('/lwm2m-bootstrap/sessions/old-3').expect(200)).body as { record: { endpoint: string } };
    assert.equal(detail.record.endpoint, 'old-meter-0003');
  });

  it('keeps no audit log where Node-RED has no user directory and none is configured', async () => {
    const port = await nextPort();
    await helper.load(ALL_NODES, bootstrapFlow({ port }));
    const body = (await helper.request().get('/lwm2m-bootstrap/sessions').expect(200)).body as { audit: { enabled: boolean } };
    assert.equal(body.audit.enabled, false);
    const metrics = (await helper.request().get('/lwm2m-bootstrap/metrics').expect(200)).text;
    assert.doesNotMatch(metrics, /^lwm2m_bootstrap_audit_log_up /m);
    assert.match(metrics, /^lwm2m_bootstrap_listener_info\{listener="n-listener",name="",transport="coap",port="\d+"\} 1$/m);
  });
});

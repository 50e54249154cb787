/**
 * The sidebar's data, the metrics and the audit log in a real Node-RED (a child process started by the
 * editor suite's harness, with this package installed into a temporary user directory): the demo flow of
 * examples/01-default-profile.json, devices over real UDP on loopback.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ScriptedDevice } from '../support/scripted-device';

const root = path.resolve(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startNodeRed } = require(path.join(root, 'test', 'editor', 'support', 'node-red.js')) as {
  startNodeRed(o?: Record<string, unknown>): Promise<RedProcess>;
};

interface RedProcess {
  url: string;
  bsPort: number;
  userDir: string;
  get(p: string, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  log(): string[];
  stop(): Promise<unknown>;
}

const FLOWS = JSON.parse(fs.readFileSync(path.join(root, 'examples', '01-default-profile.json'), 'utf8'));

/** One bootstrap of a scripted device; `finish` is the device's answer to Bootstrap-Finish. */
async function bootstrap(red: RedProcess, ep: string, finish = '2.04'): Promise<void> {
  const dev = await ScriptedDevice.create();
  try {
    if (finish !== '2.04') dev.reply('POST', '/bs', { code: finish, payload: 'not now' });
    const res = await dev.bootstrapRequest({ address: '127.0.0.1', port: red.bsPort }, { ep });
    assert.equal(res.code, '2.04');
    await dev.waitFor((r) => r.method === 'POST' && r.path === '/bs', 10000);
  } finally {
    await dev.close();
  }
}

/** Polls the sidebar's data until `pred` holds (the record comes a moment after the device's answer). */
async function sessionsUntil(red: RedProcess, pred: (d: SessionsAnswer) => boolean, headers?: Record<string, string>): Promise<SessionsAnswer> {
  for (let i = 0; ; i++) {
    const res = await red.get('lwm2m-bootstrap/sessions', headers);
    assert.equal(res.status, 200, res.body);
    const d = JSON.parse(res.body) as SessionsAnswer;
    if (pred(d)) return d;
    if (i > 100) assert.fail(`the sessions never showed what was expected: ${res.body}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface SessionsAnswer {
  seq: number;
  listeners: { info: { id: string; port: number }; liveCount: number }[];
  ended: { sessionId: string; endpoint: string; outcome: string; detail?: string }[];
  counts: Record<string, number>;
  audit: { enabled: boolean; ok?: boolean; error?: string; directory?: string; written?: number };
}

function promtool(text: string): { status: number | null; out: string } | undefined {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('observe: metrics, sessions and the audit log in a real Node-RED', function () {
  this.timeout(120000);
  let red: RedProcess | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await red?.stop();
    red = undefined;
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('counts a bootstrap and a failed one per outcome, in metrics that pass promtool check metrics', async () => {
    red = await startNodeRed({ flows: FLOWS });
    await bootstrap(red, 'meter-ok');
    await bootstrap(red, 'meter-bad', '4.06');
    const d = await sessionsUntil(red, (x) => x.ended.length >= 2);
    const byEp = Object.fromEntries(d.ended.map((e) => [e.endpoint, e]));
    assert.equal(byEp['meter-ok'].outcome, 'SUCCESS');
    assert.equal(byEp['meter-bad'].outcome, 'FINISH_FAILED');
    assert.deepEqual(d.counts, { SUCCESS: 1, FINISH_FAILED: 1 });
    assert.equal(d.audit.enabled, true);

    const res = await red.get('lwm2m-bootstrap/metrics');
    assert.equal(res.status, 200);
    const id = d.listeners[0].info.id;
    assert.match(res.body, new RegExp(`^lwm2m_bootstrap_sessions_total\\{listener="${id}",kind="bootstrap",outcome="SUCCESS"\\} 1$`, 'm'));
    assert.match(res.body, new RegExp(`^lwm2m_bootstrap_sessions_total\\{listener="${id}",kind="bootstrap",outcome="FINISH_FAILED"\\} 1$`, 'm'));
    assert.match(res.body, new RegExp(`^lwm2m_bootstrap_session_duration_seconds_count\\{listener="${id}",kind="bootstrap",outcome="SUCCESS"\\} 1$`, 'm'));
    assert.match(res.body, new RegExp(`^lwm2m_bootstrap_sessions_in_flight\\{listener="${id}"\\} 0$`, 'm'));
    assert.match(res.body, /^lwm2m_bootstrap_audit_log_up 1$/m);
    assert.doesNotMatch(res.body, /meter-ok|meter-bad/, 'no endpoint names in labels');

    const checked = promtool(res.body);
    if (!checked) {
      assert.notEqual(process.env.CI, 'true', 'promtool is missing (apt-get install prometheus): CI must check the metrics with it');
      process.stderr.write('      note: promtool not installed here, the metrics were not linted (apt-get install prometheus)\n');
    } else {
      assert.equal(checked.status, 0, `promtool check metrics: ${checked.out}`);
    }

    // The failed session in detail: its steps, the device's diagnostic, and never a key.
    const bad = await red.get(`lwm2m-bootstrap/sessions/${byEp['meter-bad'].sessionId}`);
    const rec = JSON.parse(bad.body).record;
    assert.equal(rec.outcome, 'FINISH_FAILED');
    assert.equal(rec.steps[rec.steps.length - 1].code, '4.06');
    assert.equal(rec.steps[rec.steps.length - 1].diagnostic, 'not now');
    assert.equal((await red.get('lwm2m-bootstrap/sessions/no-such-id')).status, 404);
  });

  it('answers 401 without a token when admin auth is on, and the metrics to a token with lwm2m-bootstrap.read', async () => {
    const env = { LWM2M_TEST_READ_TOKEN: 'scrape-token', LWM2M_TEST_OTHER_TOKEN: 'flows-token' };
    red = await startNodeRed({ flows: FLOWS, adminToken: 'admin-token', env });
    await bootstrap(red, 'meter-auth');
    for (const p of ['lwm2m-bootstrap/metrics', 'lwm2m-bootstrap/sessions', 'lwm2m-bootstrap/history']) {
      assert.equal((await red.get(p, {})).status, 401, `${p} without a token`);
      assert.equal((await red.get(p, { authorization: 'Bearer flows-token' })).status, 401, `${p} with flows.read only`);
    }
    await sessionsUntil(red, (x) => x.ended.length === 1, { authorization: 'Bearer scrape-token' });
    const res = await red.get('lwm2m-bootstrap/metrics', { authorization: 'Bearer scrape-token' });
    assert.equal(res.status, 200);
    assert.match(res.body, /^lwm2m_bootstrap_sessions_total\{listener="[^"]+",kind="bootstrap",outcome="SUCCESS"\} 1$/m);
  });

  it('after a restart of Node-RED the sessions from before it are in the sidebar data and the history', async () => {
    red = await startNodeRed({ flows: FLOWS, keepUserDir: true });
    const userDir = red.userDir;
    dirs.push(userDir);
    await bootstrap(red, 'meter-before');
    await bootstrap(red, 'meter-bad-before', '4.06');
    const before = await sessionsUntil(red, (x) => x.ended.length === 2 && x.audit.written === 2);
    await red.stop();

    red = await startNodeRed({ userDir });
    const after = await sessionsUntil(red, (x) => x.ended.length >= 2);
    assert.deepEqual(after.ended.map((e) => `${e.endpoint} ${e.outcome}`), ['meter-bad-before FINISH_FAILED', 'meter-before SUCCESS']);
    assert.deepEqual(after.counts, { SUCCESS: 1, FINISH_FAILED: 1 });
    const id = before.ended.find((e) => e.endpoint === 'meter-before')!.sessionId;
    const detail = JSON.parse((await red.get(`lwm2m-bootstrap/sessions/${id}`)).body);
    assert.equal(detail.record.outcome, 'SUCCESS');
    assert.equal(detail.record.steps[detail.record.steps.length - 1].op, 'finish');
    const hist = JSON.parse((await red.get('lwm2m-bootstrap/history?outcome=FINISH_FAILED')).body);
    assert.deepEqual(hist.entries.map((e: { endpoint: string }) => e.endpoint), ['meter-bad-before']);

    // A bootstrap after the restart goes to the same file, after the old lines.
    await bootstrap(red, 'meter-after');
    await sessionsUntil(red, (x) => x.ended.some((e) => e.endpoint === 'meter-after') && x.audit.written === 1);
    const lines = fs.readFileSync(path.join(userDir, 'lwm2m-audit', 'audit.jsonl'), 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(lines.map((l) => JSON.parse(l).endpoint), ['meter-before', 'meter-bad-before', 'meter-after']);
  });

  it('an audit directory that cannot be written: the bootstrap still succeeds and the log says why', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-audit-ro-'));
    dirs.push(tmp);
    fs.writeFileSync(path.join(tmp, 'file'), 'a file where the directory should be');
    red = await startNodeRed({ flows: FLOWS, env: { LWM2M_TEST_AUDIT_DIR: path.join(tmp, 'file', 'audit') } });
    await bootstrap(red, 'meter-ro');
    const d = await sessionsUntil(red, (x) => x.ended.length === 1 && x.audit.ok === false);
    assert.equal(d.ended[0].outcome, 'SUCCESS');
    assert.match(d.audit.error ?? '', /ENOTDIR|EEXIST/);
    const metrics = (await red.get('lwm2m-bootstrap/metrics')).body;
    assert.match(metrics, /^lwm2m_bootstrap_audit_log_up 0$/m);
    assert.match(metrics, /^lwm2m_bootstrap_audit_queue_length 1$/m);
    assert.ok(red.log().some((l) => /\[error\].*audit log cannot write/.test(l)), 'the listener logged the failure');
  });
});

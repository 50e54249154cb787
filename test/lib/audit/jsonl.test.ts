/**
 * The JSON Lines audit sink and its reader on real files in a temporary directory: one line per record,
 * size-based rotation with retention, and failures (a full disk through /dev/full, a directory that cannot
 * exist) that never throw at the writer, report through health, and lose nothing the queue can hold.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUDIT_FILE, AuditOptionError, JsonlAuditReader, JsonlAuditSink, type AuditEntry, type AuditSinkHealth } from '../../../lib/audit';
import { SessionOutcome } from '../../../lib/bootstrap';

function entry(i: number, outcome = SessionOutcome.SUCCESS, endpoint = `meter-${i}`): AuditEntry {
  return {
    kind: 'bootstrap',
    sessionId: `s-${i}`,
    endpoint,
    peer: { address: '127.0.0.1', port: 40000 + i, family: 'IPv4' },
    query: { ep: endpoint },
    startedAt: new Date(1_800_000_000_000 + i).toISOString(),
    endedAt: new Date(1_800_000_000_100 + i).toISOString(),
    steps: [{ op: 'finish', method: 'POST', path: '/bs', code: '2.04', success: true, ms: 3 }],
    outcome,
    listenerId: 'l1',
  };
}

function nextHealth(sink: JsonlAuditSink, pred: (h: AuditSinkHealth) => boolean): Promise<AuditSinkHealth> {
  return new Promise((resolve) => {
    const off = sink.onHealth((h) => {
      if (!pred(h)) return;
      off();
      resolve(h);
    });
  });
}

describe('audit: JSON Lines sink', () => {
  let dir: string;
  let sink: JsonlAuditSink | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-audit-test-'));
  });
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes one JSON line per record, and the reader gives them back newest first', async () => {
    sink = new JsonlAuditSink({ directory: path.join(dir, 'log') });
    for (let i = 0; i < 50; i++) sink.write(entry(i, i % 10 === 0 ? SessionOutcome.TIMEOUT : SessionOutcome.SUCCESS));
    await sink.flush();
    const lines = fs.readFileSync(path.join(dir, 'log', AUDIT_FILE), 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 50);
    assert.deepEqual(JSON.parse(lines[7]), entry(7));
    assert.deepEqual(sink.health(), { ok: true, written: 50, dropped: 0, queued: 0 });

    const reader = new JsonlAuditReader({ directory: path.join(dir, 'log') });
    const recent = await reader.recent(3);
    assert.deepEqual(recent.map((e) => e.sessionId), ['s-49', 's-48', 's-47']);
    const timeouts = await reader.recent(100, { outcome: SessionOutcome.TIMEOUT });
    assert.deepEqual(timeouts.map((e) => e.sessionId), ['s-40', 's-30', 's-20', 's-10', 's-0']);
    assert.deepEqual((await reader.recent(10, { endpoint: 'meter-4' })).map((e) => e.sessionId), ['s-49', 's-48', 's-47', 's-46', 's-45', 's-44', 's-43', 's-42', 's-41', 's-40']);
    assert.equal((await reader.find('s-3'))?.endpoint, 'meter-3');
    assert.equal(await reader.find('nope'), undefined);
  });

  it('rotates at maxFileBytes, keeps filesKept rotated files, and the reader reads across them', async () => {
    sink = new JsonlAuditSink({ directory: dir, maxFileBytes: 4096, filesKept: 3, batchLines: 5 });
    const size = Buffer.byteLength(JSON.stringify(entry(100)) + '\n');
    const total = 120;
    for (let i = 0; i < total; i++) sink.write(entry(i));
    await sink.flush();
    const names = fs.readdirSync(dir).sort();
    const rotated = names.filter((n) => n !== AUDIT_FILE);
    assert.equal(rotated.length, 3, `rotated files kept: ${names.join(', ')}`);
    for (const n of names) assert.ok(fs.statSync(path.join(dir, n)).size <= 4096 + size, `${n} is not much larger than maxFileBytes`);
    // Nothing in the files kept is duplicated or out of order: newest first, consecutive.
    const all = await new JsonlAuditReader({ directory: dir }).recent(1000);
    const ids = all.map((e) => Number(e.sessionId.slice(2)));
    assert.equal(ids[0], total - 1);
    for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[i - 1] - 1);
    assert.ok(ids.length < total, 'the oldest files were deleted');
    assert.equal(sink.health().written, total);
  });

  it('on a full disk write() returns, health says why, records wait and are written once space is back', async () => {
    fs.symlinkSync('/dev/full', path.join(dir, AUDIT_FILE));
    sink = new JsonlAuditSink({ directory: dir, retryMs: 50 });
    const failing = nextHealth(sink, (h) => !h.ok);
    for (let i = 0; i < 10; i++) sink.write(entry(i));
    const h = await failing;
    assert.match(h.error ?? '', /ENOSPC|no space/i);
    assert.equal(h.queued, 10);
    assert.equal(h.written, 0);

    const back = nextHealth(sink, (x) => x.ok);
    fs.unlinkSync(path.join(dir, AUDIT_FILE));
    sink.write(entry(10));
    const ok = await back;
    await sink.flush();
    assert.equal(sink.health().written, 11);
    assert.equal(ok.dropped, 0);
    const ids = (await new JsonlAuditReader({ directory: dir }).recent(100)).map((e) => e.sessionId);
    assert.deepEqual(ids, Array.from({ length: 11 }, (_, i) => `s-${10 - i}`));
  });

  it('a directory that cannot be created: records beyond maxQueue are dropped and counted, never thrown', async () => {
    fs.writeFileSync(path.join(dir, 'file'), 'not a directory');
    sink = new JsonlAuditSink({ directory: path.join(dir, 'file', 'audit'), maxQueue: 5, retryMs: 10_000 });
    const failing = nextHealth(sink, (h) => !h.ok);
    for (let i = 0; i < 8; i++) assert.doesNotThrow(() => sink!.write(entry(i)));
    const h = await failing;
    assert.match(h.error ?? '', /ENOTDIR|EEXIST|not a directory/i);
    assert.equal(sink.health().queued, 5);
    assert.equal(sink.health().dropped, 3);
    await sink.close();
    assert.equal(sink.health().dropped, 8, 'what could not be written by close() is counted as dropped');
  });

  it('the reader skips a torn last line and foreign lines', async () => {
    fs.writeFileSync(path.join(dir, AUDIT_FILE), `${JSON.stringify(entry(1))}\nnot json\n${JSON.stringify(entry(2))}\n{"sessionId":"s-3","kin`);
    const got = await new JsonlAuditReader({ directory: dir }).recent(10);
    assert.deepEqual(got.map((e) => e.sessionId), ['s-2', 's-1']);
  });

  it('refuses options that cannot work, with the option named', () => {
    assert.throws(() => new JsonlAuditSink({ directory: dir, maxFileBytes: 10 }), (e: Error) => e instanceof AuditOptionError && /maxFileBytes/.test(e.message));
    assert.throws(() => new JsonlAuditSink({ directory: dir, filesKept: -1 }), /filesKept/);
    assert.throws(() => new JsonlAuditSink({ directory: '' }), /directory/);
  });
});

/**
 * The audit line encoder makes exactly the text of JSON.stringify({ ...record, listenerId }) + '\n', for the
 * records a session gives (usual steps, steps with an error, a diagnostic, retried formats, superseded) and for
 * odd ones (text that needs escaping, lone surrogates, numbers that are not finite, keys in another order,
 * a toJSON, holes in the steps, a listenerId already in the record). And the JSON Lines sink writes that text.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUDIT_FILE, JsonlAuditSink } from '../../../lib/audit';
import { AuditLineEncoder } from '../../../lib/audit/jsonl-line';
import type { AuditRecord } from '../../../lib/bootstrap/audit';

function record(i: number): AuditRecord {
  const rec: AuditRecord = {
    kind: 'bootstrap',
    sessionId: `3f0c3a9e-0000-4000-8000-${String(i).padStart(12, '0')}`,
    endpoint: `meter-${i}`,
    peer: { address: '127.0.0.1', port: 40000 + i, family: 'IPv4' },
    query: { ep: `meter-${i}`, pct: '112' },
    startedAt: new Date(1_800_000_000_000 + i).toISOString(),
    steps: [
      { op: 'discover', method: 'GET', path: '/', code: '2.05', success: true, ms: 2, contentFormat: 40 },
      { op: 'delete', method: 'DELETE', path: '/0', code: '2.02', success: true, ms: 0 },
      { op: 'write', method: 'PUT', path: '/0/1', code: '2.04', success: true, ms: i, contentFormat: 112 },
      { op: 'finish', method: 'POST', path: '/bs', code: '2.04', success: true, ms: 13 },
    ],
  };
  rec.preferredContentFormat = 112;
  rec.lwm2mVersion = '1.1';
  rec.acceptedAt = new Date(1_800_000_000_010 + i).toISOString();
  rec.endedAt = new Date(1_800_000_000_100 + i).toISOString();
  rec.outcome = 'SUCCESS' as AuditRecord['outcome'];
  return rec;
}

const expected = (rec: object, listenerId?: string): string => JSON.stringify({ ...rec, listenerId }) + '\n';

describe('audit: the line encoder', () => {
  it('gives the text of JSON.stringify for ordinary records, with and without a listener id', () => {
    const enc = new AuditLineEncoder();
    for (let i = 0; i < 50; i++) {
      const rec = record(i);
      assert.equal(enc.line(rec, 'listener-1'), expected(rec, 'listener-1'));
      assert.equal(enc.line(rec), JSON.stringify(rec) + '\n');
      JSON.parse(enc.line(rec, 'l'));
    }
  });

  it('gives the text of JSON.stringify for failed steps, diagnostics, retries and other step shapes', () => {
    const enc = new AuditLineEncoder();
    const rec = record(1);
    rec.steps = [
      { op: 'write', method: 'PUT', path: '/0/1', code: '4.00', success: false, ms: 5, contentFormat: 112, diagnostic: 'bad "key"\\n' },
      { op: 'write', method: 'PUT', path: '/0/1', code: '', success: false, ms: 93000, error: 'timeout' },
      { op: 'write', method: 'PUT', path: '/1/0', code: '2.04', success: true, ms: 1, contentFormat: 11542, retriedFormats: [112, 110], superseded: true },
      { op: 'write', method: 'PUT', path: '/1/0', code: '2.04', success: true, ms: 1, retriedWithoutKeys: true },
      { method: 'PUT', op: 'write', path: '/1/0', code: '2.04', success: true, ms: 1 },
      { op: 'write', method: 'PUT', path: '/1/0', code: '2.04', success: true, ms: 1, contentFormat: undefined },
      { op: 'write', method: 'PUT', path: '/1/0', code: '2.04', success: true, ms: NaN, contentFormat: Infinity },
      { op: 'write', method: 'PUT', path: '/1/0', code: '2.04', success: 1 as unknown as boolean, ms: -0 },
      { op: 'write', method: 'PUT', path: '/1/\ud800"\u0001', code: '2.04', success: true, ms: 1.5 },
      { op: 'write', method: 'PUT', path: '/1/0', code: '2.04', success: true, ms: 2, contentFormat: 112, superseded: false },
    ];
    (rec.steps as unknown[]).push(undefined, null, 7, 'x', [1, 2]);
    rec.detail = 'REQUEST_FAILED: 4.00 bad "key" \u2028 \ud83d\ude00 \udc00';
    for (let round = 0; round < 2; round++) assert.equal(enc.line(rec, 'l1'), expected(rec, 'l1'));
  });

  it('gives the text of JSON.stringify for odd records', () => {
    const enc = new AuditLineEncoder();
    const odd: object[] = [
      { ...record(2), endpoint: 'ep "quoted"\n\t\\', query: { 'e"p': 'a\u0000b' } },
      { ...record(3), listenerId: 'inside' },
      { steps: record(4).steps, kind: 'pack', sessionId: 's', extra: undefined, fn: () => 1, n: NaN, big: 1e21, neg: -0, t: true, nil: null },
      { ...record(5), identity: { type: 'psk', id: 'id\u007f\u0080' }, when: new Date(0) },
      { ...record(6), toJSON: () => ({ replaced: true }) },
      Object.assign(Object.create({ inherited: 1 }), record(7)),
      { ...record(8), steps: Object.assign([record(8).steps[0]], { extra: 1 }) },
      { ...record(9), steps: [Object.assign(Object.create(null), record(9).steps[0])] },
      {},
      Object.freeze(record(11)),
      { ...record(12), query: { ep: 'x', 'a"steps': [] } },
      { ...record(13), peer: { address: '::1', port: 1, family: 'IPv6', steps: [] } },
      { ...record(14), steps: [] },
      { ...record(15), steps: 'not a list' },
    ];
    for (const rec of odd) {
      const before = JSON.stringify(rec);
      assert.equal(enc.line(rec as AuditRecord, 'l2'), expected(rec, 'l2'));
      assert.equal(JSON.stringify(rec), before, 'the record is left as it was');
      assert.equal(enc.line(rec as AuditRecord), JSON.stringify(rec) + '\n');
    }
    assert.equal(enc.line(record(10), 'id "with" quotes'), expected(record(10), 'id "with" quotes'));
  });

  it('the JSON Lines sink writes the encoder text, one line per record from write() and writeRecord()', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-audit-line-'));
    const sink = new JsonlAuditSink({ directory: dir });
    try {
      const recs = [record(1), record(2), { ...record(3), detail: 'x\ny' }];
      sink.writeRecord(recs[0], 'l1');
      sink.write({ ...recs[1], listenerId: 'l2' });
      sink.writeRecord(recs[2], 'l3');
      await sink.flush();
      const text = fs.readFileSync(path.join(dir, AUDIT_FILE), 'utf8');
      assert.equal(text, expected(recs[0], 'l1') + expected(recs[1], 'l2') + expected(recs[2], 'l3'));
      assert.equal(sink.health().written, 3);
    } finally {
      await sink.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('batches larger than the kept write buffer, and smaller ones after them, are written whole and in order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-audit-line-'));
    const sink = new JsonlAuditSink({ directory: dir, batchDelayMs: 0 });
    try {
      let want = '';
      const big = { ...record(1), detail: 'ü'.repeat(50_000) }; // 100 kB of UTF-8: more than the first buffer
      for (let i = 0; i < 3; i++) {
        sink.writeRecord(big, `l${i}`);
        want += expected(big, `l${i}`);
      }
      await sink.flush();
      for (let i = 0; i < 5; i++) {
        sink.writeRecord(record(i), 'small');
        want += expected(record(i), 'small');
      }
      await sink.flush();
      assert.equal(fs.readFileSync(path.join(dir, AUDIT_FILE), 'utf8'), want);
      assert.equal(sink.health().written, 8);
    } finally {
      await sink.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

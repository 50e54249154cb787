/** The device table behind profile lookup: CSV/JSON parsing, key extraction, hot reload from real files. */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCsv, csvToRecords, CsvError } from '../../../lib/devices/csv';
import { deviceKeyFor, compileKeyRegex } from '../../../lib/devices/device-key';
import { DeviceTable, parseRows, DeviceTableError } from '../../../lib/devices/file-table';
import type { DeviceSource } from '../../../lib/devices/types';

describe('device table', () => {
  describe('CSV', () => {
    it('reads quoted fields with commas, quotes and line breaks, CRLF and a BOM', () => {
      const rows = parseCsv('\ufeffa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n\r\n1,,3\n');
      assert.deepEqual(rows, [
        ['a', 'b', 'c'],
        ['x, y', 'say "hi"', 'two\nlines'],
        ['1', '', '3'],
      ]);
    });
    it('takes ; as the separator when the header has no comma (German spreadsheets)', () => {
      assert.deepEqual(csvToRecords('endpoint;profile\nm-1;meters\n'), [{ endpoint: 'm-1', profile: 'meters' }]);
    });
    it('reports an unclosed quote at the line where it opens, not past the end of the file', () => {
      assert.throws(() => parseCsv('a,b\n"open,1\n'), (e: unknown) => e instanceof CsvError && e.line === 2);
      const eight = ['endpoint,profile', 'm-1,a', 'm-2,a', 'm-3,"a', 'm-4,a', 'm-5,a', 'm-6,a', 'm-7,a'].join('\n') + '\n';
      assert.throws(() => parseCsv(eight), (e: unknown) => e instanceof CsvError && e.line === 4 && /line 4/.test(e.message));
    });

    it('warns about rows with missing or extra columns by line number, without their content', () => {
      const warnings: { line: number; message: string }[] = [];
      const text = 'endpoint,profile,pskKey\nm-1,meters,00aa\n\nm-2,meters\nm-3,meters,00bb,spare9\n"m-4\nx",meters,00cc\n';
      const recs = csvToRecords(text, warnings);
      assert.equal(recs.length, 4);
      assert.deepEqual(warnings.map((w) => w.line), [4, 5]);
      assert.match(warnings[0].message, /2 column\(s\) where the header has 3/);
      assert.match(warnings[1].message, /4 column\(s\) where the header has 3/);
      assert.ok(!JSON.stringify(warnings).includes('00bb') && !JSON.stringify(warnings).includes('spare9'));
    });

    it('warns about a header that another separator split into one column (tabs)', () => {
      const warnings: { line: number; message: string }[] = [];
      csvToRecords('endpoint\tprofile\nm-1\tmeters\n', warnings);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].line, 1);
      assert.match(warnings[0].message, /tabs/);
    });
  });

  describe('rows', () => {
    it('keys CSV rows by the key column and keeps every column as a value', () => {
      const rows = parseRows('endpoint,profile,apn\nm-1,meters,iot.a\nm-2,,iot.b\n', 'csv', 'endpoint', 'profile');
      assert.deepEqual(rows.get('m-1'), { key: 'm-1', profile: 'meters', values: { endpoint: 'm-1', profile: 'meters', apn: 'iot.a' } });
      assert.equal(rows.get('m-2')?.profile, undefined);
    });
    it('reads JSON as an array of rows or as an object keyed by device', () => {
      const a = parseRows('[{"imei":"356938035643809","profile":"meters","lifetime":600}]', 'json', 'imei', 'profile');
      assert.equal(a.get('356938035643809')?.values.lifetime, '600');
      const o = parseRows('{"356938035643809":{"profile":"meters"}}', 'json', 'imei', 'profile');
      assert.equal(o.get('356938035643809')?.profile, 'meters');
    });
    it('refuses a table where no row has the key column', () => {
      assert.throws(() => parseRows('name,profile\nx,y\n', 'csv', 'endpoint', 'profile'), DeviceTableError);
      assert.throws(() => parseRows('{not json', 'json', 'endpoint', 'profile'), /not valid JSON/);
    });
    it('says where a JSON table broke but never quotes it: a key file read as a table leaks no byte (issue 12)', () => {
      const key = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49\n-----END EC PRIVATE KEY-----\n';
      for (const text of [key, 'MHcCAQEEIIrYSSNQFaA2Hwf1', '{"a": MHcCAQEEIIrYSS}', 'psk-secret-0123456789abcdef']) {
        let message = '';
        try {
          parseRows(text, 'json', 'endpoint', 'profile', '/tmp/bs.key');
        } catch (e) {
          message = (e as Error).message;
        }
        assert.match(message, /^not valid JSON( \((line \d+ column \d+|at position \d+)\))?/, message);
        const rest = message.replace('/tmp/bs.key', '');
        for (let i = 0; i + 3 <= text.length; i++) {
          const piece = text.slice(i, i + 3);
          if (/^[A-Za-z0-9+/-]{3}$/.test(piece) && !/^(not|val|JSO|lin|col|pos|ati|ion|umn)$/i.test(piece)) {
            assert.ok(!rest.includes(piece), `"${piece}" of the file is in the message: ${message}`);
          }
        }
      }
    });
  });

  describe('device keys', () => {
    const facts = {
      endpoint: 'urn:imei:356938035643809',
      identity: { type: 'psk', id: 'dev42-89490200001234567890' },
      query: {},
    };
    it('takes the endpoint, the identity, an IMEI or an ICCID', () => {
      assert.equal(deviceKeyFor(facts, 'endpoint'), 'urn:imei:356938035643809');
      assert.equal(deviceKeyFor(facts, 'identity'), 'dev42-89490200001234567890');
      assert.equal(deviceKeyFor(facts, 'imei'), '356938035643809');
      assert.equal(deviceKeyFor(facts, 'iccid'), '89490200001234567890');
      assert.equal(deviceKeyFor({ endpoint: 'x', query: { imei: '490154203237518' } }, 'imei'), '490154203237518');
    });
    it('picks a part with a regular expression (first group)', () => {
      assert.equal(deviceKeyFor(facts, 'identity', compileKeyRegex('^(dev\\d+)-')), 'dev42');
      assert.equal(deviceKeyFor(facts, 'identity', compileKeyRegex('^nomatch')), undefined);
      assert.throws(() => compileKeyRegex('(unclosed'), SyntaxError);
    });
    it('has no key when the part is absent', () => {
      assert.equal(deviceKeyFor({ endpoint: 'plain-name' }, 'imei'), undefined);
      assert.equal(deviceKeyFor({ endpoint: 'a' }, 'identity'), undefined);
    });
  });

  describe('hot reload', () => {
    let dir: string;
    let table: DeviceTable | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-table-'));
    });
    afterEach(() => {
      table?.close();
      table = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('sees a changed file on the next lookup, also when the file is replaced by rename', async () => {
      const file = path.join(dir, 'devices.csv');
      fs.writeFileSync(file, 'endpoint,profile\nm-1,meters\n');
      table = new DeviceTable({ file, keyColumn: 'endpoint', checkIntervalMs: 0 });
      await table.start();
      assert.equal((await table.lookupKey('m-1'))?.profile, 'meters');
      assert.equal(await table.lookupKey('m-2'), undefined);
      // An editor's save: write a temp file, rename over the table.
      const tmp = path.join(dir, 'devices.csv.tmp');
      fs.writeFileSync(tmp, 'endpoint,profile\nm-1,gateways\nm-2,meters\nm-3,meters\n');
      fs.renameSync(tmp, file);
      assert.equal((await table.lookupKey('m-1'))?.profile, 'gateways');
      assert.equal((await table.lookupKey('m-2'))?.profile, 'meters');
      assert.equal(table.count, 3);
    });

    it('keeps the last good rows when the new file is broken, and reports that version once', async () => {
      const file = path.join(dir, 'devices.json');
      fs.writeFileSync(file, '[{"endpoint":"m-1","profile":"meters"}]');
      table = new DeviceTable({ file, keyColumn: 'endpoint', checkIntervalMs: 0, watch: false });
      const failures: Error[] = [];
      table.on('loadFailed', (e: Error) => failures.push(e));
      await table.start();
      fs.writeFileSync(file, '[{"endpoint": broken');
      assert.equal((await table.lookupKey('m-1'))?.profile, 'meters');
      await table.lookupKey('m-1'); // the same broken version: no second report
      assert.equal(failures.length, 1);
      assert.match(failures[0].message, /not valid JSON/);
    });

    it('loads ten thousand rows, every one findable by its key with its own values', async () => {
      const file = path.join(dir, 'many.csv');
      const ROWS = 10_000;
      const lines = ['endpoint,profile,imei'];
      for (let i = 0; i < ROWS; i++) lines.push(`meter-${i},${i % 2 ? 'odd' : 'even'},${String(356938035600000 + i)}`);
      fs.writeFileSync(file, lines.join('\n'));
      table = new DeviceTable({ file, keyColumn: 'imei', watch: false });
      await table.start();
      assert.equal(table.count, ROWS);
      for (let i = 0; i < ROWS; i++) {
        const row = await table.lookupKey(String(356938035600000 + i));
        if (row?.values.endpoint !== `meter-${i}` || row.profile !== (i % 2 ? 'odd' : 'even')) {
          assert.fail(`row ${i}: ${JSON.stringify(row)}`);
        }
      }
      assert.equal(await table.lookupKey('356938035610000'), undefined, 'no row past the last');
    });
  });

  describe('as a DeviceSource (issue 14)', () => {
    let dir: string;
    let table: DeviceTable | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-table-src-'));
    });
    afterEach(async () => {
      await table?.close();
      table = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('finds a device by endpoint, PSK identity, IMEI and ICCID, with its key as bytes and every column as a value', async () => {
      const file = path.join(dir, 'devices.csv');
      fs.writeFileSync(file, 'endpoint,pskIdentity,pskKey,imei,iccid,profile,apn\nm-1,id-1,00aabb,356938035643809,89490200001234567890,meters,iot.a\nm-2,,,,,gateways,iot.b\n');
      table = new DeviceTable({ file, keyColumn: 'endpoint', watch: false });
      const src: DeviceSource = table;
      const changes: unknown[] = [];
      src.onChange((c) => changes.push(c));
      assert.equal(src.cachedByIdentity('id-1'), undefined, 'nothing is known before the first load');
      await table.start();
      assert.deepEqual(changes, [{ all: true }]);
      for (const [kind, key] of [['endpoint', 'm-1'], ['identity', 'id-1'], ['imei', '356938035643809'], ['iccid', '89490200001234567890']] as const) {
        const r = await src.lookup(kind, key);
        assert.equal(r?.endpoint, 'm-1', `${kind} ${key}`);
        assert.equal(r?.identity, 'id-1');
        assert.deepEqual(r?.pskKey, Buffer.from('00aabb', 'hex'));
        assert.equal(r?.profile, 'meters');
        assert.equal(r?.values.apn, 'iot.a');
      }
      assert.equal((await src.lookup('endpoint', 'm-2'))?.identity, undefined);
      assert.equal(await src.lookup('identity', ''), undefined, 'an empty identity matches no row');
      assert.equal(await src.lookup('endpoint', 'm-3'), undefined);
      assert.equal(src.cachedByIdentity('id-1')?.endpoint, 'm-1');
      assert.equal(src.cachedByIdentity('id-9'), null, 'the table holds every row: an identity it lacks is known to be absent');
      const st = src.stats();
      assert.equal(st.cached, 2);
      assert.equal(st.hits, 5);
      assert.equal(st.misses, 2);
    });

    it('takes the key column as the endpoint when the table has no endpoint column, and its own column names', async () => {
      const file = path.join(dir, 'devices.json');
      fs.writeFileSync(file, JSON.stringify({ '356938035643809': { profile: 'meters', id: 'x-1', key: 'c0ffee' } }));
      table = new DeviceTable({ file, keyColumn: 'imei', watch: false, columns: { identity: 'id', pskKey: 'key' } });
      await table.start();
      const r = await table.lookup('identity', 'x-1');
      assert.equal(r?.endpoint, '356938035643809');
      assert.equal(r?.imei, '356938035643809');
      assert.deepEqual(r?.pskKey, Buffer.from('c0ffee', 'hex'));
      assert.equal((await table.lookup('endpoint', '356938035643809'))?.identity, 'x-1');
    });

    it('rejects lookups while its file has never loaded, and says why', async () => {
      table = new DeviceTable({ file: path.join(dir, 'missing.csv'), keyColumn: 'endpoint', watch: false, checkIntervalMs: 0 });
      await table.start();
      await assert.rejects(table.lookup('endpoint', 'm-1'), (e: Error) => e instanceof DeviceTableError && /ENOENT|no such file/.test(e.message));
      assert.equal(table.stats().errors, 1);
    });

    it('answers every lookup from the old rows while a large table reloads in a worker, then from the new ones', async () => {
      const file = path.join(dir, 'big.csv');
      const ROWS = 200_000;
      const write = (profile: string, extra: number) => {
        const lines = ['endpoint,pskIdentity,profile'];
        for (let i = 0; i < ROWS + extra; i++) lines.push(`meter-${i},id-${i},${profile}`);
        fs.writeFileSync(file + '.tmp', lines.join('\n') + '\n');
        fs.renameSync(file + '.tmp', file);
      };
      write('old', 0);
      table = new DeviceTable({ file, keyColumn: 'endpoint', watch: false, checkIntervalMs: 0, workerThresholdBytes: 0 });
      await table.start();
      assert.equal(table.count, ROWS);
      write('new', 1000);
      const loaded = new Promise<void>((resolve) => table!.once('loaded', () => resolve()));
      let swapped = false;
      void loaded.then(() => (swapped = true));
      // The first lookup after the change starts the reload and does not wait for it.
      let failed = 0;
      let answered = 0;
      let oldAnswers = 0;
      let i = 0;
      while (!swapped) {
        const n = i++ % ROWS;
        const [byEp, byId] = await Promise.all([table.lookup('endpoint', `meter-${n}`), table.lookup('identity', `id-${n}`)]);
        for (const r of [byEp, byId]) {
          if (r?.endpoint !== `meter-${n}` || (r.profile !== 'old' && r.profile !== 'new')) failed++;
          else if (r.profile === 'old') oldAnswers++;
          answered++;
        }
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
      assert.equal(failed, 0, `${failed} of ${answered} lookups during the reload failed`);
      assert.ok(oldAnswers > 0, 'some lookups were answered from the old rows while the new ones were read');
      assert.equal(table.count, ROWS + 1000);
      assert.equal((await table.lookup('endpoint', `meter-${ROWS + 999}`))?.profile, 'new');
      assert.equal((await table.lookup('identity', 'id-7'))?.profile, 'new');
    });

    it('keeps the rows it has when a large file breaks, and reports it once', async () => {
      const file = path.join(dir, 'big.json');
      fs.writeFileSync(file, JSON.stringify([{ endpoint: 'm-1', profile: 'meters' }]));
      table = new DeviceTable({ file, keyColumn: 'endpoint', watch: false, checkIntervalMs: 0, workerThresholdBytes: 0 });
      const failures: Error[] = [];
      table.on('loadFailed', (e: Error) => failures.push(e));
      await table.start();
      fs.writeFileSync(file, '[{"endpoint": broken');
      await table.reload();
      assert.equal((await table.lookupKey('m-1'))?.profile, 'meters');
      assert.equal(failures.length, 1);
      assert.match(failures[0].message, /not valid JSON/);
    });
  });
});

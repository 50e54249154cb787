/** Writing generated keys back into a device table keeps every other row, column, quote and separator. */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseRows } from '../../../lib/devices/file-table';
import { updateCsv, updateJson, writeBackRows } from '../../../lib/devices/write-back';

const KEY = 'aabbccddeeff00112233445566778899';

describe('device table write-back', () => {
  it('CSV: sets the cells of the matching row, adds missing columns, keeps quotes, ; separators, BOM and CRLF', () => {
    const text = '\ufeffendpoint;note;pskKey\r\nm-1;"Keller; Haus 3";\r\nm-2;"sagt ""hallo""";\r\n';
    const out = updateCsv(text, 'endpoint', new Map([['m-1', { pskKey: KEY, pskIdentity: 'm-1' }]]));
    assert.equal(out, `\ufeffendpoint;note;pskKey;pskIdentity\r\nm-1;"Keller; Haus 3";${KEY};m-1\r\nm-2;"sagt ""hallo""";;\r\n`);
    const rows = parseRows(out, 'csv', 'endpoint', 'profile');
    assert.equal(rows.get('m-1')?.values.note, 'Keller; Haus 3');
    assert.equal(rows.get('m-2')?.values.note, 'sagt "hallo"');
    assert.throws(() => updateCsv('ep,x\n', 'endpoint', new Map()), /no column "endpoint"/);
  });

  it('JSON: an array of rows and an object keyed by device', () => {
    const arr = JSON.parse(updateJson('[{"endpoint":"a","apn":"x"},{"endpoint":"b"}]', 'endpoint', new Map([['b', { pskKey: KEY }]])));
    assert.deepEqual(arr, [{ endpoint: 'a', apn: 'x' }, { endpoint: 'b', pskKey: KEY }]);
    const obj = JSON.parse(updateJson('{"a":{"profile":"p"},"b":"q"}', 'endpoint', new Map([['a', { pskKey: KEY }], ['b', { pskKey: KEY }]])));
    assert.deepEqual(obj, { a: { profile: 'p', pskKey: KEY }, b: { profile: 'q', pskKey: KEY } });
  });

  it('replaces the file in place and keeps its permission bits', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'write-back-'));
    try {
      const file = path.join(dir, 'devices.csv');
      fs.writeFileSync(file, 'endpoint,pskKey\nx,\n', { mode: 0o640 });
      fs.chmodSync(file, 0o640);
      await writeBackRows(file, 'auto', 'endpoint', new Map([['x', { pskKey: KEY }]]));
      assert.equal(fs.readFileSync(file, 'utf8'), `endpoint,pskKey\nx,${KEY}\n`);
      assert.equal(fs.statSync(file).mode & 0o777, 0o640);
      assert.deepEqual(fs.readdirSync(dir), ['devices.csv'], 'no temp file left');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The CoAPs listener's keys from a file device table: a small table is copied into the listener's key map
 * (snapshot), a large one (TABLE_SNAPSHOT_MAX_ROWS rows or more) is read through the table's own index, so a
 * million PSKs are not held twice nor copied on the event loop at every reload. Both answer the handshake's
 * synchronous lookup the same way, and both follow a reload. Real files, a real DeviceTable; no sockets.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DeviceTable } from '../../../lib/devices/file-table';
import { CoapsController, TABLE_SNAPSHOT_MAX_ROWS } from '../../../lib/keys';

const COLS = { identity: 'pskIdentity', key: 'pskKey', endpoint: 'endpoint' };
const keyOf = (n: number, gen = 0) => (n * 7919 + gen * 104729).toString(16).padStart(32, '0').slice(-32);

function writeCsv(file: string, rows: number, gen = 0): void {
  const lines = ['endpoint,pskIdentity,pskKey'];
  for (let n = 0; n < rows; n++) lines.push(`ep-${n},id-${n},${keyOf(n, gen)}`);
  fs.writeFileSync(file + '.tmp', lines.join('\n') + '\n');
  fs.renameSync(file + '.tmp', file);
}

describe('CoAPs keys from a file device table: snapshot or index', function () {
  this.timeout(20000);
  let dir: string;
  let table: DeviceTable | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-coaps-table-'));
  });
  afterEach(async () => {
    await table?.close();
    table = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function controllerFor(rows: number): Promise<{ coaps: CoapsController; file: string }> {
    const file = path.join(dir, 'devices.csv');
    writeCsv(file, rows);
    table = new DeviceTable({ file, keyColumn: 'endpoint', checkIntervalMs: 0, watch: false });
    await table.start();
    const coaps = new CoapsController(new Map(), { warn: () => undefined }, (n) => `${n} bad rows`);
    coaps.useTable(table, COLS);
    return { coaps, file };
  }

  for (const [label, rows, mode] of [
    ['a small table is copied', 50, 'snapshot'],
    ['a large table is read through its index', TABLE_SNAPSHOT_MAX_ROWS + 10, 'index'],
  ] as const) {
    it(`${label}: keys and endpoints answer synchronously, an unknown identity is absent, a reload is followed`, async () => {
      const { coaps, file } = await controllerFor(rows);
      assert.equal(coaps.tableMode, mode);
      const last = rows - 1;
      assert.equal(coaps.psk.get(`id-${last}`)?.toString('hex'), keyOf(last));
      assert.equal(coaps.psk.get('id-3')?.toString('hex'), keyOf(3));
      assert.deepEqual(coaps.psk.endpointsOf('id-3'), ['ep-3']);
      assert.equal(coaps.psk.get('nobody'), undefined);
      assert.equal(coaps.keys.cachedPsk('nobody'), null, 'known absent once the table is loaded');
      // The file changes: new keys, one row more.
      writeCsv(file, rows + 1, 1);
      await table!.reload();
      assert.equal(coaps.tableMode, mode);
      assert.equal(coaps.psk.get('id-3')?.toString('hex'), keyOf(3, 1), 'the key after the reload');
      assert.equal(coaps.psk.get(`id-${rows}`)?.toString('hex'), keyOf(rows, 1), 'the new row');
    });
  }

  it('a table whose columns are not the listener\'s is copied whatever its size', async () => {
    const file = path.join(dir, 'devices.csv');
    writeCsv(file, TABLE_SNAPSHOT_MAX_ROWS + 10);
    table = new DeviceTable({ file, keyColumn: 'endpoint', checkIntervalMs: 0, watch: false, columns: { identity: 'endpoint' } });
    await table.start();
    const coaps = new CoapsController(new Map(), { warn: () => undefined }, (n) => `${n} bad rows`);
    coaps.useTable(table, COLS);
    assert.equal(coaps.tableMode, 'snapshot');
    assert.equal(coaps.psk.get('id-42')?.toString('hex'), keyOf(42));
  });
});

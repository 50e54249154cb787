/**
 * The lwm2m-device-table config node as a thin adapter over lib/devices' DeviceTable (issue 14): the same
 * object is its `table` (file operations: reload, write-back) and its `deviceSource` (the DeviceSource seam
 * profile lookup and the CoAPs listener use), and lookupFor still matches by the configured part and pattern.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { DeviceSource } from '../../lib/devices/types';
import { helper, tableNode, until } from './support/runtime';

describe('server nodes: device table', function () {
  this.timeout(20000);
  let dir: string;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-table-node-'));
  });
  afterEach(async () => {
    await helper.unload();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is a DeviceSource found by endpoint and PSK identity, and matches requests by its pattern; a replaced file is seen', async () => {
    const file = path.join(dir, 'devices.csv');
    fs.writeFileSync(file, 'endpoint,pskIdentity,pskKey,profile\nurn:imei:356938035643809,id-1,00aabb,meters\n');
    await helper.load([tableNode], [
      { id: 't', type: 'lwm2m-device-table', file, format: 'auto', keyColumn: 'endpoint', profileColumn: 'profile', matchOn: 'identity', keyRegex: '' },
    ]);
    const node = helper.getNode('t') as unknown as {
      table: { count: number; reload(): Promise<void> };
      deviceSource: DeviceSource;
      lookupFor(facts: object): Promise<{ key?: string; row?: { profile?: string; values: Record<string, string> } }>;
    };
    await until(() => node.table?.count === 1, 5000, 'the table to load');
    assert.equal(node.deviceSource, node.table, 'one object behind both');
    const src = node.deviceSource;
    assert.equal((await src.lookup('identity', 'id-1'))?.endpoint, 'urn:imei:356938035643809');
    assert.deepEqual(src.cachedByIdentity('id-1')?.pskKey, Buffer.from('00aabb', 'hex'));
    assert.equal(src.cachedByIdentity('id-2'), null);

    // matchOn identity, key column endpoint: the identity is looked up in the endpoint column.
    const viaIdentity = await node.lookupFor({ endpoint: 'x', identity: { type: 'psk', id: 'urn:imei:356938035643809' } });
    assert.equal(viaIdentity.row?.profile, 'meters');
    assert.equal((await node.lookupFor({ endpoint: 'x' })).key, undefined, 'no identity, no key');

    const changes: unknown[] = [];
    src.onChange((c) => changes.push(c));
    fs.writeFileSync(file + '.tmp', 'endpoint,pskIdentity,pskKey,profile\nurn:imei:356938035643809,id-1,00aabb,gateways\nm-2,id-2,00cc,meters\n');
    fs.renameSync(file + '.tmp', file);
    await node.table.reload();
    assert.deepEqual(changes, [{ all: true }]);
    assert.equal(src.cachedByIdentity('id-2')?.endpoint, 'm-2');
    assert.equal((await node.lookupFor({ identity: { type: 'psk', id: 'urn:imei:356938035643809' } })).row?.profile, 'gateways');
  });
});

/**
 * The key seam (lib/keys/source.ts) without sockets: which source answers, what the handshake's synchronous
 * view says before and after a prefetch, the negative cache, and the bounds on prefetches under a flood of
 * unknown identities. The device source reads a file on disk for every lookup (file-sources.ts).
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CompositeKeySource, DeviceKeySource, ListenerPskStore, PrefetchLimiter, StaticKeySource } from '../../../lib/keys';
import { FileDeviceSource, writeRows } from './file-sources';

const KEY_A = '00112233445566778899aabbccddeeff';
const KEY_B = 'ffeeddccbbaa99887766554433221100';

async function until(pred: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('keys: the KeySource seam', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-'));
    file = path.join(dir, 'devices.json');
    writeRows(file, [{ endpoint: 'dev-a', identity: 'id-a', pskKey: KEY_A }]);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a composite asks the credential keys first, then the device source; absent only when every source knows', () => {
    const own = new StaticKeySource(new Map([['id-a', { key: Buffer.from(KEY_B, 'hex'), endpoint: 'own-a' }]]));
    const dev = new DeviceKeySource(new FileDeviceSource(file));
    const keys = new CompositeKeySource([own, dev]);
    assert.equal(keys.cachedPsk('id-a')?.key.toString('hex'), KEY_B, 'the credential key wins');
    assert.equal(keys.cachedPsk('id-x'), undefined, 'the device source does not know yet');
    assert.equal(new CompositeKeySource([own]).cachedPsk('id-x'), null, 'static keys know what they lack');
    dev.close();
  });

  it('an identity not in memory fails the first lookup, is fetched, and the next lookup has its key', async () => {
    const src = new FileDeviceSource(file);
    const dev = new DeviceKeySource(src);
    const store = new ListenerPskStore(new CompositeKeySource([new StaticKeySource(), dev]));
    assert.equal(store.get('id-a'), undefined, 'the handshake cannot wait for the file');
    assert.equal(store.get('id-a'), undefined);
    await until(() => dev.stats().found === 1, 'the prefetch');
    assert.equal(src.lookups, 1, 'two handshakes while in flight: one lookup');
    assert.equal(store.get('id-a')?.toString('hex'), KEY_A);
    assert.deepEqual(store.endpointsOf('id-a'), ['dev-a']);
    assert.deepEqual(store.stats(), { hits: 1, absent: 0, prefetched: 2 });
    assert.equal((await dev.pskFor('id-a'))?.key.toString('hex'), KEY_A, 'and the asynchronous lookup');
    dev.close();
  });

  it('an unknown identity is known absent for a while: no lookup per ClientHello; a change to it or the time ends that', async () => {
    const src = new FileDeviceSource(file);
    let now = 1_000_000;
    const dev = new DeviceKeySource(src, { negativeTtlMs: 30_000, now: () => now });
    const store = new ListenerPskStore(new CompositeKeySource([dev]));
    assert.equal(store.get('id-new'), undefined);
    await until(() => dev.stats().absent === 1, 'the miss');
    for (let i = 0; i < 50; i++) assert.equal(store.get('id-new'), undefined);
    assert.equal(src.lookups, 1, 'fifty more ClientHellos, no more lookups');
    assert.equal(store.stats().absent, 50);
    // The device is provisioned: the store's change feed names its identity.
    writeRows(file, [{ endpoint: 'dev-new', identity: 'id-new', pskKey: KEY_B }]);
    src.changed({ keys: [{ kind: 'identity', key: 'id-new' }] });
    assert.equal(store.get('id-new'), undefined);
    await until(() => dev.stats().found === 1, 'the new key');
    assert.equal(store.get('id-new')?.toString('hex'), KEY_B);
    // Without a change event, the negative entry ends with its time.
    assert.equal(store.get('id-gone'), undefined);
    await until(() => dev.stats().absent === 2, 'the second miss');
    const lookups = src.lookups;
    now += 29_000;
    store.get('id-gone');
    assert.equal(src.lookups, lookups);
    now += 2_000;
    store.get('id-gone');
    await until(() => src.lookups === lookups + 1, 'a lookup after the negative entry expired');
    dev.close();
  });

  it('a flood of unknown identities does not hammer the store: prefetches bounded per source and per listener', async () => {
    const srcA = new FileDeviceSource(file);
    const srcB = new FileDeviceSource(file);
    const limiter = new PrefetchLimiter(12);
    const a = new DeviceKeySource(srcA, { maxInFlight: 4, limiter });
    const b = new DeviceKeySource(srcB, { maxInFlight: 16, limiter });
    const store = new ListenerPskStore(new CompositeKeySource([a, b]));
    for (let i = 0; i < 500; i++) assert.equal(store.get(`made-up-${i}`), undefined);
    assert.equal(srcA.lookups, 4, 'at most 4 in flight for the first source');
    assert.equal(srcB.lookups, 8, 'and 12 across the listener');
    assert.equal(a.stats().shed + b.stats().shed, 1000 - 12);
    await until(() => limiter.active === 0, 'the prefetches to end');
    // The identities both sources looked up are known absent now: no second lookup, and no prefetch.
    for (let i = 0; i < 4; i++) assert.equal(store.get(`made-up-${i}`), undefined);
    assert.equal(srcA.lookups, 4);
    assert.equal(srcB.lookups, 8);
    a.close();
    b.close();
  });

  it('a store that cannot answer is not remembered as absent: the next handshake asks again', async () => {
    const src = new FileDeviceSource(path.join(dir, 'missing.json'));
    const dev = new DeviceKeySource(src);
    const store = new ListenerPskStore(new CompositeKeySource([dev]));
    store.get('id-a');
    await until(() => dev.stats().errors === 1, 'the failed lookup');
    assert.equal(dev.cachedPsk('id-a'), undefined);
    writeRows(path.join(dir, 'missing.json'), [{ endpoint: 'dev-a', identity: 'id-a', pskKey: KEY_A }]);
    store.get('id-a');
    await until(() => dev.stats().found === 1, 'the key');
    assert.equal(store.get('id-a')?.toString('hex'), KEY_A);
    dev.close();
  });
});

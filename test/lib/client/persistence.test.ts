import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { StoreFileError } from '../../../lib/client/errors';
import { loadStore, saveStore } from '../../../lib/client/persistence';
import { storeFromSimple } from '../../../lib/client/serialize';
import { defaultModel } from '../../../lib/model/registry';

async function tmpDir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'lwm2m-store-'));
}

describe('client persistence', () => {
  it('round-trips every value kind (opaque, bigint, objlnk, multiple resources)', async () => {
    const dir = await tmpDir();
    const file = path.join(dir, 'dev.json');
    const store = storeFromSimple(
      {
        '0': { '0': { '0': 'coaps://bs:5684', '1': true, '2': 0, '3': 'id', '5': { opaque: '00ff10' }, '17': { objlnk: '21:0' } } },
        '3': { '0': { '16': 'U', '11': [0, 5] } },
      },
      defaultModel,
    );
    store.setValue(3, 0, 13, 2n ** 60n);
    await saveStore(file, 'dev', store);
    const back = await loadStore(file, 'dev', defaultModel);
    assert.ok(back);
    assert.deepEqual(back.value(0, 0, 5), Buffer.from('00ff10', 'hex'));
    assert.deepEqual(back.value(0, 0, 3), Buffer.from('id'), 'opaque resource typed by the model');
    assert.deepEqual(back.value(0, 0, 17), { objectId: 21, instanceId: 0 });
    assert.equal(back.value(3, 0, 13), 2n ** 60n);
    const errs = back.instance(3, 0)?.resources.get(11);
    assert.ok(errs && errs.kind === 'multiple');
    assert.deepEqual([...errs.instances.values()], [0, 5]);
    const mode = (await fsp.stat(file)).mode & 0o777;
    assert.equal(mode, 0o600, 'keys on disk are readable by the owner only');
  });

  it('no file is "not provisioned"; a damaged or foreign file is a StoreFileError', async () => {
    const dir = await tmpDir();
    const file = path.join(dir, 'dev.json');
    assert.equal(await loadStore(file, 'dev', defaultModel), undefined);
    await saveStore(file, 'dev', storeFromSimple({ '3': { '0': { '16': 'U' } } }, defaultModel));
    await assert.rejects(loadStore(file, 'other', defaultModel), (e: unknown) => e instanceof StoreFileError && /belongs to endpoint "dev"/.test(e.message));
    const text = await fsp.readFile(file, 'utf8');
    await fsp.writeFile(file, text.replace('"U"', '"T"'));
    await assert.rejects(loadStore(file, 'dev', defaultModel), /checksum mismatch/);
    await fsp.writeFile(file, text.slice(0, text.length / 2));
    await assert.rejects(loadStore(file, 'dev', defaultModel), /not JSON/);
  });

  it('a kill -9 in the middle of writing never leaves a half-written store', async function () {
    this.timeout(30000);
    const dir = await tmpDir();
    const file = path.join(dir, 'writer.json');
    const script = path.join(__dirname, 'support', 'store-writer.js');
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, [script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
      let saved = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          const m = /saved (\d+)\s*$/.exec(d.toString());
          if (m) saved = Number(m[1]);
          // Kill at a different moment each round, while later saves are in flight.
          if (saved >= 3 + round * 2) resolve();
        });
      });
      await new Promise((r) => setTimeout(r, round * 3));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const store = await loadStore(file, 'writer', defaultModel);
      assert.ok(store, 'a store is there');
      const serial = String(store.value(3, 0, 2));
      const n = Number(serial.slice('serial-'.length));
      assert.ok(n >= saved, `store holds save ${n}, at least the last one reported (${saved})`);
      assert.equal(store.instances(11).length, 200);
      for (const inst of store.instances(11)) assert.ok(String(store.value(11, inst.id, 0)).startsWith(`profile-${n}-`), 'one consistent save, not a mix');
    }
    // Temp files of killed writes are never read as the store, and the next save removes them.
    const store = await loadStore(file, 'writer', defaultModel);
    assert.ok(store);
    await saveStore(file, 'writer', store);
    assert.deepEqual((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  });
});

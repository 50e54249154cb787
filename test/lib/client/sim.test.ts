/**
 * The simulator's parts under lib/client/sim that need no socket: the command vocabulary, faults as the
 * library takes and shows them, a fleet's device file and the settings fingerprint of persisted stores.
 * Errors must name the field or line, never a key.
 */
import assert from 'node:assert/strict';
import * as path from 'path';
import { checkFaults, CommandError, parseCommand } from '../../../lib/client/sim/commands';
import { libraryFaults, shownFaults } from '../../../lib/client/sim/controller';
import { DeviceFileError, parseDeviceTable } from '../../../lib/client/sim/device-file';

describe('client-sim commands', () => {
  it('reads words from payload or command, objects, aliases, endpoints and shares', () => {
    assert.equal(parseCommand({ payload: 'reboot' }).name, 'reboot');
    assert.equal(parseCommand({ payload: 'ignored', command: 'stop' }).name, 'stop');
    assert.equal(parseCommand({ payload: ' Re-Bootstrap ' }).name, 'rebootstrap');
    assert.equal(parseCommand({ payload: 'bootstrap' }).name, 'rebootstrap');
    assert.equal(parseCommand({ payload: 'factory reset' }).name, 'factory-reset');
    const c = parseCommand({ payload: { command: 'fault', faults: { dropRate: 0.1 }, endpoint: ['a', 'b'], share: 0.5 } });
    assert.deepEqual(c, { name: 'fault', endpoints: ['a', 'b'], faults: { dropRate: 0.1 }, share: 0.5 });
    assert.deepEqual(parseCommand({ payload: 'start', endpoint: 'meter-1' }).endpoints, ['meter-1']);
  });

  it('refuses unknown commands, bad endpoints, shares and faults with typed errors', () => {
    const reason = (msg: Record<string, unknown>) => {
      try {
        parseCommand(msg);
      } catch (e) {
        assert.ok(e instanceof CommandError);
        return `${e.reason}: ${e.detail}`;
      }
      return 'accepted';
    };
    assert.equal(reason({ payload: 1700000000000 }), 'unknown: number');
    assert.equal(reason({ payload: 'dance' }), 'unknown: dance');
    assert.equal(reason({ payload: 'start', endpoint: [1] }), 'badEndpoint: msg.endpoint must be a name or a list of names');
    assert.equal(reason({ payload: 'fault', share: 2 }), 'badShare: msg.share must be a number from 0 to 1');
    assert.equal(reason({ payload: 'fault', faults: 'all' }), 'badFaults: msg.faults must be an object');
    assert.match(reason({ payload: 'fault', faults: { vanishAfter: -1 } }), /vanishAfter must be a whole number/);
    assert.match(reason({ payload: 'fault', faults: { rejectFormats: ['tlv'] } }), /rejectFormats must be a list/);
    assert.match(reason({ payload: 'fault', faults: { wrongPskKey: 'zz' } }), /wrongPskKey must be hex/);
  });

  it('turns wrongPsk into a random key that is never shown', () => {
    const f = libraryFaults(checkFaults({ wrongPsk: true, dropRate: 0.2 }));
    assert.match(f.wrongPskKey ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(libraryFaults({ wrongPsk: true }).wrongPskKey, f.wrongPskKey);
    assert.deepEqual(shownFaults(f), { dropRate: 0.2, wrongPsk: true });
    assert.ok(!JSON.stringify(shownFaults(f)).includes(f.wrongPskKey as string));
  });
});

describe('client-sim device table', () => {
  it('reads CSV (, or ;) and JSON, with optional identity and key columns', () => {
    assert.deepEqual(parseDeviceTable('endpoint,pskIdentity,pskKey\nm-1,id-1,00ff\nm-2,,\n', 't.csv'), [
      { endpoint: 'm-1', pskIdentity: 'id-1', pskKey: '00ff' },
      { endpoint: 'm-2', pskIdentity: undefined, pskKey: undefined },
    ]);
    assert.deepEqual(parseDeviceTable('\ufeffEP;Key\r\nm-1;0a0b\r\n', 't.csv'), [{ endpoint: 'm-1', pskIdentity: undefined, pskKey: '0a0b' }]);
    assert.deepEqual(parseDeviceTable('[{"endpoint":"j-1","pskIdentity":"i","pskKey":"0102"}]', 't.json'), [
      { endpoint: 'j-1', pskIdentity: 'i', pskKey: '0102' },
    ]);
  });

  it('names the line or device that is wrong, never the key', () => {
    const msg = (text: string) => {
      try {
        parseDeviceTable(text, 'devices.csv');
      } catch (e) {
        assert.ok(e instanceof DeviceFileError);
        return e.message;
      }
      return 'accepted';
    };
    assert.equal(msg('name,key\nm-1,00'), 'devices.csv: no "endpoint" column');
    assert.equal(msg('endpoint\n'), 'devices.csv: needs a header line and at least one device');
    assert.equal(msg('endpoint,pskKey\nm-1,00\n,01\n'), 'devices.csv: line 3 has no endpoint');
    const secret = 'not-hex-secret-value';
    const m = msg(`endpoint,pskKey\nm-1,${secret}\n`);
    assert.equal(m, 'devices.csv: the key of device 1 (m-1) is not hex');
    assert.ok(!m.includes(secret));
    assert.match(msg('[{"pskKey":"00"}]'), /entry 0 has no endpoint/);
    assert.match(msg('[{'), /not JSON/);
  });
});

describe('client-sim stores', () => {
  it('keeps stores while the settings fingerprint holds, removes only store files when it changes, and cleans up on delete', async () => {
    const fsMod = await import('fs');
    const osMod = await import('os');
    const { saveStore, ObjectStore } = await import('../../../lib/client');
    const { defaultModel } = await import('../../../lib/model/registry');
    const { checkStoreFingerprint, removeAll } = await import('../../../lib/client/sim/stores');
    const dir = fsMod.mkdtempSync(path.join(osMod.tmpdir(), 'client-sim-stores-'));
    try {
      const store = new ObjectStore(defaultModel);
      store.setValue(3, 0, 0, 'maker');
      await saveStore(path.join(dir, 'dev-1.json'), 'dev-1', store);
      fsMod.writeFileSync(path.join(dir, 'notes.json'), '{"mine": true}');
      await checkStoreFingerprint(dir, 'a'.repeat(64));
      assert.ok(fsMod.existsSync(path.join(dir, 'dev-1.json')), 'first fingerprint: stores kept');
      await checkStoreFingerprint(dir, 'a'.repeat(64));
      assert.ok(fsMod.existsSync(path.join(dir, 'dev-1.json')), 'same settings: stores kept');
      await checkStoreFingerprint(dir, 'b'.repeat(64));
      assert.ok(!fsMod.existsSync(path.join(dir, 'dev-1.json')), 'changed settings: store removed');
      assert.ok(fsMod.existsSync(path.join(dir, 'notes.json')), 'other files stay');
      assert.equal(fsMod.readFileSync(path.join(dir, 'settings.sha256'), 'utf8').trim(), 'b'.repeat(64));
      await removeAll(dir);
      assert.deepEqual(fsMod.readdirSync(dir), ['notes.json']);
      fsMod.rmSync(path.join(dir, 'notes.json'));
      await removeAll(dir);
      assert.ok(!fsMod.existsSync(dir), 'an emptied directory goes');
    } finally {
      fsMod.rmSync(dir, { recursive: true, force: true });
    }
  });
});

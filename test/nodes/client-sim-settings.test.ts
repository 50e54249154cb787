/**
 * The client-sim node's parts that need no runtime: editor fields to settings (with ${VAR} inside the URI),
 * the command vocabulary, and the device table. Errors must name the field or line, never a key.
 */
import assert from 'node:assert/strict';
import * as path from 'path';
import { checkFaults, CommandError, parseCommand } from '../../nodes/client-sim/commands';
import { libraryFaults, shownFaults } from '../../nodes/client-sim/controller';
import { DeviceFileError, parseDeviceTable } from '../../nodes/client-sim/devices';
import { expandEnvText, readSettings, SettingsError } from '../../nodes/client-sim/settings';

const env = (vars: Record<string, string>) => (n: string) => vars[n];

function settingsError(fn: () => unknown): SettingsError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SettingsError, String(e));
    return e;
  }
  assert.fail('no error');
}

describe('client-sim settings', () => {
  it('expands ${NAME} inside the URI; an unset port variable leaves the scheme default, anything else unset is an error', () => {
    assert.equal(expandEnvText('coap://127.0.0.1:${BS_PORT}', env({ BS_PORT: '15683' })), 'coap://127.0.0.1:15683');
    assert.equal(expandEnvText('coap://127.0.0.1:${BS_PORT}', env({})), 'coap://127.0.0.1');
    assert.equal(expandEnvText('coaps://${BS_HOST}:5684', env({ BS_HOST: 'bs.example' })), 'coaps://bs.example:5684');
    const e = settingsError(() => expandEnvText('coap://${BS_HOST}', env({})));
    assert.deepEqual([e.key, e.field], ['unsetVariable', 'BS_HOST']);
  });

  it('fills defaults for an empty single-device dialog', () => {
    const s = readSettings({}, env({}), '/u/lwm2m-client-sim/n1', '/u');
    assert.equal(s.mode, 'single');
    assert.equal(s.endpoint, 'sim-device');
    assert.equal(s.bsUri, 'coap://127.0.0.1:5683');
    assert.equal(s.version, '1.1');
    assert.equal(s.formats, undefined);
    assert.equal(s.autoStart, true);
    assert.equal(s.storeDir, '/u/lwm2m-client-sim/n1');
    assert.deepEqual(s.faults, {});
    assert.equal(s.holdOffMs, 1000);
    assert.equal(s.requestTimeoutMs, 30000);
  });

  it('reads a fleet with faults, formats and a store directory relative to the user directory', () => {
    const s = readSettings(
      {
        mode: 'fleet', endpoint: 'meter-{n:4}', count: '${FLEET}', bsUri: '${BS_URI}', version: '1.2', formats: '112, 110',
        dropRate: '5', delayRate: '10', delayMs: '300', responseDelay: '50', rejectFormats: '11542', rejectFinish: 'true',
        vanishAfter: '3', wrongPsk: true, persist: true, storeDir: 'sims', deviceFile: 'devices.csv', autoStart: false,
      },
      env({}),
      undefined,
      '/u',
    );
    assert.equal(s.count, 10, 'an unset ${FLEET} falls back to the default');
    assert.equal(s.bsUri, 'coap://127.0.0.1:5683');
    assert.deepEqual(s.formats, [112, 110]);
    assert.deepEqual(s.faults, { dropRate: 0.05, delayRate: 0.1, delayMs: 300, responseDelayMs: 50, rejectFormats: [11542], rejectFinish: true, vanishAfter: 3, wrongPsk: true });
    assert.equal(s.storeDir, path.resolve('/u', 'sims'));
    assert.equal(s.deviceFile, path.resolve('/u', 'devices.csv'));
    assert.equal(s.autoStart, false);
    assert.equal(readSettings({ persist: false }, env({}), '/d', '/u').storeDir, undefined);
  });

  it('reads NoSec-only firmware (off unless set)', () => {
    assert.equal(readSettings({}, env({}), undefined, undefined).noSecOnly, false);
    assert.equal(readSettings({ noSecOnly: 'true' }, env({}), undefined, undefined).noSecOnly, true);
    assert.equal(readSettings({ noSecOnly: true, bsUri: 'coap://10.0.0.1:5683' }, env({}), undefined, undefined).noSecOnly, true);
  });

  it('names the bad field', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ mode: 'fleet', endpoint: 'meter' }, 'badPattern', 'endpoint'],
      [{ endpoint: 'meter-{n}' }, 'patternInSingle', 'endpoint'],
      [{ version: '2.0' }, 'badVersion', 'version'],
      [{ bsUri: 'http://x' }, 'badUri', 'bsUri'],
      [{ formats: 'tlv' }, 'badFormats', 'formats'],
      [{ dropRate: '120' }, 'badPercent', 'dropRate'],
      [{ delayMs: '-1' }, 'badMs', 'delayMs'],
      [{ mode: 'fleet', endpoint: 'm-{n}', count: '6000' }, 'badCount', 'count'],
      [{ requestTimeout: '0' }, 'badSeconds', 'requestTimeout'],
      [{ vanishAfter: 'x' }, 'badVanish', 'vanishAfter'],
      [{ maxAttempts: '1.5' }, 'badAttempts', 'maxAttempts'],
      [{ noSecOnly: true, bsUri: 'coaps://127.0.0.1:5684' }, 'noSecOnlyCoaps', 'noSecOnly'],
    ];
    for (const [def, key, field] of cases) {
      const e = settingsError(() => readSettings(def, env({}), undefined, undefined));
      assert.deepEqual([e.key, e.field], [key, field], JSON.stringify(def));
    }
  });
});

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
    const { saveStore, ObjectStore } = await import('../../lib/client');
    const { defaultModel } = await import('../../lib/model/registry');
    const { checkStoreFingerprint, removeAll } = await import('../../nodes/client-sim/stores');
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

/**
 * The client-sim node's part that needs no runtime: editor fields to settings (with ${VAR} inside the URI).
 * Errors must name the field. The commands, device file and stores are tested in test/lib/client/sim.test.ts.
 */
import assert from 'node:assert/strict';
import * as path from 'path';
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

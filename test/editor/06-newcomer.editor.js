'use strict';
/**
 * What a new user stumbled over in the dialogs (issue 13): PSK keys checked while typing with the line
 * named, a plain-CoAP listener switched to CoAPs showing its defaults and moving to port 5684, the config
 * nodes named in words, and the German palette translated.
 */
const assert = require('node:assert/strict');
const fixture = require('./support/fixture');
const E = require('./support/editor');
const info = require('./support/package-info');

/** The demo's listener as examples/01 ships it: plain CoAP, ${BS_PORT}, none of the CoAPs settings. */
const DEMO_LISTENER = {
  id: 'demo-listener', type: 'lwm2m-bootstrap-listener', z: 'tab-1', name: '', transport: 'coap',
  address: '${BS_ADDRESS}', port: '${BS_PORT}', decisionTimeout: '10', decisionCode: '5.03', packTimeout: '5',
  packCode: '4.04', requestTimeout: '30', sessionTimeout: '90', maxSessions: '10000', x: 200, y: 120, wires: [[]],
};

describe('editor: where a new user stumbled', function () {
  let editor;

  afterEach(async function () {
    if (editor) await editor.close();
    editor = null;
  });

  async function openDemoListener() {
    await fixture.red.setFlows([{ id: 'tab-1', type: 'tab', label: 'demo' }, DEMO_LISTENER]);
    editor = await E.openEditor(fixture.browser, fixture.red, { locale: 'en-US' });
    return E.openNodeEditor(editor.page, DEMO_LISTENER.id);
  }

  it('switching the demo listener to CoAPs fills in the security and limit defaults and moves the port to 5684', async function () {
    const tray = await openDemoListener();
    const { page } = editor;
    assert.equal(await tray.locator('#node-input-port').inputValue(), '${BS_PORT}', 'opening changes nothing');
    await tray.locator('#node-input-transport').selectOption('coaps');
    assert.equal(await tray.locator('#node-input-port').inputValue(), '5684');
    const values = {};
    for (const f of ['maxPeers', 'handshakeTimeout', 'idleTimeout', 'handshakeRate', 'bindingCheck', 'bindingCode', 'tableKeyColumn']) {
      values[f] = await tray.locator(`#node-input-${f}`).inputValue();
    }
    assert.deepEqual(values, {
      maxPeers: '1000', handshakeTimeout: '30', idleTimeout: '600', handshakeRate: '100', bindingCheck: 'on',
      bindingCode: '4.03', tableKeyColumn: 'pskKey',
    });
    // The port field shows a ${VAR} in full.
    const fits = await tray.locator('#node-input-port').evaluate((el) => { el.value = '${BS_COAPS_PORT}'; return el.scrollWidth <= el.clientWidth || `${el.scrollWidth} > ${el.clientWidth}`; });
    assert.equal(fits, true, 'the port field is wide enough for ${BS_COAPS_PORT}');
    await tray.locator('#node-input-port').fill('5684');
    await tray.locator('#node-input-transport').selectOption('coap');
    assert.equal(await tray.locator('#node-input-port').inputValue(), '${BS_PORT}', 'back to what it was');
    await E.closeTray(page, 'cancel');
  });

  it('takes several listener addresses, and refuses one that is not an address', async function () {
    await openDemoListener();
    const { page } = editor;
    await E.setField(page, '#node-input-address', '127.0.0.1, 192.0.2.10 ::1');
    assert.equal((await E.fieldValidation(page, '#node-input-address')).error, false);
    await E.setField(page, '#node-input-address', '127.0.0.1; rm -rf');
    const r = await E.fieldValidation(page, '#node-input-address');
    assert.equal(r.error, true);
    assert.match(String(r.message), /several separated by commas/);
    await E.closeTray(page, 'cancel');
  });

  it('checks PSK keys while typing, names the line and never shows the key', async function () {
    const tray = await openDemoListener();
    const { page } = editor;
    await tray.locator('#node-input-transport').selectOption('coaps');
    const keys = tray.locator('#node-input-pskKeys');
    const error = tray.locator('#lwm2m-listener-pskkeys-error');
    await keys.fill('dev-1 = 000102030405060708090a0b0c0d0e0f\n# a comment\ndev-2 = zz0102secret');
    await error.waitFor({ state: 'visible', timeout: 5000 });
    const text = await error.innerText();
    assert.match(text, /line 3/);
    assert.match(text, /"dev-2"/);
    assert.match(text, /hex/);
    assert.ok(!text.includes('zz0102secret') && !text.includes('0001020304'), 'no key in the message');
    assert.equal(await keys.evaluate((el) => el.classList.contains('input-error')), true);
    await keys.fill('dev-1 = 000102030405060708090a0b0c0d0e0f\ndev-1 = 00');
    await page.waitForFunction(() => /line 2/.test(document.querySelector('#lwm2m-listener-pskkeys-error').textContent));
    assert.match(await error.innerText(), /twice/);
    await keys.fill('dev-1 = 000102030405060708090a0b0c0d0e0f\ndev-2 = 00112233');
    await error.waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await keys.evaluate((el) => el.classList.contains('input-error')), false);
    await E.closeTray(page, 'cancel');
  });

  it('names the config nodes in words where Node-RED offers to add one', async function () {
    await fixture.red.setFlows([]);
    editor = await E.openEditor(fixture.browser, fixture.red, { locale: 'en-US' });
    const { page } = editor;
    const id = await E.addFromPalette(page, 'lwm2m-profile-lookup');
    const tray = await E.openNodeEditor(page, id);
    const profiles = await tray.locator('#node-input-profiles option').allInnerTexts();
    const table = await tray.locator('#node-input-deviceTable option').allInnerTexts();
    assert.ok(profiles.some((t) => /bootstrap profiles/.test(t)), profiles.join(' | '));
    assert.ok(table.some((t) => /device table/.test(t)), table.join(' | '));
    assert.ok(![...profiles, ...table].some((t) => /lwm2m-/.test(t)), 'no raw type names');
    await E.closeTray(page, 'cancel');
  });

  it('labels every palette node in German with a German word, not the English one', async function () {
    for (const type of info.PALETTE_NODES) {
      const de = info.lookup(info.catalog('de', type) || {}, `${type}.paletteLabel`);
      const en = info.lookup(info.catalog('en-US', type) || {}, `${type}.paletteLabel`);
      assert.notEqual(de, en, `${type}: the German palette label is the English one (${de})`);
    }
  });
});

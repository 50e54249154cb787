'use strict';
/**
 * Edit dialogs: each node's dialog opens with a field per property and translated labels, and refuses
 * invalid input with a message the operator can see.
 */
const assert = require('node:assert/strict');
const fixture = require('./support/fixture');
const E = require('./support/editor');
const info = require('./support/package-info');

/** An untranslated catalog key shown as text, e.g. "lwm2m-bootstrap-listener.label.port". */
const RAW_KEY = /\b(?:node-red:)?lwm2m-[a-z-]+\.[A-Za-z0-9_.]+\b/;

/** Properties whose inputs are hidden helpers rather than fields the operator types into. */
const NOT_A_FIELD = new Set(['outputs']);

/** Fields that must refuse a value, and what the message must mention. */
const INVALID_FIELDS = [
  { type: 'lwm2m-bootstrap-listener', field: 'port', values: ['70000', '0', 'abc'], valid: '5684', message: /65535/ },
  { type: 'lwm2m-profile-lookup', field: 'keyBytes', values: ['8', '65'], valid: '32', message: /16\D+64/,
    prepare: async (page) => { await page.locator('#node-input-oneTimePsk').check(); } },
  { type: 'lwm2m-object-write', field: 'requestTimeout', values: ['0', 'abc'], valid: '20', message: /3600/ },
  { type: 'lwm2m-bootstrap-finish', field: 'timeout', values: ['0', '99999'], valid: '30', message: /3600/ },
  { type: 'lwm2m-client-sim', field: 'count', values: ['0', '6000'], valid: '100', message: /5000/,
    prepare: async (page) => { await page.selectOption('#node-input-mode', 'fleet'); await setEndpoint(page, 'meter-{n}'); } },
];

async function setEndpoint(page, v) {
  await E.setField(page, '#node-input-endpoint', v);
}

async function trayTitle(tray) {
  return (await tray.locator('.red-ui-tray-titlebar').innerText()).replace(/\s+/g, ' ').trim();
}

describe('editor: edit dialogs', function () {
  let editor;

  beforeEach(async function () {
    await fixture.red.setFlows([]);
    editor = await E.openEditor(fixture.browser, fixture.red, { locale: 'en-US' });
  });
  afterEach(async function () {
    if (editor) await editor.close();
    editor = null;
  });

  for (const type of info.PALETTE_NODES) {
    it(`opens the dialog of ${type} with a translated field for each property`, async function () {
      const { page } = editor;
      assert.equal(await E.paletteNode(page, type).count(), 1, `${type} is not in the palette`);
      const id = await E.addFromPalette(page, type);
      const tray = await E.openNodeEditor(page, id);
      const paletteLabel = await E.paletteNode(page, type).getAttribute('data-palette-label');
      assert.match(await trayTitle(tray), new RegExp(paletteLabel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
        `${type}: the dialog title names the node`);

      const props = await page.evaluate((t) => Object.keys(RED.nodes.getType(t).defaults || {}), type);
      const missing = [];
      for (const p of props) {
        if (NOT_A_FIELD.has(p)) continue;
        if ((await tray.locator(`#node-input-${p}`).count()) !== 1) missing.push(p);
      }
      assert.deepEqual(missing, [], `${type}: properties without a field in the dialog (#node-input-<name>)`);

      const labels = await tray.locator('#dialog-form .form-row label:visible').allInnerTexts();
      const texts = labels.map((l) => l.replace(/\s+/g, ' ').trim()).filter(Boolean);
      assert.ok(texts.length >= 2, `${type}: the dialog shows no labelled fields`);
      const raw = (await tray.locator('#dialog-form').innerText()).match(RAW_KEY);
      assert.equal(raw, null, `${type}: the dialog shows an untranslated key: ${raw && raw[0]}`);

      if (type === 'lwm2m-bootstrap-listener') {
        await E.screenshot(page, 'edit-dialog.png');
        // CoAPs: its own fields appear (keys, certificates, limits, the endpoint/identity check).
        await tray.locator('#node-input-transport').selectOption('coaps');
        for (const f of ['pskTable', 'maxPeers', 'bindingCheck']) {
          await tray.locator(`#node-input-${f}`).waitFor({ state: 'visible', timeout: 5000 })
            .catch(() => assert.fail(`${type}: choosing coaps does not show ${f}`));
        }
        await E.screenshot(page, 'edit-dialog-coaps.png');
        // Raw public keys: switched on, the key list shows, and the note says whether this Node can do them.
        await tray.locator('#node-input-rpk').selectOption('on');
        await tray.locator('#node-input-rpkKeys').waitFor({ state: 'visible', timeout: 5000 })
          .catch(() => assert.fail(`${type}: switching raw public keys on does not show the key list`));
        const note = (await tray.locator('#lwm2m-listener-rpk').innerText()).trim();
        const [maj, min] = process.versions.openssl.split('.').map(Number);
        const expected = maj > 3 || (maj === 3 && min >= 2) ? /^available \(OpenSSL / : /^not available here: raw public keys \(RFC 7250\) need OpenSSL 3\.2/;
        assert.match(note, expected, `${type}: the raw public key note`);
        await tray.locator('#node-input-tableRpkColumn').scrollIntoViewIfNeeded();
        await E.screenshot(page, 'edit-dialog-rpk.png');
      }
      await E.closeTray(page, 'cancel');
      assert.deepEqual(editor.problems, [], `${type}: the editor reported errors while the dialog was open`);
    });
  }

  for (const c of INVALID_FIELDS) {
    it(`refuses an invalid ${c.field} in ${c.type} with a visible message`, async function () {
      const { page } = editor;
      const id = await E.addFromPalette(page, c.type);
      await E.openNodeEditor(page, id);
      if (c.prepare) await c.prepare(page);
      const sel = `#node-input-${c.field}`;
      await page.locator(sel).waitFor({ state: 'visible' });

      await E.setField(page, sel, c.valid);
      assert.deepEqual(await E.fieldValidation(page, sel), { error: false, message: null },
        `${c.type}: ${c.field}=${c.valid} is valid and must not be marked`);

      for (const v of c.values) {
        await E.setField(page, sel, v);
        const r = await E.fieldValidation(page, sel);
        assert.equal(r.error, true, `${c.type}: ${c.field}=${v} is not marked invalid`);
        assert.ok(r.message, `${c.type}: ${c.field}=${v} is marked red but no message says why ` +
          '(the validator in the node\'s .html returns false; it should return the translated reason, ' +
          'which Node-RED >= 3.1 shows as a tooltip on the field)');
        assert.match(r.message, c.message, `${c.type}: ${c.field}=${v}: the message should give the allowed range`);
        assert.doesNotMatch(r.message, RAW_KEY, `${c.type}: the message is an untranslated key`);
      }

      // Done keeps the node, flagged: the canvas shows the warning triangle and deploy would ask.
      await E.closeTray(page, 'done');
      assert.equal(await page.evaluate((i) => RED.nodes.node(i).valid, id), false, `${c.type}: node not flagged invalid`);
      assert.ok(await E.canvasNode(page, id).locator('.red-ui-flow-node-error').isVisible(),
        `${c.type}: no warning triangle on the canvas node`);
    });
  }

  it('refuses a coaps:// bootstrap server without a PSK key in lwm2m-client-sim with a visible message', async function () {
    const { page } = editor;
    const type = 'lwm2m-client-sim';
    assert.equal(await E.paletteNode(page, type).count(), 1, `${type} is not in the palette`);
    const id = await E.addFromPalette(page, type);
    await E.openNodeEditor(page, id);
    await page.selectOption('#node-input-mode', 'single');
    await E.setField(page, '#node-input-endpoint', 'sim-1');
    await E.setField(page, '#node-input-pskIdentity', 'sim-1');
    await E.setField(page, '#node-input-pskKey', '');
    await E.setField(page, '#node-input-bsUri', 'coaps://127.0.0.1:5684');
    const marked = [];
    for (const f of ['#node-input-pskKey', '#node-input-bsUri', '#node-input-pskIdentity']) {
      const r = await E.fieldValidation(page, f);
      if (r.error) marked.push({ field: f, message: r.message });
    }
    assert.ok(marked.length > 0, `${type}: coaps:// (PSK) with no PSK key is accepted; the PSK key (or the URI) field should be marked`);
    assert.ok(marked.some((m) => m.message && /PSK/i.test(m.message)),
      `${type}: no message says the PSK key is missing: ${JSON.stringify(marked)}`);

    // With a key, nothing is marked.
    await E.setField(page, '#node-input-pskKey', '000102030405060708090a0b0c0d0e0f');
    await E.setField(page, '#node-input-bsUri', 'coaps://127.0.0.1:5684');
    for (const f of ['#node-input-pskKey', '#node-input-bsUri']) {
      assert.equal((await E.fieldValidation(page, f)).error, false, `${type}: ${f} still marked with a key given`);
    }
    await E.closeTray(page, 'cancel');
  });

  describe('profiles config node', function () {
    /** Open profile-lookup, then "add new profiles config node"; resolves the config tray. */
    async function openProfiles(page) {
      const id = await E.addFromPalette(page, 'lwm2m-profile-lookup');
      await E.openNodeEditor(page, id);
      await page.click('#node-input-btn-profiles-add');
      const tray = await E.waitForTray(page, { config: true });
      await tray.locator('#node-config-input-profiles-editor').waitFor({ state: 'visible' });
      const issues = page.locator('#lwm2m-profiles-issues');
      await issues.locator(':scope > *').first().waitFor({ state: 'attached' }); // the first check answered
      return { id, tray, issues };
    }

    /** Type a profile and wait for the check's answer to change. */
    async function typeProfile(page, issues, text) {
      const before = await issues.innerText();
      await E.setCodeEditor(page, '#node-config-input-profiles-editor', text);
      await page.waitForFunction((b) => {
        const el = document.querySelector('#lwm2m-profiles-issues');
        return el && el.children.length > 0 && el.innerText !== b;
      }, before);
      await issues.scrollIntoViewIfNeeded();
      return (await issues.innerText()).trim();
    }

    it('accepts the default profile', async function () {
      const { issues } = await openProfiles(editor.page);
      assert.ok(await issues.isVisible(), 'the check result is not shown');
      assert.equal(await issues.locator('li').count(), 0, `the default profile has issues: ${await issues.innerText()}`);
    });

    it('refuses invalid profile JSON with a visible message and flags the node', async function () {
      const { page } = editor;
      const { issues } = await openProfiles(page);
      // Typed on one line with balanced brackets, as Monaco's auto-closing would otherwise add its own.
      const text = await typeProfile(page, issues, '[{"name": "broken" "servers": []}]');
      assert.ok(await issues.isVisible(), 'the issue list is not visible');
      assert.match(text, /JSON/i, `the message should say the JSON is invalid: ${text}`);
      await E.closeTray(page, 'done');
      const cfg = await page.evaluate(() => {
        let c = null;
        RED.nodes.eachConfig((n) => { if (n.type === 'lwm2m-bootstrap-profiles') c = { valid: n.valid, id: n.id }; });
        return c;
      });
      assert.ok(cfg, 'the config node was not added');
      assert.equal(cfg.valid, false, 'a profiles node holding invalid JSON must be flagged invalid');
    });

    it('names a missing PSK where the security mode needs one', async function () {
      const { page } = editor;
      const { issues } = await openProfiles(page);
      const profile = [{
        name: 'psk-dm',
        servers: [{ shortServerId: 1, uri: 'coaps://dm.example.com:5684', securityMode: 'psk', pskIdentity: 'dev-1', lifetime: 300 }],
      }];
      const text = await typeProfile(page, issues, JSON.stringify(profile));
      assert.ok(await issues.isVisible(), 'the issue list is not visible');
      assert.match(text, /\/0\/servers\/0/, `the message should point at the server entry: ${text}`);
      assert.match(text, /pskKey/, `the message should name the missing pskKey: ${text}`);
      // The same profile pretty-printed for the screenshot (set through Monaco's API: typing a multi-line
      // text would be re-indented by the editor); the check runs again and must answer the same.
      await page.evaluate((pretty) => {
        const el = document.querySelector('#node-config-input-profiles-editor');
        const ed = window.monaco.editor.getEditors().find((e) => el.contains(e.getContainerDomNode()));
        document.querySelector('#lwm2m-profiles-issues').replaceChildren();
        ed.setValue(pretty);
        ed.setPosition({ lineNumber: 1, column: 1 });
        ed.setScrollLeft(0);
        ed.setScrollTop(0);
        document.querySelectorAll('.red-ui-tray-body').forEach((b) => { b.scrollTop = 0; });
      }, JSON.stringify(profile, null, 2));
      await issues.locator('li', { hasText: 'pskKey' }).waitFor({ state: 'visible' });
      await E.screenshot(page, 'edit-dialog-profiles.png');

      // Supplying the key clears it.
      profile[0].servers[0].pskKey = { hex: '000102030405060708090a0b0c0d0e0f' };
      const fixed = await typeProfile(page, issues, JSON.stringify(profile));
      assert.equal(await issues.locator('li').count(), 0, `still reported: ${fixed}`);
    });
  });
});

'use strict';
/** The help sidebar shows each node's help, from its index and from the node's edit dialog. */
const assert = require('node:assert/strict');
const fixture = require('./support/fixture');
const E = require('./support/editor');
const info = require('./support/package-info');

describe('editor: help sidebar', function () {
  let editor;
  let configTypes = [];

  before(async function () {
    await fixture.red.setFlows([]);
    editor = await E.openEditor(fixture.browser, fixture.red, { locale: 'en-US' });
    configTypes = await editor.page.evaluate((ts) => ts.filter((t) => RED.nodes.getType(t) && RED.nodes.getType(t).category === 'config'),
      Object.keys(info.registeredNodes()));
  });
  after(async function () {
    if (editor) await editor.close();
  });

  for (const type of info.PALETTE_NODES) {
    it(`shows the help of ${type} from the help index`, async function () {
      const { page } = editor;
      const html = info.helpHtml('en-US', type);
      assert.ok(html, `locales/en-US/${info.baseName(type)}.html has no <script data-help-name="${type}">`);
      const label = info.lookup(info.catalog('en-US', type) || {}, `${type}.paletteLabel`);
      assert.ok(label, `no paletteLabel for ${type}`);
      const panel = await E.showHelpFromIndex(page, info.PACKAGE, label);
      assert.equal(await E.helpDifference(page, panel, html, label), null);
    });

    it(`shows the help of ${type} from its edit dialog`, async function () {
      const { page } = editor;
      const html = info.helpHtml('en-US', type);
      assert.ok(html, `locales/en-US/${info.baseName(type)}.html has no <script data-help-name="${type}">`);
      assert.equal(await E.paletteNode(page, type).count(), 1, `${type} is not in the palette`);
      const id = await E.addFromPalette(page, type);
      const tray = await E.openNodeEditor(page, id);
      await page.click('#red-ui-tab-info-link-button'); // away from help, so the button has to bring it back
      await tray.locator('.red-ui-tray-footer button:has(i.fa-book)').click();
      const label = await E.paletteNode(page, type).getAttribute('data-palette-label');
      assert.equal(await E.helpDifference(page, E.helpPanel(page), html, label), null);
      await E.closeTray(page, 'cancel');
      await page.evaluate((i) => { RED.nodes.remove(i); RED.view.redraw(true); }, id);
    });
  }

  it('shows the help of the config nodes from the help index', async function () {
    assert.ok(configTypes.length > 0, 'the package registers no config nodes');
    for (const type of configTypes) {
      const html = info.helpHtml('en-US', type);
      assert.ok(html, `locales/en-US/${info.baseName(type)}.html has no <script data-help-name="${type}">`);
      const label = await editor.page.evaluate((t) => {
        const d = RED.nodes.getType(t);
        const l = typeof d.paletteLabel === 'function' ? d.paletteLabel.call(d) : d.paletteLabel;
        return l || t;
      }, type);
      const panel = await E.showHelpFromIndex(editor.page, info.PACKAGE, label);
      assert.equal(await E.helpDifference(editor.page, panel, html, label), null, type);
    }
    assert.deepEqual(editor.problems, []);
  });
});

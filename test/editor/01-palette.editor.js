'use strict';
/** The palette: the package's five nodes in their own category, with their labels and icons. */
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const fixture = require('./support/fixture');
const { openEditor, paletteNode, screenshot } = require('./support/editor');
const info = require('./support/package-info');

const categoryId = '#red-ui-palette-container-' + info.CATEGORY.replace(/[^A-Za-z0-9_-]/g, '_');

describe('editor: palette', function () {
  let editor;

  before(async function () {
    await fixture.red.setFlows([]);
    editor = await openEditor(fixture.browser, fixture.red, { locale: 'en-US' });
  });
  after(async function () {
    if (editor) await editor.close();
  });

  it('registers every node type the package lists in package.json with the editor', async function () {
    const types = Object.keys(info.registeredNodes());
    const missing = await editor.page.evaluate((ts) => ts.filter((t) => !RED.nodes.getType(t)), types);
    assert.deepEqual(missing, [], `the editor has no definition for ${missing.join(', ')} (its .html did not register it)`);
    assert.deepEqual(editor.problems, [], 'the editor reported errors while loading the nodes');
  });

  it(`shows a "${info.CATEGORY}" palette category`, async function () {
    const header = editor.page.locator(`${categoryId} .red-ui-palette-header`);
    await header.waitFor({ state: 'visible' });
    assert.equal((await header.innerText()).trim(), info.CATEGORY);
    await screenshot(editor.page, 'palette.png', editor.page.locator(categoryId));
  });

  for (const type of info.PALETTE_NODES) {
    it(`shows ${type} in that category with its label and icon`, async function () {
      const { page } = editor;
      const entry = page.locator(`${categoryId} .red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await paletteNode(page, type).count(), 1,
        `${type} is not in the palette (registered: ${JSON.stringify(Object.keys(info.registeredNodes()))})`);
      assert.equal(await entry.count(), 1, `${type} is in the palette but not in the "${info.CATEGORY}" category`);
      await entry.scrollIntoViewIfNeeded();
      assert.ok(await entry.isVisible(), `${type}: palette entry not visible`);

      // Label: the catalog's paletteLabel, not the type name or an untranslated key.
      const cat = info.catalog('en-US', type);
      assert.ok(cat, `locales/en-US/${info.baseName(type)}.json is missing`);
      const expected = info.lookup(cat, `${type}.paletteLabel`);
      assert.equal(typeof expected, 'string', `locales/en-US/${info.baseName(type)}.json has no ${type}.paletteLabel`);
      const label = (await entry.getAttribute('data-palette-label')) || '';
      assert.equal(label, expected, `${type}: palette label`);
      const shown = (await entry.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim();
      assert.equal(shown, expected.replace(/\s+/g, ' ').trim(), `${type}: the label drawn in the palette`);

      // Icon: one of the package's own files, served by Node-RED and drawn by the browser, or a Font
      // Awesome glyph Node-RED knows (an unknown glyph name falls back to the generic arrow-in icon).
      const icon = (await entry.locator('.red-ui-palette-icon-container').getAttribute('data-palette-icon')) || '';
      const fa = /^font-awesome\/(fa-[\w-]+)$/.exec(icon);
      if (fa) {
        const glyph = entry.locator(`i.red-ui-palette-icon-fa.fa.${fa[1]}`);
        assert.equal(await glyph.count(), 1, `${type}: ${icon} is not a Font Awesome icon the editor knows`);
        const content = await glyph.evaluate((el) => getComputedStyle(el, '::before').content);
        assert.ok(content && content !== 'none' && content !== '""', `${type}: ${icon} draws no glyph`);
        return;
      }
      const m = /^icons\/([^/]+)\/(.+)$/.exec(icon);
      assert.ok(m, `${type}: no icon (data-palette-icon=${icon})`);
      assert.equal(m[1], info.PACKAGE, `${type}: icon ${icon} is not one of the package's icons`);
      assert.ok(fs.existsSync(path.join(info.packageDir, 'icons', m[2])), `${type}: icons/${m[2]} does not exist`);
      const res = await page.request.get(new URL(icon, fixture.red.url).href);
      assert.equal(res.status(), 200, `${type}: GET ${icon}`);
      assert.match(res.headers()['content-type'] || '', /^image\//, `${type}: ${icon} is not served as an image`);
      const drawn = await entry.locator('.red-ui-palette-icon').evaluate((el) => getComputedStyle(el).backgroundImage);
      assert.ok(drawn.includes(m[2]), `${type}: the palette draws ${drawn}, not ${m[2]}`);
    });
  }

  it('keeps config nodes out of the palette', async function () {
    const configTypes = await editor.page.evaluate((ts) => ts.filter((t) => RED.nodes.getType(t) && RED.nodes.getType(t).category === 'config'),
      Object.keys(info.registeredNodes()));
    for (const t of configTypes) {
      assert.equal(await paletteNode(editor.page, t).count(), 0, `${t} is a config node and must not be in the palette`);
    }
  });
});

'use strict';
/**
 * German: the Node-RED editor takes its language from localStorage "editor-language" or else the
 * browser's navigator.language, and sends it as Accept-Language when it loads node definitions and help
 * (@node-red/editor-client red.js, RED.i18n.detectLanguage and loadNodes). A browser set to de-DE therefore
 * gets locales/de/ (Node-RED falls back from de-DE to de). Palette labels, dialog texts and help must then
 * be the package's German ones, and every English text must have its German counterpart.
 */
const assert = require('node:assert/strict');
const fixture = require('./support/fixture');
const E = require('./support/editor');
const info = require('./support/package-info');

const categoryId = '#red-ui-palette-container-' + info.CATEGORY.replace(/[^A-Za-z0-9_-]/g, '_');

function allTypes() {
  return [...new Set([...info.PALETTE_NODES, ...Object.keys(info.registeredNodes())])];
}

describe('editor: German (browser language de-DE)', function () {
  describe('catalogs', function () {
    for (const type of allTypes()) {
      it(`${type} has a German text for every English one, and German help`, function () {
        const en = info.catalog('en-US', type);
        assert.ok(en, `locales/en-US/${info.baseName(type)}.json is missing`);
        const de = info.catalog('de', type);
        assert.ok(de, `locales/de/${info.baseName(type)}.json is missing`);
        const missing = info.leafKeys(en).filter((k) => info.lookup(de, k) === undefined);
        assert.deepEqual(missing, [], `locales/de/${info.baseName(type)}.json lacks these keys`);
        assert.ok(info.helpHtml('en-US', type), `locales/en-US/${info.baseName(type)}.html has no help for ${type}`);
        assert.ok(info.helpHtml('de', type), `locales/de/${info.baseName(type)}.html has no help for ${type}`);
        assert.notEqual(info.helpHtml('de', type), info.helpHtml('en-US', type), `${type}: the German help is the English one`);
      });
    }
  });

  describe('in the editor', function () {
    let editor;

    before(async function () {
      await fixture.red.setFlows([]);
      editor = await E.openEditor(fixture.browser, fixture.red, { locale: 'de-DE' });
    });
    after(async function () {
      if (editor) await editor.close();
    });

    it('runs the editor itself in German', async function () {
      const lang = await editor.page.evaluate(() => RED.i18n.lang());
      assert.equal(lang, 'de', 'RED.i18n.lang()');
      const deploy = (await editor.page.locator('#red-ui-header-button-deploy').innerText()).trim();
      assert.match(deploy, /Übernahme/, `the Deploy button reads "${deploy}"`);
      await E.screenshot(editor.page, 'palette-de.png', editor.page.locator(categoryId));
    });

    for (const type of info.PALETTE_NODES) {
      it(`labels ${type} in German in the palette`, async function () {
        const de = info.catalog('de', type);
        assert.ok(de, `locales/de/${info.baseName(type)}.json is missing`);
        const expected = info.lookup(de, `${type}.paletteLabel`);
        assert.equal(typeof expected, 'string', `locales/de/${info.baseName(type)}.json has no paletteLabel`);
        const entry = editor.page.locator(`${categoryId} .red-ui-palette-node[data-palette-type="${type}"]`);
        assert.equal(await entry.count(), 1, `${type} is not in the palette`);
        assert.equal(await entry.getAttribute('data-palette-label'), expected);
      });

      it(`shows the German help of ${type}`, async function () {
        const html = info.helpHtml('de', type);
        assert.ok(html, `locales/de/${info.baseName(type)}.html has no help for ${type}`);
        const label = info.lookup(info.catalog('de', type) || {}, `${type}.paletteLabel`);
        const panel = await E.showHelpFromIndex(editor.page, info.PACKAGE, label);
        assert.equal(await E.helpDifference(editor.page, panel, html, label), null);
      });

      it(`shows the dialog of ${type} in German`, async function () {
        const { page } = editor;
        const de = info.catalog('de', type);
        assert.ok(de, `locales/de/${info.baseName(type)}.json is missing`);
        assert.equal(await E.paletteNode(page, type).count(), 1, `${type} is not in the palette`);
        const id = await E.addFromPalette(page, type);
        const tray = await E.openNodeEditor(page, id);
        // Every data-i18n text of the package's own namespace must show the German catalog's text.
        const { wrong, checked } = await tray.locator('#dialog-form').evaluate((form, { catalog, ns }) => {
          const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
          const get = (key) => key.split('.').reduce((v, k) => (v && typeof v === 'object' ? v[k] : undefined), catalog);
          const textOf = (html) => norm(new DOMParser().parseFromString(`<div>${html}</div>`, 'text/html').body.textContent);
          const out = [];
          let n = 0;
          for (const el of form.querySelectorAll('[data-i18n]')) {
            for (const spec of el.getAttribute('data-i18n').split(';')) {
              const m = /^(?:\[(\w+)\])?(.+)$/.exec(spec.trim());
              const attr = m[1];
              // Node-RED rewrites the node's own keys to "<module>/<set>:<key>" when it loads the template.
              const key = m[2].replace(/^[^:]*:/, '');
              if (!key.startsWith(ns + '.')) continue;
              n += 1;
              const want = get(key);
              if (typeof want !== 'string') { out.push(`${key}: no German text`); continue; }
              let shown;
              if (attr === 'html') shown = norm(el.textContent);
              else if (attr) shown = norm(el.getAttribute(attr));
              else shown = norm(el.textContent);
              const expected = attr === 'html' || !attr ? textOf(want) : norm(want);
              if (shown !== expected) out.push(`${key}: shows "${shown}", German is "${expected}"`);
            }
          }
          return { wrong: out, checked: n };
        }, { catalog: de, ns: type });
        await E.closeTray(page, 'cancel');
        await page.evaluate((i) => { RED.nodes.remove(i); RED.view.redraw(true); }, id);
        assert.ok(checked >= 2, `${type}: the dialog has ${checked} texts from its catalog; its labels are not translated`);
        assert.deepEqual(wrong, [], `${type}: dialog texts not in German`);
      });
    }

    it('raised no errors in the browser', function () {
      assert.deepEqual(editor.problems, []);
    });
  });
});

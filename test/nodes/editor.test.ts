/**
 * The editor side of every node: the dialog scripts parse, every i18n key they use exists, and the German
 * catalog and help cover exactly what the English ones do.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NODES = ['bootstrap-listener', 'profile-lookup', 'object-write', 'bootstrap-finish', 'bootstrap-profiles', 'device-table'];
const LANGS = ['en-US', 'de'];

function catalog(lang: string, name: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'locales', lang, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

function keys(obj: unknown, prefix = ''): string[] {
  if (!obj || typeof obj !== 'object') return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function has(cat: Record<string, unknown>, key: string): boolean {
  let cur: unknown = cat;
  for (const part of key.split('.')) {
    if (!cur || typeof cur !== 'object' || !(part in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'string';
}

describe('editor dialogs, catalogs and help', () => {
  for (const name of NODES) {
    describe(name, () => {
      const html = fs.readFileSync(path.join(ROOT, 'nodes', name, `${name}.html`), 'utf8');
      const type = `lwm2m-${name}`;

      it('registers its type in a script that parses', () => {
        const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
        assert.equal(scripts.length, 1);
        assert.doesNotThrow(() => new Function('RED', '$', scripts[0]));
        assert.match(scripts[0], new RegExp(`registerType\\('${type}'`));
        assert.match(html, new RegExp(`data-template-name="${type}"`));
      });

      it('uses only keys its English and German catalogs have', () => {
        const used = new Set<string>();
        for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) used.add(m[1]);
        for (const m of html.matchAll(/_\('([^']+)'/g)) used.add(m[1]);
        const own = [...used].filter((k) => k.startsWith(type + '.'));
        assert.ok(own.length > 3, 'the dialog is translated');
        for (const lang of LANGS) {
          const cat = catalog(lang, name);
          for (const k of own) if (!k.endsWith('.')) assert.ok(has(cat, k), `${lang}/${name}.json lacks ${k}`);
        }
      });

      it('has the same catalog keys in German as in English, none left empty', () => {
        const en = keys(catalog('en-US', name)).sort();
        const de = keys(catalog('de', name)).sort();
        assert.deepEqual(de, en);
        for (const k of de) assert.ok(has(catalog('de', name), k) && String(k).length > 0);
      });

      it('has help with Inputs, Outputs and Details in English and German', () => {
        for (const [lang, heads] of [
          ['en-US', ['Inputs', 'Outputs', 'Details']],
          ['de', ['Eingänge', 'Ausgänge', 'Details']],
        ] as [string, string[]][]) {
          const help = fs.readFileSync(path.join(ROOT, 'locales', lang, `${name}.html`), 'utf8');
          assert.match(help, new RegExp(`data-help-name="${type}"`));
          for (const h of heads) assert.match(help, new RegExp(`<h3>${h}</h3>`), `${lang} help: ${h}`);
        }
      });
    });
  }

  it('names an icon for every flow node that exists in icons/', () => {
    for (const name of NODES.slice(0, 4)) {
      const html = fs.readFileSync(path.join(ROOT, 'nodes', name, `${name}.html`), 'utf8');
      const icon = /icon: '([^']+)'/.exec(html)?.[1];
      assert.ok(icon && fs.existsSync(path.join(ROOT, 'icons', icon)), `${name}: ${icon}`);
      assert.match(html, /category: 'LwM2M bootstrap'/);
    }
  });

  it('registers every node in package.json under its lwm2m- type', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    for (const name of NODES) {
      assert.equal(pkg['node-red'].nodes[`lwm2m-${name}`], `dist/nodes/${name}/${name}.js`);
    }
  });
});

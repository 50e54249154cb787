/**
 * The editor side of every node: the dialog scripts parse, every i18n key they use exists, and the German
 * catalog and help cover exactly what the English ones do. The dialogs are read as Node-RED gets them, from
 * dist/nodes/ (scripts/copy-assets.js puts the shared validators, nodes/shared/editor/, into each).
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NODES = ['bootstrap-listener', 'profile-lookup', 'object-write', 'bootstrap-finish', 'bootstrap-profiles', 'device-table', 'factory-config'];
const LANGS = ['en-US', 'de'];
const INCLUDE = /^[ \t]*\/\/ @include /m;

/** The editor html as copy-assets wrote it for Node-RED. */
function distHtml(name: string): string {
  return fs.readFileSync(path.join(ROOT, 'dist', 'nodes', name, `${name}.html`), 'utf8');
}

type Validator = (this: unknown, v: unknown, opt?: object) => true | false | string;
type Defaults = Record<string, { value?: unknown; required?: boolean; validate?: Validator }>;

/** Runs the dialog script against a minimal RED; returns the defaults it registered and the catalog keys it asked for. */
function registered(name: string): { defaults: Defaults; asked: string[] } {
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(distHtml(name))![1];
  const asked: string[] = [];
  let defaults: Defaults | undefined;
  const RED = {
    _: (k: string) => { asked.push(k); return k; },
    nodes: { registerType: (_t: string, def: { defaults: Defaults }) => { defaults = def.defaults; }, node: () => null },
  };
  new Function('RED', '$', script)(RED, () => ({ length: 0 }));
  assert.ok(defaults, `${name}: registerType was called`);
  return { defaults, asked };
}

/** What Node-RED's editor makes of a property (validateNodeProperty, 4.1): true, or false / the reason. */
function editorValid(node: Record<string, unknown>, def: Defaults[string], v: unknown): true | false | string {
  if (typeof v === 'string' && /^\$\{[a-zA-Z_][a-zA-Z0-9_]*\}$/.test(v)) return true;
  if (def.required && v === '') return false;
  if (!def.validate) return true;
  if (def.required === false && v === '') return true;
  const r = def.validate.call(node, v, {});
  return typeof r === 'string' ? r : !!r;
}

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
      const html = distHtml(name);
      const type = `lwm2m-${name}`;

      it('registers its type in a script that parses', () => {
        const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
        assert.equal(scripts.length, 1);
        assert.doesNotThrow(() => new Function('RED', '$', scripts[0]));
        assert.match(scripts[0], new RegExp(`registerType\\('${type}'`));
        assert.match(html, new RegExp(`data-template-name="${type}"`));
      });

      it('is self-contained: the shared validators are inlined, no include line is left', () => {
        assert.doesNotMatch(html, INCLUDE);
        const src = fs.readFileSync(path.join(ROOT, 'nodes', name, `${name}.html`), 'utf8');
        assert.match(src, INCLUDE, 'the source names the shared validators instead of holding a copy');
        assert.equal(html.match(/function lwm2mValidators\(/g)?.length, 1);
        assert.equal(registered(name).defaults.name.value, '');
      });

      it('gives reasons for refused values from its English and German catalogs', () => {
        const { defaults, asked } = registered(name);
        const node: Record<string, unknown> = {};
        for (const [k, d] of Object.entries(defaults)) node[k] = d.value;
        let refused = 0;
        for (const [k, d] of Object.entries(defaults)) {
          if (!d.validate) continue;
          for (const bad of ['x', '-1', '99999999', '{']) {
            if (d.validate.call(node, bad, {}) !== true) refused++;
          }
          assert.equal(d.validate.call(node, d.value, {}), true, `${k}: its default is valid`);
        }
        assert.ok(refused > 0 && asked.length >= refused, 'refused values come with a reason');
        for (const key of new Set(asked)) {
          const m = new RegExp(`^node-red-contrib-lwm2m-bootstrap/${type}:(${type}\\.validation\\..+)$`).exec(key);
          assert.ok(m, `${key} is in the node's own catalog`);
          for (const lang of LANGS) assert.ok(has(catalog(lang, name), m[1]), `${lang}/${name}.json lacks ${m[1]}`);
        }
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

  it('accepts every node of every example as the editor loads it (a property the example lacks included)', () => {
    const types = new Map([...NODES, 'client-sim'].map((n) => [`lwm2m-${n}`, registered(n).defaults]));
    const dir = path.join(ROOT, 'examples');
    let checked = 0;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      for (const node of JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>[]) {
        const defaults = types.get(String(node.type));
        if (!defaults) continue;
        // Node-RED loads a deployed flow without filling in defaults: a missing property is validated as undefined.
        for (const [k, d] of Object.entries(defaults)) {
          assert.equal(editorValid(node, d, node[k]), true, `${f}: ${node.type} ${node.id} ${k}=${JSON.stringify(node[k])}`);
        }
        checked++;
      }
    }
    assert.ok(checked >= 60, `${checked} nodes checked`);
  });

  it('names an icon for every flow node that exists in icons/', () => {
    for (const name of NODES.slice(0, 4)) {
      const html = distHtml(name);
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

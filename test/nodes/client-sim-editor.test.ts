/**
 * The client-sim node's editor side: the dialog script parses and registers the type with the PSK key as a
 * password credential (never a default), every i18n key it uses exists in English and German, the German
 * catalog and help cover what the English ones do, and package.json registers the node.
 */
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TYPE = 'lwm2m-client-sim';
const html = fs.readFileSync(path.join(ROOT, 'nodes', 'client-sim', 'client-sim.html'), 'utf8');
const catalog = (lang: string) => JSON.parse(fs.readFileSync(path.join(ROOT, 'locales', lang, 'client-sim.json'), 'utf8')) as Record<string, unknown>;

function keys(obj: unknown, prefix = ''): string[] {
  if (!obj || typeof obj !== 'object') return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

function text(cat: Record<string, unknown>, key: string): string | undefined {
  let cur: unknown = cat;
  for (const part of key.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[part] : undefined;
  return typeof cur === 'string' ? cur : undefined;
}

/** Runs the dialog script against a minimal RED and returns what it registered. */
function registered(extra: Record<string, unknown> = {}): { type: string; def: Record<string, any> } {
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)![1];
  let out: { type: string; def: Record<string, any> } | undefined;
  const RED = { ...extra, nodes: { registerType: (type: string, def: Record<string, any>) => (out = { type, def }) } };
  new Function('RED', '$', script)(RED, () => ({ length: 0 }));
  assert.ok(out, 'registerType was called');
  return out;
}

describe('client-sim editor, catalogs and help', () => {
  it('registers the type with two outputs, one input and the PSK key as a password credential', () => {
    const { type, def } = registered();
    assert.equal(type, TYPE);
    assert.equal(def.category, 'LwM2M bootstrap');
    assert.equal(def.inputs, 1);
    assert.equal(def.outputs, 2);
    assert.deepEqual(def.credentials, { pskKey: { type: 'password' } });
    assert.ok(!('pskKey' in def.defaults), 'the key is no default (it would land in the flow file)');
    assert.match(html, new RegExp(`data-template-name="${TYPE}"`));
    assert.match(html, /<input type="password" id="node-input-pskKey"/);
  });

  it('validates fields the way the runtime does', () => {
    const d = registered().def.defaults;
    const ok = (field: string, v: unknown, self: Record<string, unknown> = {}) => d[field].validate.call(self, v);
    assert.equal(ok('count', '1000'), true);
    assert.equal(ok('count', '0'), false);
    assert.equal(ok('count', '${FLEET_SIZE}'), true);
    assert.equal(ok('dropRate', '5'), true);
    assert.equal(ok('dropRate', '101'), false);
    assert.equal(ok('bsUri', 'coap://127.0.0.1:${BS_PORT}'), true);
    assert.equal(ok('bsUri', 'http://x'), false);
    assert.equal(ok('version', '1.2'), true);
    assert.equal(ok('version', '2.0'), false);
    assert.equal(ok('noSecOnly', true, { bsUri: 'coap://127.0.0.1:5683' }), true);
    assert.equal(ok('noSecOnly', true, { bsUri: 'coaps://127.0.0.1:5684' }), false);
    assert.equal(ok('noSecOnly', false, { bsUri: 'coaps://127.0.0.1:5684' }), true);
    assert.equal(ok('formats', '11542, 110'), true);
    assert.equal(ok('formats', 'tlv'), false);
    assert.equal(ok('endpoint', 'meter-{n}', { mode: 'fleet' }), true);
    assert.equal(ok('endpoint', 'meter', { mode: 'fleet' }), false);
    assert.equal(ok('endpoint', 'meter', { mode: 'fleet', deviceFile: 'devices.csv' }), true);
    assert.equal(ok('endpoint', 'meter-{n}', { mode: 'single' }), false);
    const coaps = { bsUri: 'coaps://127.0.0.1:5684', pskIdentity: 'dev-1', mode: 'single' };
    assert.equal(ok('bsUri', coaps.bsUri, { ...coaps, credentials: {} }), false, 'coaps without a key');
    assert.equal(ok('bsUri', coaps.bsUri, { ...coaps, credentials: { has_pskKey: true } }), true);
    assert.equal(ok('bsUri', coaps.bsUri, { ...coaps, pskIdentity: '', credentials: { has_pskKey: true } }), false, 'coaps without an identity');
    assert.equal(ok('bsUri', coaps.bsUri, { ...coaps, mode: 'fleet', deviceFile: 'keys.csv', credentials: {} }), true, 'a device table brings the keys');
    // With opt (Node-RED >= 3.1 asks for the reason), the validator returns the catalog text.
    const RED = { _: (k: string, v: Record<string, unknown>) => `${k} ${JSON.stringify(v)}` };
    const { def } = registered(RED);
    assert.equal(
      def.defaults.count.validate.call({}, '0', {}),
      'node-red-contrib-lwm2m-bootstrap/lwm2m-client-sim:lwm2m-client-sim.validation.integer {"min":1,"max":5000}',
    );
  });

  it('uses only keys its English and German catalogs have', () => {
    const used = new Set<string>();
    for (const m of html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)) used.add(m[1]);
    for (const m of html.matchAll(/_\('([^']+)'/g)) used.add(m[1]);
    for (const m of html.matchAll(/invalid\(opt, '([^']+)'/g)) used.add(`${TYPE}.validation.${m[1]}`);
    const own = [...used].filter((k) => k.startsWith(TYPE + '.'));
    assert.ok(own.length > 20, 'the dialog is translated');
    for (const lang of ['en-US', 'de']) {
      const cat = catalog(lang);
      for (const k of own) assert.ok(text(cat, k), `${lang}/client-sim.json lacks ${k}`);
    }
  });

  it('has the same catalog keys in German as in English, none empty, with the same placeholders', () => {
    const en = catalog('en-US');
    const de = catalog('de');
    assert.deepEqual(keys(de).sort(), keys(en).sort());
    for (const k of keys(en)) {
      const e = text(en, k) as string;
      const g = text(de, k) as string;
      assert.ok(g.length > 0, k);
      assert.deepEqual([...g.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort(), [...e.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort(), k);
    }
  });

  it('has help with Inputs, Outputs and Details in English and German, naming every command', () => {
    for (const [lang, heads] of [
      ['en-US', ['Inputs', 'Outputs', 'Details']],
      ['de', ['Eingänge', 'Ausgänge', 'Details']],
    ] as [string, string[]][]) {
      const help = fs.readFileSync(path.join(ROOT, 'locales', lang, 'client-sim.html'), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${TYPE}"`));
      for (const h of heads) assert.match(help, new RegExp(`<h3>${h}</h3>`), `${lang} help: ${h}`);
      for (const c of ['start', 'stop', 'power-off', 'reboot', 'rebootstrap', 'factory-reset', 'fault', 'clear-faults', 'status']) {
        assert.ok(help.includes(`<code>${c}</code>`), `${lang} help documents ${c}`);
      }
    }
  });

  it('is registered in package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
    assert.equal(pkg['node-red'].nodes[TYPE], 'dist/nodes/client-sim/client-sim.js');
    assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'nodes', 'client-sim', 'locales', 'de', 'client-sim.json')), 'copy-assets placed the catalogs');
  });
});

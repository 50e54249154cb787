'use strict';
/**
 * What the package says about itself, read from disk: the node types it registers, their message catalogs
 * and help per language, and the example flows. The tests compare what the editor shows with these files.
 */
const fs = require('fs');
const path = require('path');
const { packageDir, PACKAGE } = require('./node-red');

/** The nodes issue 6 wants in the palette, in their own category. */
const PALETTE_NODES = [
  'lwm2m-bootstrap-listener',
  'lwm2m-profile-lookup',
  'lwm2m-object-write',
  'lwm2m-bootstrap-finish',
  'lwm2m-client-sim',
  'lwm2m-factory-config',
];
const CATEGORY = 'LwM2M bootstrap';

function packageJson() {
  return JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
}

/** type -> runtime file, as registered in package.json "node-red".nodes. */
function registeredNodes() {
  return { ...((packageJson()['node-red'] || {}).nodes || {}) };
}

/** The file base name under nodes/ and locales/<lang>/ for a type, e.g. lwm2m-bootstrap-listener -> bootstrap-listener. */
function baseName(type) {
  const file = registeredNodes()[type];
  if (file) return path.basename(file, '.js');
  return type.replace(/^lwm2m-/, '');
}

/** The node's message catalog in `lang`, or null when the file is missing. */
function catalog(lang, type) {
  const file = path.join(packageDir, 'locales', lang, baseName(type) + '.json');
  if (!fs.existsSync(file)) return null;
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Look `key` ("ns.a.b" inside a catalog whose top level is the namespace) up; undefined when absent. */
function lookup(cat, key) {
  let v = cat;
  for (const part of key.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in v)) return undefined;
    v = v[part];
  }
  return v;
}

/** Every leaf key of a catalog, dotted ("lwm2m-bootstrap-listener.label.port"). */
function leafKeys(obj, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object') out.push(...leafKeys(v, key));
    else out.push(key);
  }
  return out;
}

/** The inner HTML of the node's help (<script data-help-name>) in `lang`, or null. */
function helpHtml(lang, type) {
  const file = path.join(packageDir, 'locales', lang, baseName(type) + '.html');
  if (!fs.existsSync(file)) return null;
  const text = fs.readFileSync(file, 'utf8');
  const m = new RegExp(`<script[^>]*data-help-name=["']${type}["'][^>]*>([\\s\\S]*?)</script>`).exec(text);
  return m ? m[1] : null;
}

/** The example flows under examples/ (Node-RED lists *.json there under Import > Examples > <package>). */
function examples() {
  const dir = path.join(packageDir, 'examples');
  if (!fs.existsSync(dir)) return [];
  const out = [];
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(path.join(d, e.name), rel.concat(e.name));
      else if (e.name.endsWith('.json')) {
        out.push({ name: e.name.replace(/\.json$/, ''), folders: rel, file: path.join(d, e.name) });
      }
    }
  };
  walk(dir, []);
  return out;
}

module.exports = {
  PACKAGE,
  PALETTE_NODES,
  CATEGORY,
  packageDir,
  registeredNodes,
  baseName,
  catalog,
  lookup,
  leafKeys,
  helpHtml,
  examples,
};

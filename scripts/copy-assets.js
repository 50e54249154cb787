#!/usr/bin/env node
'use strict';
// Places each compiled node beside its editor HTML, its locales and the icons, where Node-RED looks
// for them: for dist/nodes/<name>/<name>.js Node-RED reads <name>.html beside it,
// locales/<lang>/<name>.json and .html beside it, and icons/ beside it.
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

function copyDir(src, dst, filter) {
  if (!fs.existsSync(src)) return;
  fs.mkdirSync(dst, { recursive: true });
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, entry.name);
    const d = path.join(dst, entry.name);
    if (entry.isDirectory()) copyDir(s, d, filter);
    else if (!filter || filter(entry.name)) fs.copyFileSync(s, d);
  }
}

const nodesDir = path.join(root, 'nodes');
for (const name of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : []) {
  const srcDir = path.join(nodesDir, name);
  if (!fs.statSync(srcDir).isDirectory()) continue;
  const outDir = path.join(dist, 'nodes', name);
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(srcDir)) {
    if (f.endsWith('.html')) fs.copyFileSync(path.join(srcDir, f), path.join(outDir, f));
  }
  // locales/<lang>/<name>.json|.html -> dist/nodes/<name>/locales/<lang>/
  const locales = path.join(root, 'locales');
  if (fs.existsSync(locales)) {
    for (const lang of fs.readdirSync(locales)) {
      const langDir = path.join(locales, lang);
      if (!fs.statSync(langDir).isDirectory()) continue;
      for (const ext of ['.json', '.html']) {
        const f = path.join(langDir, name + ext);
        if (fs.existsSync(f)) {
          fs.mkdirSync(path.join(outDir, 'locales', lang), { recursive: true });
          fs.copyFileSync(f, path.join(outDir, 'locales', lang, name + ext));
        }
      }
    }
  }
  copyDir(path.join(root, 'icons'), path.join(outDir, 'icons'));
}

// JSON assets the library reads at run time (the profile schema, generated model data).
copyDir(path.join(root, 'lib'), path.join(dist, 'lib'), (f) => f.endsWith('.json'));

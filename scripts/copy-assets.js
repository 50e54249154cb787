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

// A node's editor html may hold lines `// @include <file under nodes/>` (e.g. shared/editor/validators.js):
// its copy in dist/ has the file's text there instead, indented like the marker, so the source keeps one
// copy of what the dialogs share and Node-RED still gets one self-contained html per node.
const INCLUDE = /^([ \t]*)\/\/ @include (\S+)[ \t]*$/gm;
function inlineIncludes(html, from) {
  return html.replace(INCLUDE, (marker, indent, rel) => {
    const file = path.resolve(nodesDir, rel);
    const inside = !path.relative(nodesDir, file).startsWith('..');
    if (!inside || !fs.existsSync(file)) throw new Error(`${from}: cannot include ${rel} (no such file under nodes/)`);
    const text = fs.readFileSync(file, 'utf8').replace(/\r\n/g, '\n').replace(/\n+$/, '');
    if (new RegExp(INCLUDE.source, 'm').test(text) || /<\/script/i.test(text)) {
      throw new Error(`${from}: ${rel} may hold neither an include line nor </script>`);
    }
    return text.split('\n').map((l) => (l ? indent + l : l)).join('\n');
  });
}

for (const name of fs.existsSync(nodesDir) ? fs.readdirSync(nodesDir) : []) {
  const srcDir = path.join(nodesDir, name);
  if (!fs.statSync(srcDir).isDirectory()) continue;
  const outDir = path.join(dist, 'nodes', name);
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(srcDir)) {
    if (!f.endsWith('.html')) continue;
    const html = fs.readFileSync(path.join(srcDir, f), 'utf8');
    fs.writeFileSync(path.join(outDir, f), inlineIncludes(html, `nodes/${name}/${f}`));
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

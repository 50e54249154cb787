#!/usr/bin/env node
'use strict';
/**
 * Checks what `npm pack` puts in the tarball, as a user needs it:
 *   node pack-contents.js <npm pack --dry-run --json output file> <package root>
 * Every node set of package.json "node-red".nodes has its .js, the editor .html, locales/<lang>/<name>.json
 * and .html (en-US and de) and the icons its editor names, beside the .js (where Node-RED looks); the library,
 * the profile schema, the examples, the DTLS sources, binding.gyp, build-addon.js and a linux-x64 prebuild
 * are in; tests, benchmarks, TypeScript sources, build/ output and local folders are not.
 * Prints one line per check, then `PACK ok` or `PACK FAIL`; exit code 1 on failure.
 */
const fs = require('fs');
const path = require('path');

const [jsonFile, root] = process.argv.slice(2);
const packed = JSON.parse(fs.readFileSync(jsonFile, 'utf8'))[0];
const files = new Set(packed.files.map((f) => f.path));
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const LANGS = ['en-US', 'de'];
const problems = [];
const need = (p, why) => { if (!files.has(p)) problems.push(`missing ${p}${why ? ` (${why})` : ''}`); };
const anyUnder = (dir, re) => [...files].some((f) => f.startsWith(dir) && (!re || re.test(f)));

for (const p of ['package.json', 'README.md', 'LICENSE', pkg.main, pkg.types, 'lib/profile/profile.schema.json', 'binding.gyp',
  'scripts/build-addon.js', 'examples/01-default-profile.json']) need(p);
if (!anyUnder('native/', /\.c$/)) problems.push('no native/*.c (the install script cannot build the addon)');
if (!anyUnder('prebuilds/linux-x64/', /\.node$/)) problems.push('no prebuilds/linux-x64/*.node');
if (!anyUnder('dist/lib/client/')) problems.push('no dist/lib/client (client-sim needs it)');
if (!anyUnder('dist/lib/rd/')) problems.push('no dist/lib/rd (the demo DM server)');

const sets = Object.entries((pkg['node-red'] || {}).nodes || {});
for (const [set, js] of sets) {
  need(js, set);
  const dir = path.posix.dirname(js);
  const name = path.posix.basename(js, '.js');
  const html = `${dir}/${name}.html`;
  need(html, 'editor');
  for (const lang of LANGS) {
    need(`${dir}/locales/${lang}/${name}.json`, `${lang} messages`);
    need(`${dir}/locales/${lang}/${name}.html`, `${lang} help`);
  }
  const src = path.join(root, html);
  if (fs.existsSync(src)) {
    for (const m of fs.readFileSync(src, 'utf8').matchAll(/\bicon\s*:\s*['"]([^'"]+)['"]/g)) {
      if (!m[1].includes('/')) need(`${dir}/icons/${m[1]}`, `icon of ${name}`); // font-awesome/... is Node-RED's
    }
  }
}

const forbidden = [
  [/(^|\/)test\//, 'tests'],
  [/^dist\/(test|bench)\//, 'compiled tests or benchmarks'],
  [/^bench\//, 'benchmarks'],
  [/(?<!\.d)\.ts$/, 'TypeScript sources'],
  [/^build\//, 'a local addon build'],
  [/(^|\/)node_modules\//, 'node_modules'],
  [/^\.(node-red-demo|compat|ci|git)\b/, 'local folders'],
  [/\.(tgz|log)$/, 'tarballs or logs'],
];
for (const f of files) {
  for (const [re, what] of forbidden) if (re.test(f)) problems.push(`${f} should not ship (${what})`);
}

process.stdout.write(`  ${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(0)} KiB packed, ` +
  `${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${sets.length} node sets\n`);
for (const p of problems.slice(0, 40)) process.stdout.write(`  FAIL ${p}\n`);
if (problems.length > 40) process.stdout.write(`  ... and ${problems.length - 40} more\n`);
process.stdout.write(problems.length ? 'PACK FAIL\n' : 'PACK ok\n');
process.exit(problems.length ? 1 : 0);

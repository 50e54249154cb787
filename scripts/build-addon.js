#!/usr/bin/env node
'use strict';
// Builds the DTLS addon (native/*.c -> build/Release/lwm2m_dtls.node) with node-gyp against the running
// Node's own headers, offline: --nodedir is npm's `nodedir` setting, else this Node's install prefix when
// it ships include/node/node_api.h. OpenSSL's symbols come from the node binary at load time.
//
//   node scripts/build-addon.js             build; on failure warn and exit 0 (plain CoAP still works)
//   node scripts/build-addon.js --strict    build; on failure exit 1
//   node scripts/build-addon.js --if-needed build only when no build or prebuild loads
//   node scripts/build-addon.js --install   npm's install script: in a git checkout build when build/ is
//                                           missing or older than native/ (the tests then exercise native/ as
//                                           it is), else say it is up to date; installed as a dependency, build
//                                           only when no prebuild loads. Compiler output only on failure.
//                                           Never fails the install.
//   node scripts/build-addon.js --prebuild  also pack prebuilds/<platform>-<arch>/ with prebuildify (N-API)
//   ... --prebuild --arm64                  and cross-compile prebuilds/linux-arm64/ (Debian gcc-aarch64-linux-gnu)
//   LWM2M_DTLS_SKIP_BUILD=1                 do nothing (a prebuild in prebuilds/ is then what loads)
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const args = new Set(process.argv.slice(2));
const strict = args.has('--strict');

function nodedir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && fs.existsSync(c));
}

function prebuildLoads() {
  try {
    return require('node-gyp-build')(root).opensslVersion();
  } catch {
    return undefined;
  }
}

function fail(reason) {
  const fallback = prebuildLoads();
  const msg = fallback
    ? `DTLS addon not built: ${reason}. A prebuilt addon loads instead (${fallback}).`
    : `DTLS addon not built: ${reason}. CoAP over plain UDP still works; CoAPs needs the addon.`;
  if (strict) {
    console.error(`error: ${msg}`);
    process.exit(1);
  }
  console.warn(`warning: ${msg}`);
  process.exit(0);
}

const quiet = args.has('--install');

/** Runs a build tool; for npm's install script its output is shown only when it fails. */
function run(cmd, argv, env) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: quiet ? 'pipe' : 'inherit', env: { ...process.env, ...env } });
  if (r.error) return r.error.message;
  if (r.status === 0) return undefined;
  if (quiet) process.stderr.write(`${r.stdout || ''}${r.stderr || ''}`);
  return `${path.basename(argv[0] || cmd)} exited with ${r.status}`;
}

/** In a checkout: the build in build/Release is newer than every source it is made from, and loads. */
function checkoutBuildCurrent() {
  const built = path.join(root, 'build', 'Release', 'lwm2m_dtls.node');
  if (!fs.existsSync(built)) return undefined;
  const sources = [path.join(root, 'binding.gyp'), ...fs.readdirSync(path.join(root, 'native')).map((f) => path.join(root, 'native', f))];
  const builtAt = fs.statSync(built).mtimeMs;
  if (sources.some((f) => fs.statSync(f).mtimeMs > builtAt)) return undefined;
  try {
    return require(built).opensslVersion();
  } catch {
    return undefined;
  }
}

if (process.env.LWM2M_DTLS_SKIP_BUILD === '1') {
  console.log('DTLS addon build skipped (LWM2M_DTLS_SKIP_BUILD=1)');
  process.exit(0);
}
const ifNeeded = args.has('--if-needed') || (args.has('--install') && !fs.existsSync(path.join(root, '.git')));
if (ifNeeded) {
  const have = prebuildLoads();
  if (have) {
    console.log(`DTLS addon present: ${have}`);
    process.exit(0);
  }
}
if (args.has('--install') && !ifNeeded) {
  const current = checkoutBuildCurrent();
  if (current) {
    console.log(`DTLS addon up to date with native/: ${current} (npm run build:addon rebuilds it)`);
    process.exit(0);
  }
}
if (!process.versions.openssl) fail('this Node.js has no OpenSSL');
const gyp = nodeGyp();
if (!gyp) fail('node-gyp not found (it ships with npm)');
const dir = nodedir();
// prebuildify rebuilds into build/ and clears it afterwards: pack first, then build for this tree.
if (args.has('--prebuild')) {
  const bin = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  if (!fs.existsSync(bin)) fail('prebuildify is not installed (npm install --include=dev)');
  const env = { PREBUILD_NODE_GYP: gyp, ...(dir ? { npm_config_nodedir: dir } : {}) };
  const perr = run(process.execPath, [bin, '--napi', '--strip', '--target', `node@${process.versions.node}`], env);
  if (perr) fail(`prebuildify: ${perr}`);
  if (args.has('--arm64')) {
    const cc = 'aarch64-linux-gnu-gcc';
    const cross = { ...env, CC: cc, CXX: cc, LINK: cc, PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip' };
    const aerr = run(process.execPath, [bin, '--napi', '--strip', '--arch', 'arm64', '--target', `node@${process.versions.node}`], cross);
    if (aerr) fail(`prebuildify for linux-arm64 (needs apt-get install gcc-aarch64-linux-gnu): ${aerr}`);
  }
}

const gypArgs = [gyp, 'rebuild', ...(dir ? [`--nodedir=${dir}`] : [])];
const err = run(process.execPath, gypArgs);
if (err) fail(err);

// Check that what was built loads and talks to OpenSSL.
try {
  const binding = require('node-gyp-build')(root);
  console.log(`DTLS addon ready: ${binding.opensslVersion()}`);
} catch (e) {
  fail(`built, but it does not load: ${e.message.split('\n')[0]}`);
}


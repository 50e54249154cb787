#!/usr/bin/env node
'use strict';
/**
 * One compatibility line of scripts/compat-check.sh, run with the Node.js under test (process.execPath).
 * It does what `npm start` does, but against the package as a user installed it (from the tarball):
 *
 *   1. the demo registration (DM) server from the installed package's dist/lib/rd, in this process;
 *   2. Node-RED (red.js of the given install) headless as a child, on free ports, with the demo flow;
 *   3. GET /nodes (Accept: application/json): the package's node types (package.json) are there, loaded, without error;
 *      GET /nodes (text/html) and /locales in en-US and de: dialog, help and messages of every node;
 *   4. the DTLS addon loads in this Node (which file: build/ or prebuilds/) and completes a PSK handshake
 *      with node-dtls-client (the installed dependency) as the peer, for each PSK cipher suite;
 *   5. one simulated device (installed dist/lib/client) bootstraps over plain CoAP against the flow and
 *      registers at the DM server.
 *
 * Prints one JSON line `RESULT {...}` with every check; exit code 0 only when all passed.
 *
 *   node e2e.js --line <name> --user-dir <dir> --red <path/to/red.js> --settings <file> --log <file>
 */
const fs = require('fs');
const path = require('path');
const net = require('net');
const dgram = require('dgram');
const http = require('http');
const { spawn } = require('child_process');
const { pskEcho, withTimeout } = require('./dtls-client');

const PKG = 'node-red-contrib-lwm2m-bootstrap';
// The node types the package registers: one per entry of package.json's "node-red".nodes (the key is the type).
const TYPES = Object.keys(require('../../package.json')['node-red'].nodes);

function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  for (const k of ['line', 'user-dir', 'red', 'settings', 'log']) {
    if (!out[k]) throw new Error(`missing --${k}`);
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function getText(port, urlPath, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${urlPath}: HTTP ${res.statusCode}`));
        resolve(body);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: timeout`)));
    req.on('error', reject);
  });
}

async function getJson(port, urlPath, headers = {}) {
  const body = await getText(port, urlPath, { Accept: 'application/json', ...headers });
  try {
    return JSON.parse(body);
  } catch (e) {
    throw new Error(`GET ${urlPath}: not JSON (${e.message})`);
  }
}

/** What the editor gets in one language: every node's dialog template, help and message catalog. */
async function editorAssets(port, sets, lang) {
  const html = await getText(port, '/nodes', { Accept: 'text/html', 'Accept-Language': lang });
  const problems = [];
  const helps = {};
  for (const t of TYPES) {
    if (!html.includes(`data-template-name="${t}"`)) problems.push(`no dialog template for ${t}`);
    const m = new RegExp(`data-help-name="${t}"[^>]*>([\\s\\S]*?)</script>`).exec(html);
    if (!m || m[1].trim().length < 40) problems.push(`no help for ${t}`);
    else helps[t] = m[1].trim();
  }
  for (const s of sets) {
    const cat = await getJson(port, `/locales/${s.id}?lng=${encodeURIComponent(lang)}`);
    for (const t of s.types || []) if (!cat[t] || typeof cat[t] !== 'object') problems.push(`no ${lang} messages for ${t}`);
  }
  return { problems, helps };
}

/**
 * node-dtls-client as the peer of the installed package's DTLS server socket (default options, as the
 * listener uses them): one handshake and one echo per PSK cipher suite. TLS_PSK_WITH_AES_128_CCM_8 is the
 * suite LwM2M mandates for PSK mode. Resolves to a list of `{ cipher, ok, detail }`.
 */
async function dtlsHandshakes(lib, pkgDir) {
  const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
  const { dtls } = require(require.resolve('node-dtls-client', { paths: [pkgDir] }));
  const out = [];
  for (const cipher of ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256']) {
    const store = new lib.dtls.MemoryPskStore().set('compat-dev', key);
    const warnings = [];
    const logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
    const server = lib.dtls.createDtlsSocket({ psk: store, logger });
    await new Promise((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
    server.on('message', (msg, rinfo) => {
      const reply = Buffer.concat([Buffer.from(`${rinfo.identity && rinfo.identity.id}:`), msg]);
      server.send(reply, 0, reply.length, rinfo.port, rinfo.address);
    });
    try {
      const answer = await pskEcho(dtls, { port: server.address().port, identity: 'compat-dev', key, cipher });
      if (answer !== 'compat-dev:ping') throw new Error(`echo answered ${JSON.stringify(answer)}`);
      out.push({ cipher, ok: true, detail: 'handshake and echo' });
    } catch (e) {
      out.push({ cipher, ok: false, detail: `${e.message}${warnings.length ? ` (server: ${warnings[0]})` : ''}` });
    } finally {
      await new Promise((r) => server.close(() => r()));
    }
  }
  return out;
}

async function main() {
  const o = args();
  const userDir = path.resolve(o['user-dir']);
  const pkgDir = path.join(userDir, 'node_modules', PKG);
  const checks = [];
  const result = { line: o.line, node: process.version, openssl: process.versions.openssl, checks };
  const check = (name, ok, detail) => {
    checks.push({ name, ok, detail });
    process.stdout.write(`  [${o.line}] ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}\n`);
  };

  let red;
  let rd;
  let device;
  const cleanup = async () => {
    if (device) await device.stop().catch(() => {});
    if (red && red.exitCode === null && red.signalCode === null) {
      const exited = new Promise((r) => red.once('exit', r));
      red.kill('SIGINT');
      const t = setTimeout(() => red.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    }
    if (rd) await rd.close().catch(() => {});
  };

  try {
    // The package as installed: no checkout anywhere on this path.
    const lib = require(pkgDir);
    const installedVersion = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
    check('package loads from the installed tarball', !fs.lstatSync(pkgDir).isSymbolicLink(), `${PKG}@${installedVersion} in ${pkgDir}`);

    // DTLS addon in this Node.
    try {
      const ngb = require(require.resolve('node-gyp-build', { paths: [pkgDir] }));
      const file = path.relative(pkgDir, ngb.resolve(pkgDir));
      const caps = lib.dtls.dtlsCapabilities();
      check('DTLS addon loads in this Node', caps.available === true && caps.psk.available === true,
        caps.available ? `${file}, addon sees ${caps.addonOpenssl || '?'}, Node has OpenSSL ${process.versions.openssl}` : caps.reason);
      if (caps.available) {
        for (const h of await dtlsHandshakes(lib, pkgDir)) {
          check(`DTLS PSK handshake with node-dtls-client, ${h.cipher}`, h.ok, h.detail);
        }
      }
    } catch (e) {
      check('DTLS addon', false, e.message.split('\n')[0]);
    }

    // Ports and the DM (registration) server, in this process as in `npm start`.
    const uiPort = await freeTcpPort();
    const bsPort = await freeUdpPort();
    rd = new lib.rd.RegistrationServer({ port: 0, address: '127.0.0.1' });
    await rd.listen();
    // As `npm start` and the README's install section: the URI names the address the device reached.
    const dmUri = `coap://\${serverHost}:${rd.port}`;

    fs.copyFileSync(path.join(pkgDir, 'examples', '01-default-profile.json'), path.join(userDir, 'flows.json'));
    const log = fs.openSync(o.log, 'w');
    const env = {
      ...process.env,
      PORT: String(uiPort),
      BS_PORT: String(bsPort),
      BS_ADDRESS: '127.0.0.1',
      DM_PORT: String(rd.port),
      DM_SERVER_URI: dmUri,
      NODE_RED_CREDENTIAL_SECRET: 'compat-check-not-a-secret',
      NODE_RED_HOME: userDir,
    };
    red = spawn(process.execPath, [o.red, '--userDir', userDir, '--settings', path.resolve(o.settings), '--port', String(uiPort), 'flows.json'],
      { stdio: ['ignore', log, log], env, cwd: userDir });
    let redExit;
    red.on('exit', (code, sig) => (redExit = `exited with ${code ?? sig}`));
    // Never leave Node-RED behind when this check is interrupted or ends early.
    process.on('exit', () => { if (redExit === undefined) red.kill('SIGKILL'); });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => process.exit(130));

    // Admin API up, then /nodes.
    let settings;
    for (let i = 0; i < 240 && !settings; i++) {
      if (redExit) break;
      try {
        settings = await getJson(uiPort, '/settings');
      } catch {
        await sleep(250);
      }
    }
    if (!settings) throw new Error(`Node-RED admin API did not come up on port ${uiPort} (${redExit || 'timeout'}); see ${o.log}`);
    result.nodeRed = settings.version;
    check('Node-RED admin API', true, `Node-RED ${settings.version} on port ${uiPort}`);

    const sets = (await getJson(uiPort, '/nodes')).filter((s) => s.module === PKG);
    const types = new Map();
    const broken = [];
    for (const s of sets) {
      if (s.err || s.loaded === false || s.enabled === false) broken.push(`${s.name}: ${s.err || (s.enabled === false ? 'disabled' : 'not loaded')}`);
      for (const t of s.types || []) types.set(t, s);
    }
    const missing = TYPES.filter((t) => !types.has(t));
    check(`all ${TYPES.length} node types loaded without error`, sets.length === TYPES.length && missing.length === 0 && broken.length === 0,
      broken.length ? broken.join('; ') : missing.length ? `missing ${missing.join(', ')}` : `${sets.length} node sets, ${types.size} types, version ${sets[0] && sets[0].version}`);

    // The editor's side in both languages (the browser editor tests run on Node-RED 4 only).
    const en = await editorAssets(uiPort, sets, 'en-US');
    const de = await editorAssets(uiPort, sets, 'de');
    const untranslated = TYPES.filter((t) => en.helps[t] && de.helps[t] && en.helps[t] === de.helps[t]);
    const editorProblems = [...en.problems, ...de.problems, ...untranslated.map((t) => `de help of ${t} is the English one`)];
    check('editor templates, help and messages in en-US and de', editorProblems.length === 0,
      editorProblems.slice(0, 4).join('; ') || `${TYPES.length} dialogs, help and catalogs per language, de help differs from en-US`);

    // End to end: one device bootstraps from the flow and registers at the DM server.
    const ep = `compat-${o.line}-${process.pid}`;
    const registered = new Promise((resolve) => rd.on('registered', (r) => { if (r.endpoint === ep) resolve(r); }));
    const warnings = [];
    device = new lib.client.SimulatedClient({
      endpoint: ep,
      version: '1.1',
      bootstrapServer: { uri: `coap://127.0.0.1:${bsPort}` },
      timing: { minHoldOffMs: 0, jitter: 0, backoffMaxMs: 2000, requestTimeoutMs: 10000 },
    });
    device.on('warning', (w) => warnings.push(w.message));
    const t0 = Date.now();
    await device.start();
    try {
      const reg = await withTimeout(registered, 60000, `device ${ep} registering at ${dmUri}`);
      check('device bootstrapped over CoAP and registered at the DM server', device.state === 'registered' || reg.endpoint === ep,
        `${ep} registered at ${dmUri} (lifetime ${reg.lifetime} s, ${Date.now() - t0} ms after start)`);
    } catch (e) {
      check('device bootstrapped over CoAP and registered at the DM server', false,
        `${e.message}; device state ${device.state}${warnings.length ? '; warnings: ' + warnings.slice(-3).join(' | ') : ''}`);
    }
  } catch (e) {
    check('run', false, e.message);
  } finally {
    await cleanup().catch((e) => check('shutdown', false, e.message));
  }

  // What Node-RED said: error lines fail the line (the demo should start clean).
  try {
    const text = fs.readFileSync(o.log, 'utf8');
    const errors = text.split('\n').filter((l) => /\[error\]/.test(l));
    check('Node-RED log has no [error] lines', errors.length === 0, errors.slice(0, 3).join(' | ') || `log: ${o.log}`);
  } catch {
    // no log: the run failed before Node-RED started, already reported
  }
  result.ok = checks.every((c) => c.ok);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
  process.stdout.write(`  e2e failed: ${e.stack || e.message}\n`);
  process.exit(1);
});

'use strict';
/**
 * A real Node-RED for the editor tests: a child process on a free TCP port, with a temporary user
 * directory into whose node_modules this checkout is symlinked (as `npm install <path>` would), so the
 * editor loads the package exactly as an operator's install does. The package must be built first.
 *
 *   const red = await startNodeRed();   // { url, port, userDir, env, log(), errors(), stop() }
 *   ...
 *   await red.stop();                   // SIGINT, then SIGKILL after a grace period; removes userDir
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const dgram = require('dgram');
const http = require('http');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..', '..', '..');
/**
 * The package under test: this checkout, or EDITOR_TEST_PACKAGE_DIR (e.g. an unpacked `npm pack`, or a
 * directory that links dist/ and adds draft examples).
 */
const packageDir = path.resolve(process.env.EDITOR_TEST_PACKAGE_DIR || root);
const PACKAGE = 'node-red-contrib-lwm2m-bootstrap';

/** A free TCP port on loopback, from the kernel. */
function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A free UDP port on loopback, from the kernel (for the flows' ${BS_PORT} and ${DM_PORT}). */
function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

/** GET url; resolves {status, body}. */
function get(url, headers = {}) {
  return request('GET', url, undefined, headers);
}

function request(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${url}: no answer in 10 s`)));
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

function assertBuilt() {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
  for (const [type, file] of Object.entries((pkg['node-red'] || {}).nodes || {})) {
    if (!fs.existsSync(path.join(packageDir, file))) {
      throw new Error(`${type}: ${file} is missing; build the package first (npm run build)`);
    }
  }
}

/**
 * Start Node-RED. Options: `flows` (array written to flows.json before start), `env` (extra environment),
 * `startTimeout` (ms, default 60000), `userDir` (start again on the user directory of an earlier run, which
 * stop() then leaves in place; flows are written only when given), `adminToken` (turn admin auth on: this
 * bearer token has every permission and the harness sends it; `env.LWM2M_TEST_READ_TOKEN` may name a token
 * with `lwm2m-bootstrap.read` only; see settings.js).
 */
async function startNodeRed(options = {}) {
  assertBuilt();
  const ownDir = !options.userDir;
  const userDir = options.userDir || fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-editor-'));
  if (ownDir) {
    fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
    fs.symlinkSync(packageDir, path.join(userDir, 'node_modules', PACKAGE), 'dir');
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({
      name: 'lwm2m-editor-test', private: true, dependencies: { [PACKAGE]: 'file:' + packageDir },
    }, null, 2));
  }
  if (ownDir || options.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(options.flows || []));
  const auth = options.adminToken ? { authorization: `Bearer ${options.adminToken}` } : {};

  const port = await freeTcpPort();
  const bsPort = await freeUdpPort();
  const bsCoapsPort = await freeUdpPort();
  const dmPort = await freeUdpPort();
  const env = {
    ...process.env,
    // The examples use Node-RED's ${VAR} convention for their ports (see scripts/start.js).
    BS_PORT: String(bsPort),
    BS_COAPS_PORT: String(bsCoapsPort),
    BS_ADDRESS: '127.0.0.1',
    DM_PORT: String(dmPort),
    DM_SERVER_URI: `coap://127.0.0.1:${dmPort}`,
    NODE_RED_EDITOR_TEST_PORT: String(port),
    ...(options.adminToken ? { LWM2M_TEST_ADMIN_TOKEN: options.adminToken } : {}),
    ...(options.env || {}),
  };
  delete env.NODE_OPTIONS;

  const child = spawn(process.execPath, [
    require.resolve('node-red/red.js'),
    '--userDir', userDir,
    '--settings', path.join(__dirname, 'settings.js'),
    '--port', String(port),
    'flows.json',
  ], { cwd: userDir, env, stdio: ['ignore', 'pipe', 'pipe'] });

  const lines = [];
  let partial = '';
  const onData = (chunk) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop();
    for (const l of parts) lines.push(l);
    if (process.env.EDITOR_TEST_VERBOSE) process.stderr.write(chunk);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));

  const url = `http://127.0.0.1:${port}/`;
  const red = {
    url,
    port,
    bsPort,
    dmPort,
    userDir,
    env,
    /** Everything Node-RED printed so far, one entry per line. */
    log: () => lines.slice(),
    /** Log lines since `mark` (a number from `mark()`). */
    mark: () => lines.length,
    since: (mark) => lines.slice(mark),
    /** Lines Node-RED logged at level error (or warn, with `{warn: true}`) since `mark`. */
    problems: (mark = 0, { warn = false } = {}) =>
      lines.slice(mark).filter((l) => /\[error\]/.test(l) || (warn && /\[warn\]/.test(l))),
    /** The admin HTTP API. */
    get: (p, headers) => get(url + p.replace(/^\//, ''), headers || auth),
    post: (p, json, headers = {}) => request('POST', url + p.replace(/^\//, ''), JSON.stringify(json),
      { 'content-type': 'application/json', ...auth, ...headers }),
    /** Replace the deployed flows through the admin API (a full deploy). */
    async setFlows(flows) {
      const res = await red.post('flows', flows, { 'Node-RED-Deployment-Type': 'full' });
      if (res.status !== 204 && res.status !== 200) throw new Error(`POST /flows: ${res.status} ${res.body}`);
    },
    async stop() {
      if (!exited) {
        child.kill('SIGINT');
        const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 10000);
        await exitPromise;
        clearTimeout(timer);
      }
      if (ownDir && !options.keepUserDir) fs.rmSync(userDir, { recursive: true, force: true });
      return exited;
    },
  };

  // Wait for the editor to answer and for the runtime to have started the flows.
  const deadline = Date.now() + (options.startTimeout || 60000);
  for (;;) {
    if (exited) {
      throw new Error(`Node-RED exited (${JSON.stringify(exited)}) before the editor answered:\n${lines.join('\n')}`);
    }
    try {
      const res = await get(url + 'settings', { accept: 'application/json', ...auth });
      if (res.status === 200 && lines.some((l) => /Started flows|Stopped flows|No flows found|Starting flows/.test(l))) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await red.stop();
      throw new Error(`Node-RED did not answer on ${url} in time:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // The editor's rotating tips would make every screenshot different: switch them off for this user.
  const tips = await red.post('settings/user', { editor: { view: { 'view-show-tips': false } } });
  if (tips.status !== 204 && tips.status !== 200) {
    await red.stop();
    throw new Error(`POST /settings/user: ${tips.status} ${tips.body}`);
  }
  return red;
}

module.exports = { startNodeRed, freeTcpPort, root, packageDir, PACKAGE };

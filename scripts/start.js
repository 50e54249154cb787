#!/usr/bin/env node
'use strict';
/**
 * `npm start`: Node-RED with this package and the demo flow, plus a small LwM2M registration server
 * (the "DM server" the demo profile points devices at), so a device can bootstrap and then register.
 *
 * Environment (all optional):
 *   PORT            Node-RED editor port                         (default 1880)
 *   BS_PORT         Bootstrap-Server UDP port used by the flow   (default 5683)
 *   BS_ADDRESS      where the Bootstrap-Server and the DM server listen: one address, a list, or 0.0.0.0 / ::
 *                   for every address of this machine            (default 127.0.0.1; see scripts/demo-env.js)
 *   DM_PORT         demo registration server UDP port            (default 5783)
 *   DM_SERVER_URI   LwM2M server URI written into devices        (default coap://${serverHost}:$DM_PORT,
 *                   the address the device reached the Bootstrap-Server at)
 *   EDITOR_ADDRESS  where the editor listens                     (default 127.0.0.1; beyond it, with a login)
 *   DEMO_ADMIN_PASSWORD  the editor login's password when EDITOR_ADDRESS is beyond loopback (default generated)
 *   DM_API_PORT     demo DM server's HTTP control API, loopback    (default 5785; /1/x/9 from a flow)
 *   DEMO_USER_DIR   Node-RED user directory                      (default ./.node-red-demo)
 *   DEMO_FRESH=1    replace the user directory's flow with the demo flow again
 *   HEAP_MB         V8's old-space limit of the Node-RED process, MB (default 256; 0 = Node's own limit). It
 *                   keeps an edge gateway's RSS under 200 MB through a storm (README, Performance); raise it
 *                   for device tables over ~1,000,000 rows or listeners that hold over ~30,000 sessions.
 */
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const crypto = require('crypto');
const { demoNetwork, exposureNotice } = require('./demo-env');

const root = path.resolve(__dirname, '..');
const userDir = path.resolve(process.env.DEMO_USER_DIR || path.join(root, '.node-red-demo'));
const demoFlow = path.join(root, 'examples', '01-default-profile.json');

if (!fs.existsSync(path.join(root, 'dist', 'lib'))) {
  process.stderr.write('The package is not built yet: run `npm install` (or `npm run build`) first.\n');
  process.exit(1);
}

process.env.PORT = process.env.PORT || '1880';
process.env.BS_PORT = process.env.BS_PORT || '5683';
process.env.DM_PORT = process.env.DM_PORT || '5783';
const net = demoNetwork(process.env);
// The listener binds one socket per address (a comma-separated list), so ${serverHost} is the one a device reached.
process.env.BS_ADDRESS = net.bsAddresses.join(',');
process.env.DM_SERVER_URI = net.dmServerUri;
process.env.EDITOR_HOST = net.editorHost;
let login;
if (net.editorBeyondLoopback) {
  const given = process.env.DEMO_ADMIN_PASSWORD;
  login = { password: given || crypto.randomBytes(9).toString('base64url'), generated: !given };
  const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(require.resolve('node-red/package.json'))] }));
  process.env.DEMO_ADMIN_HASH = bcrypt.hashSync(login.password, 10);
}
delete process.env.DEMO_ADMIN_PASSWORD; // Node-RED gets the hash only
process.env.DM_API_PORT = process.env.DM_API_PORT || '5785';
process.env.DM_API_URL = process.env.DM_API_URL || `http://127.0.0.1:${process.env.DM_API_PORT}`;

// Node-RED loads packages from <userDir>/node_modules: link this checkout in, as `npm install <path>` would.
fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
const link = path.join(userDir, 'node_modules', 'node-red-contrib-lwm2m-bootstrap');
try {
  const st = fs.lstatSync(link);
  if (!st.isSymbolicLink() || path.resolve(path.dirname(link), fs.readlinkSync(link)) !== root) {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(root, link, 'dir');
  }
} catch {
  fs.symlinkSync(root, link, 'dir');
}
const userPkg = path.join(userDir, 'package.json');
if (!fs.existsSync(userPkg)) {
  fs.writeFileSync(userPkg, JSON.stringify({ name: 'node-red-lwm2m-demo', private: true,
    dependencies: { 'node-red-contrib-lwm2m-bootstrap': 'file:' + root } }, null, 2));
}
const flowFile = path.join(userDir, 'flows.json');
if ((!fs.existsSync(flowFile) || process.env.DEMO_FRESH === '1') && fs.existsSync(demoFlow)) {
  fs.copyFileSync(demoFlow, flowFile);
}

// The demo registration server runs in this process, on each of the Bootstrap-Server's addresses (so
// coap://${serverHost}:DM_PORT reaches it); Node-RED runs as a child.
const rds = [];
const closeRds = () => Promise.all(rds.map((r) => r.close().catch(() => {})));
async function startRegistrationServer() {
  let lib;
  try {
    lib = require(path.join(root, 'dist', 'lib', 'rd'));
  } catch {
    process.stdout.write('demo: no registration server in this build; devices will bootstrap but not register\n');
    return;
  }
  const Server = lib.RegistrationServer;
  if (!Server) return;
  // The first few registrations by name; after that a count at most every 5 s, so that the fleet
  // rehearsal (1,000 devices) does not print a line per device.
  let registered = 0;
  let sinceLine = 0;
  let countTimer;
  const onRegistered = (r, address) => {
    registered++;
    if (registered <= 3) {
      process.stdout.write(`demo DM server: ${r.endpoint} registered at ${address} (lifetime ${r.lifetime}s)\n`);
      if (registered === 3) process.stdout.write('demo DM server: further registrations are counted every 5 s\n');
      return;
    }
    sinceLine++;
    countTimer ??= setTimeout(() => {
      countTimer = undefined;
      process.stdout.write(`demo DM server: ${registered} registrations (${sinceLine} in the last 5 s)\n`);
      sinceLine = 0;
    }, 5000);
    countTimer.unref?.();
  };
  for (const address of net.bsAddresses) {
    const rd = new Server({ port: Number(process.env.DM_PORT), address });
    rd.on('registered', (r) => onRegistered(r, address));
    await rd.listen();
    rds.push(rd);
  }
  process.stdout.write(`demo DM server: listening on udp/${process.env.DM_PORT} at ${net.bsAddresses.join(', ')}; devices get ${process.env.DM_SERVER_URI}\n`);
  // Its HTTP control interface (lib/rd/http-api.ts), on loopback, over every address's server: flows send a
  // registered device back to bootstrap with POST $DM_API_URL/api/clients/<endpoint>/bootstrap-trigger (Execute /1/x/9).
  if (lib.startRdControlApi) {
    const api = await lib.startRdControlApi([...rds], { port: Number(process.env.DM_API_PORT) });
    rds.push({ close: () => new Promise((r) => api.close(() => r())) });
    process.stdout.write(`demo DM server: control API on ${process.env.DM_API_URL}\n`);
  }
}

process.stdout.write(exposureNotice(net, process.env.DM_PORT, login));
if (!net.beyondLoopback) {
  process.stdout.write('demo: listening on loopback only (127.0.0.1); set BS_ADDRESS=0.0.0.0 for devices on other hosts (see README)\n');
}

startRegistrationServer()
  .catch((e) => process.stdout.write(`demo DM server not started: ${e.message}\n`))
  .finally(() => {
    const red = spawn(process.execPath, [
      ...heapFlags(),
      require.resolve('node-red/red.js'),
      '--userDir', userDir,
      '--settings', path.join(__dirname, 'demo-settings.js'),
      '--port', process.env.PORT,
      'flows.json',
    ], { stdio: 'inherit', env: process.env });
    const stop = (sig) => { red.kill(sig); void closeRds(); };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    red.on('exit', (code) => { void closeRds().then(() => process.exit(code ?? 0)); });
  });

/**
 * V8 grows its heap lazily on a machine with gigabytes free: through a storm of 10,000 devices the Node-RED
 * process peaked at ~245 MB RSS with ~45 MB of live heap, and an idle process may not collect for minutes.
 * An old-space limit makes V8 collect sooner (peak ~165 MB with 160, 192 or 256); the bench's memory part
 * measures it against no flags (npm run bench -- --only memory). NODE_OPTIONS with its own
 * --max-old-space-size wins.
 */
function heapFlags() {
  if (/--max-old-space-size/.test(process.env.NODE_OPTIONS || '')) return [];
  const mb = process.env.HEAP_MB === undefined || process.env.HEAP_MB === '' ? 256 : Number(process.env.HEAP_MB);
  if (!Number.isInteger(mb) || mb < 0) {
    process.stderr.write(`demo: HEAP_MB must be a whole number of MB (0 = no limit), not "${process.env.HEAP_MB}"\n`);
    process.exit(1);
  }
  return mb > 0 ? [`--max-old-space-size=${mb}`] : [];
}

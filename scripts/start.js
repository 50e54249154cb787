#!/usr/bin/env node
'use strict';
/**
 * `npm start`: Node-RED with this package and the demo flow, plus a small LwM2M registration server
 * (the "DM server" the demo profile points devices at), so a device can bootstrap and then register.
 *
 * Environment (all optional):
 *   PORT            Node-RED editor port                         (default 1880)
 *   BS_PORT         Bootstrap-Server UDP port used by the flow   (default 5683)
 *   DM_PORT         demo registration server UDP port            (default 5783)
 *   DM_SERVER_URI   LwM2M server URI written into devices        (default coap://127.0.0.1:$DM_PORT)
 *   DM_API_PORT     demo DM server's HTTP control API, loopback    (default 5785; /1/x/9 from a flow)
 *   DEMO_USER_DIR   Node-RED user directory                      (default ./.node-red-demo)
 *   DEMO_FRESH=1    replace the user directory's flow with the demo flow again
 */
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

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
process.env.DM_SERVER_URI = process.env.DM_SERVER_URI || `coap://127.0.0.1:${process.env.DM_PORT}`;
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

// The demo registration server runs in this process; Node-RED runs as a child.
let rd;
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
  rd = new Server({ port: Number(process.env.DM_PORT), address: '0.0.0.0' });
  rd.on('registered', (r) => process.stdout.write(`demo DM server: ${r.endpoint} registered (lifetime ${r.lifetime}s)\n`));
  await rd.listen();
  process.stdout.write(`demo DM server: listening on udp/${process.env.DM_PORT} (${process.env.DM_SERVER_URI})\n`);
  // Its HTTP control interface (lib/rd/http-api.ts): flows send a registered device back to bootstrap
  // with POST $DM_API_URL/api/clients/<endpoint>/bootstrap-trigger (Execute /1/x/9).
  if (lib.startRdControlApi) {
    const api = await lib.startRdControlApi(rd, { port: Number(process.env.DM_API_PORT) });
    const stop = rd.close.bind(rd);
    rd.close = () => new Promise((r) => api.close(() => r())).then(stop);
    process.stdout.write(`demo DM server: control API on ${process.env.DM_API_URL}\n`);
  }
}

startRegistrationServer()
  .catch((e) => process.stdout.write(`demo DM server not started: ${e.message}\n`))
  .finally(() => {
    const red = spawn(process.execPath, [
      require.resolve('node-red/red.js'),
      '--userDir', userDir,
      '--settings', path.join(__dirname, 'demo-settings.js'),
      '--port', process.env.PORT,
      'flows.json',
    ], { stdio: 'inherit', env: process.env });
    const stop = (sig) => { red.kill(sig); if (rd) rd.close().catch(() => {}); };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    red.on('exit', (code) => { if (rd) rd.close().catch(() => {}); process.exit(code ?? 0); });
  });

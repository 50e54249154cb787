'use strict';
/**
 * Where the `npm start` demo listens, from its environment (scripts/start.js uses this; test/scripts tests it).
 *
 * Loopback unless asked: the demo gives every device that asks a NoSec account, and the Node-RED editor
 * without a login can change the flow. So, as `node-red admin init` does when no admin password is chosen,
 * everything binds 127.0.0.1 by default. BS_ADDRESS opens the Bootstrap-Server and the demo DM server to
 * other hosts; EDITOR_ADDRESS opens the editor, and then only with a login (adminAuth).
 *
 * BS_ADDRESS takes one address, a list (`127.0.0.1,192.0.2.10`), or 0.0.0.0 (every IPv4 address of this
 * machine) / :: (every IPv4 and IPv6 address). Wildcards are expanded into the addresses themselves because
 * the listener needs one socket per address to know which one a device reached (see the listener's help):
 * DM_SERVER_URI defaults to `coap://${serverHost}:$DM_PORT`, the address that device reached, and the demo
 * DM server listens on the same addresses.
 */
const os = require('os');

const LOOPBACK = '127.0.0.1';

/** Every address of this machine of the wanted families; link-local IPv6 (needs a scope) left out. */
function localAddresses(interfaces, families) {
  const out = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list || []) {
      const fam = a.family === 4 || a.family === 'IPv4' ? 'IPv4' : 'IPv6';
      if (!families.includes(fam)) continue;
      if (fam === 'IPv6' && (a.scopeid || /^fe80:/i.test(a.address))) continue;
      out.push(a.address);
    }
  }
  return [...new Set(out)];
}

function isLoopback(address) {
  return /^127\./.test(address) || address === '::1';
}

/**
 * @param env process.env-like
 * @param interfaces os.networkInterfaces()-like
 * @returns {{ bsAddresses: string[], beyondLoopback: boolean, dmServerUri: string, editorHost: string,
 *   editorBeyondLoopback: boolean }}
 */
function demoNetwork(env = process.env, interfaces = os.networkInterfaces()) {
  const asked = String(env.BS_ADDRESS || '').trim();
  let bsAddresses;
  if (!asked) bsAddresses = [LOOPBACK];
  else {
    bsAddresses = [];
    for (const a of asked.split(/[\s,]+/).filter(Boolean)) {
      if (a === '0.0.0.0') bsAddresses.push(...localAddresses(interfaces, ['IPv4']));
      else if (a === '::') bsAddresses.push(...localAddresses(interfaces, ['IPv4', 'IPv6']));
      else bsAddresses.push(a);
    }
    bsAddresses = [...new Set(bsAddresses)];
    if (bsAddresses.length === 0) bsAddresses = [LOOPBACK];
  }
  const dmPort = env.DM_PORT || '5783';
  const editorHost = String(env.EDITOR_ADDRESS || '').trim() || LOOPBACK;
  return {
    bsAddresses,
    beyondLoopback: bsAddresses.some((a) => !isLoopback(a)),
    dmServerUri: env.DM_SERVER_URI || `coap://\${serverHost}:${dmPort}`,
    editorHost,
    editorBeyondLoopback: !isLoopback(editorHost) && editorHost !== 'localhost',
  };
}

/** The loud notice printed when the demo listens beyond loopback (one string, several lines). */
function exposureNotice(net, dmPort, login) {
  const lines = [];
  if (net.beyondLoopback) {
    lines.push(
      `The demo's Bootstrap-Server listens on ${net.bsAddresses.join(', ')} (BS_ADDRESS):`,
      'ANY device that can reach these addresses gets a NoSec account on the demo DM server',
      `(udp/${dmPort} on the same addresses). Use it on a network you trust, for trials.`,
    );
  }
  if (net.editorBeyondLoopback) {
    lines.push(
      `The Node-RED editor listens on ${net.editorHost} (EDITOR_ADDRESS), with a login:`,
      `user "admin", password ${login.generated ? `"${login.password}" (generated for this run; set DEMO_ADMIN_PASSWORD to choose one)` : 'from DEMO_ADMIN_PASSWORD'}.`,
    );
  }
  if (lines.length === 0) return '';
  const width = Math.max(...lines.map((l) => l.length));
  const bar = '!'.repeat(width + 4);
  return [bar, ...lines.map((l) => `! ${l.padEnd(width)} !`), bar].join('\n') + '\n';
}

module.exports = { demoNetwork, exposureNotice, localAddresses, isLoopback };

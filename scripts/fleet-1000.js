#!/usr/bin/env node
'use strict';
/**
 * Fleet measurement: runs examples/fleet-rehearsal.json (bs listener + profile lookup + object write +
 * bootstrap finish, and a client-sim fleet of 1,000 devices with start jitter and 5 % datagram loss) in a
 * real Node-RED runtime, with the demo registration server (lib/rd) in the same process, and reports how
 * long the fleet took to bootstrap and register, and how many failed.
 *
 *   npm run build && node scripts/fleet-1000.js [--count 1000] [--loss 5] [--concurrency 100] [--timeout 600]
 *
 * The audit log is on (the default under the user directory): the report counts its lines, checks that no
 * session is in it twice, and that every device has a SUCCESS line.
 *
 * Exits 0 when every device bootstrapped and registered without a failed bootstrap and the audit log holds
 * one line per session, 1 otherwise.
 * Needs `count` file descriptors (one UDP socket per device) below `ulimit -n`.
 */
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const dgram = require('dgram');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
function arg(name, def) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def;
}
const count = arg('count', 1000);
const loss = arg('loss', 5);
const concurrency = arg('concurrency', undefined);
const timeoutSec = arg('timeout', 600);

if (!fs.existsSync(path.join(root, 'dist', 'nodes', 'client-sim', 'client-sim.js'))) {
  process.stderr.write('Build first: npm run build\n');
  process.exit(2);
}

async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The audit files once the writer has settled: lines, distinct sessions, outcomes, devices with a SUCCESS line. */
async function auditSummary(dir) {
  const read = () => (fs.existsSync(dir) ? fs.readdirSync(dir).flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean)) : []);
  let lines = read();
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const again = read();
    if (again.length === lines.length) break;
    lines = again;
  }
  const records = lines.map((l) => JSON.parse(l));
  const outcomes = {};
  for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] || 0) + 1;
  const ok = new Set(records.filter((r) => r.kind === 'bootstrap' && r.outcome === 'SUCCESS').map((r) => r.endpoint));
  return { lines: lines.length, sessions: new Set(records.map((r) => r.sessionId)).size, outcomes, endpointsWithSuccess: ok.size };
}

(async () => {
  const { RegistrationServer } = require(path.join(root, 'dist', 'lib', 'rd'));
  const rd = await new RegistrationServer({ address: '127.0.0.1' }).listen();
  const bsPort = await freeUdpPort();
  process.env.BS_PORT = String(bsPort);
  process.env.BS_ADDRESS = '127.0.0.1';
  process.env.DM_SERVER_URI = `coap://127.0.0.1:${rd.port}`;

  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-fleet-'));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(root, path.join(userDir, 'node_modules', 'node-red-contrib-lwm2m-bootstrap'), 'dir');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'fleet-run', private: true }));
  const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'fleet-rehearsal.json'), 'utf8'));
  // The example sets its own port (BS_PORT 5691 in its flow's environment); here a free one.
  for (const e of flow.find((n) => n.type === 'tab').env || []) if (e.name === 'BS_PORT') e.value = String(bsPort);
  const sim = flow.find((n) => n.type === 'lwm2m-client-sim');
  sim.count = String(count);
  sim.dropRate = String(loss);
  sim.summaryInterval = '1';
  sim.autoStart = true; // the example waits for its start button
  if (concurrency !== undefined) sim.concurrency = String(concurrency);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));

  const RED = require('node-red');
  const events = require('@node-red/util').events;
  const server = http.createServer();
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    editorTheme: { tours: false },
    logging: { console: { level: 'warn', metrics: false, audit: false } },
  });

  let startedAt = 0;
  let firstAllBootstrapped = 0;
  let last;
  let failures = [];
  const done = new Promise((resolve) => {
    events.on('comms', (e) => {
      if (e.topic !== 'debug') return;
      const d = e.data;
      if (d.name === 'fleet summary') {
        let s;
        try {
          s = JSON.parse(d.msg);
        } catch {
          return;
        }
        last = s;
        const t = ((Date.now() - startedAt) / 1000).toFixed(1);
        process.stdout.write(
          `${t.padStart(6)} s  bootstrapped ${s.bootstrapped}/${s.total}  registered ${s.registered}  in progress ${s.inProgress}  ` +
            `failed ${s.failed}  bootstrap failures ${s.bootstrapFailures}  ${s.bootstrapsPerSec}/s\n`,
        );
        if (!firstAllBootstrapped && s.bootstrapped === s.total) firstAllBootstrapped = Date.now();
        if (s.registered + s.failed === s.total && s.inProgress === 0 && s.notStarted === 0) resolve();
      } else if (['Finish refused', 'no answer to Finish', 'write failed', 'rejected', 'errors'].includes(d.name)) {
        failures.push(`${d.name}: ${String(d.msg).slice(0, 200)}`);
      }
    });
  });
  events.on('flows:started', () => {
    if (!startedAt) startedAt = Date.now();
  });

  await RED.start();
  const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutSec * 1000));
  const result = await Promise.race([done, timer]);
  const end = Date.now();
  const secs = (end - startedAt) / 1000;
  const bootSecs = firstAllBootstrapped ? (firstAllBootstrapped - startedAt) / 1000 : undefined;
  const registered = rd.registrations.size;
  const rssMb = Math.round(process.memoryUsage().rss / 1048576);
  const report = {
    devices: count,
    loss: `${loss} %`,
    concurrency: Number(sim.concurrency),
    result: result === 'timeout' ? 'timeout' : 'settled',
    secondsToAllRegistered: Number(secs.toFixed(1)),
    secondsToAllBootstrapped: bootSecs && Number(bootSecs.toFixed(1)),
    devicesPerSecond: Number((count / secs).toFixed(1)),
    registeredAtRd: registered,
    failed: last ? last.failed : undefined,
    bootstrapFailures: last ? last.bootstrapFailures : undefined,
    bootstrapMs: last ? last.bootstrapMs : undefined,
    serverSideFailures: failures.length,
    rssMb,
    cores: os.cpus().length,
    node: process.version,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  for (const f of failures.slice(0, 10)) process.stdout.write(`  ${f}\n`);
  await RED.stop();
  await rd.close();
  const audit = await auditSummary(path.join(userDir, 'lwm2m-audit'));
  process.stdout.write(`audit log: ${JSON.stringify(audit)}\n`);
  fs.rmSync(userDir, { recursive: true, force: true });
  const ok = result !== 'timeout' && registered === count && last && last.failed === 0 && last.bootstrapFailures === 0 && failures.length === 0 &&
    audit.lines === audit.sessions && audit.endpointsWithSuccess === count;
  process.exit(ok ? 0 : 1);
})().catch((e) => {
  process.stderr.write(`${e.stack || e.message}\n`);
  process.exit(1);
});

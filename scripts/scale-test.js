#!/usr/bin/env node
'use strict';
/**
 * `npm run test:scale` (issue 16): two Node-RED instances behind nginx's UDP stream proxy, devices and
 * audit in PostgreSQL, a storm of simulated devices (half CoAP, half CoAPs with a PSK each from the
 * database), one instance stopped in the middle of it. Passes when every device bootstrapped, the audit
 * table holds exactly one SUCCESS row per device, and no session id twice.
 *
 *   SCALE_DEVICES=2000   devices (default 2000)
 *   SCALE_KILL=SIGTERM   how the instance is stopped: SIGTERM (Node-RED's own shutdown) or SIGKILL
 *   SCALE_KILL_AT=0.35   share of devices bootstrapped when it is stopped
 *
 * Needs PostgreSQL's server binaries, nginx with the stream module (Debian: postgresql, nginx,
 * libnginx-mod-stream) and a build (`npm run build`). Fails loudly when a part is missing.
 */
const path = require('path');
const { startDatabase, startInstance, startNginx, fleetDevices, freeUdpPort } = require('./scale-lab');

const root = path.resolve(__dirname, '..');
const COUNT = Number(process.env.SCALE_DEVICES || 2000);
const KILL = process.env.SCALE_KILL || 'SIGTERM';
const KILL_AT = Number(process.env.SCALE_KILL_AT || 0.35);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY || 100);
const STORM_LIMIT_MS = 180_000;

function log(s) {
  process.stdout.write(`[scale] ${s}\n`);
}

/** Runs `devices` against the balancer; calls onProgress(bootstrapped) after each; resolves with timings. */
async function storm(devices, { coapPort, coapsPort, onProgress, concurrency = CONCURRENCY, limitMs = STORM_LIMIT_MS }) {
  const { client } = require(path.join(root, 'dist', 'lib'));
  const done = new Map();
  const failures = new Map();
  const started = Date.now();
  let next = 0;
  let active = 0;
  const clients = new Set();
  return new Promise((resolve) => {
    const limit = setTimeout(() => finish(), limitMs);
    function finish() {
      clearTimeout(limit);
      for (const c of clients) void c.stop(false).catch(() => undefined);
      resolve({ done, failures, ms: Date.now() - started });
    }
    function launch() {
      while (active < concurrency && next < devices.length) {
        const d = devices[next++];
        active++;
        const c = new client.SimulatedClient({
          endpoint: d.endpoint,
          trace: false,
          bootstrapServer: d.secure
            ? { uri: `coaps://127.0.0.1:${coapsPort}`, pskIdentity: d.pskIdentity, pskKey: d.pskKey }
            : { uri: `coap://127.0.0.1:${coapPort}` },
          timing: { minHoldOffMs: 50, holdOffMs: 0, jitter: 0.5, backoffMaxMs: 2000, requestTimeoutMs: 5000, bootstrapTimeoutMs: 8000 },
        });
        clients.add(c);
        const t0 = Date.now();
        c.on('bootstrapFailed', (e) => failures.set(d.endpoint, (failures.get(d.endpoint) || 0) + 1));
        c.on('warning', () => undefined);
        c.on('bootstrapped', () => {
          if (done.has(d.endpoint)) return;
          done.set(d.endpoint, Date.now() - t0);
          clients.delete(c);
          void c.stop(false).catch(() => undefined);
          active--;
          onProgress?.(done.size);
          if (done.size === devices.length) return finish();
          launch();
        });
        c.start().catch((e) => failures.set(d.endpoint, String(e && e.message)));
      }
    }
    launch();
  });
}

async function main() {
  const parts = [];
  const cleanup = async () => {
    for (const p of parts.reverse()) await Promise.resolve(p()).catch(() => undefined);
  };
  process.on('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const devices = fleetDevices(COUNT);
    let t = Date.now();
    const db = await startDatabase(devices);
    parts.push(() => db.stop());
    log(`PostgreSQL up with ${COUNT} devices in ${Date.now() - t} ms`);
    const ports = { a: [await freeUdpPort(), await freeUdpPort()], b: [await freeUdpPort(), await freeUdpPort()], lb: [await freeUdpPort(), await freeUdpPort()] };
    t = Date.now();
    const [a, b] = await Promise.all([
      startInstance({ name: 'a', pgUrl: db.url, coapPort: ports.a[0], coapsPort: ports.a[1] }),
      startInstance({ name: 'b', pgUrl: db.url, coapPort: ports.b[0], coapsPort: ports.b[1] }),
    ]);
    parts.push(() => a.stop(), () => b.stop());
    log(`two Node-RED instances up in ${Date.now() - t} ms`);
    const nginx = await startNginx({ coapPort: ports.lb[0], coapsPort: ports.lb[1], coapUpstreams: [ports.a[0], ports.b[0]], coapsUpstreams: [ports.a[1], ports.b[1]] });
    parts.push(() => nginx.stop());
    log(`nginx up: coap 127.0.0.1:${ports.lb[0]}, coaps 127.0.0.1:${ports.lb[1]}`);

    let killed = false;
    let killedAtMs;
    const started = Date.now();
    const result = await storm(devices, {
      coapPort: ports.lb[0],
      coapsPort: ports.lb[1],
      onProgress: (n) => {
        if (!killed && n >= COUNT * KILL_AT) {
          killed = true;
          killedAtMs = Date.now() - started;
          log(`${n} devices bootstrapped: stopping instance a (${KILL})`);
          void a.kill(KILL);
        }
      },
    });
    log(`storm: ${result.done.size}/${COUNT} devices bootstrapped in ${result.ms} ms; ${[...result.failures.values()].reduce((s, v) => s + (typeof v === 'number' ? v : 1), 0)} failed attempts (retried)`);
    if (b.proc.exitCode !== null) throw new Error(`instance b died:\n${b.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1500)); // the audit sink's last batch

    const { Client } = require('pg');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const outcomes = (await c.query(`SELECT outcome, instance, count(*)::int AS n FROM lwm2m_audit GROUP BY 1, 2 ORDER BY 1, 2`)).rows;
    const perDevice = (await c.query(`SELECT endpoint, count(*) FILTER (WHERE outcome = 'SUCCESS')::int AS ok FROM lwm2m_audit GROUP BY endpoint`)).rows;
    const dupIds = (await c.query(`SELECT count(*)::int - count(DISTINCT session_id)::int AS d FROM lwm2m_audit`)).rows[0].d;
    const peers = (await c.query(`SELECT count(DISTINCT split_part(peer, ':', 1))::int AS addrs FROM lwm2m_audit`)).rows[0].addrs;
    await c.end();
    log(`audit rows by outcome and instance: ${outcomes.map((r) => `${r.outcome}@${r.instance}=${r.n}`).join(', ')}`);
    const ok = new Map(perDevice.map((r) => [r.endpoint, r.ok]));
    const missing = devices.filter((d) => !ok.get(d.endpoint));
    const twice = devices.filter((d) => (ok.get(d.endpoint) || 0) > 1);
    const notDone = devices.filter((d) => !result.done.has(d.endpoint));
    const problems = [];
    if (!killed) problems.push('the instance was never stopped (the storm ended first)');
    if (notDone.length) problems.push(`${notDone.length} devices never bootstrapped (e.g. ${notDone.slice(0, 5).map((d) => d.endpoint).join(', ')})`);
    if (missing.length) problems.push(`${missing.length} devices without a SUCCESS row (e.g. ${missing.slice(0, 5).map((d) => d.endpoint).join(', ')})`);
    if (twice.length) problems.push(`${twice.length} devices with more than one SUCCESS row (e.g. ${twice.slice(0, 5).map((d) => d.endpoint).join(', ')})`);
    if (dupIds) problems.push(`${dupIds} duplicate session ids`);
    const afterKill = outcomes.filter((r) => r.instance === 'b' && r.outcome === 'SUCCESS').reduce((s, r) => s + r.n, 0);
    if (afterKill === 0) problems.push('instance b bootstrapped nobody');
    log(`instance a stopped at ${killedAtMs} ms; the device address in the audit: ${peers} distinct address(es) (nginx's; see README "Running more than one")`);
    if (problems.length) {
      log(`FAIL:\n  - ${problems.join('\n  - ')}`);
      log(`instance b output (tail):\n${b.output().slice(-2000)}`);
      log(`nginx error log (tail):\n${nginx.errorLog().slice(-1500)}`);
      process.exitCode = 1;
    } else {
      log(`PASS: ${COUNT} devices, each exactly one SUCCESS row in lwm2m_audit, no duplicate, instance a stopped mid-storm`);
    }
  } catch (e) {
    log(`FAIL: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

if (require.main === module) void main();
module.exports = { storm };

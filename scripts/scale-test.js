#!/usr/bin/env node
'use strict';
/**
 * `npm run test:scale` (issue 16): two Node-RED instances behind nginx's UDP stream proxy, devices and
 * audit in PostgreSQL, a storm of simulated devices (half CoAP, half CoAPs with a PSK each from the
 * database), one instance killed in the middle of it. Passes when every device bootstrapped and the audit
 * table counts each of them bootstrapped exactly once (auditVerdict below: one SUCCESS row, or one
 * write-ahead FINISH_SENT row of the killed instance that no later session of the device follows, never
 * both, never two SUCCESS), no session id twice, and every row shows the device's own address (nginx
 * passes it with the PROXY protocol), not nginx's.
 *
 *   SCALE_DEVICES=2000   devices (default 2000)
 *   SCALE_KILL=SIGKILL   how the instance is stopped: SIGKILL (default: no goodbye, queued records die with
 *                        it) or SIGTERM (Node-RED's own shutdown)
 *   SCALE_KILL_AT=0.35   share of devices bootstrapped when it is stopped
 *   SCALE_PROXY=off      nginx without proxy_protocol and listeners without "PROXY protocol from": the
 *                        address check must then fail (a control that it can)
 *
 * Needs PostgreSQL's server binaries, nginx with the stream module (Debian: postgresql, nginx,
 * libnginx-mod-stream) and a build (`npm run build`). Fails loudly when a part is missing.
 */
const path = require('path');
const { startDatabase, startInstance, startNginx, fleetDevices, freeUdpPort } = require('./scale-lab');

const root = path.resolve(__dirname, '..');
const COUNT = Number(process.env.SCALE_DEVICES || 2000);
const KILL = process.env.SCALE_KILL || 'SIGKILL';
const KILL_AT = Number(process.env.SCALE_KILL_AT || 0.35);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY || 100);
const STORM_LIMIT_MS = 180_000;
const PROXY = process.env.SCALE_PROXY !== 'off'; // nginx passes the device's address with the PROXY protocol

function log(s) {
  process.stdout.write(`[scale] ${s}\n`);
}

/**
 * Every local UDP port a socket of this process was bound to (the simulated devices', CoAP and CoAPs: the DTLS
 * client library creates its sockets through dgram.createSocket too). nginx's upstream sockets are nginx's,
 * never in here: an audit row whose port is not in here names nginx, not the device.
 */
const ourPorts = new Set();
function watchOurPorts() {
  const dgram = require('dgram');
  if (dgram.createSocket.__scaleWatched) return;
  const create = dgram.createSocket;
  dgram.createSocket = function (...args) {
    const s = create.apply(this, args);
    s.once('listening', () => {
      try {
        ourPorts.add(s.address().port);
      } catch {
        // closed already
      }
    });
    return s;
  };
  dgram.createSocket.__scaleWatched = true;
}

/** Runs `devices` against the balancer; calls onProgress(bootstrapped) after each; resolves with timings. */
async function storm(devices, { coapPort, coapsPort, onProgress, concurrency = CONCURRENCY, limitMs = STORM_LIMIT_MS }) {
  watchOurPorts();
  const { client } = require(path.join(root, 'dist', 'lib'));
  const done = new Map();
  const ports = new Map(); // endpoint -> the local UDP port it bootstrapped from
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
      resolve({ done, ports, failures, ms: Date.now() - started });
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
          // Plain CoAP: the client's socket. CoAPs: c.port is not the DTLS socket's; ourPorts stands in.
          if (!d.secure && c.port) ports.set(d.endpoint, c.port);
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
      startInstance({ name: 'a', pgUrl: db.url, coapPort: ports.a[0], coapsPort: ports.a[1], proxyFrom: PROXY ? undefined : '' }),
      startInstance({ name: 'b', pgUrl: db.url, coapPort: ports.b[0], coapsPort: ports.b[1], proxyFrom: PROXY ? undefined : '' }),
    ]);
    parts.push(() => a.stop(), () => b.stop());
    log(`two Node-RED instances up in ${Date.now() - t} ms`);
    const nginx = await startNginx({ coapPort: ports.lb[0], coapsPort: ports.lb[1], coapUpstreams: [ports.a[0], ports.b[0]], coapsUpstreams: [ports.a[1], ports.b[1]], proxyProtocol: PROXY });
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
    if (b.proc.exitCode !== null || b.proc.signalCode !== null) throw new Error(`instance b died:\n${b.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 1500)); // the audit sink's last batch

    const { Client } = require('pg');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const verdict = await auditVerdict(c, devices, result.done, result.ports, true);
    await c.end();
    log(`audit rows by outcome and instance: ${verdict.outcomes.map((r) => `${r.outcome}@${r.instance}=${r.n}`).join(', ')}`);
    log(`FINISH_SENT rows (Finish without a recorded answer): ${verdict.inDoubt} (${verdict.inDoubtDone} the device's bootstrap, ${verdict.inDoubt - verdict.inDoubtDone} followed by a later session)`);
    const problems = [...verdict.problems];
    if (!killed) problems.push('the instance was never stopped (the storm ended first)');
    const afterKill = verdict.outcomes.filter((r) => r.instance === 'b' && r.outcome === 'SUCCESS').reduce((s, r) => s + r.n, 0);
    if (afterKill === 0) problems.push('instance b bootstrapped nobody');
    log(`instance a stopped at ${killedAtMs} ms; device addresses in the audit: ${verdict.realPeers} rows with a device's own address:port, ${verdict.otherPeers} with another`);
    if (problems.length) {
      log(`FAIL:\n  - ${problems.join('\n  - ')}`);
      log(`instance b output (tail):\n${b.output().slice(-2000)}`);
      log(`nginx error log (tail):\n${nginx.errorLog().slice(-1500)}`);
      process.exitCode = 1;
    } else {
      log(`PASS: ${COUNT} devices, each bootstrapped exactly once in lwm2m_audit, no row lost, no duplicate, every row with the device's own address; instance a ${KILL === 'SIGKILL' ? 'killed' : 'stopped'} (${KILL}) mid-storm`);
    }
  } catch (e) {
    log(`FAIL: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

/**
 * What "bootstrapped exactly once" means in lwm2m_audit (README "Running more than one"). A device's bootstraps
 * are its SUCCESS rows plus its FINISH_SENT rows that no later session of the same endpoint follows: such a row
 * is a session whose Finish got no recorded answer (its instance was killed, or it ended otherwise), and if
 * the device did not come back, it took that Finish. A FINISH_SENT row followed by a later session is a
 * Finish the device never completed (it came back): not a bootstrap. Every device the storm saw bootstrapped
 * must have exactly one; every write-ahead row of the surviving instance must have been replaced by its
 * session's final record (ended_at set; the outcome stays FINISH_SENT only when Finish got no answer); no
 * session id twice. `done`: endpoint -> ms, the devices that reported themselves bootstrapped, with the port
 * they used in `ports` (endpoint -> local port) when known. `checkPeers`: every SUCCESS row must name the
 * device's own address (127.0.0.1 and its port), not nginx's.
 */
async function auditVerdict(c, devices, done, ports = new Map(), checkPeers = false) {
  const outcomes = (await c.query(`SELECT outcome, instance, count(*)::int AS n FROM lwm2m_audit GROUP BY 1, 2 ORDER BY 1, 2`)).rows;
  const rows = (await c.query(`
    SELECT a.endpoint, a.outcome, a.instance, a.peer, a.ended_at IS NOT NULL AS final,
      (a.outcome = 'FINISH_SENT' AND NOT EXISTS (
        SELECT 1 FROM lwm2m_audit l WHERE l.endpoint = a.endpoint AND l.kind = a.kind AND l.started_at > a.started_at)) AS taken
    FROM lwm2m_audit a WHERE a.kind = 'bootstrap'`)).rows;
  const dupIds = (await c.query(`SELECT count(*)::int - count(DISTINCT session_id)::int AS d FROM lwm2m_audit`)).rows[0].d;
  const per = new Map();
  let inDoubt = 0;
  let inDoubtDone = 0;
  let realPeers = 0;
  let otherPeers = 0;
  const otherEg = [];
  const survivorInDoubt = [];
  for (const r of rows) {
    const p = per.get(r.endpoint) || { ok: 0, taken: 0 };
    if (r.outcome === 'SUCCESS') p.ok++;
    if (r.outcome === 'FINISH_SENT') {
      inDoubt++;
      if (r.instance !== 'a' && !r.final) survivorInDoubt.push(r.endpoint);
    }
    if (r.taken) {
      p.taken++;
      inDoubtDone++;
    }
    per.set(r.endpoint, p);
    // The device's own address: its port when the client says (plain CoAP), else a port of this process.
    const port = Number(String(r.peer).split(':').pop());
    const own = ports.get(r.endpoint) ? ports.get(r.endpoint) === port : ourPorts.has(port);
    if (r.outcome === 'SUCCESS' && String(r.peer).startsWith('127.0.0.1:') && own) realPeers++;
    else if (r.outcome === 'SUCCESS' && ++otherPeers <= 5) otherEg.push(`${r.endpoint} ${r.peer}`);
  }
  const eg = (list) => list.slice(0, 5).map((d) => d.endpoint || d).join(', ');
  const problems = [];
  const notDone = devices.filter((d) => !done.has(d.endpoint));
  const missing = devices.filter((d) => done.has(d.endpoint) && !per.get(d.endpoint)?.ok && !per.get(d.endpoint)?.taken);
  const twice = devices.filter((d) => (per.get(d.endpoint)?.ok || 0) > 1);
  const both = devices.filter((d) => per.get(d.endpoint)?.ok && per.get(d.endpoint)?.taken);
  if (notDone.length) problems.push(`${notDone.length} devices never bootstrapped (e.g. ${eg(notDone)})`);
  if (missing.length) problems.push(`${missing.length} bootstrapped devices without a SUCCESS or final write-ahead row: lost (e.g. ${eg(missing)})`);
  if (twice.length) problems.push(`${twice.length} devices with more than one SUCCESS row (e.g. ${eg(twice)})`);
  if (both.length) problems.push(`${both.length} devices with a SUCCESS row and a final write-ahead row (e.g. ${eg(both)})`);
  if (survivorInDoubt.length) problems.push(`${survivorInDoubt.length} write-ahead rows of a surviving instance never replaced by the session's final record (e.g. ${eg(survivorInDoubt)})`);
  if (dupIds) problems.push(`${dupIds} duplicate session ids`);
  if (checkPeers && otherPeers > 0) problems.push(`${otherPeers} SUCCESS rows without the device's own address:port (nginx's instead?), e.g. ${otherEg.join(', ')} (${ourPorts.size} device ports seen)`);
  return { outcomes, problems, inDoubt, inDoubtDone, realPeers, otherPeers };
}

if (require.main === module) void main();
module.exports = { storm, auditVerdict };

'use strict';
/**
 * The parts of "more than one instance" on one machine, for `npm run test:scale` and the bench: a temporary
 * PostgreSQL with the device and audit tables, N Node-RED instances running a bootstrap flow that reads
 * devices from PostgreSQL and writes its audit there, and nginx's UDP `stream` proxy in front of them
 * (affinity by the device's source address and port) that passes each device's address on with the PROXY
 * protocol (`proxy_protocol on;`: nginx puts a v1 header in front of the first datagram of each UDP session;
 * the listeners believe it from 127.0.0.1 only). Everything on loopback, everything removed at stop.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const dgram = require('dgram');
const { spawn, spawnSync } = require('child_process');
const { startTempPostgres } = require('./pg-temp');

const root = path.resolve(__dirname, '..');

async function freeTcpPort() {
  const srv = net.createServer();
  await new Promise((r, j) => srv.once('error', j).listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}
async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r, j) => s.once('error', j).bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function nginxBinary() {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (fs.existsSync(p)) return p;
  throw new Error('nginx not found (Debian: apt-get install nginx libnginx-mod-stream)');
}
function streamModule() {
  for (const p of ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so']) if (fs.existsSync(p)) return p;
  return undefined; // built in, or missing: `nginx -t` says which
}

/**
 * The nginx stream config: one UDP server per transport, hashed on the device's address and port, the device's
 * address passed on with the PROXY protocol (`proxyProtocol: false` leaves it out).
 */
function nginxConfig({ dir, coapPort, coapsPort, coapUpstreams, coapsUpstreams, user, proxyProtocol = true }) {
  const pp = proxyProtocol ? '\n    proxy_protocol on;' : '';
  const mod = streamModule();
  const up = (ports) => ports.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=30s;`).join('\n');
  return `${mod ? `load_module ${mod};\n` : ''}${user ? `user ${user};\n` : ''}worker_processes 1;
worker_rlimit_nofile 65536;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16384; }
stream {
  log_format lwm2m '$remote_addr:$remote_port -> $upstream_addr $status $session_time';
  access_log ${dir}/access.log lwm2m;
  upstream lwm2m_coap {
    hash $remote_addr$remote_port consistent;
${up(coapUpstreams)}
  }
  upstream lwm2m_coaps {
    hash $remote_addr$remote_port consistent;
${up(coapsUpstreams)}
  }
  server {
    listen 127.0.0.1:${coapPort} udp;
    proxy_pass lwm2m_coap;
    proxy_timeout 30s;${pp}
  }
  server {
    listen 127.0.0.1:${coapsPort} udp;
    proxy_pass lwm2m_coaps;
    proxy_timeout 30s;${pp}
  }
}
`;
}

async function startNginx(opts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2m-nginx-'));
  const user = process.getuid && process.getuid() === 0 ? 'root' : undefined;
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig({ ...opts, dir, user }));
  const bin = nginxBinary();
  const t = spawnSync(bin, ['-t', '-q', '-e', path.join(dir, 'error.log'), '-p', dir, '-c', conf], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`nginx -t failed: ${(t.stderr || t.stdout).trim()}`);
  const proc = spawn(bin, ['-e', path.join(dir, 'error.log'), '-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
  await new Promise((r) => setTimeout(r, 300));
  if (proc.exitCode !== null) throw new Error(`nginx exited at once: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
  return {
    dir,
    conf,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
    errorLog: () => fs.readFileSync(path.join(dir, 'error.log'), 'utf8'),
  };
}

/** The DTLS cookie secret all instances of this lab run share (the listener's Cookie secret credential). */
const LAB_COOKIE_SECRET = require('crypto').randomBytes(16).toString('hex');

/**
 * The demo's bootstrap flow, reading devices from PostgreSQL and auditing there, on a CoAP and a CoAPs listener
 * that take the PROXY protocol from nginx on 127.0.0.1 (`proxyFrom: ''` switches that off).
 */
function scaleFlow({ coapPort, coapsPort, instance, noDb, proxyFrom = '127.0.0.1' }) {
  const tab = 'scale-tab';
  const pg = 'scale-pg';
  const listener = (id, transport, port) => ({
    id, type: 'lwm2m-bootstrap-listener', z: tab, name: `${transport} ${instance}`, transport, address: '127.0.0.1', port: String(port),
    decisionTimeout: '10', decisionCode: '5.03', packTimeout: '5', packCode: '4.04', requestTimeout: '10', sessionTimeout: '60',
    maxSessions: '10000', maxPeers: '10000', handshakeRate: '100000', handshakeTimeout: '10', idleTimeout: '30', bindingCheck: 'on', bindingCode: '4.03',
    postgres: noDb ? '' : pg, proxyFrom, x: 150, y: transport === 'coap' ? 100 : 200, wires: [['scale-lookup'], []],
  });
  const flow = [
    { id: tab, type: 'tab', label: `scale ${instance}` },
    { id: pg, type: 'lwm2m-postgres', name: 'fleet db', matchOn: 'endpoint', keyRegex: '', cacheSize: '100000', missTtl: '5', poolSize: '8', auditQueue: '10000', instance },
    { id: 'scale-profiles', type: 'lwm2m-bootstrap-profiles', name: 'profiles', defaultProfile: 'default',
      profiles: JSON.stringify([{ name: 'default', contentFormat: 'auto', autoId: true, delete: ['/0', '/1'],
        servers: [{ shortServerId: 1, uri: 'coap://127.0.0.1:9', securityMode: 'nosec', lifetime: 300, binding: 'U' }] }]) },
    listener('scale-coap', 'coap', coapPort),
    listener('scale-coaps', 'coaps', coapsPort),
    { id: 'scale-lookup', type: 'lwm2m-profile-lookup', z: tab, profiles: 'scale-profiles', deviceTable: '', deviceSource: pg, profileName: '', profileNameType: 'str',
      useMsgProfile: false, unknownDevice: 'notFound', oneTimePsk: false, identityPrefix: '', keyBytes: '16', x: 350, y: 150, wires: [['scale-write'], ['scale-reject']] },
    { id: 'scale-write', type: 'lwm2m-object-write', z: tab, mode: 'profile', onError: 'end', requestTimeout: '', x: 550, y: 150, wires: [['scale-finish'], []] },
    { id: 'scale-finish', type: 'lwm2m-bootstrap-finish', z: tab, mode: 'finish', rejectCode: '4.03', diagnostic: '', diagnosticType: 'str', timeout: '', outputs: 3, x: 750, y: 150, wires: [[], [], []] },
    { id: 'scale-reject', type: 'lwm2m-bootstrap-finish', z: tab, mode: 'reject', rejectCode: '4.04', diagnostic: 'unknown device', diagnosticType: 'str', timeout: '', outputs: 1, rejectOutcome: 'NO_BOOTSTRAP_CONFIG', x: 550, y: 220, wires: [[]] },
  ];
  if (!noDb) return flow;
  // The baseline without PostgreSQL: every device gets the default profile, PSKs from the listener's credential.
  const lookup = flow.find((n) => n.id === 'scale-lookup');
  Object.assign(lookup, { deviceSource: '', unknownDevice: 'default' });
  return flow.filter((n) => n.id !== pg);
}

/** Starts one Node-RED with the scale flow; resolves when its flows have started. */
/** `noDbDevices`: run the flow without PostgreSQL, these devices' PSKs in the CoAPs listener's credential. */
async function startInstance({ name, pgUrl, coapPort, coapsPort, noDbDevices, proxyFrom }) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), `lwm2m-red-${name}-`));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(root, path.join(userDir, 'node_modules', 'node-red-contrib-lwm2m-bootstrap'), 'dir');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: `scale-${name}`, private: true, dependencies: { 'node-red-contrib-lwm2m-bootstrap': `file:${root}` } }));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(scaleFlow({ coapPort, coapsPort, instance: name, noDb: !!noDbDevices, proxyFrom }), null, 1));
  // credentialSecret false: flows_cred.json is plain JSON here (a temporary directory of a test).
  // Every instance's CoAPs listener holds the same DTLS cookie secret (one per lab run), so a ClientHello whose
  // cookie one instance made completes at another (the one left when an instance dies mid-handshake).
  const creds = noDbDevices
    ? { 'scale-coaps': { cookieSecret: LAB_COOKIE_SECRET, pskKeys: JSON.stringify(Object.fromEntries(noDbDevices.filter((d) => d.secure).map((d) => [d.pskIdentity, { key: d.pskKey, endpoint: d.endpoint }]))) } }
    : { 'scale-pg': { connectionString: pgUrl }, 'scale-coaps': { cookieSecret: LAB_COOKIE_SECRET } };
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(creds));
  const uiPort = await freeTcpPort();
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({
    flowFile: 'flows.json', uiPort, uiHost: '127.0.0.1', credentialSecret: false,
    logging: { console: { level: 'warn', metrics: false, audit: false } }, editorTheme: { tours: false }, lwm2mBootstrap: { audit: false },
  })};\n`);
  const proc = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' },
  });
  let out = '';
  const onData = (d) => {
    out += d.toString();
    if (out.length > 200000) out = out.slice(-100000);
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  await new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`Node-RED ${name} did not start in 60 s:\n${out.slice(-3000)}`)), 60000);
    const check = async () => {
      if (proc.exitCode !== null) {
        clearTimeout(deadline);
        return reject(new Error(`Node-RED ${name} exited (${proc.exitCode}):\n${out.slice(-3000)}`));
      }
      try {
        const r = await fetch(`http://127.0.0.1:${uiPort}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
        if (r.ok) {
          clearTimeout(deadline);
          return resolve();
        }
      } catch {
        // not up yet
      }
      setTimeout(check, 200);
    };
    check();
  });
  await new Promise((r) => setTimeout(r, 500)); // the listeners bind after the flows start
  return {
    name, proc, userDir, uiPort, coapPort, coapsPort,
    output: () => out,
    // exitCode stays null after a signal (signalCode says which): a SIGKILLed instance has exited too.
    kill: (sig = 'SIGKILL') => new Promise((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return r();
      proc.once('exit', r);
      proc.kill(sig);
    }),
    stop: async function () {
      await this.kill('SIGTERM');
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** PostgreSQL with the tables and `devices` rows: half plain CoAP, half CoAPs with a PSK each. */
async function startDatabase(devices) {
  const pg = await startTempPostgres({ port: await freeTcpPort() });
  const { Client } = require('pg');
  const lib = require(path.join(root, 'dist', 'lib'));
  const c = new Client({ connectionString: pg.url });
  await c.connect();
  try {
    await c.query(lib.DEVICES_SCHEMA);
    await c.query(lib.AUDIT_SCHEMA);
    for (let i = 0; i < devices.length; i += 1000) {
      const chunk = devices.slice(i, i + 1000);
      await c.query(
        `INSERT INTO lwm2m_devices (endpoint, psk_identity, psk_key, profile)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[])`,
        [chunk.map((d) => d.endpoint), chunk.map((d) => d.pskIdentity ?? null), chunk.map((d) => (d.pskKey ? Buffer.from(d.pskKey, 'hex') : null)), chunk.map(() => 'default')],
      );
    }
  } finally {
    await c.end();
  }
  return pg;
}

/** `count` devices: the first half plain, the rest CoAPs with their own identity and key. */
function fleetDevices(count, prefix = 'scale') {
  const out = [];
  for (let n = 0; n < count; n++) {
    const secure = n >= count / 2;
    out.push(secure
      ? { endpoint: `${prefix}-s-${n}`, pskIdentity: `${prefix}-id-${n}`, pskKey: require('crypto').createHash('sha256').update(`k${n}`).digest('hex').slice(0, 32), secure }
      : { endpoint: `${prefix}-p-${n}`, secure });
  }
  return out;
}

module.exports = { startDatabase, startInstance, startNginx, fleetDevices, freeUdpPort, freeTcpPort, nginxConfig };

#!/usr/bin/env node
'use strict';
/**
 * The linux-arm64 prebuilt DTLS addon, run for real: an arm64 Node.js under qemu user-mode emulation loads
 * the package, and this process (the host's Node, x64) completes DTLS handshakes against it as an independent
 * peer. scripts/compat-check.sh runs it once per arm64 Node line.
 *
 * Two roles in one file:
 *   driver (default, host Node): starts the server role under qemu, then
 *     1. checks which addon file the arm64 process loaded (prebuilds/linux-arm64, an AArch64 ELF; never
 *        build/Release, which is the host's x64 build), its OpenSSL, and that rpkAvailable() is true exactly
 *        when that OpenSSL is 3.2+ (the five RFC 7250 functions are weak references resolved from the node
 *        binary: this is where a wrong arm64 link would show);
 *     2. node-dtls-client PSK handshake + echo, TLS_PSK_WITH_AES_128_CCM_8 and TLS_PSK_WITH_AES_128_CBC_SHA256;
 *     3. where raw public keys are available: coap-client-gnutls -M with a trusted key gets a CoAP answer that
 *        names its key fingerprint, and an untrusted key is refused in the handshake; where they are not:
 *        asking for them fails with DTLS_RPK_UNAVAILABLE.
 *   --serve (the emulated arm64 Node): requires the package (its main, as a user does), reports what it
 *     loaded, and runs one DtlsSocket that answers echo and CoAP GET; JSON lines on stdout; exits when its
 *     stdin closes.
 *
 * Prints the checks, then one JSON line `RESULT {...}`; exit code 0 only when all passed.
 *
 *   node arm64.js --node <arm64 node binary> [--pkg <package dir>] [--line <name>]
 *                 [--qemu qemu-aarch64] [--sysroot /usr/aarch64-linux-gnu]
 *
 * --pkg defaults to this checkout; when that has a build/ folder (the host's build), the emulated Node gets
 * PREBUILDS_ONLY=1 so node-gyp-build looks in prebuilds/ only. compat-check.sh passes an --ignore-scripts
 * install of the packed tarball instead, which has no build/ at all.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn } = require('child_process');
const { pskEcho, withTimeout } = require('./dtls-client');

const ROOT = path.resolve(__dirname, '..', '..');
const PSK_IDENTITY = 'compat-arm64';
const PSK_CIPHERS = ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256'];
const EM_AARCH64 = 183;

function args() {
  const out = { pkg: ROOT, line: 'arm64', qemu: 'qemu-aarch64', sysroot: '/usr/aarch64-linux-gnu' };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i].replace(/^--/, '');
    if (k === 'serve') out.serve = true;
    else out[k] = a[++i];
  }
  return out;
}

function opensslAtLeast32(version) {
  const m = /(\d+)\.(\d+)/.exec(version || '');
  return !!m && (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 2));
}

/** e_machine of an ELF file (183 = AArch64, 62 = x86-64), or undefined when it is no ELF. */
function elfMachine(file) {
  const b = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, b, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (b.readUInt32BE(0) !== 0x7f454c46) return undefined;
  return b[5] === 2 ? b.readUInt16BE(18) : b.readUInt16LE(18);
}

// ---------------------------------------------------------------------------------------------------------
// Server role: runs inside the emulated arm64 Node.

/** A CoAP ACK 2.05 (or NON 2.05) answering a CON/NON GET, else undefined. */
function coapAnswer(req, text) {
  if (req.length < 4 || req[0] >> 6 !== 1 || req[1] !== 0x01) return undefined;
  const type = (req[0] >> 4) & 3;
  const tkl = req[0] & 0x0f;
  if (type > 1 || req.length < 4 + tkl) return undefined;
  const head = Buffer.from([(type === 0 ? 0x60 : 0x50) | tkl, 0x45, req[2], req[3]]);
  return Buffer.concat([head, req.subarray(4, 4 + tkl), Buffer.from([0xff]), Buffer.from(text)]);
}

async function serve(o) {
  const say = (ev, data) => process.stdout.write(`${JSON.stringify({ ev, ...data })}\n`);
  const pkg = path.resolve(o.pkg);
  const keys = JSON.parse(fs.readFileSync(path.join(o.keys, 'keys.json'), 'utf8'));
  const lib = require(pkg);
  const caps = lib.dtls.dtlsCapabilities();
  const loaded = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
  const addon = loaded[0];
  const ready = {
    node: process.version,
    arch: process.arch,
    openssl: process.versions.openssl,
    prebuildsOnly: process.env.PREBUILDS_ONLY === '1',
    addonLoaded: caps.available,
    reason: caps.reason,
    addonFiles: loaded.map((f) => path.relative(pkg, f)),
    addonMachine: addon ? elfMachine(addon) : undefined,
    addonOpenssl: caps.addonOpenssl,
    rpkAvailable: caps.available ? lib.dtls.loadDtls().binding.rpkAvailable?.() : undefined,
    rpkReason: caps.rpk.reason,
    pskSuites: caps.cipherSuites.filter((c) => c.auth === 'psk' && c.available).map((c) => c.iana),
  };
  if (!caps.available) return say('ready', ready);

  const store = new lib.dtls.MemoryPskStore().set(PSK_IDENTITY, Buffer.from(keys.psk, 'hex'));
  const warnings = [];
  const logger = { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const options = { psk: store, logger };
  if (caps.rpk.available) {
    options.rpk = new lib.dtls.MemoryRpkStore().add(keys.devicePublic, 'arm64-dev');
    options.key = keys.serverPrivate;
  } else {
    try {
      lib.dtls.createDtlsSocket({ ...options, rpk: new lib.dtls.MemoryRpkStore().add(keys.devicePublic), key: keys.serverPrivate }).close();
      ready.rpkRefusal = 'created a raw public key socket although rpk is unavailable';
    } catch (e) {
      ready.rpkRefusal = e.dtlsCode || e.code || e.message;
    }
  }
  const server = lib.dtls.createDtlsSocket(options);
  server.on('message', (msg, rinfo) => {
    const id = rinfo.identity ? `${rinfo.identity.type}:${rinfo.identity.id}` : 'none';
    const reply = coapAnswer(msg, `hello ${id} ${rinfo.cipher}`) || Buffer.from(`${id} ${msg.toString()} ${rinfo.cipher}`);
    server.send(reply, 0, reply.length, rinfo.port, rinfo.address);
  });
  server.on('handshake', (p) => say('handshake', { identity: p.identity && p.identity.id, type: p.identity && p.identity.type, cipher: p.cipher }));
  server.on('handshakeFailed', (ev) => say('handshakeFailed', { reason: ev.reason, alertSent: ev.alertSent, warnings: warnings.slice(-2) }));
  await new Promise((resolve) => server.bind(0, '127.0.0.1', () => resolve()));
  ready.port = server.address().port;
  ready.rpkServer = !!options.rpk;
  say('ready', ready);
  process.stdin.resume();
  process.stdin.on('end', () => server.close(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------------------
// Driver role: the host's Node.

/** The emulated server: its JSON events, and waiting for one. */
function startEmulated(o, keysDir) {
  const pkg = path.resolve(o.pkg);
  const env = { ...process.env };
  delete env.LWM2M_DTLS_ADDON_DIR;
  delete env.npm_config_arch;
  if (fs.existsSync(path.join(pkg, 'build'))) env.PREBUILDS_ONLY = '1';
  const child = spawn(o.qemu, ['-L', o.sysroot, path.resolve(o.node), __filename, '--serve', '--pkg', pkg, '--keys', keysDir],
    { stdio: ['pipe', 'pipe', 'pipe'], env });
  const events = [];
  const waiters = [];
  let stderr = '';
  let exit;
  let buf = '';
  const check = () => {
    for (const w of waiters.slice()) {
      const e = events.find(w.match);
      if (e) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      } else if (exit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.reject(new Error(`emulated node ${exit}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
      }
    }
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        events.push(JSON.parse(line));
      } catch {
        stderr += `${line}\n`;
      }
    }
    check();
  });
  child.stderr.on('data', (d) => (stderr += d));
  child.on('error', (e) => { exit = `could not start (${e.message})`; check(); });
  child.on('exit', (code, sig) => { exit = `exited with ${code ?? sig}`; check(); });
  const wait = (match, ms, what) => withTimeout(new Promise((resolve, reject) => { waiters.push({ match, resolve, reject }); check(); }), ms, what);
  const stop = async () => {
    if (exit !== undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(t);
  };
  return { child, events, wait, stop, stderr: () => stderr, exitCode: () => exit };
}

async function pskHandshake(dtls, port, psk, cipher) {
  const answer = await pskEcho(dtls, { port, identity: PSK_IDENTITY, key: psk, cipher, handshakeMs: 30000, echoMs: 10000 });
  const want = `psk:${PSK_IDENTITY} ping ${cipher}`;
  if (answer !== want) throw new Error(`echo answered ${JSON.stringify(answer)}, expected ${JSON.stringify(want)}`);
  return 'handshake and echo';
}

/** coap-client-gnutls with a raw public key; resolves to its output once `re` matches, or after it exits. */
function coapClient(port, keyFile, re, ms) {
  return new Promise((resolve) => {
    const p = spawn('coap-client-gnutls', ['-B', String(Math.ceil(ms / 1000)), '-m', 'get', '-M', keyFile, `coaps://127.0.0.1:${port}/bs`],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const finish = (matched) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      if (p.exitCode === null) p.kill('SIGTERM');
      resolve({ matched, out: out.trim() });
    };
    const t = setTimeout(() => finish(false), ms);
    const on = (d) => { out += d; if (re.test(out)) finish(true); };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('error', (e) => { out += `spawn error: ${e.message}`; finish(false); });
    p.on('exit', () => setTimeout(() => finish(re.test(out)), 50));
  });
}

function ecKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    fp: crypto.createHash('sha256').update(spki).digest('hex'),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    privatePem: privateKey.export({ format: 'pem', type: 'sec1' }).toString(),
  };
}

async function drive(o) {
  if (!o.node) throw new Error('missing --node <arm64 node binary>');
  const pkg = path.resolve(o.pkg);
  const checks = [];
  const result = { line: o.line, checks };
  const check = (name, ok, detail, ms) => {
    checks.push({ name, ok, detail, ms });
    process.stdout.write(`  [${o.line}] ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}${ms !== undefined ? ` (${ms} ms)` : ''}\n`);
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compat-arm64-'));
  const psk = crypto.randomBytes(16);
  const server = ecKey();
  const device = ecKey();
  const rogue = ecKey();
  fs.writeFileSync(path.join(dir, 'keys.json'), JSON.stringify({ psk: psk.toString('hex'), serverPrivate: server.privatePem, devicePublic: device.publicPem }), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'device.key'), device.privatePem, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'rogue.key'), rogue.privatePem, { mode: 0o600 });

  let emu;
  try {
    let t0 = Date.now();
    emu = startEmulated(o, dir);
    const r = await emu.wait((e) => e.ev === 'ready', 120000, 'emulated node starting');
    Object.assign(result, { node: r.node, arch: r.arch, openssl: r.openssl, addonOpenssl: r.addonOpenssl, rpkAvailable: r.rpkAvailable, addon: r.addonFiles });
    check('emulated Node is arm64', r.arch === 'arm64', `${r.node} ${r.arch} under ${o.qemu} -L ${o.sysroot}, OpenSSL ${r.openssl}`, Date.now() - t0);

    const file = r.addonFiles[0] || '';
    const expected = path.join('prebuilds', 'linux-arm64');
    check('the arm64 prebuild loaded (not build/Release)',
      r.addonLoaded && r.addonFiles.length === 1 && path.dirname(file) === expected && r.addonMachine === EM_AARCH64,
      r.addonLoaded
        ? `${file} (ELF machine ${r.addonMachine === EM_AARCH64 ? 'AArch64' : r.addonMachine}${r.prebuildsOnly ? ', PREBUILDS_ONLY=1 as the package dir has a host build/' : ''}), addon sees ${r.addonOpenssl}`
        : `not loaded: ${r.reason}`);
    if (!r.addonLoaded) throw new Error('no addon, no handshakes');

    const wantRpk = opensslAtLeast32(r.addonOpenssl);
    check('rpkAvailable() matches the OpenSSL the addon sees', r.rpkAvailable === wantRpk,
      `rpkAvailable() ${r.rpkAvailable}, expected ${wantRpk} for ${r.addonOpenssl}${r.rpkAvailable ? '' : `; ${r.rpkReason}`}`);

    const { dtls } = require(require.resolve('node-dtls-client', { paths: [pkg, ROOT] }));
    for (const cipher of PSK_CIPHERS) {
      t0 = Date.now();
      try {
        const detail = await pskHandshake(dtls, r.port, psk, cipher);
        check(`PSK handshake with node-dtls-client (host), ${cipher}`, true, detail, Date.now() - t0);
      } catch (e) {
        const failed = emu.events.filter((ev) => ev.ev === 'handshakeFailed').map((ev) => ev.reason).slice(-1);
        check(`PSK handshake with node-dtls-client (host), ${cipher}`, false, `${e.message}${failed.length ? ` (server: ${failed[0]})` : ''}`, Date.now() - t0);
      }
    }

    if (!r.rpkServer) {
      check('raw public keys refused where unavailable', r.rpkRefusal === 'DTLS_RPK_UNAVAILABLE', `createDtlsSocket({ rpk }) -> ${r.rpkRefusal}`);
    } else {
      const hello = new RegExp(`hello rpk:${device.fp} (TLS_ECDHE_ECDSA_WITH_AES_128_\\S+)`);
      t0 = Date.now();
      const ok = await coapClient(r.port, path.join(dir, 'device.key'), hello, 30000);
      const m = hello.exec(ok.out);
      check('raw public key handshake with coap-client-gnutls -M (trusted key)', ok.matched,
        ok.matched ? `CoAP GET answered "hello rpk:${device.fp.slice(0, 16)}... ${m[1]}"` : `no answer naming the key: ${ok.out.slice(-300) || '(no output)'}`, Date.now() - t0);

      t0 = Date.now();
      const before = emu.events.filter((e) => e.ev === 'handshakeFailed').length;
      const bad = coapClient(r.port, path.join(dir, 'rogue.key'), /hello/, 30000);
      let refused;
      try {
        refused = await emu.wait((e) => e.ev === 'handshakeFailed' && emu.events.filter((x) => x.ev === 'handshakeFailed').indexOf(e) >= before, 30000, 'rogue refusal');
      } catch (e) {
        refused = undefined;
        result.rogueError = e.message;
      }
      const badOut = await bad;
      check('raw public key handshake refused (untrusted key)', !!refused && !badOut.matched,
        refused ? `server: ${refused.reason}${(refused.warnings || []).length ? ` / ${refused.warnings.slice(-1)[0]}` : ''}` : `not refused: ${result.rogueError}; client: ${badOut.out.slice(-200)}`,
        Date.now() - t0);
    }
  } catch (e) {
    check('run', false, e.message);
  } finally {
    if (emu) {
      await emu.stop();
      const code = emu.exitCode();
      if (code !== 'exited with 0') check('emulated node exits cleanly', false, `${code}${emu.stderr() ? `: ${emu.stderr().trim().split('\n').slice(-3).join(' | ')}` : ''}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  result.ok = checks.length > 0 && checks.every((c) => c.ok);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(result.ok ? 0 : 1);
}

const o = args();
(o.serve ? serve(o) : drive(o)).catch((e) => {
  process.stdout.write(`  arm64 check failed: ${e.stack || e.message}\n`);
  process.exit(1);
});

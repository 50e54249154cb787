#!/usr/bin/env node
'use strict';
// DTLS handshake rate of the server on loopback: the DtlsSocket in this process, node-dtls-client as the
// load in a child process (PSK, TLS_PSK_WITH_AES_128_CCM_8, cookie exchange on). Each client does a full
// handshake, one application-data round trip, and close_notify. Bounded: stops after --handshakes.
//
//   npm run build && node --expose-gc scripts/dtls-bench.js [--handshakes 400] [--concurrency 16] [--rounds 1]
//   (--rounds N repeats the load on the same server and prints RSS after each round: a leak check)
//
// Prints wall-clock handshakes per second and handshakes per server CPU-second (this process only).
const { fork } = require('child_process');
const path = require('path');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

async function client(port, total, concurrency) {
  const { dtls } = require('node-dtls-client');
  let started = 0;
  let done = 0;
  let failed = 0;
  const one = () =>
    new Promise((resolve) => {
      const c = dtls.createSocket({
        type: 'udp4', address: '127.0.0.1', port, psk: { dev1: KEY }, ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'], timeout: 5000,
      });
      const finish = (ok) => {
        if (ok) done++;
        else failed++;
        try { c.close(); } catch { /* already closed */ }
        resolve();
      };
      c.once('connected', () => c.send(Buffer.from('ping')));
      c.once('message', () => finish(true));
      c.once('error', () => finish(false));
    });
  const worker = async () => {
    while (started < total) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, failed };
}

async function main() {
  if (process.argv[2] === '--client') {
    process.on('message', async (m) => {
      process.send(await client(m.port, m.total, m.concurrency));
    });
    return;
  }
  const total = arg('handshakes', 400);
  const concurrency = arg('concurrency', 16);
  const { createDtlsSocket, MemoryPskStore } = require(path.join(__dirname, '..', 'dist', 'lib', 'dtls'));
  const socket = createDtlsSocket({
    psk: new MemoryPskStore().set('dev1', KEY),
    maxPeers: 10000,
    handshakesPerSourcePerSecond: 1e6,
  });
  socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const rounds = arg('rounds', 1);
  const rssAfterRound = [];
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const child = fork(__filename, ['--client']);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let failed = 0;
  for (let r = 0; r < rounds; r++) {
    child.send({ port, total, concurrency });
    failed += (await new Promise((resolve) => child.once('message', resolve))).failed;
    await new Promise((res) => setTimeout(res, 200)); // let close_notify arrive
    global.gc?.();
    rssAfterRound.push(+(process.memoryUsage().rss / 1048576).toFixed(1));
  }
  child.kill();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9 - 0.2 * rounds;
  const cpu = process.cpuUsage(cpu0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  const stats = socket.stats();
  await new Promise((resolve) => socket.close(resolve));
  const result = { failed };
  const completed = stats.handshakesCompleted;
  console.log(JSON.stringify({
    node: process.version,
    openssl: process.versions.openssl,
    handshakes: completed,
    clientFailures: result.failed,
    concurrency,
    wallSeconds: +wall.toFixed(3),
    handshakesPerSecond: +(completed / wall).toFixed(1),
    serverCpuSeconds: +cpuSec.toFixed(3),
    handshakesPerServerCpuSecond: +(completed / cpuSec).toFixed(1),
    helloVerifyRequests: stats.helloVerifyRequests,
    peersLeft: stats.peers,
    rssStartMB: +(rss0 / 1048576).toFixed(1),
    rssAfterRoundMB: rssAfterRound,
  }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

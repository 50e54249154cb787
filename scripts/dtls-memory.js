#!/usr/bin/env node
'use strict';
// Memory per established DTLS session: the DtlsSocket in this process, N node-dtls-client sessions held
// open by a child process (PSK, CCM_8), RSS and heap measured before and after.
//
//   npm run build && node --expose-gc scripts/dtls-memory.js [N=1000]
const { fork } = require('child_process');
const path = require('path');

const KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const gc = () => global.gc?.();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.argv[2] === '--client') {
  const { dtls } = require('node-dtls-client');
  process.on('message', async ({ port, n }) => {
    const held = [];
    for (let i = 0; i < n; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => new Promise((resolve) => {
        const c = dtls.createSocket({ type: 'udp4', address: '127.0.0.1', port, psk: { dev1: KEY }, ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'], timeout: 5000 });
        c.once('connected', () => { held.push(c); resolve(); });
        c.once('error', resolve);
      })));
    }
    process.send(held.length);
  });
} else {
  const { createDtlsSocket, MemoryPskStore } = require(path.join(__dirname, '..', 'dist', 'lib', 'dtls'));
  const n = Number(process.argv[2] || 1000);
  const socket = createDtlsSocket({ psk: new MemoryPskStore().set('dev1', KEY), maxPeers: n + 10, handshakesPerSourcePerSecond: 1e6 });
  socket.bind(0, '127.0.0.1', async () => {
    gc(); await sleep(100); gc();
    const m0 = process.memoryUsage();
    const child = fork(__filename, ['--client']);
    child.send({ port: socket.address().port, n });
    const held = await new Promise((resolve) => child.once('message', resolve));
    gc(); await sleep(300); gc();
    const m1 = process.memoryUsage();
    console.log(JSON.stringify({
      sessions: held,
      established: socket.stats().established,
      rssPerSessionKB: +((m1.rss - m0.rss) / held / 1024).toFixed(1),
      heapPerSessionKB: +((m1.heapUsed - m0.heapUsed) / held / 1024).toFixed(2),
    }));
    child.kill();
    socket.close();
  });
}

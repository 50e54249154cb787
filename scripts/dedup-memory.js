#!/usr/bin/env node
'use strict';
// Heap per duplicate-detection entry of the bootstrap server's CoAP layer (issue 20): N distinct
// POST /bs?ep=… requests (each from its own address:port) through a real CoapEndpoint on an in-process
// socket, each answered piggy-backed 2.04, so the cache holds N entries with their replies. Heap and
// ArrayBuffers after a full GC, before and after, per entry.
//
//   npm run build && node --expose-gc scripts/dedup-memory.js [N=50000] [dist folder=dist]
const path = require('path');
const { EventEmitter } = require('events');

const N = Number(process.argv[2] || 50000);
const root = path.resolve(process.argv[3] || path.join(__dirname, '..', 'dist'));
const { CoapEndpoint } = require(path.join(root, 'lib/bootstrap/coap/endpoint.js'));
const { resolveParameters } = require(path.join(root, 'lib/bootstrap/parameters.js'));
const { generate } = require('coap-packet');

if (!global.gc) throw new Error('run with --expose-gc');

class InProcessSocket extends EventEmitter {
  address() {
    return { address: '127.0.0.1', port: 5683, family: 'IPv4' };
  }
  send(_buf, _offset, _length, _port, _address, cb) {
    if (cb) cb(null);
  }
}

const sock = new InProcessSocket();
const ep = new CoapEndpoint(sock, resolveParameters({ timings: { dedupMaxEntries: N + 10 } }), {
  onRequest: (ex) => ex.respond('2.04'),
  onMalformed: () => undefined,
  onInternalError: (e) => {
    throw e;
  },
});
ep.start();

const requests = [];
for (let i = 0; i < N; i++) {
  const token = Buffer.alloc(4);
  token.writeUInt32BE((i * 2654435761) >>> 0);
  requests.push(generate({
    code: '0.02', confirmable: true, messageId: (i * 7919) & 0xffff, token,
    options: [
      { name: 'Uri-Path', value: Buffer.from('bs') },
      { name: 'Uri-Query', value: Buffer.from(`ep=bench-dev-${i}`) },
      { name: 'Uri-Query', value: Buffer.from('pct=112') },
    ],
  }));
}

function heap() {
  for (let i = 0; i < 4; i++) global.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const before = heap();
for (let i = 0; i < N; i++) {
  sock.emit('message', requests[i], { address: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 60000), family: 'IPv4' });
}
const after = heap();
// `requests` stays referenced until here, so its buffers are in both figures.
process.stdout.write(`${JSON.stringify({ dist: root, entries: N, requestsKept: requests.length, bytesPerEntry: Math.round((after - before) / N) })}\n`);
ep.stop();

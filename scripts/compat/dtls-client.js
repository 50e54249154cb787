'use strict';
// Shared by the compatibility scripts (e2e.js, arm64.js): a timeout around a promise, and one PSK handshake
// plus one echo with node-dtls-client as the independent peer of the package's DTLS server.

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms);
    }),
  ]);
}

/**
 * Connects with `cipher` as `identity`/`key`, sends "ping" and resolves to the server's answer as text; the
 * client is closed either way. `dtls` is node-dtls-client's export (resolved by the caller from the package
 * under test).
 */
async function pskEcho(dtls, { port, identity, key, cipher, handshakeMs = 10000, echoMs = 5000 }) {
  let client;
  try {
    client = await withTimeout(new Promise((resolve, reject) => {
      const c = dtls.createSocket({
        type: 'udp4', address: '127.0.0.1', port, psk: { [identity]: key }, ciphers: [cipher],
        timeout: Math.max(1000, handshakeMs - 5000),
      });
      c.once('connected', () => resolve(c));
      c.once('error', reject);
    }), handshakeMs, 'handshake');
    return await withTimeout(new Promise((resolve) => {
      client.once('message', (m) => resolve(m.toString()));
      client.send(Buffer.from('ping'));
    }), echoMs, 'echo');
  } finally {
    if (client) await new Promise((r) => { try { client.close(() => r()); } catch { r(); } });
  }
}

module.exports = { withTimeout, pskEcho };

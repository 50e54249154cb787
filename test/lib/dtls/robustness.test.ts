import assert from 'node:assert/strict';
import { randomBytes } from 'crypto';
import type { DtlsRemoteInfo } from '../../../lib/dtls';
import { HalfOpenClient, KEY, clientHello, closeClient, connectClient, roundTrip, startServer, waitFor, type TestServer } from './support';

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('DTLS server robustness', function () {
  let srv: TestServer;
  const raws: HalfOpenClient[] = [];
  afterEach(async () => {
    await Promise.all(raws.splice(0).map((r) => r.close()));
    await srv?.close();
  });

  it('survives 3000 malformed and mutated handshake datagrams, and an established session keeps working', async () => {
    srv = await startServer({ handshakesPerSourcePerSecond: 1e6, maxPeers: 10_000, handshakeTimeoutMs: 500 });
    srv.socket.on('message', (msg: Buffer, rinfo: DtlsRemoteInfo) => srv.socket.send(msg, rinfo.port, rinfo.address));
    const client = await connectClient(srv.port, 'dev1', KEY);
    const rnd = prng(20260101);
    const raw = await HalfOpenClient.create();
    raws.push(raw);
    const valid = clientHello(Buffer.alloc(0), 0, 0);
    for (let i = 0; i < 3000; i++) {
      let d: Buffer;
      const kind = i % 3;
      if (kind === 0) {
        d = randomBytes(1 + Math.floor(rnd() * 300)); // noise
      } else {
        d = Buffer.from(valid);
        const flips = 1 + Math.floor(rnd() * 8); // a ClientHello with a few bytes changed (header kept)
        for (let f = 0; f < flips; f++) d[14 + Math.floor(rnd() * (d.length - 14))] = Math.floor(rnd() * 256);
        if (kind === 2) d = d.subarray(0, 13 + Math.floor(rnd() * (d.length - 13))); // and truncated
      }
      raw.udp.send(d, srv.port, '127.0.0.1');
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await waitFor(() => srv.socket.stats().datagramsIn >= 3000, 5000, `all datagrams processed (${JSON.stringify(srv.socket.stats())})`);
    assert.equal((await roundTrip(client, Buffer.from('alive'))).toString(), 'alive');
    const s = srv.socket.stats();
    assert.equal(s.established, 1);
    assert.ok(s.dropped.notClientHello > 0 && s.dropped.invalidClientHello + s.helloVerifyRequests > 0, JSON.stringify(s));
    assert.ok(!srv.logs.some((l) => l.level === 'error'), JSON.stringify(srv.logs.filter((l) => l.level === 'error')));
    await closeClient(client);
  });
});

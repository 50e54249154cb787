import { strict as assert } from 'node:assert';
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';
import type { BootstrapSession } from '../../../lib/bootstrap';
import { bsRequest, RawPeer, sleep, startServer } from './helpers';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

describe('BootstrapServer capacity', () => {
  it('holds pending Bootstrap-Requests in under 4 KiB of heap each', async () => {
    const N = 3000;
    const { server, port } = await startServer({ decisionTimeoutMs: 60_000, sessionTimeoutMs: 60_000 });
    const peer = await RawPeer.create();
    try {
      const pending: BootstrapSession[] = [];
      server.on('bootstrapRequest', (s) => pending.push(s)); // nobody decides: all stay pending
      gc();
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < N; i++) {
        const token = Buffer.alloc(4);
        token.writeUInt32BE(i);
        peer.send(bsRequest(`urn:imei:35000000000${String(i).padStart(4, '0')}`, i, token), port);
        if (i % 25 === 24) await sleep(2);
      }
      for (let t = 0; t < 25 && pending.length < N; t++) await sleep(20);
      // A loaded machine may drop some datagrams in the kernel: they cost nothing, so divide by what arrived.
      assert.ok(pending.length > N / 2, `${pending.length} of ${N} requests arrived`);
      peer.inbox.length = 0;
      gc();
      gc();
      const perSession = (process.memoryUsage().heapUsed - before) / pending.length;
      assert.ok(perSession < 4096, `${Math.round(perSession)} bytes of heap per pending session`);
      assert.ok(pending.every((s) => s.state === 'pending'));
    } finally {
      await peer.close();
      await server.close();
    }
  });
});
